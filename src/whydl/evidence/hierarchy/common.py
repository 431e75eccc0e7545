"""What the hierarchy claim's experiments share: names, architectures at one parameter
budget, each seed's own data, and trained cells (a fit's members with their initial
weights).

Every evaluation seed draws its own data (`per_seed_data`: its own sample of spiral, moons
and checkerboard, its own stratified split of digits), so a CI over seeds holds the luck of
the data as well as of the initialisation. Seed s draws with data seed 42 + s: seed 0 sees
the one sample every seed saw before the frame's protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whydl.config import ModelConfig, TrainConfig
from whydl.engine import build_members
from whydl.engine.memory import mlp_n_parameters
from whydl.errors import DivergedError
from whydl.evidence.protocol import SeedData, per_seed_data

TRAINED, INIT = "trained", "at initialisation"
SHALLOW_DEPTH, DEEP_DEPTH = 1, 4  # the depths compared at one parameter budget
DIGITS_MLP = (32, 32)
DIGITS_MODELS = {"cnn": ModelConfig(architecture="cnn"), "mlp": ModelConfig(hidden=DIGITS_MLP)}
# calibration: the noise of a configuration's mean that all its seeds share, as a share of
# one seed's noise. Each seed here has its own data draw and initialisation, so no luck is
# shared by a configuration's seeds but the fixed recipe itself (the thing under test): the
# simulators put a tenth of a seed's noise there as a margin, which the rules must survive.
CONFIG_SHARE = 0.1


def label(model: ModelConfig) -> str:
    """'cnn', or an MLP's hidden layers as 'depth x width' ('4x16')."""
    if model.architecture == "cnn":
        return "cnn"
    widths = set(model.hidden)
    if len(widths) == 1:
        return f"{len(model.hidden)}x{model.hidden[0]}"
    return "-".join(map(str, model.hidden))


def deep_model(params: dict) -> ModelConfig:
    """The probed network: `n_hidden` layers of `width` units (4x16 in both presets)."""
    return ModelConfig(hidden=(params["width"],) * params["n_hidden"])


def budget(params: dict) -> int:
    """The parameter budget every depth gets: the probed network's parameter count."""
    return mlp_n_parameters(2, 1, deep_model(params).hidden)


def width_for_budget(n_parameters: int, depth: int, n_inputs: int = 2, n_outputs: int = 1) -> int:
    """The width whose `depth`-layer MLP has the parameter count closest to `n_parameters`
    (arithmetic, not a choice made from data).

    >>> width_for_budget(mlp_n_parameters(2, 1, (16,) * 4), 4), width_for_budget(881, 1)
    (16, 220)
    """
    counts = {
        w: mlp_n_parameters(n_inputs, n_outputs, (w,) * depth) for w in range(1, n_parameters + 1)
    }
    return min(counts, key=lambda w: (abs(counts[w] - n_parameters), w))


def depth_models(params: dict) -> dict[int, ModelConfig]:
    """depth -> the MLP of that depth with about `budget(params)` parameters."""
    n = budget(params)
    depths = tuple(params["depths"])
    if SHALLOW_DEPTH not in depths or DEEP_DEPTH not in depths:
        raise ValueError(
            f"depths={depths} must include SHALLOW_DEPTH={SHALLOW_DEPTH} and "
            f"DEEP_DEPTH={DEEP_DEPTH}, which the depth rules compare."
        )
    if params["n_hidden"] != DEEP_DEPTH:  # then its width is the budget's at DEEP_DEPTH
        raise ValueError(
            f"the probed network ({params['n_hidden']}x{params['width']}) must be the "
            f"DEEP_DEPTH={DEEP_DEPTH} network of the depth sweep, so the two share its fits."
        )
    return {d: ModelConfig(hidden=(width_for_budget(n, d),) * d) for d in depths}


def train_config(params: dict, seeds, epochs: int | None = None) -> TrainConfig:
    """Adam as the presets set it, one member per evaluation seed in one stack."""
    return TrainConfig(
        seed=seeds[0],
        n_seeds=len(seeds),
        epochs=epochs or params["epochs"],
        batch_size=params["batch_size"],
        lr=params["lr"],
    )


def seed_data(dataset: str, params: dict, seeds) -> SeedData:
    """Each seed's own data of `dataset` at the preset's sizes (digits: the first
    `digits_train` rows of each seed's own stratified training split; 0: all of them)."""
    if dataset == "digits":
        data = per_seed_data("digits", seeds)
        k = params["digits_train"]
        return data.subsample(k) if k else data
    n = params["checkerboard_samples"] if dataset == "checkerboard" else params["n_samples"]
    return per_seed_data(dataset, seeds, n_samples=n)


def member_split(data: SeedData, m: int) -> tuple[np.ndarray, ...]:
    """(X_train, y_train, X_test, y_test) of member m, exactly the rows it trained on."""
    d = data.member(m)
    k = data.train_rows.shape[1]
    return d.X_train[:k], d.y_train[:k], d.X_test, d.y_test


def member_points(data: SeedData, m: int) -> tuple[np.ndarray, np.ndarray]:
    """All of member m's own points and labels (train and test), for pictures of its plane."""
    d = data.member(m)
    return np.concatenate([d.X_train, d.X_test]), np.concatenate([d.y_train, d.y_test])


@dataclass
class Cell:
    """One trained call: for the members that did not diverge, their index in the fit,
    seeds, trained modules and the same modules at initialisation."""

    fit: object
    index: list[int]
    seeds: list[int]
    trained: list
    init: list


def cell(fit, dataset, model: ModelConfig) -> Cell:
    """The members of `fit` that trained (none when the whole call diverged)."""
    if isinstance(fit, DivergedError) or fit is None:
        return Cell(fit, [], [], [], [])
    keep = [int(i) for i in np.flatnonzero(fit.ok)]
    init = build_members(dataset, model, fit.seeds)
    return Cell(
        fit,
        keep,
        [fit.seeds[i] for i in keep],
        [fit.stack.member(i) for i in keep],
        [init[i] for i in keep],
    )
