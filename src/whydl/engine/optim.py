"""Optimisers for stacked parameters, matching `torch.optim` update for update.

Parameters must not require grad when `step` runs (the engine's never do during a step).
They act on a list of tensors whose first dimension is the member, with `torch._foreach_*`
ops: one dispatch updates every layer of every member, which is why a single seed trains
faster here than with `torch.optim` (whose first construction also imports torch._dynamo).

What may differ per member: `lr`, `weight_decay` and `momentum`, each a float (one value for
the stack) or M values, one per member. They only scale each member's own update, so a grid
of learning rates x seeds trains as one stack, each member as it would alone with its value.
The per-member values are kept as an (M,) float64 tensor and applied as (M, 1, ...) views
broadcast over each parameter's trailing dims; a float takes the scalar ops unchanged.
`member_hyperparameters` checks per-member values against the TrainConfig fields' bounds.

Adam, AdamW, SGD and SGD with momentum step with torch's fused kernels (`torch._fused_adam_`,
...): one kernel for the whole update instead of seven or so elementwise passes, each a few
microseconds of dispatch (measured on the article's 151 parameters: 70 -> 4 us a step). They
compute torch.optim's update formula. A kernel takes one value of each hyperparameter, so
it runs once per run of members that share theirs (a grid of 5 rates x 10 seeds: 5 calls a
step); with more than MAX_FUSED_RUNS runs, or for RMSprop, the elementwise path below.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
import torch

from whydl.config import TrainConfig, option_of, show_value

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
FUSED = ("sgd", "momentum", "nesterov", "adam", "adamw")  # those torch has one kernel for
MAX_FUSED_RUNS = 16  # beyond this many runs of equal values, the per-member elementwise path


def _runs(n_members, lr, weight_decay, momentum) -> list[tuple[int, int, tuple]]:
    """Members [lo, hi) that share one (lr, weight_decay, momentum), in order, as floats."""
    as_list = lambda v: v.tolist() if torch.is_tensor(v) else [v] * n_members  # noqa: E731
    values = list(zip(as_list(lr), as_list(weight_decay), as_list(momentum)))
    runs: list[tuple[int, int, tuple]] = []
    for m, value in enumerate(values):
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], m + 1, value)
        else:
            runs.append((m, m + 1, value))
    return runs


def _add(ts, others, a):
    """ts + a * others; `a` is a float, or per-member (M, 1, ...) views, one per tensor."""
    if isinstance(a, list):
        return torch._foreach_addcmul(ts, others, a)
    return torch._foreach_add(ts, others, alpha=a)


def _add_(ts, others, a) -> None:
    """ts += a * others, in place (`a` as in `_add`)."""
    if isinstance(a, list):
        torch._foreach_addcmul_(ts, others, a)
    else:
        torch._foreach_add_(ts, others, alpha=a)


def _addcdiv_(ts, numerators, denominators, a) -> None:
    """ts += a * numerators / denominators, in place (`a` as in `_add`)."""
    if isinstance(a, list):
        torch._foreach_addcdiv_(ts, torch._foreach_mul(numerators, a), denominators)
    else:
        torch._foreach_addcdiv_(ts, numerators, denominators, value=a)


def _hyperparameter(name: str, value, n_members: int | None, device):
    """A number as it is; M values as an (M,) float64 tensor on `device`."""
    if isinstance(value, numbers.Real):
        return value
    values = torch.as_tensor(value, dtype=torch.float64)
    if values.dim() == 0:
        return values.item()
    if values.dim() != 1 or (n_members is not None and len(values) != n_members):
        raise ValueError(
            f"{name} has shape {tuple(values.shape)}; expected a float or ({n_members},), "
            "one value per member (the parameters' first dimension)."
        )
    return values.to(device)


def member_hyperparameters(train: TrainConfig, lr=None, weight_decay=None, momentum=None):
    """The `StackedOptimizer` keywords for a stack of `train.n_seeds` members: each the
    config's float where None is given, else one float per member, checked against that
    TrainConfig field's bounds (so a grid is held to the same limits as one value).

    Example
    -------
    >>> member_hyperparameters(TrainConfig(n_seeds=2), lr=[0.01, 0.1])
    {'lr': [0.01, 0.1], 'weight_decay': 0.0, 'momentum': 0.9}
    """
    given = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum}
    return {
        name: getattr(train, name)
        if values is None
        else member_values(train, name, values, train.n_seeds)
        for name, values in given.items()
    }


def member_values(config, name: str, values, n_members: int, what: str = "") -> list[float]:
    """`values` of the hook `member_<name>` as floats: `n_members` of them, each within the
    bounds of `config`'s field `name` (a TrainConfig's lr, a ModelConfig's dropout), so a
    grid is held to the same limits as one value. `what` names one value in the message."""
    if np.ndim(values) != 1 or len(values) != n_members:
        raise ValueError(
            f"member_{name}={show_value(values)} has shape {np.shape(values)}; expected "
            f"({n_members},): one {what or name} per member, or None for the config's one value."
        )
    field = next(f for f in dataclasses.fields(config) if f.name == name)
    for i, value in enumerate(np.asarray(values).tolist()):  # a WhydlError (a ValueError)
        option_of(field).check(f"member_{name}[{i}]", value)
    return np.asarray(values, dtype=float).tolist()


class StackedOptimizer:
    """One optimiser state for every member's parameters.

    Hyperparameters follow torch.optim's defaults: Adam/AdamW betas (0.9, 0.999), eps 1e-8;
    RMSprop alpha 0.99, eps 1e-8; momentum 0.9 (SGD with momentum, Nesterov). Weight decay is
    L2 added to the gradient, except for AdamW where it is decoupled. `lr`, `weight_decay`
    and `momentum` are each a float or M values, one per member.

    Example
    -------
    >>> params = [torch.zeros(3, 4, 2), torch.zeros(3, 4)]  # 3 members
    >>> opt = StackedOptimizer(params, "sgd", lr=[0.1, 0.01, 0.001])
    >>> opt.step([torch.ones(3, 4, 2), torch.ones(3, 4)])
    >>> params[1][:, 0]
    tensor([-0.1000, -0.0100, -0.0010])
    """

    def __init__(
        self,
        params,
        name="adam",
        lr=0.01,
        weight_decay=0.0,
        momentum=0.9,
        flat=None,
        flat_grad=None,
    ):
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer={name!r} is not one of {OPTIMIZERS}.")
        self.params = list(params)
        # `flat`: one 1-D buffer that `params` tile in order (`StackedMLP.flat`); the step then
        # runs on it alone, the gradients concatenated into one tensor to match
        self.sizes = [p.numel() for p in self.params]
        if flat is not None:
            if (
                flat.dim() != 1
                or flat.numel() != sum(self.sizes)
                or not all(
                    p.untyped_storage().data_ptr() == flat.untyped_storage().data_ptr()
                    for p in self.params
                )
            ):
                raise ValueError("flat must be the 1-D buffer that params are views of, in order.")
            self.members, self.params = len(self.params[0]), [flat]
            # each element's member, for per-member values: one gather spreads them
            self.member_of = torch.cat(
                [
                    torch.arange(self.members, device=flat.device).repeat_interleave(
                        size // self.members
                    )
                    for size in self.sizes
                ]
            )
        self.flat = flat
        # `flat_grad`: with `flat`, a buffer laid out like it that the gradients passed to
        # `step` are views of (`StackedMLP.flat_grad`): the step reads it without a gather
        if flat_grad is not None and (flat is None or flat_grad.shape != flat.shape):
            raise ValueError("flat_grad must be laid out like flat, and given with it.")
        self.flat_grad = flat_grad
        n_members = None
        if self.params:
            n_members = self.members if flat is not None else len(self.params[0])
        device = self.params[0].device if self.params else None
        lr, weight_decay, momentum = (
            _hyperparameter(n, v, n_members, device)
            for n, v in (("lr", lr), ("weight_decay", weight_decay), ("momentum", momentum))
        )
        self.name, self.lr, self.weight_decay, self.momentum = name, lr, weight_decay, momentum
        # what `step` applies, fixed once: floats as they are, per-member values as views
        # (made per step they would cost a few small ops each); `decays` too, since testing
        # per-member values each step would cost a device sync
        each = self._each
        self._neg_lr, self._decay, self._momentum = each(-lr), each(weight_decay), each(momentum)
        self._shrink = each(1 - lr * weight_decay)  # AdamW's decoupled decay
        self.decays = bool(torch.as_tensor(weight_decay).ne(0).any())
        self.step_count = 0
        zeros = lambda: [torch.zeros_like(p) for p in self.params]  # noqa: E731
        self.buf = zeros() if name in ("momentum", "nesterov", "adam", "adamw") else None
        self.sq = zeros() if name in ("rmsprop", "adam", "adamw") else None
        # the fused kernels, one call per run of members that share their values (a grid of
        # rates x seeds: one run per rate), where there are few runs
        runs = _runs(n_members, lr, weight_decay, momentum) if self.params else []
        self.fused = (
            name in FUSED
            and 0 < len(runs) <= MAX_FUSED_RUNS
            and all(
                p.dtype == torch.float32 and p.device.type in ("cpu", "cuda") and p.is_contiguous()
                for p in self.params
            )
        )
        if self.fused:
            self.runs = runs
            self._views = {  # each state tensor's views, run by run
                "params": [self._of_run(self.params, lo, hi) for lo, hi, _ in runs],
                "buf": [self._of_run(self.buf, lo, hi) for lo, hi, _ in runs] if self.buf else None,
                "sq": [self._of_run(self.sq, lo, hi) for lo, hi, _ in runs] if self.sq else None,
            }
            if flat_grad is not None:
                self._views["grads"] = [self._of_run([flat_grad], lo, hi) for lo, hi, _ in runs]
            step = torch.zeros((), device=device)  # the Adam kernels read the count from it
            self._step_tensor, self._n_views = step, len(self._views["params"][0])

    def _of_run(self, tensors: list[torch.Tensor], lo: int, hi: int) -> list[torch.Tensor]:
        """The parts of `tensors` (laid out like `self.params`) that hold members [lo, hi)."""
        M = self.members if self.flat is not None else len(self.params[0])
        if (lo, hi) == (0, M):
            return list(tensors)
        if self.flat is None:
            return [t[lo:hi] for t in tensors]
        flat, views, offset = tensors[0], [], 0
        for size in self.sizes:  # parameter j's block, then member m's share of it
            k = size // M
            views.append(flat.narrow(0, offset + lo * k, (hi - lo) * k))
            offset += size
        return views

    def _each(self, value):
        """A float as it is; (M,) per-member values as one (M, 1, ...) view per parameter,
        in the parameters' dtype: float64 rounded once, as a float scalar is by a kernel, so
        each member's update is computed as the float path's."""
        if not torch.is_tensor(value) or not self.params:
            return value
        value = value.to(self.params[0].dtype)
        if self.flat is not None:  # member m's value over each parameter's block of member m
            return [value[self.member_of]]
        return [value.view(-1, *[1] * (p.dim() - 1)) for p in self.params]

    def step(self, grads: list[torch.Tensor]) -> None:
        if self.flat_grad is not None:
            grads = [self.flat_grad]
        elif self.flat is not None:
            grads = [torch.cat([g.reshape(-1) for g in grads])]
        p, neg_lr, momentum = self.params, self._neg_lr, self._momentum
        self.step_count += 1
        if self.fused:
            self._fused_step(grads)
            return
        if self.decays and self.name == "adamw":
            torch._foreach_mul_(p, self._shrink)
        elif self.decays:
            grads = _add(grads, p, self._decay)
        if self.name == "sgd":
            _add_(p, grads, neg_lr)
        elif self.name in ("momentum", "nesterov"):
            torch._foreach_mul_(self.buf, momentum)
            torch._foreach_add_(self.buf, grads)
            if self.name == "nesterov":
                grads = _add(grads, self.buf, momentum)
                _add_(p, grads, neg_lr)
            else:
                _add_(p, self.buf, neg_lr)
        elif self.name == "rmsprop":
            alpha = 0.99
            torch._foreach_mul_(self.sq, alpha)
            torch._foreach_addcmul_(self.sq, grads, grads, value=1 - alpha)
            denom = torch._foreach_sqrt(self.sq)
            torch._foreach_add_(denom, 1e-8)
            _addcdiv_(p, grads, denom, neg_lr)
        else:  # adam, adamw
            b1, b2 = 0.9, 0.999
            torch._foreach_lerp_(self.buf, grads, 1 - b1)
            torch._foreach_mul_(self.sq, b2)
            torch._foreach_addcmul_(self.sq, grads, grads, value=1 - b2)
            bias1 = 1 - b1**self.step_count
            root2 = math.sqrt(1 - b2**self.step_count)
            # torch's m / (sqrt(v) / root2 + eps) * lr / bias1, rearranged to save one pass
            denom = torch._foreach_sqrt(self.sq)
            torch._foreach_add_(denom, 1e-8 * root2)
            # per member, this step's coefficient in float64 as Python computes the float
            _addcdiv_(p, self.buf, denom, self._each(-self.lr * root2 / bias1))

    def _fused_step(self, grads: list[torch.Tensor]) -> None:
        """The whole update as torch's fused kernel, once per run of members sharing values."""
        name, views = self.name, self._views
        # the kernels walk memory in order: a transposed gradient (autograd's for the CNN's
        # head, say) would be read in the wrong order
        grads = [g if g.is_contiguous() else g.contiguous() for g in grads]
        if name in ("adam", "adamw"):
            self._step_tensor.add_(1)
            steps = [self._step_tensor] * self._n_views
            kernel = torch._fused_adamw_ if name == "adamw" else torch._fused_adam_
        for r, (lo, hi, (lr, wd, momentum)) in enumerate(self.runs):
            g = views["grads"][r] if "grads" in views else self._of_run(grads, lo, hi)
            p = views["params"][r]
            if name in ("adam", "adamw"):
                kernel(
                    p, g, views["buf"][r], views["sq"][r], [], steps,
                    lr=lr, beta1=0.9, beta2=0.999, weight_decay=wd, eps=1e-8,
                    amsgrad=False, maximize=False,
                )  # fmt: skip
                continue
            torch._fused_sgd_(
                p, g, views["buf"][r] if name != "sgd" else [],
                weight_decay=wd, momentum=0.0 if name == "sgd" else momentum, lr=lr,
                dampening=0.0, nesterov=name == "nesterov", maximize=False,
                is_first_step=self.step_count == 1,
            )  # fmt: skip
