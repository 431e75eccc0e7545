"""Compositional targets, where depth should matter, and a smooth control where it should not.

- `sawtooth`: x uniform on [0, 1], labelled by which side of 1/2 the k-fold composition of
  the tent map t(x) = 1 - |2x - 1| lands on. t∘...∘t (k times) has 2^k linear pieces: a ReLU
  network of depth O(k) and constant width computes it exactly, one of depth 1 needs about
  2^k units (Telgarsky 2016). Each piece crosses 1/2 once: the labels alternate 2^k times.
- `nested_parity`: d = 2^L noisy bits; the label is the parity of all of them, computed as a
  binary tree of XORs: pairs, then pairs of pairs, ... `parity_levels` gives the tree's
  sub-functions (the parity of the first 2, 4, ..., d bits), which probes look for.
- `smooth_sine`: a low-frequency sine in 2-D (regression), a target with no composition to
  exploit.

Every generator returns raw arrays (X, y) fully determined by (n_samples, seed);
`compositional_dataset` splits them into a `Dataset`. They are not in `GENERATORS` (the CLI's
and playground's datasets): their parameters (k, d) are experiment settings, not user options.

Example
-------
>>> X, y = sawtooth(8, seed=0, folds=1)
>>> bool(((X[:, 0] > 0.25) & (X[:, 0] < 0.75) == (y == 1)).all())
True
>>> ds = compositional_dataset("nested_parity", 100, seed=0, n_bits=4)
>>> ds.X_train.shape, ds.task
((70, 4), 'binary')
"""

from __future__ import annotations

import numpy as np

from whydl.data.dataset import Dataset
from whydl.data.split import train_test_split

BIT_NOISE = 0.25  # sd of the Gaussian jitter on each +-1 bit: test points are never seen


def tent_composition(x, folds: int) -> np.ndarray:
    """The tent map t(x) = 1 - |2x - 1| applied `folds` times (2^folds linear pieces)."""
    x = np.asarray(x, dtype=float)
    for _ in range(folds):
        x = 1.0 - np.abs(2.0 * x - 1.0)
    return x


def sawtooth(n_samples: int, seed: int, folds: int = 4):
    """x uniform on [0, 1] (shape (n, 1)), y = 1 where the `folds`-fold tent map exceeds 1/2."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n_samples, 1))
    return x, (tent_composition(x[:, 0], folds) > 0.5).astype(np.int64)


def parity_levels(bits) -> dict[int, np.ndarray]:
    """{2: parity of bits 1-2, 4: of bits 1-4, ..., d: of all} as 0/1 labels, for bits of
    shape (n, d) with entries of sign +-1 (d a power of two)."""
    signs = np.sign(np.asarray(bits, dtype=float))
    d = signs.shape[1]
    if d < 2 or d & (d - 1):
        raise ValueError(f"nested parity needs a power of two of bits >= 2; got {d}.")
    out, k = {}, 2
    while k <= d:
        out[k] = (np.prod(signs[:, :k], axis=1) < 0).astype(np.int64)
        k *= 2
    return out


def nested_parity(n_samples: int, seed: int, n_bits: int = 8, noise: float = BIT_NOISE):
    """Bits uniform on {-1, +1}^n_bits plus Gaussian jitter (sd `noise`); y = their parity,
    the top of a binary tree of XORs (`parity_levels` of the clean bits)."""
    rng = np.random.default_rng(seed)
    bits = rng.choice([-1.0, 1.0], size=(n_samples, n_bits))
    y = parity_levels(bits)[n_bits]
    return bits + noise * rng.standard_normal(bits.shape), y


def smooth_sine(n_samples: int, seed: int, noise: float = 0.1):
    """x uniform on [-1, 1]^2, y = sin(pi/2 (x1 + x2)) + noise: one slow wave, nothing to
    compose."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = np.sin(0.5 * np.pi * (X[:, 0] + X[:, 1]))
    return X, y + noise * rng.standard_normal(n_samples)


COMPOSITIONAL = {"sawtooth": sawtooth, "nested_parity": nested_parity, "smooth_sine": smooth_sine}


def compositional_dataset(name: str, n_samples: int, seed: int, test_size=0.3, **kwargs):
    """`COMPOSITIONAL[name](n_samples, seed, **kwargs)` split 70/30 with `seed` into a Dataset."""
    if name not in COMPOSITIONAL:
        raise ValueError(f"Unknown target {name!r}. Expected one of: {', '.join(COMPOSITIONAL)}.")
    X, y = COMPOSITIONAL[name](n_samples, seed, **kwargs)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed
    )
    regression = name == "smooth_sine"
    kind = np.float32 if regression else np.int64
    return Dataset(
        name=name,
        X_train=np.asarray(X_train, np.float32),
        y_train=np.asarray(y_train, kind),
        X_test=np.asarray(X_test, np.float32),
        y_test=np.asarray(y_test, kind),
        task="regression" if regression else "binary",
        n_classes=0 if regression else 2,
        feature_names=tuple(f"x{i + 1}" for i in range(X.shape[1])),
        class_names=() if regression else ("0", "1"),
    )
