"""Gradient flow: how large each layer's gradients are, and what its units are doing.

Glorot & Bengio (2010) diagnosed deep networks by three per-layer measurements on a batch:
the norm of the loss gradient with respect to each layer's weights, the distribution of
each hidden layer's activations (and how many units sit in a flat, saturated region), and
the distribution of the back-propagated gradients d loss / d (pre-activation). `gradient_flow`
takes all three from a plain `nn.Module` with autograd; `GradientRecorder` is a `fit`
callback that takes them from chosen members at chosen epochs during training.

Measurements run on copies of the weights, in float64 by default: a vanishing gradient
of 1e-50 is a number in float64 but a zero in float32, and the point is to see how small
it got. Training itself runs in float32, where such a gradient is exactly zero.

Example
-------
>>> import torch
>>> from whydl.models import MLP
>>> net = MLP(4, 3, hidden=(8,) * 6, activation="sigmoid", init="small", seed=0)
>>> flow = gradient_flow(net, torch.randn(32, 4), torch.randint(0, 3, (32,)), "multiclass")
>>> flow.layer_names[0], flow.layer_names[-1]
('hidden.0', 'out')
>>> flow.ratio < 1e-6  # the first layer's gradient has all but vanished
True
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from whydl.engine import tasks

# a unit is saturated where its activation is flat: the gradient through it is (nearly) zero
TANH_SATURATION = 0.99  # |tanh(u)| > 0.99
SIGMOID_SATURATION = 0.01  # sigmoid(u) < 0.01 or > 0.99
GELU_SATURATION = -3.0  # u < -3: GELU's output and slope are both ~0 there
SATURATED = {
    "relu": lambda u, a: a == 0,  # exactly zero: no gradient flows back through the unit
    "tanh": lambda u, a: a.abs() > TANH_SATURATION,
    "sigmoid": lambda u, a: (a < SIGMOID_SATURATION) | (a > 1 - SIGMOID_SATURATION),
    "gelu": lambda u, a: u < GELU_SATURATION,
    "linear": lambda u, a: torch.zeros_like(a, dtype=torch.bool),
}
WEIGHT_LAYERS = (nn.Linear, nn.Conv2d)


@dataclass(frozen=True)
class GradientFlow:
    """Per-layer gradient and activation statistics of one model on one batch.

    `layer_names[l]` and `weight_grad_norms[l]` cover every weight layer in forward order
    (hidden layers, then the output layer). `hidden` holds one dict per hidden layer of an
    MLP: activation mean/std, `saturated` (fraction of unit-samples in a flat region),
    `saturated_units` (units saturated on every sample: dead ReLUs), and the mean/std of the
    back-propagated gradient d loss / d pre-activation. It is empty for models without an
    `act` module.
    """

    layer_names: tuple[str, ...]
    weight_grad_norms: np.ndarray  # (L,)
    hidden: tuple[dict, ...]
    loss: float

    @property
    def ratio(self) -> float:
        """First weight layer's gradient norm over the last's (the output layer's)."""
        return gradient_norm_ratio(self.weight_grad_norms)

    def rows(self) -> list[dict]:
        """One flat dict per weight layer (1-based `layer`), hidden statistics merged in."""
        rows = []
        for i, (name, norm) in enumerate(zip(self.layer_names, self.weight_grad_norms)):
            row = {"layer": i + 1, "layer_name": name, "weight_grad_norm": float(norm)}
            if i < len(self.hidden):
                row.update(self.hidden[i])
            rows.append(row)
        return rows


def gradient_norm_ratio(norms) -> float:
    """norms[0] / norms[-1]: below 1, gradients shrink on their way back to the input.

    Example
    -------
    >>> gradient_norm_ratio([0.01, 0.1, 1.0])
    0.01
    """
    norms = np.asarray(norms, dtype=float)
    if norms.ndim != 1 or len(norms) < 2:
        raise ValueError(f"Expected a 1D sequence of at least 2 norms, got shape {norms.shape}.")
    return float(norms[0] / norms[-1]) if norms[-1] > 0 else float("nan")


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, layer) of every Linear/Conv2d layer, in registration order (= forward order
    for whydl's MLP and SmallCNN)."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, WEIGHT_LAYERS)]


def gradient_flow(
    model: nn.Module,
    X,
    y,
    task: str,
    *,
    state: dict | None = None,
    train_mode: bool = True,
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
) -> GradientFlow:
    """Gradients and activations of every layer of `model` for the mean loss on (X, y).

    `state` (a state dict, e.g. `stacked.state_dict(i)`) replaces the model's own weights
    and buffers, so one template module measures any member without copying it.
    `train_mode=True` measures what a training step sees: batch norm uses the batch's
    statistics and dropout drops (its masks drawn from `seed`, not the global RNG). The
    model's weights, buffers and mode are left as they were.
    """
    X = torch.as_tensor(np.asarray(X), dtype=dtype)
    if X.dim() != 2:
        raise ValueError(f"Expected X of shape (n, features), got {tuple(X.shape)}.")
    target = tasks.prepare_targets(np.asarray(y), task, "cpu")
    if target.is_floating_point():
        target = target.to(dtype)
    layers = weight_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Linear or Conv2d layer to measure.")
    tensors = _tensors(model, state, dtype)
    weights = [tensors[f"{name}.weight"] for name, _ in layers]
    with _recording(model, train_mode) as seen, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout masks; fork_rng restores the caller's RNG
        with torch.enable_grad():
            out = functional_call(model, tensors, (X,))
            loss = tasks.loss(out.unsqueeze(0), target.unsqueeze(0), task)[0]
            grads = torch.autograd.grad(loss, weights + [u for u, _ in seen])
    norms = np.array([g.norm().item() for g in grads[: len(weights)]])
    name = getattr(model, "activation_name", None)
    hidden = tuple(
        _hidden_stats(u.detach(), a.detach(), du, name)
        for (u, a), du in zip(seen, grads[len(weights) :])
    )
    return GradientFlow(tuple(n for n, _ in layers), norms, hidden, float(loss.item()))


def _tensors(model: nn.Module, state: dict | None, dtype) -> dict[str, torch.Tensor]:
    """Fresh copies of the model's parameters (requiring grad) and buffers, in `dtype`:
    the forward pass runs on these, so batch norm's running statistics update the copies."""
    source = state if state is not None else model.state_dict()
    params = {n for n, _ in model.named_parameters()}
    out = {}
    for n, t in source.items():
        t = t.detach().clone()
        if t.is_floating_point():
            t = t.to(dtype)
        out[n] = t.requires_grad_(True) if n in params else t
    return out


@contextmanager
def _recording(model: nn.Module, train_mode: bool):
    """Switch the model to train/eval mode and capture every hidden layer's (pre-activation,
    activation) pair; restore the modes and remove the hook afterwards.

    The activation module is shared by every hidden layer of an MLP, so one hook on it sees
    each layer's input u and output a, in forward order."""
    modes = [(m, m.training) for m in model.modules()]
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    act = getattr(model, "act", None)
    handle = act.register_forward_hook(lambda m, i, o: seen.append((i[0], o))) if act else None
    model.train(train_mode)
    try:
        yield seen
    finally:
        if handle is not None:
            handle.remove()
        for m, mode in modes:
            m.training = mode


def _hidden_stats(u, a, du, activation) -> dict:
    saturated = SATURATED[activation](u, a) if activation in SATURATED else None
    return {
        "activation_mean": a.mean().item(),
        "activation_std": a.std().item(),
        "saturated": saturated.double().mean().item() if saturated is not None else np.nan,
        "saturated_units": (
            saturated.all(0).double().mean().item() if saturated is not None else np.nan
        ),
        "backprop_grad_mean": du.mean().item(),
        "backprop_grad_std": du.std().item(),
    }


@torch.no_grad()
def activation_inputs(
    model: nn.Module, X, *, state: dict | None = None, train_mode: bool = True, seed: int = 0
) -> list[np.ndarray]:
    """Every hidden layer's pre-activation (the input to its nonlinearity, after batch norm
    when there is one), each (n, width), for an MLP-like model with an `act` module.
    `state`, `train_mode` and `seed` work as in `gradient_flow`; the model is not changed."""
    if getattr(model, "act", None) is None:
        raise ValueError(f"{type(model).__name__} has no `act` module; expected a whydl MLP.")
    tensors = _tensors(model, state, torch.float32)
    with _recording(model, train_mode) as seen, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout masks; fork_rng restores the caller's RNG
        functional_call(model, tensors, (torch.as_tensor(np.asarray(X), dtype=torch.float32),))
    return [u.numpy().copy() for u, _ in seen]


class GradientRecorder:
    """A `fit(callback=...)` hook: `gradient_flow` of chosen members at chosen epochs.

    Each member is measured from its exported weights (`stacked.state_dict(i)`, a copy) on
    the stack's template module, so the training run is not touched. Results land in
    `records_`, a list of (epoch, member index, GradientFlow); `record` adds one by hand
    (e.g. epoch 0, at init).

    Example
    -------
    >>> from whydl.config import ModelConfig, TrainConfig
    >>> from whydl.data import article_moons
    >>> from whydl.engine import fit
    >>> data = article_moons()
    >>> rec = GradientRecorder(data.X_train[:64], data.y_train[:64], data.task, epochs=(1, 2))
    >>> _ = fit(data, ModelConfig(), TrainConfig(epochs=2), callback=rec)
    >>> [(epoch, member) for epoch, member, _ in rec.records_]
    [(1, 0), (2, 0)]
    """

    def __init__(self, X, y, task: str, epochs, members=(0,), train_mode: bool = True):
        self.X, self.y, self.task = X, y, task
        self.epochs = tuple(epochs)
        self.members = tuple(members)
        self.train_mode = train_mode
        self.records_: list[tuple[int, int, GradientFlow]] = []

    def record(self, epoch: int, model: nn.Module, member: int = 0, state=None) -> GradientFlow:
        flow = gradient_flow(
            model, self.X, self.y, self.task, state=state, train_mode=self.train_mode
        )
        self.records_.append((epoch, member, flow))
        return flow

    def __call__(self, epoch: int, stacked) -> None:
        if epoch in self.epochs:
            for i in self.members:
                if i < stacked.M:  # member i's weights on the shared template: no copy
                    self.record(epoch, stacked.template, i, state=stacked.state_dict(i))
