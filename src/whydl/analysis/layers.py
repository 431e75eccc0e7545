"""A layer's view of the data: activations projected to 2-D, with the input grid warped.

ConvNetJS's 2-D classification demo draws the input plane's grid lines as each layer sees
them: the layer bends and folds the plane until a straight line separates the classes.
`layer_views` computes that picture for any module with a `.features(x)` method (MLP,
SmallCNN): each representation is projected on its two principal components, fitted on the
data's activations, and the grid lines are pushed through the network and projected the
same way.

Example
-------
>>> import numpy as np
>>> from whydl.models import MLP
>>> X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
>>> views = layer_views(MLP(2, 1, hidden=(8, 8), seed=0), X)
>>> [v.points.shape for v in views]
[(50, 2), (50, 2), (50, 2)]
>>> views[1].lines.shape  # (2 * n_lines, n_points, 2): horizontal then vertical lines
(18, 60, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@torch.no_grad()
def activations(module, X) -> list[np.ndarray]:
    """[input, layer 1, ..., layer L] as float arrays of shape (n, width).

    Uses `module.features(x)` in eval mode (restoring the module's mode afterwards), so
    dropout is off and batch norm uses its running statistics.

    Example
    -------
    >>> from whydl.models import MLP
    >>> [a.shape for a in activations(MLP(2, 1, hidden=(5, 3)), np.zeros((4, 2)))]
    [(4, 2), (4, 5), (4, 3)]
    """
    if not hasattr(module, "features"):
        raise ValueError(
            f"Expected a module with a .features(x) method (MLP or SmallCNN), got "
            f"{type(module).__name__}. Use whydl.models.MLP or SmallCNN, or add .features."
        )
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array of inputs (n, d), got shape {X.shape}.")
    was_training = module.training
    module.eval()
    try:
        feats = module.features(torch.as_tensor(X))
    finally:
        module.train(was_training)
    return [X.astype(np.float64)] + [f.double().numpy() for f in feats]


def pca_2d(A: np.ndarray):
    """The top two principal components of A (n, d): (mean (d,), components (2, d), explained).

    `explained` is the fraction of A's variance the two components keep. With d < 2 the
    missing component is zero. Signs follow sklearn's convention (each component's largest
    loading is positive), so the picture does not flip between runs.

    Example
    -------
    >>> mean, comps, explained = pca_2d(np.array([[0.0, 0, 0], [2, 0, 0], [0, 1, 0]]))
    >>> comps.shape, round(explained, 6)
    ((2, 3), 1.0)
    """
    A = np.asarray(A, dtype=np.float64)
    mean = A.mean(axis=0)
    _, s, vt = np.linalg.svd(A - mean, full_matrices=False)
    comps = np.zeros((2, A.shape[1]))
    k = min(2, vt.shape[0])
    comps[:k] = vt[:k]
    for c in comps:
        if c.any():
            c *= np.sign(c[np.argmax(np.abs(c))])
    total = float((s**2).sum())
    explained = float((s[:k] ** 2).sum() / total) if total > 0 else 1.0
    return mean, comps, explained


def grid_lines(X, n_lines: int = 9, n_points: int = 60, margin: float = 0.1) -> np.ndarray:
    """Horizontal then vertical lines over the 2-D points X's box plus a margin.

    Returns (2 * n_lines, n_points, 2): line i's points in input coordinates.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"Expected 2-D inputs of shape (n, 2), got shape {X.shape}.")
    lo, hi = X.min(0), X.max(0)
    pad = (hi - lo) * margin
    lo, hi = lo - pad, hi + pad
    t = np.linspace(0.0, 1.0, n_points)
    levels = np.linspace(0.0, 1.0, n_lines)
    lines = []
    for axis in (1, 0):  # axis 1 fixed: horizontal lines; then axis 0 fixed: vertical
        for level in levels:
            pts = np.empty((n_points, 2))
            pts[:, axis] = lo[axis] + level * (hi[axis] - lo[axis])
            pts[:, 1 - axis] = lo[1 - axis] + t * (hi[1 - axis] - lo[1 - axis])
            lines.append(pts)
    return np.stack(lines)


@dataclass
class LayerView:
    """One representation seen in 2-D: layer 0 is the input."""

    layer: int
    points: np.ndarray  # (n, 2) the data's activations, projected
    lines: np.ndarray  # (n_lines, n_points, 2) the input grid's lines, projected
    explained: float  # fraction of the layer's variance the two components keep


def layer_views(module, X, lines: np.ndarray | None = None, expand=None) -> list[LayerView]:
    """Every representation of the 2-D data X, projected on its top two principal components.

    The projection of each layer is fitted on X's activations; the grid lines (default
    `grid_lines(X)`) go through the network and are projected with the same fit. A
    representation with at most two dimensions (the 2-D input) is shown as it is.
    `expand` maps 2-D points to the network's inputs when those are hand-made features of
    them (`Dataset.expand`); layer 0 is then the features.
    """
    X = np.asarray(X, dtype=np.float32)
    lines = grid_lines(X) if lines is None else np.asarray(lines, dtype=np.float32)
    n_lines, n_points, _ = lines.shape
    inputs = (lambda a: a) if expand is None else expand
    data = activations(module, inputs(X))
    warped = activations(module, inputs(lines.reshape(-1, 2).astype(np.float32)))  # the grid
    views = []
    for layer, (A, W) in enumerate(zip(data, warped)):
        if A.shape[1] <= 2:
            P, Q = np.zeros((len(A), 2)), np.zeros((len(W), 2))
            P[:, : A.shape[1]], Q[:, : W.shape[1]] = A, W
            explained = 1.0
        else:
            mean, comps, explained = pca_2d(A)
            P, Q = (A - mean) @ comps.T, (W - mean) @ comps.T
        views.append(LayerView(layer, P, Q.reshape(n_lines, n_points, 2), explained))
    return views
