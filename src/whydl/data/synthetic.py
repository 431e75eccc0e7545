"""Generated datasets: no download, fully determined by (n_samples, noise, seed).

Every generator returns raw arrays (X, y); `whydl.data.load_dataset` splits them. The 2-D
classification sets are the ones TensorFlow Playground popularised, plus gaussians and
checkerboard; sine, plane, multi_gaussian and teacher are regression / high-dimensional tasks.
"""

from __future__ import annotations

import numpy as np

from whydl.data.split import make_moons


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def moons(n_samples: int, noise: float, seed: int):
    """sklearn's two interleaving half-moons (the article's data)."""
    return make_moons(n_samples, noise, seed)


def circles(n_samples: int, noise: float, seed: int):
    """A small circle inside a large one; no straight line separates them."""
    from sklearn import datasets as skd  # imported lazily: sklearn takes ~2 s to import

    return skd.make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)


def xor(n_samples: int, noise: float, seed: int):
    """Points in the square [-1, 1]^2 labelled by the sign of x1*x2 (the XOR pattern)."""
    rng = _rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), y


def gaussians(n_samples: int, noise: float, seed: int, n_classes: int = 3):
    """`n_classes` isotropic blobs on a circle; noise is the blobs' standard deviation."""
    rng = _rng(seed)
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    angles = 2 * np.pi * y / n_classes
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return centres + max(noise, 1e-3) * 3 * rng.standard_normal((n_samples, 2)), y


def spiral(n_samples: int, noise: float, seed: int, n_classes: int = 2):
    """`n_classes` interleaved spiral arms of 1.75 turns: hard for shallow models."""
    rng = _rng(seed)
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    r = rng.uniform(0.05, 1.0, n_samples)
    theta = 1.75 * 2 * np.pi * r + 2 * np.pi * y / n_classes
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return X + noise * 0.5 * rng.standard_normal(X.shape), y


def checkerboard(n_samples: int, noise: float, seed: int, n_cells: int = 4):
    """A 4x4 checkerboard on [-1, 1]^2: many small regions, a test of capacity."""
    rng = _rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    cells = np.floor((X + 1) / 2 * n_cells).clip(0, n_cells - 1).astype(np.int64)
    y = (cells[:, 0] + cells[:, 1]) % 2
    return X + noise * 0.25 * rng.standard_normal(X.shape), y


def sine(n_samples: int, noise: float, seed: int):
    """1-D regression: y = sin(x) + noise, x uniform on [-pi, pi]."""
    rng = _rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(n_samples, 1))
    return x, np.sin(x[:, 0]) + noise * rng.standard_normal(n_samples)


def plane(n_samples: int, noise: float, seed: int):
    """2-D linear regression: y = 0.5 x1 - 0.8 x2 + noise (the linear model's home ground)."""
    rng = _rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    return X, 0.5 * X[:, 0] - 0.8 * X[:, 1] + noise * rng.standard_normal(n_samples)


# TensorFlow Playground's "multi gaussian" regression, on [-1, 1]^2: (x, y, sign) per bump
BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def multi_gaussian(n_samples: int, noise: float, seed: int):
    """2-D regression (TensorFlow Playground's multi-gaussian): six bumps of alternating sign
    in a 3 x 2 grid; a point takes the value of the bump that is strongest there, falling
    linearly from +-1 at its centre to 0 at a third of the plane. `noise` jitters where each
    point's value is read, as a share of the plane's half-width."""
    rng = _rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    read = X + noise * rng.uniform(-1, 1, size=X.shape)
    centres, signs = BUMPS[:, :2] / 6, BUMPS[:, 2]
    distance = np.linalg.norm(read[:, None, :] - centres[None], axis=-1)  # (n, bumps)
    values = signs * np.clip(1 - distance / (2 / 6), 0, 1)
    strongest = np.abs(values).argmax(1)
    return X, values[np.arange(n_samples), strongest]


def teacher(n_samples: int, noise: float, seed: int, n_features: int = 20, width: int = 32):
    """High-dimensional teacher-student task: a fixed random tanh network labels Gaussian
    inputs. The teacher's weights depend only on `n_features`/`width` (not on `seed`), so
    different seeds draw new samples of the same function.
    `noise` is the probability that a label is flipped."""
    teacher_rng = _rng(12345)
    W1 = teacher_rng.standard_normal((n_features, width)) / np.sqrt(n_features)
    w2 = teacher_rng.standard_normal(width) / np.sqrt(width)
    rng = _rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = (np.tanh(X @ W1 * 2) @ w2 > 0).astype(np.int64)
    flip = rng.random(n_samples) < noise
    return X, np.where(flip, 1 - y, y)


# name -> (generator, task, default noise)
GENERATORS = {
    "moons": (moons, "binary", 0.1),
    "circles": (circles, "binary", 0.1),
    "xor": (xor, "binary", 0.1),
    "gaussians": (gaussians, "multiclass", 0.1),
    "spiral": (spiral, "binary", 0.1),
    "checkerboard": (checkerboard, "binary", 0.1),
    "sine": (sine, "regression", 0.1),
    "plane": (plane, "regression", 0.1),
    "multi_gaussian": (multi_gaussian, "regression", 0.0),
    "teacher": (teacher, "binary", 0.0),
}
