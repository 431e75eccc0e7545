"""Training compute counted from layer shapes, the way Kaplan et al. 2020 count it.

A dense layer with `a` inputs and `b` outputs costs a·b multiply-adds per sample, i.e.
2·a·b floating-point operations (FLOPs); a 3x3 convolution costs 2·9·C_in·C_out per output
position. Biases, activations, pooling, batch norm and dropout are left out: they are
linear in the layer widths and small next to the matrix products (the same convention as
torch.utils.flop_counter, which the tests check against). The backward pass costs about
twice the forward one, so training costs ≈ 3 × forward × samples × epochs.

Example
-------
>>> from whydl.config import ModelConfig
>>> forward_flops(ModelConfig(hidden=(10, 10)), n_features=2, n_outputs=1)
260
>>> training_flops(260, n_samples=700, epochs=100)
54600000
"""

from __future__ import annotations

from whydl.config import ModelConfig

BACKWARD_FACTOR = 2  # backward ≈ 2 × forward: gradients w.r.t. both inputs and weights


def mlp_forward_flops(n_features: int, n_outputs: int, hidden: tuple[int, ...]) -> int:
    """FLOPs of one sample's forward pass through an MLP: 2 × Σ inputs·outputs per layer.

    Example
    -------
    >>> mlp_forward_flops(2, 1, (10, 10))  # 2 * (2*10 + 10*10 + 10*1)
    260
    """
    widths = (int(n_features), *(int(h) for h in hidden), int(n_outputs))
    return 2 * sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def cnn_forward_flops(
    n_outputs: int, channels: tuple[int, int] = (8, 16), image_shape: tuple[int, int] = (8, 8)
) -> int:
    """FLOPs of one sample's forward pass through `whydl.models.SmallCNN`.

    conv3x3 (padding 1) keeps H×W; each 2x2 max-pool halves both sides.

    Example
    -------
    >>> cnn_forward_flops(10)  # 2 * (64*8*9 + 16*16*8*9 + 64*10)
    47360
    """
    (c1, c2), (h, w) = channels, image_shape
    conv1 = h * w * c1 * 9 * 1
    conv2 = (h // 2) * (w // 2) * c2 * 9 * c1
    out = c2 * (h // 4) * (w // 4) * n_outputs
    return 2 * (conv1 + conv2 + out)


def forward_flops(model: ModelConfig, n_features: int, n_outputs: int, image_shape=(8, 8)) -> int:
    """FLOPs of one sample's forward pass for a `ModelConfig` on data of this shape
    (`dataset.n_features`, `dataset.n_outputs`, `dataset.image_shape` for the CNN)."""
    if model.architecture == "cnn":
        return cnn_forward_flops(n_outputs, image_shape=tuple(image_shape or (8, 8)))
    return mlp_forward_flops(n_features, n_outputs, model.hidden)


def training_flops(forward: int, n_samples: int, epochs: float) -> int:
    """FLOPs of training: (1 + BACKWARD_FACTOR) × forward × samples × epochs.

    `epochs` may be fractional (a number of steps × batch size / samples)."""
    return int(round((1 + BACKWARD_FACTOR) * forward * n_samples * epochs))
