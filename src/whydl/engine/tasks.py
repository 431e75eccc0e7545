"""Losses, their gradients and metrics for the three tasks, over M members at once.

Shapes: network outputs `out` are (M, B, K); targets `y` are (M, B, 1) floats for binary and
regression, (M, B) int64 for multiclass. Losses are per member, (M,), each the mean over its
batch, so summing them gives every member its own gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def prepare_targets(y, task: str, device) -> torch.Tensor:
    """Dataset labels (n,) -> the tensor the losses take: (n, 1) float or (n,) long."""
    y = torch.as_tensor(y, device=device)
    if task == "multiclass":
        return y.long()
    return y.float().reshape(-1, 1)


def loss(out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor:
    """Mean loss per member: BCE-with-logits, softmax cross-entropy or MSE. (M,)"""
    if task == "binary":
        return F.binary_cross_entropy_with_logits(out, y, reduction="none").mean((1, 2))
    if task == "multiclass":
        M, B, K = out.shape
        return (
            F.cross_entropy(out.reshape(M * B, K), y.reshape(M * B), reduction="none")
            .view(M, B)
            .mean(1)
        )
    return ((out - y) ** 2).mean((1, 2))


def loss_grad(out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor:
    """d(mean loss)/d(out) in closed form, (M, B, K): no autograd graph on the hot path."""
    B = out.shape[1]
    if task == "binary":
        return (torch.sigmoid(out) - y).div_(B)
    if task == "multiclass":
        g = torch.softmax(out, dim=-1)
        g.scatter_add_(-1, y.unsqueeze(-1), torch.full_like(g[..., :1], -1.0))
        return g.div_(B)
    return (out - y).mul_(2.0 / (B * out.shape[2]))


def metric(out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor:
    """Accuracy per member for classification, R^2 for regression. (M,)"""
    if task == "binary":
        return ((out > 0).float() == y).float().mean((1, 2))
    if task == "multiclass":
        return (out.argmax(-1) == y).float().mean(1)
    residual = ((out - y) ** 2).sum((1, 2))
    total = ((y - y.mean(1, keepdim=True)) ** 2).sum((1, 2)).clamp_min(1e-12)
    return 1.0 - residual / total


def metric_name(task: str) -> str:
    return "r2" if task == "regression" else "accuracy"


def predict_proba(out: torch.Tensor, task: str) -> torch.Tensor:
    """Class probabilities: (..., 2) for binary, (..., K) for multiclass."""
    if task == "binary":
        p = torch.sigmoid(out)
        return torch.cat([1 - p, p], dim=-1)
    if task == "multiclass":
        return torch.softmax(out, dim=-1)
    raise ValueError("predict_proba needs a classification task; use predict for regression.")


def predict(out: torch.Tensor, task: str) -> torch.Tensor:
    """Hard predictions: class labels, or the regression value."""
    if task == "binary":
        return (out[..., 0] > 0).long()
    if task == "multiclass":
        return out.argmax(-1)
    return out[..., 0]
