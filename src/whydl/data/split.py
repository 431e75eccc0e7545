"""sklearn's `make_moons` and `train_test_split`, reproduced number for number.

Why not call sklearn? Importing it costs about 2 s here, more than training the article's
network; `whydl demo` would spend most of its time importing. tests/data checks that both
functions return exactly what sklearn returns.
"""

from __future__ import annotations

import math

import numpy as np


def make_moons(n_samples: int, noise: float | None, random_state: int):
    """Equal to `sklearn.datasets.make_moons(n_samples, shuffle=True, noise, random_state)`."""
    rng = np.random.RandomState(random_state)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.append(np.cos(outer), 1 - np.cos(inner)),
            np.append(np.sin(outer), 1 - np.sin(inner) - 0.5),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)  # sklearn.utils.shuffle draws the same permutation
    rng.shuffle(order)
    X, y = X[order], y[order]
    if noise is not None:
        X += rng.normal(scale=noise, size=X.shape)
    return X, y


def train_test_split(X, y, test_size: float, random_state: int):
    """Equal to `sklearn.model_selection.train_test_split(X, y, test_size=..., random_state=...)`
    for a float test_size and no stratification."""
    n = len(X)
    n_test = math.ceil(test_size * n)
    perm = np.random.RandomState(random_state).permutation(n)
    test, train = perm[:n_test], perm[n_test:]
    return X[train], X[test], y[train], y[test]
