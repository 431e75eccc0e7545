"""A plain per-member PyTorch training loop: the reference the vectorised engine must match.

Deliberately naive: nn.Module, torch.optim, one member at a time, the same minibatch order
the engine uses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from whydl.engine.device import derive_seed
from whydl.engine.trainer import SHUFFLE_STREAM
from whydl.models import make_generator

TORCH_OPTIMIZERS = {
    "sgd": lambda p, lr, wd: torch.optim.SGD(p, lr=lr, weight_decay=wd),
    "momentum": lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd),
    "nesterov": lambda p, lr, wd: torch.optim.SGD(
        p, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd
    ),
    "rmsprop": lambda p, lr, wd: torch.optim.RMSprop(p, lr=lr, weight_decay=wd),
    "adam": lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd),
    "adamw": lambda p, lr, wd: torch.optim.AdamW(p, lr=lr, weight_decay=wd),
}


def task_loss(out, y, task):
    if task == "binary":
        return F.binary_cross_entropy_with_logits(out, y.float().view(-1, 1))
    if task == "multiclass":
        return F.cross_entropy(out, y.long())
    return F.mse_loss(out, y.float().view(-1, 1))


def train_alone(
    module, X, y, task, seed, optimizer="adam", lr=0.01, weight_decay=0.0, batch_size=32, epochs=5
):
    """Train one module; return its full-training-set loss (eval mode) after each epoch."""
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    opt = TORCH_OPTIMIZERS[optimizer](module.parameters(), lr, weight_decay)
    shuffler = make_generator(derive_seed(seed, SHUFFLE_STREAM))
    n = len(X)
    losses = []
    for _ in range(epochs):
        module.train()
        perm = torch.randperm(n, generator=shuffler)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            opt.zero_grad()
            task_loss(module(X[idx]), y[idx], task).backward()
            opt.step()
        module.eval()
        with torch.no_grad():
            losses.append(task_loss(module(X), y, task).item())
    return losses
