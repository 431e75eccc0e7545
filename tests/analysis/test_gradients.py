"""Gradient flow: checked against closed-form gradients and torch.autograd on small nets."""

import numpy as np
import pytest
import torch

from whydl.analysis.gradients import (
    GradientFlows,
    activation_inputs,
    gradient_flow,
    gradient_norm_ratio,
    recorded_flows,
    weight_layers,
)
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import fit
from whydl.models import MLP


def linear_net():
    """2 inputs -> 3 linear hidden units -> 1 output, with fixed weights."""
    net = MLP(2, 1, hidden=(3,), activation="linear", seed=0)
    with torch.no_grad():
        net.hidden[0].weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]]))
        net.hidden[0].bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
        net.out.weight.copy_(torch.tensor([[2.0, -1.0, 0.5]]))
        net.out.bias.copy_(torch.tensor([0.25]))
    return net


X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0], [2.0, 1.0]])
Y = np.array([1.0, -1.0, 0.5, 0.0])


def test_weight_gradients_match_the_closed_form_of_a_two_layer_linear_net():
    """loss = mean((W2 (W1 x + b1) + b2 - y)^2): dL/dW2 = (2/n) r^T H, dL/dW1 = (2/n) (r W2)^T X."""
    net = linear_net()
    W1, b1, W2, b2 = (
        t.detach().double().numpy()
        for t in (net.hidden[0].weight, net.hidden[0].bias, net.out.weight, net.out.bias)
    )
    H = X @ W1.T + b1  # (n, 3)
    r = H @ W2.T + b2 - Y[:, None]  # (n, 1) residuals
    n = len(X)
    grad_W2 = 2 / n * r.T @ H
    grad_W1 = 2 / n * (r @ W2).T @ X
    flow = gradient_flow(net, X, Y, "regression")
    assert flow.layer_names == ("hidden.0", "out")
    np.testing.assert_allclose(
        flow.weight_grad_norms, [np.linalg.norm(grad_W1), np.linalg.norm(grad_W2)], rtol=1e-10
    )
    assert flow.ratio == pytest.approx(np.linalg.norm(grad_W1) / np.linalg.norm(grad_W2))
    assert flow.loss == pytest.approx(float((r**2).mean()))
    # the back-propagated gradient at the hidden pre-activation is (2/n) r W2
    delta = 2 / n * r @ W2
    assert flow.hidden[0]["backprop_grad_mean"] == pytest.approx(delta.mean())
    assert flow.hidden[0]["backprop_grad_std"] == pytest.approx(delta.std(ddof=1))
    assert flow.hidden[0]["activation_mean"] == pytest.approx(H.mean())


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu"])
def test_weight_gradients_match_torch_autograd_on_a_deeper_net(activation):
    torch.manual_seed(0)
    net = MLP(5, 3, hidden=(6, 6, 6), activation=activation, seed=1)
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    loss = torch.nn.functional.cross_entropy(net(x), y)
    expected = [
        w.norm().item()
        for w in torch.autograd.grad(loss, [m.weight for _, m in weight_layers(net)])
    ]
    flow = gradient_flow(net, x, y, "multiclass", dtype=torch.float32)
    np.testing.assert_allclose(flow.weight_grad_norms, expected, rtol=1e-5)
    assert len(flow.hidden) == 3 and flow.layer_names[-1] == "out"


def test_float64_sees_a_gradient_that_float32_rounds_to_zero():
    net = MLP(4, 1, hidden=(8,) * 25, activation="sigmoid", init="small", seed=0)
    x, y = torch.rand(32, 4), torch.randint(0, 2, (32,))
    wide = gradient_flow(net, x, y, "binary")
    narrow = gradient_flow(net, x, y, "binary", dtype=torch.float32)
    assert 0 < wide.weight_grad_norms[0] < 1e-45
    assert narrow.weight_grad_norms[0] == 0.0
    assert wide.ratio < 1e-40


def test_saturation_counts_flat_units():
    x = torch.rand(64, 3) + 0.5  # positive inputs
    dead = MLP(3, 1, hidden=(4,), activation="relu", seed=0)
    with torch.no_grad():
        dead.hidden[0].bias.fill_(-100.0)  # every unit below zero: all dead
    stats = gradient_flow(dead, x, torch.zeros(64), "binary").hidden[0]
    assert stats["saturated"] == 1.0 and stats["saturated_units"] == 1.0
    flat = MLP(3, 1, hidden=(4,), activation="tanh", seed=0)
    with torch.no_grad():
        flat.hidden[0].weight.copy_(torch.tensor([[50.0] * 3, [-50.0] * 3, [0.0] * 3, [1e-3] * 3]))
        flat.hidden[0].bias.zero_()
    stats = gradient_flow(flat, x, torch.zeros(64), "binary").hidden[0]
    assert stats["saturated"] == pytest.approx(0.5)  # two of four units at |tanh| = 1
    assert stats["saturated_units"] == pytest.approx(0.5)


def test_measuring_leaves_the_model_and_the_global_rng_untouched():
    net = MLP(3, 1, hidden=(5, 5), dropout=0.5, batch_norm=True, seed=0).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = torch.randn(20, 3), torch.randint(0, 2, (20,))
    rng = torch.get_rng_state()
    a = gradient_flow(net, x, y, "binary")
    b = gradient_flow(net, x, y, "binary")
    activation_inputs(net, x)
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert not net.training and not any(m.training for m in net.modules())
    np.testing.assert_array_equal(a.weight_grad_norms, b.weight_grad_norms)  # seeded masks


def test_activation_inputs_are_the_pre_activations():
    net = linear_net()
    (u,) = activation_inputs(net, X)
    W1, b1 = net.hidden[0].weight.detach().numpy(), net.hidden[0].bias.detach().numpy()
    np.testing.assert_allclose(u, X @ W1.T + b1, rtol=1e-6)


def test_state_replaces_the_models_weights():
    a, b = MLP(3, 1, hidden=(4,), seed=0), MLP(3, 1, hidden=(4,), seed=1)
    x, y = torch.randn(10, 3), torch.zeros(10)
    via_state = gradient_flow(a, x, y, "binary", state=b.state_dict())
    np.testing.assert_allclose(
        via_state.weight_grad_norms, gradient_flow(b, x, y, "binary").weight_grad_norms
    )


def test_gradient_norm_ratio():
    assert gradient_norm_ratio([0.01, 1.0, 0.1]) == pytest.approx(0.1)
    assert np.isnan(gradient_norm_ratio([1.0, 0.0]))
    with pytest.raises(ValueError, match="at least 2 norms"):
        gradient_norm_ratio([1.0])


def test_recorder_measures_members_during_training_without_changing_it():
    data = load_dataset("moons", n_samples=120, noise=0.2, data_seed=0)
    model = ModelConfig(hidden=(8, 8), batch_norm=True)
    train = TrainConfig(epochs=3, n_seeds=3, batch_size=16)
    X, y = data.X_train[:40], data.y_train[:40]
    recorder = GradientFlows(epochs=(1, 3), rows=40)
    watched = fit(data, model, train, recorders=(recorder,))
    plain = fit(data, model, train)
    np.testing.assert_array_equal(watched.history.train_loss, plain.history.train_loss)
    flows = recorded_flows(watched)
    assert sorted(flows) == [1, 3] and [len(f) for f in flows.values()] == [3, 3]
    last = flows[3][2]  # member 2 after the last epoch
    again = gradient_flow(watched.stack.member(2), X, y, data.task)
    np.testing.assert_allclose(last.weight_grad_norms, again.weight_grad_norms, rtol=1e-6)
    rows = last.rows()
    assert [r["layer"] for r in rows] == [1, 2, 3] and "saturated" in rows[0]
