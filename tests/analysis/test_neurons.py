"""Neuron maps: shapes and the first layer's known half-plane ramps."""

import numpy as np
import pytest
import torch

from whydl.analysis.neurons import neuron_maps
from whydl.models import MLP


def test_neuron_maps_have_one_map_per_unit_per_layer():
    X = np.random.default_rng(0).uniform(-1, 1, size=(40, 2))
    maps = neuron_maps(MLP(2, 1, hidden=(5, 3, 2), seed=0), X, resolution=12)
    assert [m.shape for m in maps.maps] == [(5, 12, 12), (3, 12, 12), (2, 12, 12)]
    assert maps.xs.shape == (12,) and maps.ys.shape == (12,)


def test_a_first_layer_unit_is_a_ramp_over_a_half_plane():
    net = MLP(2, 1, hidden=(1,), seed=None)
    with torch.no_grad():
        net.hidden[0].weight.copy_(torch.tensor([[2.0, -1.0]]))
        net.hidden[0].bias.fill_(0.5)
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    maps = neuron_maps(net, X, resolution=9, margin=0)
    gx, gy = np.meshgrid(maps.xs, maps.ys)  # pixel (i, j) is the input (xs[j], ys[i])
    np.testing.assert_allclose(maps.maps[0][0], np.maximum(2 * gx - gy + 0.5, 0), atol=1e-6)


def test_neuron_maps_need_a_plane():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        neuron_maps(MLP(3, 1, hidden=(2,)), np.zeros((4, 3)))
