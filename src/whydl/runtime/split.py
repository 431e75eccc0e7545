"""Cutting a call that would hold up a sweep into parts, and putting the parts back together.

A sweep is only as fast as its longest job. `split_spans` cuts a call whose cost exceeds the
sweep's share of one worker into near-equal parts that train side by side (each still
vectorised); `join_parts` reassembles what they return into the rows of ONE call, with one
run id, exactly as if it had trained whole.
"""

from __future__ import annotations

import json
import math

from whydl.analysis.flops import forward_flops
from whydl.engine.diagnosis import diverged_summary
from whydl.errors import DivergedError
from whydl.store import run_id

# Relative cost of training one member, for balancing only. The stacked CNN's grouped
# convolutions run about 8x slower per FLOP than the MLP's batched matrix products (measured:
# flexibility's full preset, 28 s for the CNN against 15 s for a 197k-FLOP MLP of the same
# members, epochs and rows); every sample also costs a fixed overhead, whatever its FLOPs.
CNN_SLOWDOWN = 8
SAMPLE_OVERHEAD_FLOPS = 2_000


def member_cost(dataset, model, train, n_rows: int | None = None) -> float:
    """Relative cost of training one member of a call (its FLOPs, weighted as above)."""
    image_shape = getattr(dataset, "image_shape", None) or (8, 8)
    flops = forward_flops(model, dataset.n_features, dataset.n_outputs, image_shape)
    if model.architecture == "cnn":
        flops *= CNN_SLOWDOWN
    rows = len(dataset.X_train) if n_rows is None else n_rows
    return float(train.epochs) * rows * (flops + SAMPLE_OVERHEAD_FLOPS)


def split_spans(costs: list[tuple[int, float]], n_workers: int) -> list[list[tuple[int, int]]]:
    """How to cut calls into jobs so that no job is much longer than the sweep's share of
    one worker. `costs[i]` is (members, cost per member) of call i; the answer gives call i's
    parts as (first, last) member indices. A call is cut only when its cost exceeds the
    total over `n_workers`, into as few near-equal parts as bring each under it; every part
    still trains its members as one vectorised computation.

    Example
    -------
    >>> split_spans([(10, 8.0), (10, 1.0), (10, 1.0)], n_workers=4)
    [[(0, 2), (3, 5), (6, 7), (8, 9)], [(0, 9)], [(0, 9)]]
    """
    total = sum(m * c for m, c in costs)
    share = total / max(n_workers, 1)
    out = []
    for m, c in costs:
        # at most `per` members a part keeps each part under the share
        per = m if c <= 0 or share <= 0 else max(1, math.floor(share / c + 1e-9))
        k = math.ceil(m / min(per, m))
        size, extra = divmod(m, k)
        parts, lo = [], 0
        for j in range(k):
            hi = lo + size + (j < extra) - 1
            parts.append((lo, hi))
            lo = hi + 1
        out.append(parts)
    return out


def join_parts(parts: list[tuple[int, list]]):
    """The rows of one call from its parts' (first member, rows); a `DivergedError` (as the
    engine raises it for a whole call) when every member diverged."""
    ordered = sorted(parts, key=lambda part: part[0])
    rows = [r for _, part_rows in ordered for r in part_rows]
    finals = [json.loads(r["final"]) for r in rows]
    if all(f["diverged"] for f in finals):
        messages = {r["seed"]: f["diverged"] for r, f in zip(rows, finals)}
        return DivergedError(diverged_summary(messages, len(rows)))
    if len(ordered) > 1:  # one call, as `fit_rows` names it; its compute in total
        run = run_id([r["key"] for r in rows], [r["seed"] for r in rows])
        seconds = sum(part_rows[0]["train_seconds"] for _, part_rows in ordered)
        for r in rows:
            r["run"], r["train_seconds"] = run, seconds
    return rows
