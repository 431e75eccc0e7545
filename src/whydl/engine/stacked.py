"""M copies of a model as one computation: parameters stacked along a leading member axis.

`StackedMLP` runs forward *and* backward by hand with batched matrix products (no autograd
graph), which is what makes even a single seed fast. `StackedCNN` uses grouped convolutions
and autograd. Both are checked against plain per-member PyTorch in tests/engine.

Shapes: inputs (M, B, D); outputs (M, B, K). Inside StackedMLP, activations are (M, H, B).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math

import torch
from torch import nn

from whydl.engine import tasks
from whydl.models import MLP, SmallCNN

BN_EPS, BN_MOMENTUM = 1e-5, 0.1  # nn.BatchNorm1d's defaults
_U32 = 0xFFFFFFFF


def _hash32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer mixer (lowbias32-style) on int64 tensors holding uint32 values.
    Constants stay below 2**31 so no product overflows int64."""
    x = x & _U32
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _U32
    x = x ^ (x >> 15)
    x = (x * 0x446CA68B) & _U32
    return x ^ (x >> 16)


@functools.lru_cache(maxsize=64)
def _position_hash(shape: tuple, device) -> torch.Tensor:
    """Hashed element positions: the same every step, so computed once per shape."""
    index = torch.arange(math.prod(shape), device=device).view(shape)
    return _hash32(index * 0x27D4EB2F + 0x165667B1)


def dropout_mask(keys: torch.Tensor, step: int, layer: int, shape, p) -> torch.Tensor:
    """Inverted-dropout mask (M, *shape) from a counter-based hash of (member key, step,
    layer, position). Unlike a shared torch RNG, member i's mask does not depend on how many
    members train beside it, so a member trained in a stack equals the member trained alone.
    `p` is one probability, or `MemberDropout` (one per member)."""
    base = _hash32(keys * 0x2545F491 + step * 0x6C8E9CF5 + layer * 0x3C6EF372)  # (M,)
    bits = _hash32(_position_hash(tuple(shape), keys.device) ^ base.view(-1, *[1] * len(shape)))
    if isinstance(p, MemberDropout):
        column = (-1, *[1] * len(shape))
        keep = bits >= p.thresholds.view(column)
        return keep.float().div_(p.kept.view(column))
    keep = bits >= int(p * 2**32)
    return keep.float().div_(1.0 - p)


class MemberDropout:
    """Per-member dropout probabilities, as `dropout_mask` applies them: each member's integer
    threshold and kept fraction, computed as the one-probability path computes them, so a
    member's masks are bit for bit those it would draw alone."""

    def __init__(self, p, device):
        p = [float(v) for v in p]
        self.values = p
        self.thresholds = torch.tensor([int(v * 2**32) for v in p], device=device)
        self.kept = torch.tensor([1.0 - v for v in p], dtype=torch.float32, device=device)


@contextlib.contextmanager
def _no_tf32(device: torch.device):
    """cuDNN convolutions in full float32 on CUDA, restoring the caller's setting afterwards.
    cuDNN's default TF32 rounds inputs to 10 mantissa bits and picks different kernels for
    different group counts: a CNN member in a stack would then differ from the member trained
    alone (and from the CPU) by about 1e-2 in loss after two epochs on digits."""
    if device.type != "cuda":
        yield
        return
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = before


def _act(name: str, u: torch.Tensor) -> torch.Tensor:
    if name == "relu":
        return torch.relu(u)
    if name == "tanh":
        return torch.tanh(u)
    if name == "sigmoid":
        return torch.sigmoid(u)
    if name == "gelu":
        return torch.nn.functional.gelu(u)
    return u


def _backward_through(name: str, da: torch.Tensor, u: torch.Tensor, a: torch.Tensor):
    """da * d act(u) / du: the gradient passed back through the activation."""
    if name == "relu":  # one kernel, where `da * (u > 0)` is a compare, a cast and a product
        return torch.ops.aten.threshold_backward(da, u, 0)
    return da * _act_grad(name, u, a)


def _act_grad(name: str, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """d act(u) / du, from the pre-activation u and the activation a = act(u), for the
    activations other than ReLU (whose backward is one kernel, in `_backward_through`)."""
    if name == "tanh":
        return 1 - a * a
    if name == "sigmoid":
        return a * (1 - a)
    if name == "gelu":  # exact GELU: Phi(u) + u * phi(u)
        cdf = 0.5 * (1 + torch.erf(u * 0.7071067811865476))
        return cdf + u * torch.exp(-0.5 * u * u) * 0.3989422804014327
    return torch.ones_like(u)


class Stacked:
    """Shared machinery: parameter stacking, export and autograd gradients."""

    module_cls: type[nn.Module]

    def __init__(self, modules: list[nn.Module], keys, device):
        self.M = len(modules)
        self.device = torch.device(device)
        self.template = modules[0]
        self.names = [n for n, _ in modules[0].named_parameters()]
        self.buffer_names = [n for n, _ in modules[0].named_buffers() if "num_batches" not in n]
        stack = lambda name, getter: torch.stack(  # noqa: E731
            [getter(m)[name].detach() for m in modules]
        ).to(self.device)
        self.tensors = {n: stack(n, lambda m: dict(m.named_parameters())) for n in self.names}
        self.buffers = {n: stack(n, lambda m: dict(m.named_buffers())) for n in self.buffer_names}
        self.keys = torch.as_tensor(keys, dtype=torch.int64, device=self.device)
        self.batches_tracked = 0  # training forward passes, exported as BN's num_batches_tracked

    @property
    def params(self) -> list[torch.Tensor]:
        return [self.tensors[n] for n in self.names]

    def state_dict(self, i: int) -> dict[str, torch.Tensor]:
        """Member i's weights, named as in its plain nn.Module."""
        sd = {n: t[i].detach().cpu().clone() for n, t in self.tensors.items()}
        sd.update({n: t[i].cpu().clone() for n, t in self.buffers.items()})
        for n, _ in self.template.named_buffers():
            if "num_batches" in n:
                sd[n] = torch.tensor(self.batches_tracked)
        return sd

    def member(self, i: int) -> nn.Module:
        """Member i as a plain nn.Module in eval mode."""

        module = copy.deepcopy(self.template).cpu()
        module.load_state_dict(self.state_dict(i))
        return module.eval()

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {n: t.clone() for n, t in {**self.tensors, **self.buffers}.items()}

    def restore(self, snap: dict[str, torch.Tensor], which: torch.Tensor) -> None:
        """Copy `snap` back into the members where `which` (M,) is True."""
        for n, t in {**self.tensors, **self.buffers}.items():
            mask = which.view(-1, *[1] * (t.dim() - 1))
            t.copy_(torch.where(mask, snap[n], t))

    def gradients(self, x, y, task: str, step: int) -> list[torch.Tensor]:
        """Autograd gradients of every member's mean batch loss (used by the CNN)."""
        params = self.params
        for p in params:
            p.requires_grad_(True)
        with torch.enable_grad():
            out = self.forward(x, train=True, step=step)
            loss = tasks.loss(out, y, task).sum()
            grads = torch.autograd.grad(loss, params)
        for p in params:
            p.requires_grad_(False)
        return list(grads)


class StackedMLP(Stacked):
    """MLP members with forward and backward written out as batched matrix products.

    Inside, activations are feature-major, (M, H, B): each product is then (H, H_in) times
    (H_in, B) with the long batch axis as the matrix's columns, which is how the CPU's
    batched GEMM runs fast for narrow layers. Measured on two cores, one thread, the
    article's 2-10-10-1 network: a training step's products 1.4 ms -> 0.47 ms at 100 members,
    an evaluation over 1,000 rows 20 -> 7 ms. Inputs and outputs keep the (M, B, ...) layout.
    """

    def __init__(self, modules: list[MLP], keys, device="cpu"):
        super().__init__(modules, keys, device)
        # every parameter a view of one buffer, so the optimiser's step is a handful of ops
        # on it rather than the same ops once per parameter (measured: 45 -> 24 us a step
        # for the article's six tensors)
        self.flat = torch.cat([self.tensors[n].reshape(-1) for n in self.names])
        sizes = [self.tensors[n].numel() for n in self.names]
        for n, view in zip(self.names, self.flat.split(sizes)):
            self.tensors[n] = view.view(self.tensors[n].shape)
        m = modules[0]
        self.n_hidden = len(m.hidden)
        self.activation, self.p = m.activation_name, m.dropout_p
        self.drops = self.p > 0  # whether training draws dropout masks
        self.batch_norm, self.residual = m.norms is not None, m.residual
        # views made once: the optimiser updates the tensors in place, so they stay current;
        # biases and batch-norm parameters as (M, H, 1) columns
        t = self.tensors
        column = lambda name: t[name].unsqueeze(2)  # noqa: E731
        self.weights = [t[f"hidden.{i}.weight"] for i in range(self.n_hidden)]  # (M, H, H_in)
        self.transposed = [w.mT for w in self.weights]
        self.biases = [
            None if self.batch_norm else column(f"hidden.{i}.bias") for i in range(self.n_hidden)
        ]
        self.norm_params = [
            (column(f"norms.{i}.weight"), column(f"norms.{i}.bias"))
            for i in range(self.n_hidden)
            if self.batch_norm
        ]
        self.head = (t["out.weight"], column("out.bias"))
        self.head_transposed = t["out.weight"].mT
        # the gradients' buffer, laid out like `flat` (see `gradients`)
        self.flat_grad = torch.zeros_like(self.flat)
        views = self.flat_grad.split(sizes)
        self.grad_views = {n: v.view(self.tensors[n].shape) for n, v in zip(self.names, views)}
        self.grad_list = [self.grad_views[n] for n in self.names]
        self.grad_names = [
            (f"hidden.{i}.weight", f"hidden.{i}.bias", f"norms.{i}.weight", f"norms.{i}.bias")
            for i in range(self.n_hidden)
        ]

    def set_member_dropout(self, p) -> None:
        """One dropout probability per member (M values) in place of the modules' one."""
        self.p = MemberDropout(p, self.device)
        self.drops = max(self.p.values) > 0

    def _linear(self, W: torch.Tensor, b, h: torch.Tensor) -> torch.Tensor:
        """W h + b, (M, H, B). `h` is (M, H_in, B), or (H_in, B) shared by every member: then
        one matrix product serves the whole stack."""
        if h.dim() == 2:
            M, H, H_in = W.shape
            z = torch.mm(W.reshape(M * H, H_in), h).view(M, H, -1)
            return z if b is None else z.add_(b)
        return torch.bmm(W, h) if b is None else torch.baddbmm(b, W, h)

    def forward(self, x: torch.Tensor, train: bool = False, step: int = 0, cache=None):
        """Outputs (M, B, K) for inputs (M, B, D), or (B, D) shared by every member. With
        `cache` (a list), saves what the backward pass needs."""
        self.batches_tracked += train
        h = x.transpose(-1, -2)  # (M, D, B) or (D, B): a view
        for i in range(self.n_hidden):
            z = self._linear(self.weights[i], self.biases[i], h)
            zhat = inv = None
            if self.batch_norm:
                gamma, beta = self.norm_params[i]
                rm = self.buffers[f"norms.{i}.running_mean"]
                rv = self.buffers[f"norms.{i}.running_var"]
                if train:
                    mean = z.mean(2, keepdim=True)
                    var = z.var(2, unbiased=False, keepdim=True)
                    n = z.shape[2]
                    rm.lerp_(mean.squeeze(2), BN_MOMENTUM)
                    rv.lerp_(var.squeeze(2) * (n / max(n - 1, 1)), BN_MOMENTUM)
                else:
                    mean, var = rm.unsqueeze(2), rv.unsqueeze(2)
                inv = torch.rsqrt(var + BN_EPS)
                zhat = (z - mean) * inv
                u = torch.addcmul(beta, zhat, gamma)
            else:
                u = z
            a = _act(self.activation, u)
            mask = None
            if train and self.drops:  # drawn as (B, H) per member: the masks do not depend
                B, H = a.shape[2], a.shape[1]  # on the layout
                mask = dropout_mask(self.keys, step, i, (B, H), self.p).transpose(1, 2)
                a_out = a * mask
            else:
                a_out = a
            skip = self.residual and h.shape[-2] == a_out.shape[1]
            if cache is not None:
                cache.append((h, u, a, mask, zhat, inv, skip))
            h = h + a_out if skip else a_out
        if cache is not None:
            cache.append(h)
        W, b = self.head
        return self._linear(W, b, h).transpose(1, 2)

    @staticmethod
    def _weight_grad(dz: torch.Tensor, h_in: torch.Tensor, out: torch.Tensor) -> None:
        """dL/dW = dz h_in^T into `out` (M, H, H_in); h_in may be the shared (H_in, B) input."""
        if h_in.dim() == 2:
            M, H, B = dz.shape
            torch.mm(dz.reshape(M * H, B), h_in.mT, out=out.view(M * H, -1))
        else:
            torch.bmm(dz, h_in.mT, out=out)

    def gradients(self, x, y, task: str, step: int) -> list[torch.Tensor]:
        """Forward and backward by hand: every step is a few batched matmuls. No parameter
        requires grad, so no autograd graph is built.

        The gradients are written into `flat_grad`, one buffer laid out like `flat`, and
        returned as views of it (so the optimiser steps on it without gathering them): they
        hold until the next call."""
        cache: list = []
        out = self.forward(x, train=True, step=step, cache=cache)
        dz = tasks.loss_grad(out, y, task).transpose(1, 2)  # (M, K, B)
        h = cache.pop()
        G = self.grad_views
        self._weight_grad(dz, h, G["out.weight"])
        torch.sum(dz, 2, out=G["out.bias"])
        dh = torch.bmm(self.head_transposed, dz)
        for i in reversed(range(self.n_hidden)):
            h_in, u, a, mask, zhat, inv, skip = cache[i]
            weight, bias, norm_weight, norm_bias = self.grad_names[i]
            da = dh * mask if mask is not None else dh
            du = _backward_through(self.activation, da, u, a)
            if self.batch_norm:
                gamma = self.norm_params[i][0]
                torch.sum(du * zhat, 2, out=G[norm_weight])
                torch.sum(du, 2, out=G[norm_bias])
                dzhat = du * gamma
                # batch-norm backward: inv * (dzhat - mean(dzhat) - zhat * mean(dzhat * zhat))
                dz = inv * (
                    dzhat
                    - dzhat.mean(2, keepdim=True)
                    - zhat * (dzhat * zhat).mean(2, keepdim=True)
                )
            else:
                dz = du
                torch.sum(dz, 2, out=G[bias])
            self._weight_grad(dz, h_in, G[weight])
            if i > 0:  # the input's own gradient is never needed
                dh_in = torch.bmm(self.transposed[i], dz)
                dh = dh_in + dh if skip else dh_in
        return self.grad_list


class StackedCNN(Stacked):
    """SmallCNN members as grouped convolutions: group m holds member m's filters."""

    def __init__(self, modules: list[SmallCNN], keys, device="cpu"):
        super().__init__(modules, keys, device)
        self.image_shape = modules[0].image_shape

    def gradients(self, x, y, task: str, step: int) -> list[torch.Tensor]:
        with _no_tf32(self.device):  # the backward convolutions run here, not in forward
            return super().gradients(x, y, task, step)

    def forward(self, x: torch.Tensor, train: bool = False, step: int = 0, cache=None):
        with _no_tf32(self.device):
            return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.expand(self.M, *x.shape)
        M, B, _ = x.shape
        t = self.tensors
        h = x.transpose(0, 1).reshape(B, M, *self.image_shape)  # (B, M, H, W): channel = member
        for conv in ("conv1", "conv2"):
            w = t[f"{conv}.weight"]  # (M, C_out, C_in, 3, 3)
            h = torch.conv2d(
                h, w.reshape(-1, *w.shape[2:]), t[f"{conv}.bias"].reshape(-1), padding=1, groups=M
            )
            h = torch.max_pool2d(torch.relu(h), 2)
        h = h.reshape(B, M, -1).transpose(0, 1)  # (M, B, C*h*w), channel-major like flatten(1)
        return torch.baddbmm(t["out.bias"].unsqueeze(1), h, t["out.weight"].transpose(1, 2))


def stack(modules: list[nn.Module], keys, device="cpu") -> Stacked:
    """Stack identical-architecture modules into one vectorised model."""
    cls = StackedCNN if isinstance(modules[0], SmallCNN) else StackedMLP
    return cls(modules, keys, device)
