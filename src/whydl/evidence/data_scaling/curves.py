"""The learning curves' training calls and their tidy rows.

Every seed draws its own data (`whydl.evidence.protocol.per_seed_data`): a sample of its own
from the generator (spiral, teacher), or its own stratified train/test split (digits). Size
n trains each seed on the first n rows of its own shuffled training split (nested subsets)
and scores it on its own test split, so a CI over seeds holds the luck of the draw, of the
test set and of the initialisation. All seeds of one size are one vectorised call.

Rows: one per (dataset, model, n, seed), with test error (each member on its own whole test
split, after training), training error (on its own training rows) and their gap.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from whydl.config import ModelConfig, TrainConfig
from whydl.engine import tasks
from whydl.errors import DivergedError
from whydl.evidence.calls import TrainCall
from whydl.evidence.protocol import SeedData, per_seed_data
from whydl.evidence.rows import select

DATASETS = ("spiral", "teacher", "digits")
SPIRAL_NOISE = 0.1  # spiral's noise (std 0.05): a few % of points lie across the arms
TEACHER_NOISE = 0.0  # teacher's noise is a label-flip probability; clean labels: no floor
MODELS = {"main": (32, 32), "small": (8, 8)}  # hidden widths
BATCH_SIZE = 128  # min(128, n); n <= 128 trains full batch
LR = 0.01  # Adam
MONITOR_ROWS = 64  # test rows the engine scores every epoch; all are scored at the end
SMALLEST_N = 16


def sizes(n_max: int, n_available: int) -> list[int]:
    """16, 32, 64, ... up to n_max; when n_max reaches the pool, the last size is all of it."""
    out = [n for n in (SMALLEST_N * 2**k for k in range(20)) if n <= min(n_max, n_available)]
    if n_max >= n_available and out[-1] < n_available:
        out.append(n_available)
    return out


def schedule(n: int, min_steps: int, min_epochs: int) -> tuple[int, int]:
    """(batch size, epochs): at least `min_steps` Adam steps and `min_epochs` passes, so a
    small training set is optimised as long as a big one rather than for a few steps."""
    batch = min(BATCH_SIZE, n)
    steps_per_epoch = math.ceil(n / batch)
    return batch, max(math.ceil(min_steps / steps_per_epoch), min_epochs)


@lru_cache(maxsize=8)
def _seed_data(name: str, seeds: tuple, pool: int, n_test: int) -> SeedData:
    if name == "digits":  # bundled: each seed its own stratified split of all 1,797 images
        return per_seed_data("digits", seeds)
    noise = SPIRAL_NOISE if name == "spiral" else TEACHER_NOISE
    total = pool + n_test
    return per_seed_data(name, seeds, n_samples=total, noise=noise, test_size=n_test / total)


def seed_data(name: str, params: dict, seeds) -> SeedData:
    """Every seed's own dataset for one curve, pooled (memoised: training, scoring and the
    figures read the same draws)."""
    return _seed_data(name, tuple(int(s) for s in seeds), params["pool"], params["n_test"])


def curve_sizes(name: str, params: dict) -> list[int]:
    """The sizes of one dataset's curve: generated data has `pool` training rows per seed,
    digits its training split (1,257 of 1,797 images)."""
    n_train = (
        params["pool"] if name != "digits" else len(seed_data(name, params, [0]).member(0).X_train)
    )
    return sizes(params["n_max"], n_train)


def curve_calls(name: str, model: str, params: dict, seeds) -> dict:
    """{(dataset, model, n): TrainCall} for every size of one learning curve on `seeds`."""
    seeds = [int(s) for s in seeds]
    if seeds != list(range(seeds[0], seeds[0] + len(seeds))):
        raise ValueError(f"seeds {seeds} must be consecutive: one call trains them as one stack.")
    data = seed_data(name, params, seeds)
    calls = {}
    for n in curve_sizes(name, params):
        batch, epochs = schedule(n, params["min_steps"], params["min_epochs"])
        train = TrainConfig(
            lr=LR, batch_size=batch, epochs=epochs, seed=seeds[0], n_seeds=len(seeds)
        )
        hooks = {  # each seed its first n training rows; the engine monitors a few test rows
            "train_rows": data.train_rows[:, :n],
            "test_rows": data.test_rows[:, :MONITOR_ROWS],
        }
        tag = f"data {name} {model} n={n} seeds {seeds[0]}.."
        calls[name, model, n] = TrainCall(
            data.pool, ModelConfig(hidden=MODELS[model]), train, tag, hooks
        )
    return calls


@torch.no_grad()
def member_scores(fit, data: SeedData) -> tuple[np.ndarray, np.ndarray]:
    """(test loss, test metric), each (M,): member m on seed m's own whole test split."""
    device = fit.stack.device
    X = torch.as_tensor(data.pool.X_test[data.test_rows], device=device)  # (M, n_test, D)
    y = tasks.prepare_targets(data.pool.y_test[data.test_rows].reshape(-1), fit.task, device)
    y = y.view(*X.shape[:-1], *y.shape[1:])  # (M, n_test) or (M, n_test, 1)
    out = fit.stack.forward(X, train=False)
    loss, metric = tasks.loss(out, y, fit.task), tasks.metric(out, y, fit.task)
    return loss.cpu().numpy().astype(float), metric.cpu().numpy().astype(float)


def fit_seeds(fits: dict) -> list[int] | None:
    """The seeds the fits trained (None when every call diverged)."""
    return next((list(f.seeds) for f in fits.values() if not isinstance(f, DivergedError)), None)


def score_curve(fits: dict, name: str, model: str, params: dict) -> list[dict]:
    """One row per (size, seed) from `fits` keyed as `curve_calls`; a diverged member (or a
    call whose members all diverged) gives NaN values."""
    seeds = fit_seeds({k: f for k, f in fits.items() if k[:2] == (name, model)})
    if seeds is None:
        return []
    data = seed_data(name, params, seeds)
    rows = []
    for n in curve_sizes(name, params):
        batch, epochs = schedule(n, params["min_steps"], params["min_epochs"])
        fit = fits[name, model, n]
        nan = np.full(len(seeds), np.nan)
        if isinstance(fit, DivergedError):
            loss, accuracy, train_accuracy, ok = nan, nan, nan, np.zeros(len(seeds), bool)
        else:
            loss, accuracy = member_scores(fit, data)
            train_accuracy, ok = fit.history.train_metric[:, -1], np.asarray(fit.ok, bool)
        for m, seed in enumerate(seeds):
            test_error = float(1.0 - accuracy[m]) if ok[m] else float("nan")
            train_error = float(1.0 - train_accuracy[m]) if ok[m] else float("nan")
            rows.append(
                {
                    "dataset": name,
                    "model": model,
                    "hidden": "x".join(map(str, MODELS[model])),
                    "n": n,
                    "seed": seed,
                    "batch_size": batch,
                    "epochs": epochs,
                    "steps": epochs * math.ceil(n / batch),
                    "test_error": test_error,
                    "train_error": train_error,
                    "gap": test_error - train_error,
                    "test_loss": float(loss[m]) if ok[m] else float("nan"),
                }
            )
    return rows


def grids(rows, columns) -> tuple[np.ndarray, dict]:
    """(n (k,), {column: values (seeds, k)}) in one pass over the rows, keeping the seeds
    complete in every column (a diverged member leaves NaNs)."""
    ns = sorted({r["n"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    at_n, at_seed = {n: j for j, n in enumerate(ns)}, {s: i for i, s in enumerate(seeds)}
    out = {c: np.full((len(seeds), len(ns)), np.nan) for c in columns}
    for r in rows:
        i, j = at_seed[r["seed"]], at_n[r["n"]]
        for c in columns:
            out[c][i, j] = r[c]
    keep = np.ones(len(seeds), bool)
    for values in out.values():
        keep &= np.isfinite(values).all(axis=1)
    return np.asarray(ns, dtype=float), {c: v[keep] for c, v in out.items()}


def curve(rows, column: str = "test_error", **where) -> tuple[np.ndarray, np.ndarray]:
    """(n (k,), values (seeds, k)) of `column` over the rows matching `where`, complete
    seeds only."""
    n, values = grids(select(rows, **where), [column])
    return n, values[column]
