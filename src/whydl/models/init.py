"""Weight-initialisation schemes, each seeded by a `torch.Generator` (no global RNG).

"default" reproduces PyTorch's own nn.Linear/nn.Conv2d initialisation draw for draw, so a
model built here with seed s equals one built after `torch.manual_seed(s)`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

INITS = ("default", "xavier", "he", "small")


def init_layer(layer: nn.Module, scheme: str, generator: torch.Generator) -> None:
    """Initialise a Linear or Conv2d layer in place with `scheme`."""
    weight, bias = layer.weight, layer.bias
    fan_in = weight[0].numel()
    with torch.no_grad():
        if scheme == "default":
            # PyTorch's reset_parameters: kaiming_uniform(a=sqrt(5)) and U(+-1/sqrt(fan_in)).
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
            if bias is not None:
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                nn.init.uniform_(bias, -bound, bound, generator=generator)
            return
        if scheme == "xavier":  # Glorot & Bengio 2010: Var = 2 / (fan_in + fan_out)
            nn.init.xavier_uniform_(weight, generator=generator)
        elif scheme == "he":  # He et al. 2015: Var = 2 / fan_in, for ReLU
            nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
        elif scheme == "small":  # the "naive" N(0, 0.01^2) of early deep-learning practice
            nn.init.normal_(weight, 0.0, 0.01, generator=generator)
        else:
            raise ValueError(f"init={scheme!r} is not one of {INITS}.")
        if bias is not None:
            nn.init.zeros_(bias)


def make_generator(seed: int) -> torch.Generator:
    """The one place a seed becomes a generator."""
    return torch.Generator().manual_seed(int(seed))
