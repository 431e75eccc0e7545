"""Layer views: shapes, the input shown as it is, PCA on known data."""

import numpy as np
import pytest

from whydl.analysis.layers import activations, grid_lines, layer_views, pca_2d
from whydl.models import MLP, SmallCNN


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).uniform(-1, 1, size=(60, 2)).astype(np.float32)


def test_layer_views_shapes(X):
    views = layer_views(MLP(2, 1, hidden=(8, 6, 4), seed=0), X, grid_lines(X, n_lines=5))
    assert [v.layer for v in views] == [0, 1, 2, 3]
    for v in views:
        assert v.points.shape == (60, 2) and v.lines.shape == (10, 60, 2)
        assert 0.0 < v.explained <= 1.0 + 1e-9
    np.testing.assert_allclose(views[0].points, X, rtol=1e-6)  # the 2-D input as it is


def test_layer_views_project_lines_like_the_data(X):
    """A grid point that is also a data point lands on the same 2-D spot in every layer."""
    lines = grid_lines(X, n_lines=3, n_points=4)
    data = np.concatenate([X, lines[1, 2:3].astype(np.float32)])
    views = layer_views(MLP(2, 1, hidden=(8, 8), seed=1), data, lines)
    for v in views:
        np.testing.assert_allclose(v.points[-1], v.lines[1, 2], rtol=1e-5, atol=1e-6)


def test_pca_finds_the_direction_of_data_on_a_line():
    t = np.linspace(-1, 1, 50)[:, None]
    A = t * np.array([[3.0, 4.0, 0.0]]) / 5 + 2.0
    mean, comps, explained = pca_2d(A)
    np.testing.assert_allclose(mean, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(comps[0], [0.6, 0.8, 0.0], atol=1e-9)  # sign: largest positive
    assert explained == pytest.approx(1.0)


def test_activations_work_for_the_cnn_and_keep_the_module_mode():
    net = SmallCNN(10, seed=0).train()
    acts = activations(net, np.zeros((3, 64)))
    assert [a.shape for a in acts] == [(3, 64), (3, 128), (3, 64)]
    assert net.training


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        grid_lines(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="features"):
        activations(object(), np.zeros((2, 2)))
