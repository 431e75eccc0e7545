"""Optimisers for stacked parameters, matching `torch.optim` update for update.

Parameters must not require grad when `step` runs (the engine's never do during a step).
They act on a list of tensors whose first dimension is the member, with `torch._foreach_*`
ops: one dispatch updates every layer of every member, which is why a single seed trains
faster here than with `torch.optim` (whose first construction also imports torch._dynamo).
"""

from __future__ import annotations

import math

import torch

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")


class StackedOptimizer:
    """One optimiser state for every member's parameters.

    Hyperparameters follow torch.optim's defaults: Adam/AdamW betas (0.9, 0.999), eps 1e-8;
    RMSprop alpha 0.99, eps 1e-8; momentum 0.9 (SGD with momentum, Nesterov). Weight decay is
    L2 added to the gradient, except for AdamW where it is decoupled.
    """

    def __init__(self, params, name="adam", lr=0.01, weight_decay=0.0, momentum=0.9):
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer={name!r} is not one of {OPTIMIZERS}.")
        self.params = list(params)
        self.name, self.lr, self.weight_decay, self.momentum = name, lr, weight_decay, momentum
        self.step_count = 0
        zeros = lambda: [torch.zeros_like(p) for p in self.params]  # noqa: E731
        self.buf = zeros() if name in ("momentum", "nesterov", "adam", "adamw") else None
        self.sq = zeros() if name in ("rmsprop", "adam", "adamw") else None

    def step(self, grads: list[torch.Tensor]) -> None:
        p, lr, wd = self.params, self.lr, self.weight_decay
        self.step_count += 1
        if wd and self.name == "adamw":
            torch._foreach_mul_(p, 1 - lr * wd)
        elif wd:
            grads = torch._foreach_add(grads, p, alpha=wd)
        if self.name == "sgd":
            torch._foreach_add_(p, grads, alpha=-lr)
        elif self.name in ("momentum", "nesterov"):
            torch._foreach_mul_(self.buf, self.momentum)
            torch._foreach_add_(self.buf, grads)
            if self.name == "nesterov":
                grads = torch._foreach_add(grads, self.buf, alpha=self.momentum)
                torch._foreach_add_(p, grads, alpha=-lr)
            else:
                torch._foreach_add_(p, self.buf, alpha=-lr)
        elif self.name == "rmsprop":
            alpha = 0.99
            torch._foreach_mul_(self.sq, alpha)
            torch._foreach_addcmul_(self.sq, grads, grads, value=1 - alpha)
            denom = torch._foreach_sqrt(self.sq)
            torch._foreach_add_(denom, 1e-8)
            torch._foreach_addcdiv_(p, grads, denom, value=-lr)
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
            torch._foreach_addcdiv_(p, self.buf, denom, value=-lr * root2 / bias1)
