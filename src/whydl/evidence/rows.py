"""Tidy rows, read back: every rule and figure takes its values out of rows this way.

A row is one evaluation seed of one configuration: `{"seed": 3, "arm": "adam", "value": ...}`.

Example
-------
>>> rows = [{"seed": s, "arm": a, "acc": v} for s, a, v in [(0, "a", 1.0), (0, "b", 0.5),
...         (1, "a", 0.8), (1, "b", 0.6)]]
>>> by_seed(rows, "acc", arm="a")
{0: 1.0, 1: 0.8}
>>> xs, seeds, grid = matrix(rows, "acc", "arm")
>>> grid.tolist()
[[1.0, 0.5], [0.8, 0.6]]
"""

from __future__ import annotations

import numpy as np


def select(rows, **where) -> list[dict]:
    """The rows whose fields equal every `where` value."""
    return [r for r in rows if all(r.get(k) == v for k, v in where.items())]


def by_seed(rows, column: str, **where) -> dict:
    """seed -> value of `column`, over the rows matching `where` (one per seed)."""
    out = {}
    for r in select(rows, **where):
        if r["seed"] in out:
            raise ValueError(f"two rows of seed {r['seed']} match {where}; add a condition.")
        out[r["seed"]] = float(r[column])
    return out


def levels(rows, column: str, **where) -> list:
    """The distinct values of `column`, sorted."""
    return sorted({r[column] for r in select(rows, **where)})


def matrix(rows, column: str, x: str, **where):
    """(x values, seeds, values (seeds, x values)) of `column`; NaN where a seed lacks one."""
    mine = select(rows, **where)
    xs = sorted({r[x] for r in mine})
    seeds = sorted({r["seed"] for r in mine})
    out = np.full((len(seeds), len(xs)), np.nan)
    for r in mine:
        out[seeds.index(r["seed"]), xs.index(r[x])] = r[column]
    return xs, seeds, out
