"""Per-member label noise: member m trains on labels of which a fraction `rate[m]` is wrong.

Which labels a member gets wrong is drawn from its own seed (a stream of its own), one
uniform number per training row: a row's label is replaced when its number is below the
rate. The draws do not depend on the rate, so at one seed a higher rate corrupts a superset
of the rows a lower one does, and a member trained in a stack gets the labels it would get
alone. A wrong label is the other class (binary) or one of the others, uniformly
(multiclass). Regression has no labels to corrupt.

Example
-------
>>> y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
>>> noisy_labels(y, 0.0, seed=0, n_classes=2).tolist() == y.tolist()
True
>>> int((noisy_labels(y, 1.0, seed=0, n_classes=2) != y).sum())
8
"""

from __future__ import annotations

import numpy as np

from whydl.engine.device import derive_seed

LABEL_NOISE_STREAM = 3  # after the shuffle (1) and validation (2) streams


def noisy_labels(y: np.ndarray, rate: float, seed: int, n_classes: int) -> np.ndarray:
    """`y` with a fraction `rate` of its labels replaced by wrong ones, drawn from `seed`."""
    rng = np.random.default_rng(derive_seed(seed, LABEL_NOISE_STREAM))
    u = rng.random(len(y))
    shift = rng.integers(1, max(n_classes, 2), len(y))  # drawn whatever the rate
    y = np.asarray(y)
    wrong = (y + shift) % n_classes if n_classes > 2 else 1 - y
    return np.where(u < rate, wrong, y).astype(y.dtype)


def check_rates(values, n_members: int, task: str, early_stopping: bool) -> list[float]:
    """`member_label_noise` checked: M rates in [0, 1) for a classification task."""
    if task == "regression":
        raise ValueError("member_label_noise needs a classification task; regression has none.")
    if early_stopping:
        raise ValueError("member_label_noise cannot be combined with early_stopping.")
    rates = np.asarray(values, dtype=float)
    if rates.shape != (n_members,) or not ((rates >= 0) & (rates < 1)).all():
        raise ValueError(
            f"member_label_noise has shape {rates.shape} and values from {rates.min():g} to "
            f"{rates.max():g}; expected ({n_members},) rates in [0, 1), one per member."
        )
    return rates.tolist()
