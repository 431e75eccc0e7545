"""Procedurally generated 8x8 glyphs: a broad, labelled source made at run time from a seed.

Each class is a template of strokes (lines, corners, arcs, crosses, polygons) in the square
[-1, 1]^2. An image draws its class's template under a random affine map (rotation, scale,
shear, translation) with a random stroke width on a 32x32 binary canvas, then counts the
"on" pixels of each 4x4 block, as sklearn's digits were made from 32x32 bitmaps: the
inputs are 8x8 intensities 0..16 (64 features), standardised on the training split like the
bundled digits. Nothing is downloaded; numpy alone draws it.

Shapes: a template is (P, 2) points sampled along its strokes; a batch of N images is
(N, P, 2) points -> (N, 32, 32) canvas -> (N, 8, 8) counts -> (N, 64) features.

Example
-------
>>> ds = glyphs(n_samples=500, data_seed=0)
>>> ds.X_train.shape, ds.n_classes, ds.image_shape
((350, 64), 24, (8, 8))
"""

from __future__ import annotations

import numpy as np

from whydl.data.dataset import Dataset, standardize

CANVAS, BLOCK = 32, 4  # 32x32 bitmap, 4x4 blocks -> 8x8 counts 0..16, as sklearn's digits
POINTS = 128  # points sampled along each template's strokes
ROTATION = np.deg2rad(20.0)  # random rotation in +-20 degrees
SCALE = (0.65, 1.0)  # random scale per axis
SHEAR = 0.25  # random shear in +-0.25
SHIFT = 0.15  # random translation in +-0.15 (of the half-width 1)
WIDTH = (1.0, 2.5)  # random stroke half-width, in canvas pixels


def _arc(cx, cy, r, a0, a1, n=24):
    t = np.deg2rad(np.linspace(a0, a1, n))
    return np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t)])


def _poly(*xy):
    return np.array(xy, dtype=float)


# each template: a list of polylines, in [-1, 1]^2 (y up)
TEMPLATES = {
    "horizontal bar": [_poly((-0.8, 0), (0.8, 0))],
    "vertical bar": [_poly((0, -0.8), (0, 0.8))],
    "rising diagonal": [_poly((-0.7, -0.7), (0.7, 0.7))],
    "falling diagonal": [_poly((-0.7, 0.7), (0.7, -0.7))],
    "plus": [_poly((-0.8, 0), (0.8, 0)), _poly((0, -0.8), (0, 0.8))],
    "cross": [_poly((-0.7, -0.7), (0.7, 0.7)), _poly((-0.7, 0.7), (0.7, -0.7))],
    "corner top-left": [_poly((0.7, 0.7), (-0.7, 0.7), (-0.7, -0.7))],
    "corner bottom-right": [_poly((-0.7, -0.7), (0.7, -0.7), (0.7, 0.7))],
    "tee": [_poly((-0.8, 0.7), (0.8, 0.7)), _poly((0, 0.7), (0, -0.8))],
    "upside-down tee": [_poly((-0.8, -0.7), (0.8, -0.7)), _poly((0, -0.7), (0, 0.8))],
    "ring": [_arc(0, 0, 0.7, 0, 360, 48)],
    "upper arc": [_arc(0, -0.3, 0.75, 0, 180)],
    "lower arc": [_arc(0, 0.3, 0.75, 180, 360)],
    "left arc": [_arc(0.3, 0, 0.75, 90, 270)],
    "triangle": [_poly((-0.75, -0.65), (0.75, -0.65), (0, 0.75), (-0.75, -0.65))],
    "square": [_poly((-0.65, -0.65), (0.65, -0.65), (0.65, 0.65), (-0.65, 0.65), (-0.65, -0.65))],
    "chevron up": [_poly((-0.75, -0.5), (0, 0.6), (0.75, -0.5))],
    "chevron right": [_poly((-0.5, 0.75), (0.6, 0), (-0.5, -0.75))],
    "zigzag": [_poly((-0.8, -0.6), (-0.3, 0.6), (0.2, -0.6), (0.7, 0.6))],
    "two bars": [_poly((-0.7, 0.4), (0.7, 0.4)), _poly((-0.7, -0.4), (0.7, -0.4))],
    "two pillars": [_poly((-0.4, -0.75), (-0.4, 0.75)), _poly((0.4, -0.75), (0.4, 0.75))],
    "wave": [np.column_stack([np.linspace(-0.8, 0.8, 32), 0.5 * np.sin(np.linspace(0, 6.3, 32))])],
    "hook": [_poly((-0.5, 0.75), (0.3, 0.75), (0.3, -0.2)), _arc(-0.05, -0.2, 0.35, 0, -180)],
    "ring and bar": [_arc(0, 0.35, 0.4, 0, 360, 36), _poly((0, -0.05), (0, -0.8))],
}
CLASS_NAMES = tuple(TEMPLATES)


def template_points(strokes, n: int = POINTS) -> np.ndarray:
    """(n, 2) points spread evenly, by length, along a template's polylines."""
    segments = np.concatenate([np.stack([s[:-1], s[1:]], axis=1) for s in strokes])  # (S, 2, 2)
    lengths = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1)
    at = (np.arange(n) + 0.5) / n * lengths.sum()
    which = np.minimum(np.searchsorted(np.cumsum(lengths), at), len(segments) - 1)
    start = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])[which]
    frac = ((at - start) / np.maximum(lengths[which], 1e-12))[:, None]
    a, b = segments[which, 0], segments[which, 1]
    return a + frac * (b - a)


def render(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 64) float32 block counts 0..16 of glyphs of classes `labels`, each under its own
    random affine map and stroke width."""
    points = np.stack([template_points(TEMPLATES[c]) for c in CLASS_NAMES])[labels]  # (N, P, 2)
    n = len(labels)
    angle = rng.uniform(-ROTATION, ROTATION, n)
    cos, sin = np.cos(angle), np.sin(angle)
    rotate = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # (N, 2, 2)
    shear = np.eye(2) + np.einsum("n,ij->nij", rng.uniform(-SHEAR, SHEAR, n), [[0, 1], [0, 0]])
    scale = np.einsum("ni,ij->nij", rng.uniform(*SCALE, (n, 2)), np.eye(2))
    affine = rotate @ shear @ scale
    xy = np.einsum("nij,npj->npi", affine, points) + rng.uniform(-SHIFT, SHIFT, (n, 1, 2))
    # to canvas pixels (row 0 at the top), thickened by offsets within the stroke half-width
    col = (xy[..., 0] + 1) / 2 * (CANVAS - 1)
    row = (1 - xy[..., 1]) / 2 * (CANVAS - 1)
    width = rng.uniform(*WIDTH, (n, 1, 1))
    offsets = np.array([(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)], float)  # (9, 2)
    rows = np.rint(row[..., None] + width * offsets[:, 0]).astype(np.int32)  # (N, P, 9)
    cols = np.rint(col[..., None] + width * offsets[:, 1]).astype(np.int32)
    inside = (rows >= 0) & (rows < CANVAS) & (cols >= 0) & (cols < CANVAS)
    # flat pixel index per point; points off the canvas land in one spare cell at the end
    flat = (np.arange(n, dtype=np.int32)[:, None, None] * CANVAS + rows) * CANVAS + cols
    canvas = np.zeros(n * CANVAS * CANVAS + 1, np.uint8)
    canvas[np.where(inside, flat, n * CANVAS * CANVAS).ravel()] = 1
    canvas = canvas[:-1].reshape(n, CANVAS, CANVAS)
    side = CANVAS // BLOCK
    counts = canvas.reshape(n, side, BLOCK, side, BLOCK).sum(axis=(2, 4))  # (N, 8, 8), 0..16
    return counts.reshape(n, side * side).astype(np.float32)


def glyphs(n_samples: int = 20_000, data_seed: int = 0, test_size: float = 0.3) -> Dataset:
    """A balanced glyphs dataset of `n_samples` images (classes in turn), split at random
    and standardised per pixel on its training split (as `load_dataset("digits")` is)."""
    if n_samples < 2 * len(CLASS_NAMES):
        raise ValueError(
            f"n_samples={n_samples} is too few for {len(CLASS_NAMES)} classes; pass at least "
            f"{2 * len(CLASS_NAMES)}, e.g. 20000."
        )
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size={test_size} must be between 0 and 1 (exclusive), e.g. 0.3.")
    rng = np.random.default_rng(data_seed)
    y = rng.permutation(np.arange(n_samples) % len(CLASS_NAMES)).astype(np.int64)
    X = render(y, rng)
    n_test = int(round(test_size * n_samples))
    X_train, X_test, y_train, y_test = X[n_test:], X[:n_test], y[n_test:], y[:n_test]
    X_train, X_test, mean, scale = standardize(X_train, X_test)
    return Dataset(
        name="glyphs",
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        task="multiclass",
        n_classes=len(CLASS_NAMES),
        feature_names=tuple(f"pixel_{i}" for i in range(X.shape[1])),
        target_name="class",
        class_names=CLASS_NAMES,
        image_shape=(CANVAS // BLOCK, CANVAS // BLOCK),
        input_mean=mean,
        input_scale=scale,
    )
