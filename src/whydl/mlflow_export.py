"""`whydl runs export --mlflow [URI]`: the results store, written to MLflow.

The store stays the source of truth; MLflow is a view of it for people who already track
their runs there. Layout, one MLflow experiment per claim (`whydl/data`, `whydl/demo`, ...;
members trained outside a claim go to `whydl/runs`):

- a run per training call (kind `call`), named by its tag, with the shared config as params;
- nested under it, a run per member (kind `member`): params (dataset, task, model.*,
  train.*, seed, ...), per-epoch metrics `train_loss`, `val_loss`, `train_<metric>`,
  `val_<metric>` with the epoch as step, `epochs_run` and `train_seconds`, the environment
  that trained it as `env.*` tags, and a `diverged` tag when it did;
- a run per stored claim result (kind `claim`): its params, verdict and headline as tags,
  `seconds` and `trained_members` as metrics, and its figures (SVG), verdict.json and
  results.json as artifacts.

Every exported run carries a `whydl.uid` tag; an export skips what an earlier one wrote, so
running it again after more training adds only the new runs.

Example
-------
>>> from whydl.mlflow_export import member_params
>>> member_params({"model": {"hidden": [10, 10]}, "train": {"lr": 0.01}}, 3)["model.hidden"]
'[10, 10]'
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

from whydl.errors import WhydlError

DEFAULT_URI = "sqlite:///mlflow.db"
DEFAULT_PREFIX = "whydl"
MAX_BATCH = 1000  # MLflow's log_batch takes at most 1000 metrics and 100 params/tags a call
MAX_PARAMS = 100


def require_mlflow():
    """The `mlflow` module, or a WhydlError that says how to install it."""
    try:  # lazily: mlflow is an optional extra
        import mlflow  # noqa: F401
        from mlflow import MlflowClient
    except ImportError as e:
        raise WhydlError(
            f"--mlflow needs the mlflow extra ({e.name or 'mlflow'} is not installed). "
            "Install it with: pip install 'whydl[mlflow]'"
        ) from None
    return MlflowClient


# -- what a member becomes -------------------------------------------------------------------
def _flat(prefix: str, value) -> dict[str, str]:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out |= _flat(f"{prefix}.{k}" if prefix else str(k), v)
        return out
    if isinstance(value, str):
        return {prefix: value}
    return {prefix: json.dumps(value)}


def member_params(config: dict, seed: int) -> dict[str, str]:
    """A member's stored config as flat MLflow params (`model.hidden`, `train.lr`, ...)."""
    config = {k: v for k, v in config.items() if k != "cache_version"}
    config["dataset.fingerprint"] = config.pop("dataset", None)  # its name is a param too
    params = _flat("", config)
    params["seed"] = str(seed)
    return params


def metric_history(member: dict) -> list[tuple[str, float, int]]:
    """(name, value, step) for every epoch a member trained; epochs start at 1."""
    metric = member["metric"]
    names = {
        "train_loss": "train_loss",
        "val_loss": "val_loss",
        "train_metric": f"train_{metric}",
        "val_metric": f"val_{metric}",
    }
    out = []
    for column, name in names.items():
        for epoch, value in enumerate(member["history"][column], start=1):
            if value is not None:  # the member had stopped (early stopping or divergence)
                out.append((name, float(value), epoch))
    return out


def _millis(created: str) -> int:
    try:
        return int(time.mktime(time.strptime(created, "%Y-%m-%dT%H:%M:%S")) * 1000)
    except ValueError:
        return int(time.time() * 1000)


# -- the export ------------------------------------------------------------------------------
class _Exporter:
    def __init__(self, uri: str, prefix: str):
        client_class = require_mlflow()
        for name in ("mlflow", "alembic"):  # their INFO lines (creating tables...) are noise here
            logging.getLogger(name).setLevel(logging.WARNING)
        self.uri, self.prefix = uri, prefix
        try:
            self.client = client_class(tracking_uri=uri)
            self.client.search_experiments(max_results=1)  # fails here on a bad URI
        except Exception as e:  # MLflow raises many kinds for a URI it cannot open
            raise WhydlError(
                f"--mlflow {uri!r}: MLflow cannot open this tracking URI ({type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}). Expected e.g. "
                f"{DEFAULT_URI} or http://HOST:5000."
            ) from None
        self.experiments: dict[str, str] = {}
        self.exported: dict[str, set[str]] = {}
        self.counts = {"member": 0, "call": 0, "claim": 0, "skipped": 0}

    def experiment(self, claim: str) -> str:
        """The id of the experiment for `claim` (created on first use), and the uids that
        an earlier export wrote there."""
        name = f"{self.prefix}/{claim or 'runs'}"
        if name not in self.experiments:
            found = self.client.get_experiment_by_name(name)
            if found is None:
                exp_id = self.client.create_experiment(
                    name, artifact_location=self._artifacts(name)
                )
            else:
                exp_id = found.experiment_id
            self.experiments[name] = exp_id
            self.exported[exp_id] = self._uids(exp_id)
        return self.experiments[name]

    def _artifacts(self, name: str) -> str | None:
        """Beside a SQLite file, artifacts go to mlartifacts/ next to it (MLflow's default,
        ./mlruns in the working directory, would scatter them); a server picks its own."""
        if not self.uri.startswith("sqlite:///"):
            return None
        db = Path(self.uri.removeprefix("sqlite:///")).resolve()
        return (db.parent / "mlartifacts" / name.replace("/", "_")).as_uri()

    def _uids(self, exp_id: str) -> set[str]:
        uids, token = set(), None
        while True:
            page = self.client.search_runs([exp_id], max_results=5000, page_token=token)
            uids |= {r.data.tags.get("whydl.uid") for r in page}
            token = page.token
            if not token:
                return uids - {None}

    def start(self, exp_id: str, uid: str, name: str, created: str, tags: dict):
        if uid in self.exported[exp_id]:
            self.counts["skipped"] += 1
            return None
        tags = {"whydl.uid": uid, **{k: str(v) for k, v in tags.items()}}
        run = self.client.create_run(exp_id, start_time=_millis(created), tags=tags, run_name=name)
        self.exported[exp_id].add(uid)
        return run.info.run_id

    def log(self, run_id: str, params=None, metrics=(), tags=None) -> None:
        from mlflow.entities import Metric, Param, RunTag  # lazily: an optional extra

        now = int(time.time() * 1000)
        params = [Param(k, v) for k, v in (params or {}).items()]
        tags = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        metrics = [Metric(k, v, now, step) for k, v, step in metrics]
        for i in range(0, max(len(params), len(tags), 1), MAX_PARAMS):
            batch_p, batch_t = params[i : i + MAX_PARAMS], tags[i : i + MAX_PARAMS]
            if batch_p or batch_t:
                self.client.log_batch(run_id, params=batch_p, tags=batch_t)
        for i in range(0, len(metrics), MAX_BATCH):
            self.client.log_batch(run_id, metrics=metrics[i : i + MAX_BATCH])

    def finish(self, run_id: str, kind: str) -> None:
        self.client.set_terminated(run_id)
        self.counts[kind] += 1


def export_mlflow(store, uri: str = DEFAULT_URI, prefix: str = DEFAULT_PREFIX, log=None) -> dict:
    """Write every stored member, training call and claim result of `store` (a `Store`) to
    the MLflow tracking server or database at `uri`. Returns counts of runs written and of
    runs skipped because an earlier export wrote them."""
    ex = _Exporter(uri, prefix)
    members = store.members()
    calls: dict[str, list[dict]] = {}
    for m in members:
        calls.setdefault(m["run"], []).append(m)
    for run, group in calls.items():
        _export_call(ex, run, group)
        if log:
            log(f"exported call {run} ({len(group)} member(s))")
    for record in store.results():
        _export_result(ex, record)
    return ex.counts


def _export_call(ex: _Exporter, run: str, members: list[dict]) -> None:
    first = members[0]
    exp_id = ex.experiment(first["claim"])
    base = {"whydl.run": run, "whydl.claim": first["claim"], "whydl.tag": first["tag"]}
    parent = ex.start(
        exp_id,
        f"call:{run}",
        first["tag"] or first["dataset"],
        first["created"],
        base | {"whydl.kind": "call"},
    )
    if parent is None:
        parent_id = _find_parent(ex, exp_id, run)
    else:
        shared = {k: v for k, v in member_params(first["config"], 0).items() if k != "seed"}
        shared = {k: v for k, v in shared.items() if not k.startswith(("init", "train_rows"))}
        shared |= {
            "dataset.name": first["dataset"],
            "task": first["task"],
            "n_members": str(len(members)),
        }
        finals = [m["final"]["val_metric"] for m in members if m["final"]["val_metric"] is not None]
        metrics = [("train_seconds", float(first["train_seconds"]), 0)]
        if finals:
            metrics.append((f"val_{first['metric']}_mean", sum(finals) / len(finals), 0))
        ex.log(parent, params=shared, metrics=metrics)
        ex.finish(parent, "call")
        parent_id = parent
    for m in members:
        uid = f"member:{m['key']}:{m['seed']}"
        tags = base | {
            "whydl.kind": "member",
            "whydl.key": m["key"],
            "mlflow.parentRunId": parent_id,
        }
        tags |= {f"env.{k}": v for k, v in m["environment"].items()}
        if m["final"].get("diverged"):
            tags["diverged"] = m["final"]["diverged"]
        name = f"{m['tag'] or m['dataset']} seed {m['seed']}"
        run_id = ex.start(exp_id, uid, name, m["created"], tags)
        if run_id is None:
            continue
        params = member_params(m["config"], m["seed"])
        params |= {"dataset.name": m["dataset"], "task": m["task"]}
        metrics = metric_history(m)
        metrics.append(("epochs_run", float(m["final"]["epochs_run"]), 0))
        metrics.append(("train_seconds", float(m["train_seconds"]), 0))
        ex.log(run_id, params=params, metrics=metrics)
        ex.finish(run_id, "member")


def _find_parent(ex: _Exporter, exp_id: str, run: str) -> str:
    """The MLflow run id an earlier export gave training call `run`."""
    found = ex.client.search_runs([exp_id], f"tags.`whydl.uid` = 'call:{run}'", max_results=1)
    return found[0].info.run_id


def _export_result(ex: _Exporter, record: dict) -> None:
    payload = record["payload"]
    name, preset, n_seeds = record["name"], record["preset"], record["n_seeds"]
    exp_id = ex.experiment(name)
    uid = f"{payload.get('kind', 'claim')}:{name}:{preset}:{n_seeds}:{record['created']}"
    verdict = payload.get("verdict") or {}
    tags = {
        "whydl.kind": payload.get("kind", "claim"),
        "whydl.claim": name,
        "mlflow.note.content": payload.get("hypothesis") or payload.get("title", ""),
    }
    if verdict:
        tags["verdict"] = verdict.get("verdict", "")
    if payload.get("headline"):
        tags["headline"] = str(payload["headline"])[:5000]
    title = (
        f"{'claim ' + name if name != 'demo' else 'demo'} ({preset or 'fixed'}, {n_seeds} seeds)"
    )
    run_id = ex.start(exp_id, uid, title, record["created"], tags)
    if run_id is None:
        return
    params = _flat("", payload.get("params") or {})
    params |= {"preset": preset or "-", "n_seeds": str(n_seeds)}
    metrics = [
        (k, float(payload[k]), 0)
        for k in ("seconds", "trained_members", "cached_members")
        if isinstance(payload.get(k), int | float)
    ]
    ex.log(run_id, params=params, metrics=metrics)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "figures").mkdir()
        for i, figure in enumerate(payload.get("figures") or []):
            stem = figure.get("name") or f"figure_{i + 1}"
            (folder / "figures" / f"{stem}.svg").write_text(figure["svg"], encoding="utf-8")
        if verdict:
            (folder / "verdict.json").write_text(json.dumps(verdict, indent=2))
        if payload.get("table"):
            (folder / "results.json").write_text(json.dumps(payload["table"], indent=1))
        ex.client.log_artifacts(run_id, str(folder))
    ex.finish(run_id, "claim")
