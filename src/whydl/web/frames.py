"""What the page sees of a run, as JSON-ready dicts: the data once, then a frame per update.

Pictures travel as base64 bytes rather than JSON lists (a 64 x 64 probability map is 4 kB
of bytes against ~25 kB of JSON numbers). Grids are row-major with row 0 at the *top*
(largest x2), so a byte's index is its pixel's index in the page's canvas.
"""

from __future__ import annotations

import base64

import numpy as np
import torch
from torch import nn

from whydl.analysis.neurons import neuron_maps
from whydl.data import Dataset
from whydl.stats import summarize, t_quantile

BOUNDARY_RESOLUTION = 64  # pixels per side of the decision-boundary map
MEMBER_RESOLUTION = 24  # pixels per side of each member's map in the strip of members
NEURON_RESOLUTION = 20  # pixels per side of each neuron's response map
SMALL_NEURON_RESOLUTION = 12  # for networks with more than LARGE_NETWORK neurons
LARGE_NETWORK = 128
CURVE_POINTS = 300  # longest curve sent; older epochs are subsampled evenly
CURVE_NAMES = (
    "epoch",
    "train_loss",
    "test_loss",
    "train_accuracy",
    "test_accuracy",
    "test_accuracy_lo",
    "test_accuracy_hi",
    "grad_norms",
)
MARGIN = 0.15  # extra room around the points, as a fraction of their spread


def extent(dataset: Dataset) -> list[float]:
    """A square [x0, x1, y0, y1] around every point, so the map is not stretched."""
    X = np.concatenate([dataset.plane_train, dataset.plane_test])
    lo, hi = X.min(0), X.max(0)
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * (1 + MARGIN) + 1e-3
    return [float(centre[0] - half), float(centre[0] + half)] + [
        float(centre[1] - half),
        float(centre[1] + half),
    ]


def plane(box: list[float], resolution: int, expand=None) -> torch.Tensor:
    """Pixel centres of a (resolution x resolution) image of `box`: (resolution**2, 2), or
    the network's inputs there, `expand(points)`, when the network sees features of them."""
    x0, x1, y0, y1 = box
    step_x, step_y = (x1 - x0) / resolution, (y1 - y0) / resolution
    xs = x0 + step_x * (np.arange(resolution) + 0.5)
    ys = y1 - step_y * (np.arange(resolution) + 0.5)  # top row first
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    return torch.as_tensor(points if expand is None else expand(points), dtype=torch.float32)


def data_summary(dataset: Dataset, box: list[float]) -> dict:
    """The points (sent once per dataset) and what the page needs to draw them."""

    regression = dataset.task == "regression"

    def points(X, y):
        y = np.round(np.asarray(y, dtype=float), 4) if regression else np.asarray(y).astype(int)
        return {"x": np.round(X, 4).ravel().tolist(), "y": y.tolist()}

    return {
        "name": dataset.name,
        "task": dataset.task,
        "classes": list(dataset.class_names),
        "features": list(dataset.feature_names),  # the network's inputs
        "axes": list(dataset.plane_names),  # the plane's: the inputs before any features
        "target": dataset.target_name,
        "standardised": dataset.input_mean is not None,
        "train": points(dataset.plane_train, dataset.y_train),
        "test": points(dataset.plane_test, dataset.y_test),
        "extent": box,
        "value_range": value_range(dataset),
    }


def value_range(dataset: Dataset) -> list[float] | None:
    """[low, high] of a regression target, the ends of the page's colour scale (None for
    classes). Values are drawn as bytes with 128 at the middle of the range."""
    if dataset.task != "regression":
        return None
    y = np.concatenate([dataset.y_train, dataset.y_test])
    low, high = float(y.min()), float(y.max())
    return [low, high] if high > low else [low - 1, low + 1]


def neuron_resolution(widths: list[int]) -> int:
    return NEURON_RESOLUTION if sum(widths) <= LARGE_NETWORK else SMALL_NEURON_RESOLUTION


@torch.no_grad()
def network_view(
    module: nn.Module,
    boundary_grid,
    box,
    neuron_resolution: int,
    task: str,
    *,
    expand=None,
    boundary=True,
):
    """The decision boundary, every neuron's response map and every layer's weights
    (without the boundary when `boundary` is False: a caller that draws the members' mean
    from `ensemble_view` needs none of its own). `expand` maps the plane's points to the
    network's inputs when it sees hand-made features of them (`Dataset.expand`).

    - boundary: P(class 1) per pixel of `boundary_grid` for binary tasks, else every
      class's probability (class-major, K x pixels), as bytes 0..255.
    - maps: per layer (inputs, hidden layers, output logits), each neuron's activation over
      `box`, divided by that neuron's largest |activation| (sent in `scales`) and stored as
      bytes with 128 = 0, so the page draws -1..1 on one colour scale. The hidden layers'
      maps come from `whydl.analysis.neurons`.
    - weights: per linear layer, its (out, in) matrix as little-endian float32.
    """
    module.eval()  # dropout off, batch norm on its running statistics
    corners = np.array([[box[0], box[2]], [box[1], box[3]]], dtype=np.float32)
    hidden = neuron_maps(module, corners, resolution=neuron_resolution, margin=0.0, expand=expand)
    gx, gy = np.meshgrid(hidden.xs, hidden.ys[::-1])  # top row first, as on the page
    inputs = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)  # (pixels, 2)
    inputs = inputs if expand is None else expand(inputs)  # (pixels, the network's inputs)
    outputs = module(torch.as_tensor(inputs)).numpy()
    layers = [inputs, *(m[:, ::-1].reshape(len(m), -1).T for m in hidden.maps), outputs]
    maps, scales = [], []
    for a in layers:  # a: (pixels, neurons); a diverged network's NaNs draw as 0
        a = np.nan_to_num(np.asarray(a, dtype=np.float64), nan=0.0, posinf=1e30, neginf=-1e30)
        peak = np.maximum(np.abs(a).max(0), 1e-12)
        maps.append(b64(_signed_bytes((a / peak).T)))
        scales.append(np.round(peak, 6).tolist())
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    view = {
        "maps": maps,
        "scales": scales,
        "weights": [b64(np.nan_to_num(m.weight.numpy()).astype("<f4")) for m in linears],
    }
    if boundary:
        probs = _probabilities(module(boundary_grid)[None], task)[0]  # (pixels, K)
        view["boundary"] = b64(_unit_bytes(_as_drawn(probs, task).numpy()))
    return view


def _as_drawn(probs: torch.Tensor, task: str) -> torch.Tensor:
    """(pixels, K) probabilities as the page draws them: P(class 1), (1, pixels), for binary
    tasks, else every class's, class-major (K, pixels)."""
    return probs[:, 1][None] if task == "binary" else probs.T


@torch.no_grad()
def ensemble_view(
    net, boundary_grid, member_grid, task: str, ok: np.ndarray, values: list | None = None
) -> dict:
    """What the members say together, from the stacked network itself:

    - mean: the members' mean class probability per pixel (as `boundary` in
      `network_view`: P(class 1) for binary, else every class's, class-major), bytes 0..255;
    - disagreement: per pixel, the share of members that vote against the majority, scaled
      so 255 is the most a vote among K classes can split (1 - 1/K); 0 where all agree;
    - members: each member's predicted class over `member_grid`, one byte per pixel,
      member after member (a diverged member's map is all 255: "no answer").
    With one member, disagreement and members are None (there is nothing to show).
    Diverged members (`ok` False) are left out of the mean and the vote.
    For regression (`values`: the target's [low, high]) see `_regression_view`.
    """
    keep = torch.as_tensor(np.asarray(ok, dtype=bool))
    if not keep.any():
        keep = torch.ones(len(keep), dtype=torch.bool)
    if task == "regression":
        return _regression_view(net, boundary_grid, member_grid, keep, values)
    probs = _probabilities(net.forward(boundary_grid), task)  # (M, pixels, K)
    good = probs[keep]
    K = probs.shape[-1]
    mean = _as_drawn(good.mean(0), task)
    votes = torch.nn.functional.one_hot(good.argmax(-1), K).sum(0)  # (pixels, K)
    against = 1 - votes.max(-1).values / len(good)
    disagreement = against / (1 - 1 / K)
    members = _probabilities(net.forward(member_grid), task).argmax(-1).to(torch.uint8)
    members[~keep] = 255
    one = len(probs) == 1  # nothing to disagree about, and no strip: not sent
    return {
        "mean": b64(_unit_bytes(mean.numpy())),
        "disagreement": None if one else b64(_unit_bytes(disagreement.numpy())),
        "members": None if one else b64(members.numpy()),
        "n_members": int(len(probs)),
    }


def _regression_view(net, boundary_grid, member_grid, keep, values) -> dict:
    """`ensemble_view` for a regression: the members' mean prediction as signed bytes over
    the target's range (0 = low, 128 = middle, 255 = high); disagreement, the members'
    standard deviation as a share of half the range (255: half the range or more); each
    member's prediction as signed bytes up to 254 (255: diverged, as for classes)."""
    middle, half = (values[0] + values[1]) / 2, (values[1] - values[0]) / 2

    def scaled(out):
        return torch.nan_to_num((out[..., 0] - middle) / half, nan=0.0).clamp(-1, 1).numpy()

    out = net.forward(boundary_grid)  # (M, pixels, 1)
    good = out[keep]
    spread = torch.nan_to_num(good[..., 0].std(0, correction=0) / half, nan=0.0)
    members = np.minimum(_signed_bytes(scaled(net.forward(member_grid))), 254)
    members[~keep.numpy()] = 255
    one = len(out) == 1
    return {
        "mean": b64(_signed_bytes(scaled(good.mean(0)))),
        "disagreement": None if one else b64(_unit_bytes(spread.numpy())),
        "members": None if one else b64(members),
        "n_members": int(len(out)),
    }


def _probabilities(logits: torch.Tensor, task: str) -> torch.Tensor:
    """(M, pixels, K) class probabilities from the stack's outputs; NaN as uniform."""
    if task == "binary":
        p = torch.sigmoid(logits)
        probs = torch.cat([1 - p, p], dim=-1)
    else:
        probs = torch.softmax(logits, dim=-1)
    return torch.nan_to_num(probs, nan=1.0 / probs.shape[-1])


def accuracy_ci(values: np.ndarray) -> dict:
    """Mean and 95% t-interval over members of one epoch's accuracies (NaN: left out), as
    `whydl.stats.summarize` computes them, rounded for the page."""
    s = summarize(values)
    if s["n"] == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    return {
        "mean": round(s["mean"], 6),
        "lo": round(s["ci_low"], 6),
        "hi": round(s["ci_high"], 6),
        "n": s["n"],
    }


def paired_difference(a: np.ndarray, b: np.ndarray) -> dict:
    """Mean and 95% t-interval of b - a over paired members (member i of each: the same
    seed on the same data), as `accuracy_ci`; pairs with a NaN are left out."""
    if len(a) == 0 or len(b) == 0:
        return accuracy_ci([])
    return accuracy_ci(np.asarray(b, dtype=float) - np.asarray(a, dtype=float))


def layer_grad_norms(grad_norms: dict[str, np.ndarray], n_hidden: int) -> list[float]:
    """Member 0's gradient norm per layer, from the engine's per-parameter norms.

    A layer's parameters are named '<group>.<index>.<what>' (hidden.0.weight, norms.0.bias)
    or 'out.<what>' for the output layer; a layer's norm is the root sum of squares of its
    parameters' norms. Returns n_hidden + 1 values (the output layer last).
    """
    sums = np.zeros(n_hidden + 1)
    for name, norms in grad_norms.items():
        parts = name.split(".")
        layer = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else n_hidden
        sums[layer] += float(norms[0]) ** 2
    return np.sqrt(sums).tolist()


def curves(history, epoch: int, grad_history: list[list[float]]) -> dict:
    """Loss, accuracy and gradient-norm curves up to `epoch`, at most CURVE_POINTS long: the
    members' mean (one member: its own), test accuracy with its 95% CI across members, and
    member 0's gradient norms. JSON has no NaN: a diverged epoch reads null."""
    if epoch == 0:
        return {k: [] for k in CURVE_NAMES}
    index = np.unique(np.linspace(0, epoch - 1, min(epoch, CURVE_POINTS)).round().astype(int))
    grads = np.asarray([grad_history[i] for i in index], dtype=float).T  # (layers, points)
    mean = lambda a: _finite(_nanmean(a[:, index]))  # noqa: E731  over members, per epoch
    low, high = _ci_bands(history.val_metric[:, index])
    return {
        "epoch": (index + 1).tolist(),
        "train_loss": mean(history.train_loss),
        "test_loss": mean(history.val_loss),  # no early stopping: val = test
        "train_accuracy": mean(history.train_metric),
        "test_accuracy": mean(history.val_metric),
        "test_accuracy_lo": _finite(low),
        "test_accuracy_hi": _finite(high),
        "grad_norms": [_finite(row) for row in grads],
    }


def _ci_bands(values: np.ndarray):
    """Per column of (members, points): the 95% t-interval's ends over the finite members,
    computed for all columns at once (as `accuracy_ci` does one); NaN where none is finite."""
    finite = np.isfinite(values)
    n = finite.sum(0)
    mean = _nanmean(values)
    centred = np.where(finite, values - mean, 0.0)
    sd = np.sqrt((centred**2).sum(0) / np.maximum(n - 1, 1))
    t = np.array([t_quantile(k - 1) if k > 1 else 0.0 for k in range(values.shape[0] + 1)])
    half = t[n] * sd / np.sqrt(np.maximum(n, 1))
    return mean - half, mean + half


def _nanmean(a: np.ndarray) -> np.ndarray:
    """The mean over members (rows) of the finite values; NaN where there is none."""
    finite = np.isfinite(a)
    count = finite.sum(0)
    total = np.where(finite, a, 0.0).sum(0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def encode_curves(curves: dict) -> dict:
    """`curves` for the wire: each series as little-endian float32 bytes in base64, NaN where
    the list has None (the page reads them as typed arrays; about a third of the JSON
    numbers' size). `grad_norms` is one such string per layer."""

    def f32(values) -> str:
        a = np.array([np.nan if v is None else v for v in values], dtype="<f4")
        return b64(a)

    out = {k: f32(v) for k, v in curves.items() if k != "grad_norms"}
    out["grad_norms"] = [f32(row) for row in curves["grad_norms"]]
    return out


def decode_curves(encoded: dict) -> dict:
    """The inverse of `encode_curves`, NaN back to None: what the page sees, as lists."""

    def lists(b64: str) -> list:
        a = np.frombuffer(base64.b64decode(b64), dtype="<f4").astype(float)
        return [None if not np.isfinite(v) else float(v) for v in a]

    out = {k: lists(v) for k, v in encoded.items() if k != "grad_norms"}
    out["grad_norms"] = [lists(row) for row in encoded["grad_norms"]]
    return out


def _finite(values) -> list:
    """Floats rounded to 8 decimals, NaN and infinities as None (JSON has neither)."""
    v = np.round(np.asarray(values, dtype=float), 8)
    out = v.tolist()
    if not np.isfinite(v).all():
        out = [x if np.isfinite(x) else None for x in out]
    return out


def _unit_bytes(v: np.ndarray) -> np.ndarray:
    return np.round(np.clip(v, 0, 1) * 255).astype(np.uint8)


def _signed_bytes(v: np.ndarray) -> np.ndarray:
    return np.round((np.clip(v, -1, 1) + 1) * 127.5).astype(np.uint8)


def b64(a: np.ndarray) -> str:
    """An array's bytes as base64 text: how pictures and curves travel in a JSON frame."""
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")
