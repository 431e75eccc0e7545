"""Evaluate models on a fine grid over the input plane."""

from __future__ import annotations

import numpy as np
import torch


def plane_grid(X: np.ndarray, resolution: int = 200, margin: float = 0.25):
    """A (resolution x resolution) grid covering the 2-D points X plus a margin.

    Returns (xs, ys, points) with points of shape (resolution**2, 2), row-major in y.
    """
    lo, hi = X.min(0), X.max(0)
    pad = (hi - lo) * margin
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution, dtype=np.float32)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1)


@torch.no_grad()
def stacked_outputs(model, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Raw outputs (M, n, K) of every member of a stacked model, in eval mode."""
    device = model.device
    outs = [
        model.forward(torch.as_tensor(X[i : i + chunk], device=device), train=False).cpu()
        for i in range(0, len(X), chunk)
    ]
    return torch.cat(outs, dim=1).numpy()
