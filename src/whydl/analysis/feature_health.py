"""Are a layer's features alive and varied? Dead units and effective rank.

Two checks of a representation (an (n, units) matrix of activations on n inputs) that say
whether frozen features can carry a new task at all:

- `dead_fraction`: the share of units that are zero (up to `tolerance`) on every input. A
  dead ReLU unit passes no gradient and no information; pretraining with a large learning
  rate can kill many (Lu et al. 2019, "Dying ReLU and initialization").
- `effective_rank`: exp of the entropy of the normalised singular values of the centred
  matrix (Roy & Vetterli 2007): 1 when every input maps to one direction, the number of
  units when all directions carry equal variance. Features that collapse onto the few
  directions the source task needed have a low effective rank, and a linear head on them
  can separate little else.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> H = np.maximum(rng.normal(size=(500, 8)), 0)
>>> H[:, :2] = 0  # two dead units
>>> dead_fraction(H), round(effective_rank(H), 1)
(0.25, 6.0)
"""

from __future__ import annotations

import numpy as np

DEAD_TOLERANCE = 1e-6  # |activation| at or below this counts as zero


def dead_fraction(features, tolerance: float = DEAD_TOLERANCE) -> float:
    """Share of units (columns) that are zero on every input (row)."""
    H = _matrix(features)
    return float(np.mean(np.all(np.abs(H) <= tolerance, axis=0)))


def effective_rank(features) -> float:
    """exp(entropy) of the normalised singular values of the centred features; 0 when the
    features do not vary at all."""
    H = _matrix(features).astype(np.float64)
    s = np.linalg.svd(H - H.mean(axis=0), compute_uv=False)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


def _matrix(features) -> np.ndarray:
    H = np.asarray(features)
    if H.ndim != 2 or H.shape[0] < 2:
        raise ValueError(
            f"features must be an (n_inputs, n_units) matrix with at least 2 inputs; got shape "
            f"{H.shape}. Flatten each input's activations to one row."
        )
    return H
