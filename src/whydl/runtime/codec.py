"""Fit <-> store rows: a finished `Fit` becomes one row per member, and stored rows become
the same `Fit` again, stacked model included (claims analyse trained models, not numbers).

A member's records (`Fit.records[name][i]`, what the call's recorders measured) live in its
row's `history` JSON under "records", each as its shape and flat values, so they come back
bit for bit (JSON has no NaN or infinity: NaN is null, infinities are "inf" and "-inf").
A row without records has no such key.
"""

from __future__ import annotations

import copy
import io
import json
import math
import time

import numpy as np
import torch

from whydl.engine import Fit, History, build_members, stack
from whydl.engine.device import resolve_device
from whydl.environment import environment
from whydl.store import HISTORY_COLUMNS, member_key, run_id


def _floats(values) -> list:
    return [None if not math.isfinite(v) else float(v) for v in values]


def _encode(array: np.ndarray) -> dict:
    """One member's record as JSON: its shape and its flat float64 values."""
    values = [
        v if math.isfinite(v) else (None if math.isnan(v) else ("inf" if v > 0 else "-inf"))
        for v in np.asarray(array, dtype=float).ravel().tolist()
    ]
    return {"shape": list(np.shape(array)), "values": values}


def _decode(record: dict) -> np.ndarray:
    values = [math.nan if v is None else float(v) for v in record["values"]]
    return np.array(values, dtype=float).reshape(record["shape"])


def fit_rows(fit, specs, claim: str = "", tag: str = "", dataset_name: str = "") -> list[dict]:
    """The rows that store each member of a finished `Fit` (specs aligned with fit.seeds)."""
    env = environment(fit.device)
    keys = [member_key(s) for s in specs]
    run = run_id(keys, fit.seeds)
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
            "diverged": fit.diverged_members.get(i),
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
                "history": json.dumps(history | _member_records(fit.records, i)),
                "final": json.dumps(final),
                "environment": json.dumps(env),
                "weights": buf.getvalue(),
                "train_seconds": float(fit.train_seconds),
                "created": created,
            }
        )
    return rows


def _member_records(records: dict, i: int) -> dict:
    """{"records": {name: member i's entry}}, or {} when the fit recorded nothing."""
    if not records:
        return {}
    return {"records": {name: _encode(a[i]) for name, a in records.items()}}


def rebuild_fit(dataset, model, train, rows, members=None):
    """A `Fit` from stored rows (aligned with `train.seeds`), as the engine returned it."""
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
    stored = [hist.get("records", {}) for hist in histories]
    records = {name: np.stack([_decode(r[name]) for r in stored]) for name in stored[0]}
    # members trained in one call share its wall time; count each call once
    seconds = {r["run"]: r["train_seconds"] for r in rows}
    return Fit(
        stack=net,
        history=history,
        task=rows[0]["task"],
        seeds=seeds,
        epochs_run=np.array([f["epochs_run"] for f in finals]),
        diverged={s: f["diverged"] for s, f in zip(seeds, finals) if f["diverged"]},
        diverged_members={i: f["diverged"] for i, f in enumerate(finals) if f["diverged"]},
        train_seconds=float(sum(seconds.values())),
        device=str(device),
        held_out="validation" if train.early_stopping else "test",
        records=records,
    )
