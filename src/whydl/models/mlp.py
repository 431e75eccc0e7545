"""A plain multilayer perceptron: take it away and use it without whydl."""

from __future__ import annotations

import torch
from torch import nn

from whydl.models.init import INITS, init_layer, make_generator

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "linear": nn.Identity,
}


class MLP(nn.Module):
    """Linear -> [BatchNorm] -> activation -> [Dropout] per hidden layer, then a linear output.

    With `residual=True`, a hidden layer whose input and output widths match adds its input
    back (h = h + block(h)), as in He et al. 2016. The output layer returns logits (no
    sigmoid/softmax): losses apply them, which is numerically safer.

    Example
    -------
    >>> net = MLP(2, 1, hidden=(10, 10), activation="relu", seed=0)
    >>> net(torch.zeros(5, 2)).shape
    torch.Size([5, 1])
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        hidden: tuple[int, ...] = (10, 10),
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
        residual: bool = False,
        init: str = "default",
        seed: int | None = 0,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation={activation!r} is not one of {tuple(ACTIVATIONS)}.")
        if init not in INITS:
            raise ValueError(f"init={init!r} is not one of {INITS}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout} must be in [0, 1).")
        self.activation_name, self.dropout_p = activation, float(dropout)
        self.residual = residual
        widths = (n_inputs, *hidden)
        # fork_rng: constructing nn.Linear draws from the global RNG; we re-draw from our own
        # generator and leave the caller's global RNG exactly as it was.
        with torch.random.fork_rng(devices=[]):
            # no bias before batch norm: BN subtracts the mean, so a bias there would have an
            # exactly-zero gradient (and Adam would amplify its rounding noise into steps)
            self.hidden = nn.ModuleList(
                nn.Linear(a, b, bias=not batch_norm) for a, b in zip(widths, hidden)
            )
            self.norms = nn.ModuleList(nn.BatchNorm1d(b) for b in hidden) if batch_norm else None
            self.out = nn.Linear(widths[-1], n_outputs)
        self.act = ACTIVATIONS[activation]()
        self.drop = nn.Dropout(dropout)
        if seed is not None:
            g = make_generator(seed)
            for layer in [*self.hidden, self.out]:
                init_layer(layer, init, g)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every hidden layer's output (after activation), for probes and analysis."""
        outs = []
        for i, linear in enumerate(self.hidden):
            z = linear(x)
            if self.norms is not None:
                z = self.norms[i](z)
            h = self.drop(self.act(z))
            x = x + h if self.residual and x.shape[-1] == h.shape[-1] else h
            outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.features(x)
        return self.out(feats[-1] if feats else x)
