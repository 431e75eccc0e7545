"""A learning-rate grid x seeds: one call per learning rate against one stack for the grid.

    python benchmarks/bench_grid.py [--seeds 10] [--repeats 3]

The article's experiment (make_moons(1000, noise=0.1, random_state=42), 70/30 split,
2-10-10-1 ReLU, Adam, batch 32, 100 epochs) for lr in 0.001, 0.003, 0.01, 0.03, 0.1 and
--seeds seeds each, timed (a) as one `fit` of --seeds members per learning rate and (b) as
one `fit` of 5 x --seeds members with `member_lr`. Member (lr, seed) is the same network both
ways, so the final test accuracies should agree (the largest |difference| is printed).
Times are wall clock around the `fit` calls (imports and data excluded), best of --repeats.

Then the same grid as a sweep through the runtime, as a claim sends it: five `TrainCall`s to
`CachedContext(...).fit_many` on an in-memory store, (c) with the runtime's grouping (one
stack of 50, split back into five calls' rows under their own keys) and (d) without it (a
stand-in `fit` that is the engine's, which the runtime does not group).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from whydl.config import ModelConfig, TrainConfig
from whydl.data import article_moons
from whydl.engine import fit
from whydl.evidence import TrainCall
from whydl.runtime import CachedContext
from whydl.store import Store

LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1)


def one_call_per_lr(ds, n_seeds: int):
    """(seconds, (n_lr, n_seeds) final test accuracies); lr i trains seeds i * n_seeds + s."""
    start = time.perf_counter()
    fits = [
        fit(ds, ModelConfig(), TrainConfig(lr=lr, seed=i * n_seeds, n_seeds=n_seeds))
        for i, lr in enumerate(LEARNING_RATES)
    ]
    seconds = time.perf_counter() - start
    return seconds, np.stack([f.history.val_metric[:, -1] for f in fits])


def one_stack(ds, n_seeds: int):
    """The same grid as one stack of seeds 0..n-1: member m has lr LEARNING_RATES[m // n_seeds],
    so member (lr i, seed i * n_seeds + s) is the same network as in `one_call_per_lr`."""
    n = len(LEARNING_RATES) * n_seeds
    member_lr = np.repeat(LEARNING_RATES, n_seeds)
    start = time.perf_counter()
    f = fit(ds, ModelConfig(), TrainConfig(n_seeds=n), member_lr=member_lr)
    seconds = time.perf_counter() - start
    return seconds, f.history.val_metric[:, -1].reshape(len(LEARNING_RATES), n_seeds)


def sweep(ds, n_seeds: int, grouped: bool):
    """(seconds, (n_lr, n_seeds) final test accuracies) of the grid through the runtime."""
    calls = [
        TrainCall(ds, ModelConfig(), TrainConfig(lr=lr, n_seeds=n_seeds), f"lr {lr}")
        for lr in LEARNING_RATES
    ]
    # the runtime groups only the engine's own `fit`: a stand-in that calls it trains alone
    ctx = CachedContext(Store(":memory:"), fit=None if grouped else (lambda *a, **k: fit(*a, **k)))
    start = time.perf_counter()
    fits = ctx.fit_many(calls)
    seconds = time.perf_counter() - start
    return seconds, np.stack([f.history.val_metric[:, -1] for f in fits])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=10, help="seeds per learning rate (10)")
    p.add_argument("--repeats", type=int, default=3, help="repeats; the best time counts (3)")
    args = p.parse_args()

    ds = article_moons()
    one_stack(ds, 1)  # warm both paths once
    one_call_per_lr(ds, 1)
    calls = [one_call_per_lr(ds, args.seeds) for _ in range(args.repeats)]
    stacks = [one_stack(ds, args.seeds) for _ in range(args.repeats)]
    t_calls, t_stack = min(t for t, _ in calls), min(t for t, _ in stacks)
    difference = float(np.max(np.abs(calls[0][1] - stacks[0][1])))
    sweep(ds, 1, True), sweep(ds, 1, False)
    grouped = [sweep(ds, args.seeds, True) for _ in range(args.repeats)]
    alone = [sweep(ds, args.seeds, False) for _ in range(args.repeats)]
    t_grouped, t_alone = min(t for t, _ in grouped), min(t for t, _ in alone)
    sweep_difference = float(np.max(np.abs(grouped[0][1] - alone[0][1])))

    print(
        f"environment: torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"cpus {os.cpu_count()}"
    )
    n = len(LEARNING_RATES)
    rows = [
        (f"(a) {n} calls of {args.seeds} seeds, one per lr [s]", f"{t_calls:.3f}"),
        (f"(b) 1 call of {n * args.seeds} members, member_lr [s]", f"{t_stack:.3f}"),
        ("ratio (a) / (b)", f"{t_calls / t_stack:.2f}"),
        ("largest |final test accuracy difference|", f"{difference:.2g}"),
        ("(c) runtime sweep, grouped into one stack [s]", f"{t_grouped:.3f}"),
        (f"(d) runtime sweep, {n} calls [s]", f"{t_alone:.3f}"),
        ("ratio (d) / (c)", f"{t_alone / t_grouped:.2f}"),
        ("largest |accuracy difference| (c) vs (d)", f"{sweep_difference:.2g}"),
    ]
    for name, value in rows:
        print(f"{name:44s} {value:>8s}")
    for lr, a, b in zip(LEARNING_RATES, calls[0][1], stacks[0][1]):
        print(f"  lr={lr:<6g} mean test accuracy {a.mean():.4f} (calls) {b.mean():.4f} (stack)")


if __name__ == "__main__":
    main()
