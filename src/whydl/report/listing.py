"""The results store as text: one line per run (`whydl runs ls`), one run in full (`whydl
runs show`), and every member as CSV or JSON (`whydl runs export`). Reads rows; imports no
torch, so these commands start fast.
"""

from __future__ import annotations

import csv
import io
import json


def runs_table(runs) -> str:
    if not runs:
        return "the store holds no runs yet"
    lines = [
        f"{'RUN':12s}  {'CREATED':19s}  {'CLAIM':12s}  {'TAG':24s}  {'MODEL':14s}  SEEDS  HELD-OUT"
    ]
    for r in runs:
        model = r["config"]["model"]
        arch = "cnn" if model["architecture"] == "cnn" else "-".join(map(str, model["hidden"]))
        value = "-" if r["val_metric_mean"] is None else f"{r['val_metric_mean']:.4f}"
        tag = r["tag"] or r["dataset"]
        lines.append(
            f"{r['run']:12s}  {r['created']:19s}  {r['claim'] or '-':12s}  {tag[:24]:24s}  "
            f"{arch[:14]:14s}  {len(r['seeds']):5d}  {value}"
        )
    lines.append(
        f"{len(runs)} run(s); HELD-OUT: the last epoch's metric on the held-out split (the test "
        "split; a validation split with early stopping), mean over seeds"
    )
    return "\n".join(lines)


def run_details(db, run: str) -> str:
    members = db.members(run)
    first = members[0]
    lines = [
        f"run {run}: claim {first['claim'] or '-'}, tag {first['tag'] or '-'}, "
        f"dataset {first['dataset']} ({first['task']}), created {first['created']}",
        f"trained in {first['train_seconds']:.2f} s",
        *(f"{k}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(first["config"].items())),
        "environment: " + json.dumps(first["environment"], sort_keys=True),
        f"{'member':>8}  {'seed':>5}  {'epochs':>6}  {'train loss':>10}  {'val loss':>10}  "
        f"{'val ' + first['metric']:>12}  key",
    ]
    for m in members:
        f = m["final"]
        num = lambda v: "nan" if v is None else f"{v:.4f}"  # noqa: E731
        lines.append(
            f"{m['id']:>8}  {m['seed']:>5}  {f['epochs_run']:>6}  {num(f['train_loss']):>10}  "
            f"{num(f['val_loss']):>10}  {num(f['val_metric']):>12}  {m['key'][:16]}"
            + (f"  DIVERGED: {f['diverged']}" if f["diverged"] else "")
        )
    return "\n".join(lines)


def export_members(members, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(members, indent=1) + "\n"

    rows = []
    for m in members:
        row = {k: m[k] for k in ("id", "run", "key", "seed", "claim", "tag", "dataset", "task")}
        row |= {"metric": m["metric"], "train_seconds": m["train_seconds"], "created": m["created"]}
        row |= {f"final_{k}": v for k, v in m["final"].items()}
        row |= {f"model_{k}": v for k, v in m["config"]["model"].items()}
        row |= {f"train_{k}": v for k, v in m["config"]["train"].items()}
        rows.append(row)
    buf = io.StringIO()
    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["id"]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
