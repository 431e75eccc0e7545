"""Part 3, "double descent": a width sweep with LABEL_NOISE of the training labels replaced,
trained into the interpolation regime (Nakkiran et al. 2019). Reported with its verdict; it
does not decide the claim.

Model-wise double descent needs models trained until the wide ones fit every training label,
noisy ones included; "scale"'s recipe (40 epochs) never gets there. So this sweep has its own
settings (the preset's `descent_*` keys): `descent_per_class` labels per class, the one
recipe's Adam at its learning rate, in batches of `descent_batch_size` for `descent_epochs`
epochs (at the full preset, 600 images in batches of 100 for 400 epochs: 2,400 steps). Batches
rather than full-batch steps, because the engine scores both splits after every epoch: with
one step an epoch that scoring would cost more than the training (Nakkiran et al. train in
batches of 128, too). The widths start at 1 so that the sweep spans the classical side (too
few units to fit even the clean labels), the threshold and the interpolating side.

The interpolation threshold (where the models start to fit every noisy training label) is
chosen on the selection seeds, which train the same noisy sweep on their own splits; the
rule then compares test error there with the smaller and the larger widths on the
evaluation seeds.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from whydl.config import TrainConfig
from whydl.evidence.experiment import Experiment
from whydl.evidence.flexibility.double_descent_rule import (
    INTERPOLATION_ERROR,
    DoubleDescentRule,
    interpolation_width,
)
from whydl.evidence.flexibility.labels import LABEL_NOISE, NOISY
from whydl.evidence.flexibility.recipe import final, recipe_train
from whydl.evidence.flexibility.sweep import n_parameters, sweep_calls, sweep_rows
from whydl.evidence.rows import matrix
from whydl.plots.bands import ci_band
from whydl.plots.style import PALETTE, new_figure

WIDEST = 2  # the notes report the training error of this many of the widest widths


def descent_train(params: dict, seeds) -> TrainConfig:
    """The one recipe's training, longer and in the preset's batches, for members `seeds`."""
    return replace(
        recipe_train(params, seeds),
        epochs=params["descent_epochs"],
        batch_size=params["descent_batch_size"],
    )


class DoubleDescentExperiment(Experiment):
    name = "double descent"
    deciding = False
    selects = True

    def __init__(self, params: dict):
        self.widths = tuple(params["descent_widths"])
        self.rule = DoubleDescentRule(self.widths)

    def _calls(self, params, seeds):
        return sweep_calls(
            NOISY,
            params,
            seeds,
            widths=self.widths,
            per_class=params["descent_per_class"],
            train=descent_train(params, seeds),
        )

    def selection_calls(self, params, seeds):
        return self._calls(params, seeds)

    def choose(self, params, fits):
        """The interpolation threshold on the selection seeds' training error."""
        n = params["n_selection_seeds"]
        train = np.array([1 - final(fits[w], "train_metric", n) for w in self.widths]).T
        width = interpolation_width(self.widths, train)
        return {
            "interpolation_width": width,
            "interpolation_n_parameters": None if width is None else n_parameters(width),
            "selection_train_error": {
                str(w): round(float(e), 5) for w, e in zip(self.widths, np.nanmean(train, axis=0))
            },
        }

    def calls(self, params, seeds, chosen):
        return self._calls(params, seeds)

    def rows(self, run):
        width = run.chosen.get("interpolation_width")
        rows = sweep_rows(NOISY, run.fits, run.params, run.plan.evaluation, self.widths)
        return [r | {"at_threshold": r["width"] == width} for r in rows]

    def figures(self, run):
        return {"flexibility_double_descent": descent_figure(run)}

    def notes(self, run):
        d, p = run.verdict.numbers, run.params
        width = d["interpolation_width"]
        where = (
            f"no width's mean training error on the selection seeds falls below "
            f"{INTERPOLATION_ERROR:g}, so there is no threshold inside the sweep to test"
            if width is None
            else f"on the selection seeds, training error first falls below "
            f"{INTERPOLATION_ERROR:g} at width {width} ({n_parameters(width)} parameters)"
        )
        tested = "."
        if "rise" in d:
            tested = (
                f". At the threshold, test error is {d['rise']:+.3f} (95% CI "
                f"{d['rise_ci_low']:+.3f} to {d['rise_ci_high']:+.3f}) above width "
                f"{d['rise_best_width']} and {d['fall']:+.3f} ({d['fall_ci_low']:+.3f} to "
                f"{d['fall_ci_high']:+.3f}) above width {d['fall_best_width']}, paired per "
                f"seed: {_outcome(d)}."
            )
        return [
            f"{LABEL_NOISE:.0%} label noise, {10 * p['descent_per_class']} training images, "
            f"{p['descent_epochs']} epochs in batches of {p['descent_batch_size']} "
            f"({_steps(p)} Adam steps): {_regime(run.rows)}. Mean test error by width "
            f"(training error in parentheses): {_curve(run.rows)}; {where}{tested} Nakkiran et "
            "al. (CNNs and ResNets on CIFAR-10, 4,000 epochs of Adam) see the test-error peak "
            "where training error reaches zero, sharper with more label noise, and a second "
            "descent beyond it."
        ]


def _steps(params: dict) -> int:
    """Optimiser steps of one member of the sweep (the last batch may be short)."""
    n = 10 * params["descent_per_class"]
    return params["descent_epochs"] * -(-n // params["descent_batch_size"])


def _regime(rows) -> str:
    """Whether the widest widths fit every noisy training label on the evaluation seeds."""
    widths, _, train = matrix(rows, "train_error", "width")
    widest = [
        f"width {w}: mean {np.nanmean(train[:, j]):.4f}, at most {np.nanmax(train[:, j]):.4f}"
        for j, w in list(enumerate(widths))[-WIDEST:]
    ]
    reached = np.nanmax(train[:, -WIDEST:]) < INTERPOLATION_ERROR
    return (
        f"the interpolation regime is {'reached' if reached else 'NOT reached'} (training "
        f"error on the evaluation seeds, {'; '.join(widest)})"
    )


def _curve(rows) -> str:
    """'1: 0.784 (0.783), 2: ...': mean test and training error of every width."""
    widths, _, test = matrix(rows, "test_error", "width")
    _, _, train = matrix(rows, "train_error", "width")
    return ", ".join(
        f"{w}: {t:.3f} ({e:.3f})"
        for w, t, e in zip(widths, np.nanmean(test, axis=0), np.nanmean(train, axis=0))
    )


def _outcome(d: dict) -> str:
    if d.get("rise_supported") and d.get("fall_supported"):
        return "a peak at the threshold and a second descent"
    if d.get("shown_below_minimum"):
        sides = " and ".join(d["shown_below_minimum"])
        return f"no peak: the {sides} is shown below the minimum effect"
    return "neither a peak nor its absence is shown"


def descent_figure(run):
    """Test and training error (noisy labels) against size, with the threshold; and test
    error at the threshold minus each width's, paired per seed (what the rule tests)."""
    fig, (ax, ax_gap) = new_figure(2, size=(5.2, 4.8))
    sizes, _seeds, errors = matrix(run.rows, "test_error", "n_parameters")
    ci_band(ax, sizes, errors, PALETTE["vermillion"], "test error")
    _, _, train = matrix(run.rows, "train_error", "n_parameters")
    ci_band(ax, sizes, train, PALETTE["blue"], "training error (noisy labels)", linestyle="--")
    ax.axhline(LABEL_NOISE, color="grey", linewidth=0.8, label="share of noisy labels")
    ax.set_ylabel("error rate (fraction)")
    ax.set_title("error against size", fontsize=9)
    width = run.chosen.get("interpolation_width")
    if width is not None:
        at = sizes.index(n_parameters(width))
        gap = errors[:, [at]] - errors  # (seeds, widths): > 0 where the threshold is worse
        ci_band(ax_gap, sizes, gap, PALETTE["vermillion"], "threshold minus width")
        ax_gap.axhline(0.0, color="grey", linewidth=0.8)
        # from the best width below the threshold on: the smallest widths lie far below
        best = int(np.nanargmin(np.nanmean(errors[:, : at + 1], axis=0)))
        shown = gap[:, best:]
        ax_gap.set_ylim(min(np.nanmin(shown), 0.0) - 0.02, max(np.nanmax(shown), 0.0) + 0.02)
    else:
        ax_gap.text(
            0.5,
            0.5,
            "no interpolation threshold inside the sweep",
            ha="center",
            transform=ax_gap.transAxes,
        )
    ax_gap.set_ylabel("test error, threshold minus width (fraction)")
    ax_gap.set_title("paired per seed: > 0 on both sides is a peak", fontsize=9)
    for axis in (ax, ax_gap):
        if width is not None:
            axis.axvline(
                n_parameters(width),
                color="black",
                linestyle=":",
                label=f"interpolation threshold, width {width} (selection seeds)",
            )
        axis.set_xscale("log")
        axis.set_xlabel("parameters (count, log scale)")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=6)
    p = run.params
    fig.subplots_adjust(top=0.84)
    fig.suptitle(
        f"Double descent on digits ({LABEL_NOISE:.0%} label noise, "
        f"{10 * p['descent_per_class']} images, {_steps(p)} Adam steps): does test error "
        "peak where training error reaches zero, then fall?\n"
        f"mean and 95% CI over {len(run.plan.evaluation)} evaluation seeds, each its own split",
        fontsize=10,
    )
    caption = (
        "Left: test error (clean test labels) and training error (on the noisy training "
        "labels, dashed) of a one-hidden-layer MLP against its size. Right: test error at the "
        "interpolation threshold minus that of each width, paired per seed, from the best "
        "width below the threshold on (the smallest widths, far worse, lie below the "
        "axis). The dotted line is the threshold, chosen on the selection seeds (mean "
        f"training error below {INTERPOLATION_ERROR:g}). Double descent shows as a peak of "
        "the test error at the dotted line and a second fall to its right."
    )
    return fig, caption
