"""Linear-region counts on hand-built ReLU networks whose regions are known exactly."""

import numpy as np
import pytest
import torch

from whydl.analysis.boundary import plane_grid
from whydl.analysis.regions import activation_patterns, count_regions, n_distinct_rows
from whydl.models import MLP

SQUARE = np.array([[-1.0, -1.0], [1.0, 1.0]])


def square_grid(resolution=400):
    # an even resolution keeps grid points off the lines x = 0 and y = 0 used below
    return plane_grid(SQUARE, resolution, margin=0)[2]


def relu_net(layers) -> MLP:
    """An MLP with the given (weight, bias) per hidden layer."""
    widths = [len(w) for w, _ in layers]
    net = MLP(2, 1, hidden=widths, seed=None)
    with torch.no_grad():
        for linear, (w, b) in zip(net.hidden, layers):
            linear.weight.copy_(torch.tensor(w, dtype=torch.float32))
            linear.bias.copy_(torch.tensor(b, dtype=torch.float32))
    return net


def test_one_layer_of_lines_gives_the_arrangement_count():
    # four lines: x1 = 0.1, x2 = -0.2, x1 + x2 = 0.3, x1 - x2 = 1.5; four of their six
    # crossings lie inside the square (x1 - x2 = 1.5 meets the first two outside), so
    # regions = 1 + lines + crossings = 1 + 4 + 4
    net = relu_net([([[1, 0], [0, 1], [1, 1], [1, -1]], [-0.1, 0.2, -0.3, -1.5])])
    assert count_regions(net, square_grid()) == {
        "cumulative": [9],
        "layer_only": [9],
        "total": 9,
    }


def test_a_second_layer_bends_a_line_through_three_quadrants():
    # layer 1: relu(x1), relu(-x1), relu(x2): the lines x1 = 0 and x2 = 0 (4 quadrants)
    # layer 2: relu(h1 + h3 - 0.5) switches on at x1 + x2 = 0.5 (x1, x2 > 0), x1 = 0.5
    # (x2 < 0) and x2 = 0.5 (x1 < 0): a bent line cutting three quadrants in two -> 7
    layer1 = ([[1, 0], [-1, 0], [0, 1]], [0, 0, 0])
    layer2 = ([[1, 0, 1]], [-0.5])
    counts = count_regions(relu_net([layer1, layer2]), square_grid())
    assert counts == {"cumulative": [4, 7], "layer_only": [4, 2], "total": 7}


def test_two_layers_whose_second_layer_adds_straight_cuts():
    # layer 2: relu(h1 + h2 - 0.5) = relu(|x1| - 0.5) and relu(h3 - 0.5): x1 = +-0.5, x2 = 0.5
    # cut the plane into 4 x 3 cells
    layer1 = ([[1, 0], [-1, 0], [0, 1]], [0, 0, 0])
    layer2 = ([[1, 1, 0], [0, 0, 1]], [-0.5, -0.5])
    counts = count_regions(relu_net([layer1, layer2]), square_grid())
    assert counts["cumulative"] == [4, 12] and counts["layer_only"] == [4, 4]


def test_cumulative_counts_never_fall_with_depth():
    net = MLP(2, 1, hidden=(8, 8, 8), seed=3)
    counts = count_regions(net, square_grid(100))
    assert counts["cumulative"] == sorted(counts["cumulative"])
    assert counts["total"] == counts["cumulative"][-1] >= max(counts["layer_only"])


def test_activation_patterns_shapes_and_distinct_rows():
    patterns = activation_patterns(MLP(2, 1, hidden=(5, 3), seed=0), square_grid(10))
    assert [p.shape for p in patterns] == [(100, 5), (100, 3)] and patterns[0].dtype == bool
    bits = np.array([[1, 0, 1], [1, 0, 1], [0, 0, 0], [1, 1, 1]], dtype=bool)
    assert n_distinct_rows(bits) == 3
    assert n_distinct_rows(np.ones((4, 20), dtype=bool)) == 1  # more than 8 bits per row


def test_regions_refuse_non_relu_networks():
    with pytest.raises(ValueError, match="plain ReLU MLP"):
        count_regions(MLP(2, 1, hidden=(4,), activation="tanh"), square_grid(10))
