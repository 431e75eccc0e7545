"""What each neuron sees: every hidden unit's activation over the input plane.

TensorFlow Playground shows one neuron's response when you hover over it; `neuron_maps`
returns all of them at once. In a ReLU network's first layer each map is a ramp over a
half-plane; deeper units combine those into regions bounded by several bent lines.

Example
-------
>>> import numpy as np
>>> from whydl.models import MLP
>>> X = np.random.default_rng(0).uniform(-1, 1, size=(100, 2))
>>> maps = neuron_maps(MLP(2, 1, hidden=(6, 4), seed=0), X, resolution=20)
>>> [m.shape for m in maps.maps]  # layer -> (units, H, W)
[(6, 20, 20), (4, 20, 20)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whydl.analysis.boundary import plane_grid
from whydl.analysis.layers import activations


@dataclass
class NeuronMaps:
    """Each hidden layer's unit responses on a grid: `maps[l]` has shape (units, H, W).

    Pixel (i, j) of a map is the unit's output at input (xs[j], ys[i]).
    """

    xs: np.ndarray  # (W,)
    ys: np.ndarray  # (H,)
    maps: list[np.ndarray]


def neuron_maps(module, X, resolution: int = 60, margin: float = 0.1, expand=None) -> NeuronMaps:
    """Every hidden unit's response over the box around the 2-D points X (plus `margin`);
    `expand` maps the plane's points to the network's inputs when those are hand-made
    features of them (`Dataset.expand`)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"Neuron maps cover the input plane, so they need 2-D inputs of shape (n, 2); "
            f"got shape {X.shape}."
        )
    xs, ys, points = plane_grid(X, resolution, margin)
    inputs = points if expand is None else expand(points)
    layers = activations(module, inputs)[1:]  # each (H * W, units), row-major in y
    maps = [a.T.reshape(a.shape[1], len(ys), len(xs)) for a in layers]
    return NeuronMaps(xs, ys, maps)
