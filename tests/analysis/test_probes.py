"""Linear probes on cases with known answers: separable, XOR, constant features."""

import numpy as np
import pytest
import torch

from whydl.analysis.probes import probe_accuracies, probe_accuracy
from whydl.models import MLP


def split(X, y, n_train):
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@pytest.fixture(scope="module")
def xor():
    X = np.random.default_rng(0).uniform(-1, 1, size=(600, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_probe_scores_about_one_on_a_linearly_separable_case():
    X = np.random.default_rng(1).normal(size=(400, 3))
    y = (X @ [1.0, -2.0, 0.5] > 0).astype(int)
    assert probe_accuracy(*split(X, y, 300)) >= 0.97


def test_probe_is_near_chance_on_xor_of_the_raw_input(xor):
    assert probe_accuracy(*split(*xor, 400)) <= 0.65


def xor_solving_net() -> MLP:
    """One hidden layer whose units are relu(+-(x1 + x2)) and relu(+-(x1 - x2)):
    |x1 + x2| - |x1 - x2| has the sign of x1 * x2, a linear function of these units."""
    net = MLP(2, 1, hidden=(4,), seed=None)
    with torch.no_grad():
        net.hidden[0].weight.copy_(torch.tensor([[1.0, 1], [-1, -1], [1, -1], [-1, 1]]))
        net.hidden[0].bias.zero_()
    return net


def test_probe_accuracies_probe_each_layer_of_the_network(xor):
    X, y = xor
    accs = probe_accuracies(xor_solving_net(), *split(X.astype(np.float32), y, 400))
    assert len(accs) == 2
    assert accs[0] <= 0.65 and accs[1] >= 0.97  # the input cannot, the hidden layer can
    assert probe_accuracies(xor_solving_net(), *split(X, y, 400), with_input=False) == accs[1:]


def test_constant_features_are_ignored_and_an_all_constant_layer_predicts_the_majority():
    rng = np.random.default_rng(2)
    x = rng.normal(size=400)
    y = (x > 0).astype(int)
    with_dead = np.stack([x, np.zeros(400), np.full(400, 3.0)], axis=1)  # two dead units
    assert probe_accuracy(*split(with_dead, y, 300)) >= 0.97
    dead = np.zeros((400, 5))
    majority = np.mean(y[300:] == np.bincount(y[:300]).argmax())
    assert probe_accuracy(*split(dead, y, 300)) == pytest.approx(majority)


def test_probe_explains_bad_shapes():
    with pytest.raises(ValueError, match="Reshape"):
        probe_accuracy(np.zeros(10), np.zeros(10), np.zeros((5, 1)), np.zeros(5))
    with pytest.raises(ValueError, match="one label per row"):
        probe_accuracy(np.zeros((10, 2)), np.zeros(9), np.zeros((5, 2)), np.zeros(5))
