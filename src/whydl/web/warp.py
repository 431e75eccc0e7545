"""The layer-warp view (ConvNetJS's): the input plane's grid as a hidden layer sees it.

A layer bends and folds the plane until a straight line separates the classes. The view
pushes the plane's grid lines and the training points through the network shown and
projects the chosen layer on its two principal components, fitted on the points'
activations (`whydl.analysis.layers.layer_views`); a layer of one or two neurons is drawn
as it is. Coordinates travel as float32 bytes, like the curves.
"""

from __future__ import annotations

import math

import numpy as np

from whydl.analysis.layers import grid_lines, layer_views
from whydl.web.frames import b64

WARP_LINES = 11  # grid lines each way
WARP_POINTS = 40  # points along each line
MAX_WARP_POINTS = 1000  # training points drawn (every k-th beyond that)


def warp_view(module, plane_points: np.ndarray, box: list[float], layer: int, expand) -> dict:
    """Hidden layer `layer` (1 = the first) of `module` over the plane `box`, in 2-D.

    - lines: (2 * WARP_LINES, WARP_POINTS, 2) projected grid, horizontal lines first;
    - points: the training points `plane_points[::stride]`, projected (the page colours
      them by the same rows of its own copy of the labels);
    - explained: the share of the layer's variance the two components keep.
    """
    stride = max(1, math.ceil(len(plane_points) / MAX_WARP_POINTS))
    X = np.asarray(plane_points[::stride], dtype=np.float32)
    corners = np.array([[box[0], box[2]], [box[1], box[3]]])
    lines = grid_lines(corners, WARP_LINES, WARP_POINTS, margin=0.0)
    view = layer_views(module, X, lines, expand=expand)[layer]
    finite = lambda a: np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)  # noqa: E731
    return {
        "layer": layer,
        "lines": b64(finite(view.lines).astype("<f4")),
        "n_lines": int(view.lines.shape[0]),
        "n_points": int(view.lines.shape[1]),
        "points": b64(finite(view.points).astype("<f4")),
        "stride": stride,
        "explained": round(float(view.explained), 4),
    }
