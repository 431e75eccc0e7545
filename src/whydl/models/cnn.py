"""A small CNN for 8x8 images (sklearn's digits)."""

from __future__ import annotations

import torch
from torch import nn

from whydl.models.init import INITS, init_layer, make_generator


class SmallCNN(nn.Module):
    """conv3x3(1->c1) ReLU maxpool2 -> conv3x3(c1->c2) ReLU maxpool2 -> linear.

    Takes flat inputs of shape (B, H*W) (as datasets store them) or images (B, 1, H, W).

    Example
    -------
    >>> net = SmallCNN(10, seed=0)
    >>> net(torch.zeros(4, 64)).shape
    torch.Size([4, 10])
    """

    def __init__(
        self,
        n_outputs: int,
        channels: tuple[int, int] = (8, 16),
        image_shape: tuple[int, int] = (8, 8),
        init: str = "default",
        seed: int | None = 0,
    ):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init={init!r} is not one of {INITS}.")
        self.image_shape = tuple(image_shape)
        c1, c2 = channels
        with torch.random.fork_rng(devices=[]):
            self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
            self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
            h, w = image_shape[0] // 4, image_shape[1] // 4
            self.out = nn.Linear(c2 * h * w, n_outputs)
        if seed is not None:
            g = make_generator(seed)
            for layer in (self.conv1, self.conv2, self.out):
                init_layer(layer, init, g)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each conv block's output, flattened to (B, features)."""
        x = x.reshape(-1, 1, *self.image_shape)
        h1 = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        h2 = torch.max_pool2d(torch.relu(self.conv2(h1)), 2)
        return [h1.flatten(1), h2.flatten(1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x)[-1])
