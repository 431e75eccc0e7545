"""Gradient flow: how large each layer's gradients are, and what its units are doing.

Glorot & Bengio (2010) diagnosed deep networks by three per-layer measurements on a batch:
the norm of the loss gradient with respect to each layer's weights, the distribution of
each hidden layer's activations (and how many units sit in a flat, saturated region), and
the distribution of the back-propagated gradients d loss / d (pre-activation). `gradient_flow`
takes all three from a plain `nn.Module` with autograd. During training, the recorder
`GradientFlows` takes them from every member after chosen epochs (`recorded_flows` reads
them back from `Fit.records`), and `UnitInputs` follows one hidden unit's input. Recorders
are data, not callbacks, so a results store caches their calls and a Dask worker can train
them; each member is measured from its exported weights on the stack's template module, so
training is not touched.

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
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from whydl.engine import tasks
from whydl.engine.recorders import Recorder

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


# recorders: gradient flow and unit inputs during training, declared as data -------------

HIDDEN_STATS = (  # the keys of `GradientFlow.hidden`'s dicts, in `_hidden_stats`' order
    "activation_mean",
    "activation_std",
    "saturated",
    "saturated_units",
    "backprop_grad_mean",
    "backprop_grad_std",
)
SPLITS = ("train", "test")


def _probe(trainer, split: str, rows: int | None):
    """The first `rows` rows (all with None) of the training run's `split`: (X, y)."""
    data = trainer.dataset
    X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
    return X[:rows], y[:rows]


def _check_probe(name: str, split: str, rows) -> None:
    if split not in SPLITS:
        raise ValueError(f"{name}(split={split!r}); expected one of {SPLITS}.")
    if rows is not None and rows < 2:
        raise ValueError(f"{name}(rows={rows}); expected at least 2 rows, or None for all.")


@dataclass(frozen=True)
class GradientFlows(Recorder):
    """A recorder: `gradient_flow` of every member after each of `epochs` (those the run
    reaches), on the first `rows` rows of the `split` it trains on (all with None).

    Records, E = the recorded epochs, L = weight layers, H = hidden layers:
    `gradient_flow.weight_grad_norms` (M, E, L), `gradient_flow.hidden` (M, E, H, 6: the
    `HIDDEN_STATS`), `gradient_flow.loss` (M, E), and `gradient_flow.epoch` (M, E: the epoch,
    NaN where training had stopped before it). `recorded_flows` turns them back into
    `GradientFlow`s: the very numbers `gradient_flow` gives on each member's weights.

    Example
    -------
    >>> from whydl.config import ModelConfig, TrainConfig
    >>> from whydl.data import article_moons
    >>> from whydl.engine import fit
    >>> f = fit(article_moons(), ModelConfig(), TrainConfig(epochs=2, n_seeds=2),
    ...         recorders=(GradientFlows(epochs=(1, 2), rows=64),))
    >>> flows = recorded_flows(f)
    >>> sorted(flows), len(flows[2]), flows[2][0].layer_names
    ([1, 2], 2, ('hidden.0', 'hidden.1', 'out'))
    """

    epochs: tuple[int, ...] = (1,)
    rows: int | None = None
    split: str = "train"
    train_mode: bool = True
    name: ClassVar[str] = "gradient_flow"

    def __post_init__(self):
        epochs = tuple(sorted({int(e) for e in self.epochs}))
        if not epochs or epochs[0] < 1:
            raise ValueError(f"GradientFlows(epochs={self.epochs}); expected epochs >= 1.")
        object.__setattr__(self, "epochs", epochs)  # one spelling, one key
        _check_probe("GradientFlows", self.split, self.rows)

    def schedule(self, n_epochs):
        return tuple(e for e in self.epochs if e <= n_epochs)

    def shapes(self, trainer):
        model = trainer.net.template
        n_hidden = len(model.hidden) if getattr(model, "act", None) is not None else 0
        n = self.name
        return {
            f"{n}.weight_grad_norms": (len(weight_layers(model)),),
            f"{n}.hidden": (n_hidden, len(HIDDEN_STATS)),
            f"{n}.loss": (),
            f"{n}.epoch": (),
        }

    def measure(self, trainer, grads):
        X, y = _probe(trainer, self.split, self.rows)
        net, task, mode = trainer.net, trainer.task, self.train_mode
        flows = [  # member i's weights on the shared template: no copy of the model
            gradient_flow(net.template, X, y, task, state=net.state_dict(i), train_mode=mode)
            for i in range(net.M)
        ]
        n = self.name
        return {
            f"{n}.weight_grad_norms": np.stack([f.weight_grad_norms for f in flows]),
            f"{n}.hidden": np.array(
                [[[h[k] for k in HIDDEN_STATS] for h in f.hidden] for f in flows], dtype=float
            ).reshape(net.M, len(flows[0].hidden), len(HIDDEN_STATS)),  # H may be 0
            f"{n}.loss": np.array([f.loss for f in flows]),
            f"{n}.epoch": np.full(net.M, float(trainer.epoch)),
        }


def recorded_flows(fit, name: str = GradientFlows.name) -> dict[int, list[GradientFlow]]:
    """{epoch: one `GradientFlow` per member recorded then}, from a `Fit` trained with a
    `GradientFlows` recorder (live or replayed from a results store)."""
    records = fit.records
    if f"{name}.epoch" not in records:
        raise ValueError(
            f"the fit has no {name!r} records (it has {sorted(records)}); train it with "
            "recorders=(GradientFlows(...),)."
        )
    layers = tuple(n for n, _ in weight_layers(fit.stack.template))
    norms, hidden = records[f"{name}.weight_grad_norms"], records[f"{name}.hidden"]
    loss, epochs = records[f"{name}.loss"], records[f"{name}.epoch"]
    out: dict[int, list[GradientFlow]] = {}
    for j in range(epochs.shape[1]):
        for m in np.flatnonzero(np.isfinite(epochs[:, j])):
            stats = tuple(
                {k: float(v) for k, v in zip(HIDDEN_STATS, layer)} for layer in hidden[m, j]
            )
            flow = GradientFlow(layers, norms[m, j].copy(), stats, float(loss[m, j]))
            out.setdefault(int(epochs[m, j]), []).append(flow)
    return out


@dataclass(frozen=True)
class UnitInputs(Recorder):
    """A recorder: after every epoch, the `percentiles` of one hidden unit's input (its
    pre-activation: `activation_inputs`) over the first `rows` rows of `split` (all with
    None), for every member. `layer` indexes the hidden layers (-1: the last).

    Record `unit_inputs`: (M, epochs, len(percentiles)).

    Example
    -------
    >>> from whydl.config import ModelConfig, TrainConfig
    >>> from whydl.data import article_moons
    >>> from whydl.engine import fit
    >>> f = fit(article_moons(), ModelConfig(), TrainConfig(epochs=3, n_seeds=2),
    ...         recorders=(UnitInputs(),))
    >>> f.records["unit_inputs"].shape
    (2, 3, 3)
    """

    layer: int = -1
    unit: int = 0
    percentiles: tuple[float, ...] = (15, 50, 85)
    rows: int | None = None
    split: str = "test"
    train_mode: bool = True
    name: ClassVar[str] = "unit_inputs"

    def __post_init__(self):
        object.__setattr__(self, "percentiles", tuple(self.percentiles))
        _check_probe("UnitInputs", self.split, self.rows)

    def shapes(self, trainer):
        return {self.name: (len(self.percentiles),)}

    def measure(self, trainer, grads):
        X, _ = _probe(trainer, self.split, self.rows)
        net = trainer.net
        values = []
        for i in range(net.M):
            layers = activation_inputs(
                net.template, X, state=net.state_dict(i), train_mode=self.train_mode
            )
            values.append(np.percentile(layers[self.layer][:, self.unit], self.percentiles))
        return {self.name: np.array(values)}
