"""The width sweep on digits that "scale" (clean labels) and "double descent" (noisy labels)
train: a one-hidden-layer MLP per width. "scale" trains the preset's `widths` on
`sweep_per_class` labels per class with the one recipe's training settings; "double
descent" its own widths, labels per class and (longer) training, passed to `sweep_calls`.

Every seed has its own stratified train/test split of digits (`protocol.per_seed_data`) and
trains on its own labels per class drawn from that split; it is scored on its own full test
split. With noisy labels, LABEL_NOISE of each seed's training labels are replaced by another
class (drawn with that seed's data seed); the test labels stay clean. A clean and a noisy
sweep of a seed with the same labels per class train on the same images.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from whydl.config import ModelConfig
from whydl.data import Dataset, load_dataset
from whydl.data.subsets import sample_per_class
from whydl.engine.memory import mlp_n_parameters
from whydl.evidence.calls import TrainCall
from whydl.evidence.flexibility.labels import CLEAN, LABEL_NOISE
from whydl.evidence.flexibility.recipe import final, recipe_train
from whydl.evidence.protocol import data_seed, per_seed_data, pool_datasets

SWEEP_DATASET = "digits"


def corrupt_labels(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """The dataset with `fraction` of its training labels replaced by a different class drawn
    uniformly (the test labels stay clean), as in Nakkiran et al. 2019.

    Example
    -------
    >>> from whydl.data import load_dataset
    >>> ds = load_dataset("digits")
    >>> float((corrupt_labels(ds, 0.2, seed=0).y_train != ds.y_train).mean()) < 0.25
    True
    """
    if dataset.task == "regression":
        raise ValueError(f"corrupt_labels needs class labels; {dataset.name!r} is regression.")
    rng = np.random.default_rng(seed)
    y = dataset.y_train.copy()
    flip = rng.random(len(y)) < fraction
    k = max(dataset.n_classes, 2)
    y[flip] = (y[flip] + rng.integers(1, k, int(flip.sum()))) % k
    return replace(dataset, y_train=y)


@lru_cache(maxsize=8)
def sweep_data(labels: str, seeds: tuple, per_class: int):
    """(pooled per-seed data, training rows (seeds, 10 * per_class)) of one sweep; cached,
    so the calls and the rows of one run build it once."""
    clean = per_seed_data(SWEEP_DATASET, seeds)
    rows = np.stack(
        [
            clean.train_rows[m][sample_per_class(clean.member(m).y_train, per_class, s)]
            for m, s in enumerate(seeds)
        ]
    )
    if labels == CLEAN:
        return clean, rows
    noisy = [
        corrupt_labels(clean.member(m), LABEL_NOISE, data_seed(s)) for m, s in enumerate(seeds)
    ]
    return pool_datasets(noisy, seeds), rows


@lru_cache(maxsize=1)
def _sweep_shape() -> tuple[int, int]:
    digits = load_dataset(SWEEP_DATASET)
    return digits.n_features, digits.n_outputs


def n_parameters(width: int) -> int:
    """Weights and biases of the sweep's MLP with one hidden layer of `width` units.

    >>> n_parameters(1)  # 64 pixels, 10 classes: the smallest MLP already has 85
    85
    """
    return mlp_n_parameters(*_sweep_shape(), (width,))


def sweep_calls(
    labels: str, params: dict, seeds, *, widths=None, per_class=None, train=None
) -> dict:
    """{width: TrainCall} of one sweep on `seeds`: the preset's `widths` and
    `sweep_per_class` with the one recipe's training ("scale") unless `widths`, `per_class`
    or `train` (a TrainConfig of these seeds) say otherwise ("double descent")."""
    per_class = params["sweep_per_class"] if per_class is None else per_class
    data, rows = sweep_data(labels, tuple(seeds), per_class)
    hooks = {"train_rows": rows, "test_rows": data.test_rows}
    train = recipe_train(params, seeds) if train is None else train
    return {
        width: TrainCall(
            data.pool,
            ModelConfig(hidden=(width,)),
            train,
            f"flexibility sweep {labels}: width {width}",
            hooks,
        )
        for width in (params["widths"] if widths is None else widths)
    }


def sweep_rows(labels: str, fits: dict, params: dict, seeds, widths=None) -> list[dict]:
    """Tidy rows of one sweep: one per width (the preset's `widths` unless given) and seed."""
    rows = []
    for width in params["widths"] if widths is None else widths:
        fit, n = fits[width], len(seeds)
        columns = {
            "test_loss": final(fit, "val_loss", n),
            "test_error": 1 - final(fit, "val_metric", n),
            "train_error": 1 - final(fit, "train_metric", n),
        }
        rows += [
            {"labels": labels, "width": width, "n_parameters": n_parameters(width), "seed": s}
            | {k: round(float(v[i]), 6) for k, v in columns.items()}
            for i, s in enumerate(seeds)
        ]
    return rows
