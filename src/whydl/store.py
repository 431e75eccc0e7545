"""The results store: every trained member, keyed by what determined it, in one SQLite file.

A member is determined by the dataset's bytes, the `ModelConfig`, the `TrainConfig` (less
`seed` and `n_seeds`, which only say *which* members a call trains), the `frozen` names, the
member's initial weights (`members` hook) and training rows (`train_rows` hook) when a call
passes them, and its seed. `member_key` hashes all but the
seed; the table's UNIQUE (key, seed) constraint keeps each member once.

For each member the store keeps its config (JSON), seed, per-epoch history, final metrics,
environment and weights (`torch.save` bytes), so a cached call is rebuilt into the same
`whydl.engine.Fit`, stacked model included: claims analyse trained models, not just numbers.

`CachedContext` puts the store in front of `Context.fit`, the one door all claim training
goes through. Each finished call is written in ONE transaction: after Ctrl-C or `kill -9` the
database holds every finished call and nothing of the unfinished one, so running the same
command again resumes where it stopped. SQLite's write-ahead log keeps the file consistent
through a crash.

The store also keeps each claim's rendered result (`put_result`), so `whydl report
--no-train` renders without training.

Example
-------
>>> from whydl.store import Store, CachedContext
>>> from whydl.data import article_moons
>>> from whydl.config import ModelConfig, TrainConfig
>>> store = Store(":memory:")
>>> ctx = CachedContext(store)
>>> _ = ctx.fit(article_moons(), ModelConfig(), TrainConfig(epochs=2, n_seeds=2))
>>> _ = ctx.fit(article_moons(), ModelConfig(), TrainConfig(epochs=2, n_seeds=2))
>>> ctx.n_fits, ctx.n_cached  # trained once; the second call came from the store
(1, 2)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shlex
import sqlite3
import time
from pathlib import Path

from whydl.errors import WhydlError
from whydl.evidence.frame import Context  # stdlib-only module: `whydl runs` stays torch-free

# Bump when the engine's numbers change for the same config, so old members are not reused.
# 2: a member whose training loss grows 1000-fold over its initial loss counts as diverged.
CACHE_VERSION = 2
SCHEMA_VERSION = 1
DEFAULT_STORE = "runs/whydl.db"
HISTORY_COLUMNS = ("train_loss", "val_loss", "train_metric", "val_metric")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,           -- member_key: everything that determines the member but its seed
    seed INTEGER NOT NULL,
    run TEXT NOT NULL,           -- the members written by one training call share it
    claim TEXT NOT NULL,
    tag TEXT NOT NULL,
    dataset TEXT NOT NULL,
    task TEXT NOT NULL,
    metric TEXT NOT NULL,
    config TEXT NOT NULL,        -- JSON: dataset fingerprint, model, train, frozen, init
    history TEXT NOT NULL,       -- JSON: per-epoch columns, null where the member had stopped
    final TEXT NOT NULL,         -- JSON: last-epoch metrics, epochs run, divergence
    environment TEXT NOT NULL,   -- JSON: versions, CPU, device
    weights BLOB NOT NULL,       -- torch.save(state_dict)
    train_seconds REAL NOT NULL, -- wall time of the call that trained it
    created TEXT NOT NULL,
    UNIQUE (key, seed)
);
CREATE INDEX IF NOT EXISTS members_run ON members (run);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,          -- a claim's name, or 'demo'
    preset TEXT NOT NULL,
    n_seeds INTEGER NOT NULL,
    payload TEXT NOT NULL,       -- JSON: what the report renders (figures as SVG text)
    created TEXT NOT NULL,
    UNIQUE (name, preset, n_seeds)
);
"""


# engine.fit hooks that change what a member becomes: each is part of the member's key
KEYED_HOOKS = {"members", "frozen", "train_rows"}


class MissingResults(WhydlError):
    """A store lookup found nothing and training was not allowed (`whydl report --no-train`)."""


# -- keys ------------------------------------------------------------------------------------
def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.hexdigest()


def dataset_fingerprint(dataset) -> str:
    """sha256 of the split arrays' bytes, dtypes and shapes, plus the task: two datasets with
    the same fingerprint train identical members whatever their names."""
    import numpy as np

    h = hashlib.sha256()
    for a in (dataset.X_train, dataset.y_train, dataset.X_test, dataset.y_test):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    meta = [dataset.task, dataset.n_classes, list(dataset.image_shape or ())]
    h.update(json.dumps(meta).encode())
    return h.hexdigest()


def state_hash(module) -> str:
    """sha256 of a module's state_dict (names, dtypes, shapes, values)."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def rows_hash(rows) -> str:
    """sha256 of one member's training-row indices (the engine's `train_rows` hook)."""
    import numpy as np

    return _sha(np.ascontiguousarray(rows, dtype=np.int64).tobytes())


def config_spec(dataset, model, train, frozen=(), init=None, rows=None) -> dict:
    """What determines a member except its seed, as a JSON-ready dict. `init` and `rows` are
    hashes of the member's initial weights and training rows, when a call passes them."""
    t = dataclasses.asdict(train)
    del t["seed"], t["n_seeds"]  # which members, not how they train
    return {
        "cache_version": CACHE_VERSION,
        "dataset": dataset_fingerprint(dataset),
        "model": dataclasses.asdict(model),
        "train": t,
        "frozen": sorted(frozen),
        "init": init,
        "train_rows": rows,
    }


def member_key(spec: dict) -> str:
    return _sha(json.dumps(spec, sort_keys=True, default=list).encode())


def member_specs(dataset, model, train, frozen=(), members=None, train_rows=None) -> list[dict]:
    """One spec per seed of `train.seeds` (they differ when `members` or `train_rows`, one
    entry per member, are given)."""
    n = train.n_seeds
    inits = [state_hash(m) for m in members] if members is not None else [None] * n
    rows = [rows_hash(r) for r in train_rows] if train_rows is not None else [None] * n
    return [config_spec(dataset, model, train, frozen, i, r) for i, r in zip(inits, rows)]


# -- fits <-> rows ---------------------------------------------------------------------------
def _floats(values) -> list:
    return [None if not math.isfinite(v) else float(v) for v in values]


def _run_id(keys, seeds) -> str:
    """The id shared by the members one training call wrote."""
    return _sha(",".join(f"{k}:{s}" for k, s in zip(keys, seeds)).encode())[:12]


def fit_rows(fit, specs, claim: str = "", tag: str = "", dataset_name: str = "") -> list[dict]:
    """The rows that store each member of a finished `Fit` (specs aligned with fit.seeds)."""
    import io

    import torch

    from whydl.environment import environment

    env = environment(fit.device)
    keys = [member_key(s) for s in specs]
    run = _run_id(keys, fit.seeds)
    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    h = fit.history
    rows = []
    for i, seed in enumerate(fit.seeds):
        buf = io.BytesIO()
        torch.save(fit.stack.state_dict(i), buf)
        history = {c: _floats(getattr(h, c)[i]) for c in HISTORY_COLUMNS}
        last = int(fit.epochs_run[i]) - 1
        final = {c: (history[c][last] if last >= 0 else None) for c in HISTORY_COLUMNS}
        final |= {
            "epochs_run": int(fit.epochs_run[i]),
            "diverged": fit.diverged.get(seed),
            "batches_tracked": int(fit.stack.batches_tracked),
        }
        rows.append(
            {
                "key": keys[i],
                "seed": int(seed),
                "run": run,
                "claim": claim,
                "tag": tag,
                "dataset": dataset_name,
                "task": fit.task,
                "metric": h.metric,
                "config": json.dumps(specs[i], sort_keys=True, default=list),
                "history": json.dumps(history),
                "final": json.dumps(final),
                "environment": json.dumps(env),
                "weights": buf.getvalue(),
                "train_seconds": float(fit.train_seconds),
                "created": created,
            }
        )
    return rows


def rebuild_fit(dataset, model, train, rows, members=None):
    """A `Fit` from stored rows (aligned with `train.seeds`), as the engine returned it."""
    import copy
    import io

    import numpy as np
    import torch

    from whydl.engine import Fit, History, build_members, stack
    from whydl.engine.device import resolve_device

    seeds = [r["seed"] for r in rows]
    if train.task is not None:
        dataset = dataset.with_task(train.task)
    if members is not None:
        modules = [copy.deepcopy(m) for m in members]
    else:
        modules = build_members(dataset, model, seeds)
    for module, row in zip(modules, rows):
        module.load_state_dict(torch.load(io.BytesIO(row["weights"]), weights_only=True))
    device = resolve_device(train.device)
    net = stack(modules, keys=seeds, device=device)
    finals = [json.loads(r["final"]) for r in rows]
    net.batches_tracked = max(f["batches_tracked"] for f in finals)
    histories = [json.loads(r["history"]) for r in rows]
    n_epochs = max(len(hist["train_loss"]) for hist in histories)

    def column(c):  # (M, epochs); None (stopped or diverged) -> NaN
        out = np.full((len(rows), n_epochs), np.nan)
        for m, hist in enumerate(histories):
            out[m, : len(hist[c])] = np.array(hist[c], dtype=float)
        return out

    history = History(seeds, rows[0]["metric"], *(column(c) for c in HISTORY_COLUMNS))
    # members trained in one call share its wall time; count each call once
    seconds = {r["run"]: r["train_seconds"] for r in rows}
    return Fit(
        stack=net,
        history=history,
        task=rows[0]["task"],
        seeds=seeds,
        epochs_run=np.array([f["epochs_run"] for f in finals]),
        diverged={s: f["diverged"] for s, f in zip(seeds, finals) if f["diverged"]},
        train_seconds=float(sum(seconds.values())),
        device=str(device),
        held_out="validation" if train.early_stopping else "test",
    )


# -- the database ----------------------------------------------------------------------------
class Store:
    """An SQLite results store at `path` (created on first use unless `create=False`).

    Example
    -------
    >>> store = Store(":memory:")
    >>> store.runs()
    []
    """

    def __init__(self, path=DEFAULT_STORE, create: bool = True):
        self.path = str(path)
        if self.path != ":memory:":
            p = Path(self.path)
            if not p.is_file():
                if not create:
                    store = shlex.quote(self.path)
                    raise WhydlError(
                        f"No results store at {self.path!r}. Create it with 'whydl claim "
                        f"hierarchy --store {store}' (one claim) or 'whydl report --store "
                        f"{store}' (all of them), or pass the --store PATH of an existing one."
                    )
                p.parent.mkdir(parents=True, exist_ok=True)
        # autocommit mode: transactions are opened explicitly in `_write`
        try:
            self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        except sqlite3.Error as e:
            raise WhydlError(
                f"cannot open the results store {self.path!r} ({e}). Pass a --store PATH in "
                "a folder you can write to."
            ) from None
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            self._conn.execute("PRAGMA synchronous=FULL")  # a commit survives even power loss
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as e:
            self._conn.close()
            raise WhydlError(
                f"{self.path!r} is not a whydl results store ({e}). Pass another --store PATH."
            ) from None
        if version > SCHEMA_VERSION:
            raise WhydlError(
                f"The store {self.path!r} was written by a newer whydl (schema {version}); "
                f"this one reads schema {SCHEMA_VERSION}. Upgrade whydl or use another --store."
            )
        self._conn.executescript(_SCHEMA)
        self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self, sql: str, rows: list) -> int:
        """Run `sql` for every row in ONE transaction: all rows land, or none do."""
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.executemany(sql, rows)
            n = cur.rowcount
            cur.execute("COMMIT")
        except BaseException:  # KeyboardInterrupt too: never leave a transaction open
            cur.execute("ROLLBACK")
            raise
        return n

    # -- members ---------------------------------------------------------------------------
    def put_members(self, rows: list[dict]) -> int:
        """Insert members in one transaction; a (key, seed) already stored is kept as it is.
        Returns how many rows were new."""
        if not rows:
            return 0
        columns = list(rows[0])
        sql = (
            f"INSERT OR IGNORE INTO members ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})"
        )
        return self._write(sql, rows)

    def find_members(self, keys, seeds) -> dict[int, dict]:
        """{index: row} for the (keys[i], seeds[i]) pairs that are stored."""
        found = {}
        for i, (key, seed) in enumerate(zip(keys, seeds)):
            row = self._conn.execute(
                "SELECT * FROM members WHERE key = ? AND seed = ?", (key, int(seed))
            ).fetchone()
            if row is not None:
                found[i] = dict(row)
        return found

    def count_members(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM members").fetchone()[0]

    def members(self, run: str | None = None) -> list[dict]:
        """Every stored member (or one run's) without weights, JSON columns decoded."""
        columns = "id, key, seed, run, claim, tag, dataset, task, metric, config, history, "
        columns += "final, environment, train_seconds, created"
        sql = f"SELECT {columns} FROM members"
        args: tuple = ()
        if run is not None:
            sql += " WHERE run = ?"
            args = (run,)
        out = []
        for row in self._conn.execute(sql + " ORDER BY id", args):
            d = dict(row)
            for c in ("config", "history", "final", "environment"):
                d[c] = json.loads(d[c])
            out.append(d)
        return out

    def runs(self) -> list[dict]:
        """One summary per training call: run id, claim, tag, dataset, seeds, mean final
        validation metric, created. Oldest first."""
        sql = (
            "SELECT run, claim, tag, dataset, metric, created, seed, config, final "
            "FROM members ORDER BY id"
        )
        runs: dict[str, dict] = {}
        for row in self._conn.execute(sql):
            r = runs.setdefault(
                row["run"],
                {
                    "run": row["run"],
                    "claim": row["claim"],
                    "tag": row["tag"],
                    "dataset": row["dataset"],
                    "metric": row["metric"],
                    "created": row["created"],
                    "config": json.loads(row["config"]),
                    "seeds": [],
                    "values": [],
                },
            )
            r["seeds"].append(row["seed"])
            value = json.loads(row["final"])["val_metric"]
            if value is not None:
                r["values"].append(value)
        out = []
        for r in runs.values():
            values = r.pop("values")
            r["val_metric_mean"] = sum(values) / len(values) if values else None
            out.append(r)
        return out

    def resolve_run(self, prefix: str) -> str:
        """The full run id that starts with `prefix` (as `whydl runs ls` prints it)."""
        matches = [
            row[0]
            for row in self._conn.execute(
                "SELECT DISTINCT run FROM members WHERE run LIKE ? || '%'", (prefix,)
            )
        ]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            store = "" if self.path == DEFAULT_STORE else f" --store {shlex.quote(self.path)}"
            raise WhydlError(
                f"No run {prefix!r} in the store {self.path!r}. "
                f"Run 'whydl runs ls{store}' to list the stored runs."
            )
        raise WhydlError(
            f"Run id {prefix!r} is ambiguous: it starts {len(matches)} runs. Give more characters."
        )

    # -- rendered results ------------------------------------------------------------------
    def put_result(self, name: str, preset: str, n_seeds: int, payload: dict) -> None:
        """Store what the report renders for one claim (or the demo), replacing an older one."""
        sql = (
            "INSERT OR REPLACE INTO results (name, preset, n_seeds, payload, created) "
            "VALUES (?, ?, ?, ?, ?)"
        )
        row = (name, preset, int(n_seeds), json.dumps(payload), time.strftime("%Y-%m-%dT%H:%M:%S"))
        self._write(sql, [row])

    def results(self) -> list[dict]:
        """Every stored claim (and demo) record: name, preset, n_seeds, created, payload."""
        sql = "SELECT name, preset, n_seeds, created, payload FROM results ORDER BY id"
        return [dict(r) | {"payload": json.loads(r["payload"])} for r in self._conn.execute(sql)]

    def get_result(self, name: str, preset: str, n_seeds: int) -> dict | None:
        row = self._conn.execute(
            "SELECT payload FROM results WHERE name = ? AND preset = ? AND n_seeds = ?",
            (name, preset, int(n_seeds)),
        ).fetchone()
        return None if row is None else json.loads(row[0])


# -- the cache in front of Context.fit -------------------------------------------------------
@dataclasses.dataclass
class _Plan:
    """A call with members to train: the contiguous span of seeds that covers them."""

    call: object  # TrainCall
    specs: list
    found: dict  # index -> stored row
    lo: int
    hi: int

    @property
    def n(self) -> int:
        """Members in the span."""
        return self.hi - self.lo + 1

    @property
    def span(self):
        train = self.call.train
        return dataclasses.replace(train, seed=train.seeds[self.lo], n_seeds=self.n)

    @property
    def hooks(self) -> dict:
        hooks = dict(self.call.hooks)
        for name in ("members", "train_rows"):  # per-member hooks: the span's slice
            if hooks.get(name) is not None:
                hooks[name] = hooks[name][self.lo : self.hi + 1]
        return hooks


class CachedContext(Context):
    """A `Context` whose `fit` looks every member up in `store` and trains only what is missing.

    For each call, the members of `train.seeds` are looked up by (member_key, seed). When all
    are stored, the `Fit` is rebuilt from the store and nothing trains. Otherwise the
    contiguous span of seeds that covers the missing ones is trained (with the matching slice
    of `members`), its new members are written in ONE transaction, and the `Fit` is assembled
    from the store. A member is what it would be if trained alone (the engine's guarantee), so
    the result equals a fresh run's up to floating-point summation order.

    `executor` (see `whydl.executor`; None trains in this process) runs the spans of a
    `fit_many` side by side, e.g. on Dask; the rows come back here and this process alone
    writes the store.

    Calls with a `callback` hook bypass the store: the callback observes training as it
    happens, which a stored result cannot replay. They always train, in this process, and
    are not stored. So do calls with a hook the store does not know (it could not tell what
    it changes).

    `train=False` forbids training: a missing member raises `MissingResults`.
    `n_fits`/`n_members` count what was trained, `n_cached` the members reused.
    """

    def __init__(
        self,
        store: Store,
        claim: str = "",
        train: bool = True,
        verbose: bool = False,
        fit=None,
        executor=None,
    ):
        super().__init__(verbose=verbose, fit=fit)
        self.store, self.claim, self.allow_training = store, claim, train
        self.executor = executor
        self.n_cached = 0

    def fit(self, dataset, model, train, tag: str = "", **hooks):
        from whydl.evidence.frame import TrainCall

        return self.fit_many([TrainCall(dataset, model, train, tag, hooks)])[0]

    def _fit_list(self, calls: list, errors: str) -> list:
        from whydl.errors import DivergedError

        out: list = [None] * len(calls)
        plans: dict[int, _Plan] = {}
        for i, call in enumerate(calls):
            unknown = set(call.hooks) - KEYED_HOOKS - {"progress", "callback"}
            if call.hooks.get("callback") is not None or unknown:
                plans[i] = None  # trains here, unstored
                continue
            plan = self._plan(call)
            if isinstance(plan, _Plan):
                plans[i] = plan
            else:
                out[i] = plan  # every member was stored
        remote = {i: p for i, p in plans.items() if p is not None and self.executor is not None}
        if remote:
            self._run_remote(remote, out)
        for i, plan in plans.items():
            if i in remote:
                continue
            try:
                out[i] = super()._train(calls[i]) if plan is None else self._train_here(plan)
            except DivergedError as e:
                if errors == "raise":
                    raise
                out[i] = e
        diverged = [r for r in out if isinstance(r, DivergedError)]
        if diverged and errors == "raise":
            raise diverged[0]
        return out

    def _plan(self, call):
        """The stored `Fit` when every member is stored, else a `_Plan` of what to train."""
        dataset, model, train, hooks = call.dataset, call.model, call.train, call.hooks
        members, frozen = hooks.get("members"), tuple(hooks.get("frozen") or ())
        specs = member_specs(dataset, model, train, frozen, members, hooks.get("train_rows"))
        keys = [member_key(s) for s in specs]
        seeds = train.seeds
        found = self.store.find_members(keys, seeds)
        missing = [i for i in range(len(seeds)) if i not in found]
        if not missing:
            self.n_cached += len(seeds)
            self.log(f"reused {call.name}: {len(seeds)} member(s) from the store")
            return rebuild_fit(dataset, model, train, [found[i] for i in sorted(found)], members)
        if not self.allow_training:
            raise MissingResults(
                f"The store {self.store.path!r} lacks {len(missing)} member(s) of "
                f"{call.name!r} (claim {self.claim or '-'}) and training is off. "
                "Run without --no-train to train them."
            )
        return _Plan(call, specs, found, missing[0], missing[-1])

    def _train_here(self, plan: _Plan):
        """Train a plan's span in this process, store it, and return the call's `Fit`."""
        from whydl.evidence.frame import TrainCall

        call = plan.call
        span = TrainCall(call.dataset, call.model, plan.span, call.tag, plan.hooks)
        fresh = super()._train(span)
        rows = fit_rows(
            fresh, plan.specs[plan.lo : plan.hi + 1], self.claim, call.tag, call.dataset.name
        )
        self._store_rows(plan, rows)
        if plan.n == call.train.n_seeds:
            return fresh  # trained them all: the engine's own Fit
        return self._assemble(plan, rows)

    def _store_rows(self, plan: _Plan, rows: list[dict]) -> None:
        """Write a span's new members in ONE transaction (those stored before stay as stored)."""
        span = range(plan.lo, plan.hi + 1)
        self.store.put_members([r for r, i in zip(rows, span) if i not in plan.found])

    def _assemble(self, plan: _Plan, rows: list[dict]):
        self.n_cached += len(plan.found)
        found = dict(plan.found)
        for j, row in enumerate(rows):  # members stored before stay as they were stored
            found.setdefault(plan.lo + j, row)
        call = plan.call
        ordered = [found[i] for i in range(call.train.n_seeds)]
        return rebuild_fit(call.dataset, call.model, call.train, ordered, call.hooks.get("members"))

    def _run_remote(self, plans: dict[int, _Plan], out: list) -> None:
        """Train the plans' spans on the executor (with its `split`, a call that would hold
        up the sweep cut into parts: `whydl.executor.split_spans`); store and assemble each
        call as soon as all its parts are back, in ONE transaction, as if trained here."""
        from whydl.engine.diagnosis import diverged_summary  # engine/ imports torch: lazily
        from whydl.errors import DivergedError
        from whydl.executor import Diverged, Job, SweepFailed, split_spans

        order = sorted(plans)
        costs = [(plans[i].n, _member_cost(plans[i])) for i in order]
        jobs, owner = [], []  # owner[k]: (call index, first member, last member) of job k
        workers = self.executor.workers if getattr(self.executor, "split", False) else 1
        for i, parts in zip(order, split_spans(costs, workers)):
            plan = plans[i]
            self.n_fits += 1
            self.n_members += plan.n
            self.log(
                f"sending {plan.call.name}: {plan.n} member(s)"
                + (f" in {len(parts)} parts" if len(parts) > 1 else "")
            )
            for a, b in parts:
                part = _Plan(plan.call, plan.specs, plan.found, plan.lo + a, plan.lo + b)
                hooks = {k: v for k, v in part.hooks.items() if k != "progress"}
                name = plan.call.name
                if len(parts) > 1:
                    name += f" [seeds {part.span.seeds[0]}-{part.span.seeds[-1]}]"
                specs = plan.specs[part.lo : part.hi + 1]
                jobs.append(
                    Job(
                        name,
                        plan.call.dataset,
                        plan.call.model,
                        part.span,
                        hooks,
                        specs,
                        self.claim,
                        CACHE_VERSION,
                        part=len(parts) > 1,
                    )
                )
                owner.append((i, part.lo, part.hi))
        waiting = {i: sum(o[0] == i for o in owner) for i in order}
        returned: dict[int, list] = {i: [] for i in order}  # (first member, rows) per part

        def on_result(k: int, result) -> None:
            i, lo, _hi = owner[k]
            if isinstance(result, Diverged):  # a whole call, every member diverged
                out[i] = DivergedError(result.message)
                return
            returned[i].append((lo, result))
            waiting[i] -= 1
            if waiting[i]:
                return
            rows = [r for _, part in sorted(returned[i], key=lambda x: x[0]) for r in part]
            finals = [json.loads(r["final"]) for r in rows]
            if all(f["diverged"] for f in finals):  # as the engine says for a whole call
                messages = {r["seed"]: f["diverged"] for r, f in zip(rows, finals)}
                out[i] = DivergedError(diverged_summary(messages, len(rows)))
                return
            if len(returned[i]) > 1:  # one call, as `fit_rows` names it; its compute in total
                run = _run_id([r["key"] for r in rows], [r["seed"] for r in rows])
                seconds = sum(part[0]["train_seconds"] for _, part in returned[i])
                for r in rows:
                    r["run"], r["train_seconds"] = run, seconds
            self._store_rows(plans[i], rows)
            out[i] = self._assemble(plans[i], rows)

        failures = self.executor.run(jobs, on_result, log=self.log)
        if failures:
            raise SweepFailed(failures, len(jobs) - len(failures))


def _member_cost(plan: _Plan) -> float:
    from whydl.executor import member_cost

    rows = plan.call.hooks.get("train_rows")
    n_rows = None if rows is None else len(rows[plan.lo])
    return member_cost(plan.call.dataset, plan.call.model, plan.call.train, n_rows)
