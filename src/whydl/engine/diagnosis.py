"""What to tell a user whose run diverged or learned nothing, and why we think so.

A member has diverged when its training loss is not finite or has grown by more than
DIVERGENCE_FACTOR over its loss at initialisation: a loss of 1e28 is as useless as NaN,
and flagging it stops the member before its numbers reach a mean.
"""

from __future__ import annotations

import numpy as np

DIVERGENCE_FACTOR = 1e3  # three orders of magnitude above the loss at initialisation
REFERENCE_FLOOR = 1e-3  # an initial loss this small (a near-perfect start) is not a scale
HIGH_LR = {"sgd": 1.0, "momentum": 0.5, "nesterov": 0.5, "rmsprop": 0.05, "adam": 0.1, "adamw": 0.1}
LOW_LR = 1e-4
FEW_STEPS = 100  # optimiser steps below which a small network rarely gets anywhere
DEEP = 5  # hidden layers from which sigmoid/tanh gradients vanish under small inits


def divergence_threshold(initial_loss: np.ndarray) -> np.ndarray:
    """(M,) the training loss above which each member counts as diverged."""
    return DIVERGENCE_FACTOR * np.maximum(initial_loss, REFERENCE_FLOOR)


def divergence_message(seed: int, epoch: int, loss: float, initial: float, train) -> str:
    grew = "" if not np.isfinite(loss) else f" (from {initial:.4g} at initialisation)"
    return (
        f"member seed={seed} diverged at epoch {epoch}: its training loss became {loss:.4g}"
        f"{grew}. Likely cause: the learning rate lr={train.lr:g} is too high for "
        f"optimizer={train.optimizer!r}; try lr={train.lr / 10:g}. Unscaled inputs or a deep "
        "network without normalisation can also blow up."
    )


def diverged_summary(diverged: dict[int, str], n_members: int) -> str:
    """One line for the members that diverged: how many, which seeds, the first message."""
    seeds = sorted(diverged)
    shown = ", ".join(map(str, seeds[:10])) + (", ..." if len(seeds) > 10 else "")
    first = diverged[seeds[0]]
    who = (
        f"all {n_members} members"
        if len(seeds) == n_members
        else (f"{len(seeds)} of {n_members} members")
    )
    return f"{who} diverged (seeds {shown}); the first: {first}"


def likely_cause(model, train, n_train_rows: int) -> str:
    """The most likely reason a run ended at chance level, from its settings alone."""
    lr, opt = train.lr, train.optimizer
    if lr >= HIGH_LR.get(opt, 0.1):
        return (
            f"the learning rate lr={lr:g} is likely too high for optimizer={opt!r} (the steps "
            f"overshoot); try lr={lr / 10:g}"
        )
    if lr < LOW_LR:
        return f"lr={lr:g} is likely too low to move the weights; try {lr * 100:g}"
    batch = train.batch_size or n_train_rows
    steps = train.epochs * max(1, -(-n_train_rows // max(batch, 1)))
    if steps < FEW_STEPS:
        return f"only {steps} optimiser steps were taken; train for more --epochs"
    if getattr(model, "architecture", "mlp") == "mlp":
        if model.activation == "linear":
            return "activation='linear' makes the network a linear model; try --activation relu"
        if model.activation in ("sigmoid", "tanh") and len(model.hidden) >= DEEP:
            return (
                f"gradients vanish through {len(model.hidden)} {model.activation} layers; try "
                "--activation relu, --init xavier or --batch-norm"
            )
    return f"the learning rate lr={lr:g} or too few --epochs={train.epochs}; try other values"


CHANCE_MARGIN = 0.02  # accuracy within two points of a constant predictor learned nothing


def chance_level(y_test, task: str) -> float:
    """What a constant prediction scores on the test split: the most frequent class's share
    (accuracy), or 0 (R², predicting the mean)."""
    if task == "regression":
        return 0.0
    counts = np.bincount(np.asarray(y_test, dtype=np.int64))
    return float(counts.max() / counts.sum())


def at_chance(score: float, chance: float, task: str) -> bool:
    margin = 0.0 if task == "regression" else CHANCE_MARGIN
    return bool(np.isfinite(score)) and score <= chance + margin
