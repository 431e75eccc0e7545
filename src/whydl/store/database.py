"""The SQLite database of the results store: its schema, and the queries on members and on
rendered results. It stores rows; what a row means (a member of a `Fit`) is the runtime's.

Each write is ONE transaction: after Ctrl-C or `kill -9` the database holds every finished
call and nothing of the unfinished one, so running the same command again resumes where it
stopped. SQLite's write-ahead log keeps the file consistent through a crash.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
import time
from pathlib import Path

from whydl.errors import WhydlError

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


class MissingResults(WhydlError):
    """A store lookup found nothing and training was not allowed (`whydl report --no-train`)."""


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
