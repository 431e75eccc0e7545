"""Linear regions of a ReLU network over the input plane, counted as activation patterns.

Within one activation pattern (which units are on) every pre-activation is an affine
function of the input, so the set of inputs sharing a pattern is a convex polytope on which
the network is linear. Counting the distinct patterns met on a fine grid therefore counts
the regions the grid touches: exact when every region contains a grid point, a lower bound
otherwise (regions thinner than the grid spacing are missed). As is usual (Hanin & Rolnick
2019), two neighbouring patterns count as two regions even if the function happens to agree
on both.

Example
-------
>>> import numpy as np, torch
>>> from whydl.analysis.boundary import plane_grid
>>> from whydl.models import MLP
>>> net = MLP(2, 1, hidden=(2,), seed=None)
>>> with torch.no_grad():  # two lines: x1 = 0 and x2 = 0
...     _ = net.hidden[0].weight.copy_(torch.eye(2)), net.hidden[0].bias.zero_()
>>> _, _, grid = plane_grid(np.array([[-1.0, -1.0], [1.0, 1.0]]), resolution=50, margin=0)
>>> count_regions(net, grid)
{'cumulative': [4], 'layer_only': [4], 'total': 4}
"""

from __future__ import annotations

import numpy as np

from whydl.analysis.layers import activations


def activation_patterns(module, points) -> list[np.ndarray]:
    """For each hidden layer, which units are on at each point: bool arrays (n, units).

    Needs a plain ReLU MLP, where a unit is on exactly when its output is positive.
    """
    name = getattr(module, "activation_name", None)
    if name != "relu" or getattr(module, "residual", False):
        raise ValueError(
            f"Linear regions need a plain ReLU MLP; got {type(module).__name__} with "
            f"activation={name!r}, residual={getattr(module, 'residual', False)}. "
            "Use whydl.models.MLP(..., activation='relu', residual=False)."
        )
    return [a > 0 for a in activations(module, points)[1:]]


def n_distinct_rows(bits: np.ndarray) -> int:
    """How many distinct rows a bool array (n, k) has.

    Example
    -------
    >>> n_distinct_rows(np.array([[True, False], [True, False], [False, False]]))
    2
    """
    if bits.shape[1] == 0:
        return 1 if len(bits) else 0
    packed = np.ascontiguousarray(np.packbits(bits, axis=1))  # (n, ceil(k / 8)) bytes
    rows = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()  # one bytes object per row
    return len(np.unique(rows))


def count_regions(module, points) -> dict:
    """Linear regions of a ReLU MLP met by `points` (a fine grid of the input plane).

    Returns
    - `cumulative[l]`: regions of the map computed by layers 1..l+1 (distinct patterns of
      all their units together); it can only grow with depth;
    - `layer_only[l]`: distinct patterns of layer l+1's units alone;
    - `total`: regions of the whole network (the last cumulative count).
    """
    patterns = activation_patterns(module, points)
    cumulative = [
        n_distinct_rows(np.concatenate(patterns[: i + 1], axis=1)) for i in range(len(patterns))
    ]
    layer_only = [n_distinct_rows(p) for p in patterns]
    return {
        "cumulative": cumulative,
        "layer_only": layer_only,
        "total": cumulative[-1] if cumulative else 1,
    }
