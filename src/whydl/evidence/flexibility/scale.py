"""Part 2, "scale": test loss against parameters on digits, clean labels (Kaplan et al.).

A one-hidden-layer MLP of every width in the preset's sweep (85 to 100k parameters at the
full preset), the one recipe's training, each evaluation seed on its own split and its own
`sweep_per_class` labels per class (`sweep.py`). The noisy-label sweep of "double descent"
trains longer on more images and draws its own figure.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

from whydl.analysis.powerlaw import bootstrap_exponent
from whydl.evidence.experiment import Experiment
from whydl.evidence.flexibility.labels import CLEAN
from whydl.evidence.flexibility.scale_rule import ScaleRule
from whydl.evidence.flexibility.sweep import n_parameters, sweep_calls, sweep_rows
from whydl.evidence.rows import matrix
from whydl.plots.bands import ci_band
from whydl.plots.style import PALETTE, new_figure

N_BOOT = 100  # bootstrap resamples of the power-law fit (descriptive: the rule uses slopes)


class ScaleExperiment(Experiment):
    name = "scale"

    def __init__(self, params: dict):
        widths = params["widths"]
        self.rule = ScaleRule(widths, [n_parameters(w) for w in widths])

    def calls(self, params, seeds, chosen):
        return sweep_calls(CLEAN, params, seeds)

    def rows(self, run):
        return sweep_rows(CLEAN, run.fits, run.params, run.plan.evaluation)

    def figures(self, run):
        return {"flexibility_scale": scale_figure(run)}

    def notes(self, run):
        notes = []
        fit = power_law(run.rows)
        if fit:
            notes.append(
                f"Clean labels: test loss ≈ {fit['a']:.3g}·n^-{fit['b']:.2f} + {fit['c']:.3f} "
                f"(b's 95% bootstrap CI {fit['b_ci_low']:.2f}-{fit['b_ci_high']:.2f} over "
                f"seeds, R² in log space {fit['r2_log']:.2f}; descriptive: the rule tests the "
                "straight-line slope). Kaplan et al.'s exponent 0.076 is for language models "
                "with ample data; here the floor c is set by the few training labels, and the "
                "curve flattens onto it within a few decades."
            )
        s = run.verdict.numbers
        if s["turned_up"]:
            against = ", ".join(f"{n:.0f}" for n in s["turned_up_against"])
            notes.append(
                "With clean labels the largest model's test loss is above that of smaller "
                f"models (paired per seed, Holm: {against} parameters): with "
                f"{run.params['sweep_per_class']} labels per class and no early stopping, the "
                "widest models grow overconfident on the test points they get wrong."
            )
        notes.append(
            f"The slope's CI: seeds' spread {s.get('se_seeds', float('nan')):.3f} and the "
            f"mean curve's scatter about its line {s.get('se_lack_of_fit', float('nan')):.3f} "
            "(standard errors); the second holds what every seed of a width shares, and the "
            "curve's bend onto its floor."
        )
        notes.append(
            f"The sweep starts at {n_parameters(min(run.params['widths']))} parameters, not "
            "10: the smallest MLP on 64 pixels with 10 classes (one hidden unit) has 85."
        )
        return notes


def power_law(rows) -> dict:
    """a * n^-b + c fitted to the mean clean test-loss curve, with a bootstrap CI of b."""
    sizes, _seeds, losses = matrix(rows, "test_loss", "n_parameters")
    losses = losses[np.isfinite(losses).all(axis=1)]
    if len(sizes) < 3 or not len(losses):
        return {}
    boot = bootstrap_exponent(np.asarray(sizes, dtype=float), losses, n_boot=N_BOOT)
    fit = boot["fit"]
    return {
        "a": fit.a,
        "b": fit.b,
        "c": fit.c,
        "b_ci_low": boot["ci_low"],
        "b_ci_high": boot["ci_high"],
        "r2_log": fit.r2_log,
    }


def scale_figure(run):
    """Test loss against size (with the power-law fit), and test and training error."""
    fig, (ax_loss, ax_err) = new_figure(2, size=(5.2, 4.8))
    color = PALETTE["blue"]
    sizes, _seeds, losses = matrix(run.rows, "test_loss", "n_parameters")
    ci_band(ax_loss, sizes, losses, color, f"{CLEAN} labels")
    _, _, errors = matrix(run.rows, "test_error", "n_parameters")
    ci_band(ax_err, sizes, errors, color, "test")
    _, _, train = matrix(run.rows, "train_error", "n_parameters")
    ci_band(ax_err, sizes, train, color, "training", linestyle="--")
    fit = power_law(run.rows)
    if fit:
        grid = np.geomspace(min(sizes), max(sizes), 100)
        ax_loss.plot(
            grid,
            fit["a"] * grid ** (-fit["b"]) + fit["c"],
            color=color,
            linestyle=":",
            label=f"fit {fit['a']:.3g}·n^-{fit['b']:.2f} + {fit['c']:.3f}",
        )
    for ax in (ax_loss, ax_err):
        ax.set_xscale("log")
        ax.set_xlabel("parameters (count, log scale)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    ax_loss.set_yscale("log")
    ax_loss.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax_loss.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax_loss.yaxis.set_minor_formatter(NullFormatter())
    ax_loss.set_ylabel("test cross-entropy (nats, log scale)")
    ax_err.set_ylabel("error rate (fraction)")
    ax_loss.set_title("test loss against size", fontsize=9)
    ax_err.set_title("test and training error against size", fontsize=9)
    fig.subplots_adjust(top=0.84)
    p = run.params
    fig.suptitle(
        f"Scale on digits ({p['sweep_per_class']} labels per class): does test loss fall as the "
        "MLP widens?\n"
        f"mean and 95% CI over {len(run.plan.evaluation)} evaluation seeds, each its own split",
        fontsize=10,
    )
    caption = (
        "Left: test loss against parameters with a power-law fit a·n^-b + c (dotted). Right: "
        "test and training (dashed) error against parameters, clean labels; the noisy-label "
        "sweep has its own figure (flexibility_double_descent)."
    )
    return fig, caption
