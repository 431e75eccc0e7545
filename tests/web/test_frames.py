"""Frames: grids, maps, weights and curves, checked on cases with known answers."""

import base64

import numpy as np
import pytest
import torch

from whydl.data import load_dataset
from whydl.engine import History
from whydl.models import MLP
from whydl.web import frames


def _bytes(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype=np.uint8)


def test_extent_is_a_square_around_every_point():
    ds = load_dataset("moons", n_samples=200, data_seed=0)
    x0, x1, y0, y1 = frames.extent(ds)
    assert np.isclose(x1 - x0, y1 - y0)
    X = np.concatenate([ds.X_train, ds.X_test])
    assert (X[:, 0] > x0).all() and (X[:, 0] < x1).all()
    assert (X[:, 1] > y0).all() and (X[:, 1] < y1).all()


def test_plane_is_pixel_centres_with_the_top_row_first():
    grid = frames.plane([0.0, 2.0, 0.0, 2.0], 2)
    expected = [[0.5, 1.5], [1.5, 1.5], [0.5, 0.5], [1.5, 0.5]]
    np.testing.assert_allclose(grid.numpy(), expected)


def _identity_net() -> MLP:
    """2 -> 2 linear hidden neurons (x1 and x2) -> 1 output computing 2 * x1."""
    net = MLP(2, 1, hidden=(2,), activation="linear", seed=0)
    with torch.no_grad():
        net.hidden[0].weight.copy_(torch.eye(2))
        net.hidden[0].bias.zero_()
        net.out.weight.copy_(torch.tensor([[2.0, 0.0]]))
        net.out.bias.zero_()
    return net


def test_network_view_on_a_known_network():
    box = [-1.0, 1.0, -1.0, 1.0]
    # boundary at pixel centres: x1 = -0.5, 0.5 in each row
    view = frames.network_view(_identity_net(), frames.plane(box, 2), box, 2, "binary")
    # output logit 2 * x1: P(class 1) = sigmoid(-1), sigmoid(1) per row
    p = 1 / (1 + np.exp(-np.array([-1.0, 1.0, -1.0, 1.0])))
    np.testing.assert_array_equal(_bytes(view["boundary"]), np.round(p * 255))
    # neuron maps on the box's corners, top row first: (x1, x2) = (-1, 1), (1, 1), (-1, -1),
    # (1, -1); each neuron scaled by its own peak, so x1 -> -1, 1, -1, 1 -> bytes 0, 255, ...
    inputs, hidden, output = (_bytes(m) for m in view["maps"])
    np.testing.assert_array_equal(inputs, [0, 255, 0, 255, 255, 255, 0, 0])  # x1 then x2
    np.testing.assert_array_equal(hidden, [0, 255, 0, 255, 255, 255, 0, 0])  # not flipped
    np.testing.assert_array_equal(output, [0, 255, 0, 255])
    assert view["scales"] == [[1.0, 1.0], [1.0, 1.0], [2.0]]
    weights = [np.frombuffer(base64.b64decode(w), dtype="<f4") for w in view["weights"]]
    np.testing.assert_array_equal(weights[0], [1.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(weights[1], [2.0, 0.0])


def test_multiclass_boundary_sends_every_class():
    net, box = MLP(2, 3, hidden=(4,), seed=0), [-1.0, 1.0, -1.0, 1.0]
    view = frames.network_view(net, frames.plane(box, 8), box, 4, "multiclass")
    probs = _bytes(view["boundary"])
    assert probs.shape == (3 * 64,)
    sums = probs.reshape(3, 64).astype(int).sum(0)
    assert (abs(sums - 255) <= 2).all()  # probabilities sum to 1, up to byte rounding


def test_layer_grad_norms_group_parameters_by_layer():
    norms = {
        "hidden.0.weight": np.array([3.0]),
        "norms.0.weight": np.array([4.0]),  # batch norm belongs to its layer
        "hidden.1.weight": np.array([1.0]),
        "out.weight": np.array([6.0]),
        "out.bias": np.array([8.0]),
    }
    assert frames.layer_grad_norms(norms, n_hidden=2) == [5.0, 1.0, 10.0]


def test_curves_are_subsampled_and_nan_becomes_null():
    epochs = 1000
    history = History.empty([0], epochs, "accuracy")
    history.train_loss[0] = history.val_loss[0] = np.linspace(1, 0.1, epochs)
    history.train_metric[0] = history.val_metric[0] = 0.5
    history.val_loss[0, -1] = np.nan
    grads = [[1.0, 2.0]] * epochs
    c = frames.curves(history, epochs, grads)
    assert len(c["epoch"]) <= frames.CURVE_POINTS
    assert c["epoch"][0] == 1 and c["epoch"][-1] == epochs
    assert c["train_loss"][0] == 1.0 and c["test_loss"][-1] is None
    assert len(c["grad_norms"]) == 2 and c["grad_norms"][1][0] == 2.0
    assert frames.curves(history, 0, []) == {k: [] for k in frames.CURVE_NAMES}
    short = frames.curves(history, 5, grads)
    assert short["epoch"] == [1, 2, 3, 4, 5]


def test_ensemble_view_mean_disagreement_and_members():
    from whydl.config import ModelConfig, TrainConfig
    from whydl.data import article_moons
    from whydl.engine import fit

    ds = article_moons()
    f = fit(ds, ModelConfig(hidden=(4,)), TrainConfig(epochs=1, n_seeds=3))
    box = frames.extent(ds)
    grid, small = frames.plane(box, 8), frames.plane(box, 4)
    view = frames.ensemble_view(f.stack, grid, small, "binary", np.array([True, True, True]))
    probs = torch.sigmoid(f.stack.forward(grid)[..., 0])  # (3, 64)
    mean = np.frombuffer(base64.b64decode(view["mean"]), np.uint8)
    np.testing.assert_allclose(mean, np.round(probs.mean(0).numpy() * 255), atol=1)
    votes = (probs > 0.5).float().mean(0).numpy()
    against = np.minimum(votes, 1 - votes)  # the minority's share
    split = np.frombuffer(base64.b64decode(view["disagreement"]), np.uint8)
    np.testing.assert_allclose(split, np.round(against * 2 * 255), atol=1)
    members = np.frombuffer(base64.b64decode(view["members"]), np.uint8)
    assert members.shape == (3 * 16,) and set(members) <= {0, 1}
    # a diverged member is left out of the vote and drawn as "no answer"
    view = frames.ensemble_view(f.stack, grid, small, "binary", np.array([True, False, True]))
    assert set(np.frombuffer(base64.b64decode(view["members"]), np.uint8)[16:32]) == {255}


def test_accuracy_ci_over_members():
    ci = frames.accuracy_ci([0.8, 0.9, 1.0, np.nan])
    assert ci["n"] == 3 and ci["mean"] == pytest.approx(0.9)
    assert ci["lo"] == pytest.approx(0.9 - 4.302653 * 0.1 / np.sqrt(3), abs=1e-5)
    assert frames.accuracy_ci([0.7]) == {"mean": 0.7, "lo": 0.7, "hi": 0.7, "n": 1}


def test_curves_ci_band_is_the_t_interval_over_members_at_every_epoch():
    rng = np.random.default_rng(0)
    history = History.empty([0, 1, 2, 3], 40, "accuracy")
    for name in ("train_loss", "val_loss", "train_metric"):
        getattr(history, name)[:] = 0.5
    history.val_metric[:] = rng.uniform(0.6, 1.0, (4, 40))
    history.val_metric[3, 10:] = np.nan  # a member that diverged at epoch 11
    c = frames.curves(history, 40, [[1.0]] * 40)
    for k, e in enumerate(c["epoch"]):
        expected = frames.accuracy_ci(history.val_metric[:, e - 1])
        assert c["test_accuracy_lo"][k] == pytest.approx(expected["lo"], abs=1e-6)
        assert c["test_accuracy_hi"][k] == pytest.approx(expected["hi"], abs=1e-6)
        assert c["test_accuracy"][k] == pytest.approx(expected["mean"], abs=1e-6)


def test_curves_travel_as_float32_and_come_back_with_their_gaps():
    history = History.empty([0, 1], 30, "accuracy")
    for name in ("train_loss", "val_loss", "train_metric", "val_metric"):
        getattr(history, name)[:] = np.linspace(0.9, 0.1, 30)
    history.val_loss[:, -1] = np.nan
    c = frames.curves(history, 30, [[1.0, 2.0]] * 30)
    back = frames.decode_curves(frames.encode_curves(c))
    assert set(back) == set(c) and back["test_loss"][-1] is None
    np.testing.assert_allclose(back["train_loss"], c["train_loss"], rtol=1e-6)
    assert back["epoch"] == c["epoch"] and back["grad_norms"] == c["grad_norms"]
