"""The transfer claim's figures, drawn from its tidy rows with the shared CI bands
(`whydl.plots.bands`: per_seed is always (seeds, points))."""

from __future__ import annotations

import numpy as np

from whydl.evidence.rows import matrix, select
from whydl.evidence.transfer.rules import MIN_GAIN, NARROWING_RATIO, SMALL_K
from whydl.evidence.transfer.table import (
    ALL,
    FINE_TUNED,
    FROZEN,
    METHODS,
    RANDOM,
    SCRATCH,
    ZERO_SHOT,
)
from whydl.plots.bands import ci_band
from whydl.plots.style import PALETTE, new_figure

COLORS = {
    SCRATCH: PALETTE["black"],
    FROZEN: PALETTE["sky"],
    FINE_TUNED: PALETTE["vermillion"],
    RANDOM: PALETTE["orange"],
    ZERO_SHOT: PALETTE["purple"],
}
LABELS = {
    SCRATCH: "scratch",
    FROZEN: "frozen pretrained + new head",
    FINE_TUNED: "fine-tuned (all layers)",
    RANDOM: "frozen random + new head",
}


def _k_axis(ax, rows) -> None:
    """Log k axis, ticked at the sweep's k values; "all" shows its count."""
    ticks = sorted({(r["k"], r["k_label"]) for r in rows if r["method"] == SCRATCH})
    ax.set_xscale("log")
    ax.set_xticks([k for k, _ in ticks])
    ax.set_xticklabels([f"all\n({k})" if label == ALL else label for k, label in ticks])
    ax.minorticks_off()


def _arm(rows, method: str, n: int):
    """(ks, (seeds, ks) accuracies) of one method with n layers copied."""
    ks, _, grid = matrix(rows, "test_accuracy", "k", method=method, n_copied=n)
    return ks, grid


def domain_figure(name: str, rows, n_layers: int, n_seeds: int):
    """Accuracy against k for the four methods, and the paired gain the rule reads."""
    fig, (left, right) = new_figure(2, size=(4.8, 4.6))
    for method in METHODS:
        ks, grid = _arm(rows, method, 0 if method == SCRATCH else n_layers)
        ci_band(left, ks, grid, COLORS[method], LABELS[method], markersize=3)
    zero = select(rows, method=ZERO_SHOT)
    if zero:
        values = np.array([[r["test_accuracy"]] * 2 for r in zero])  # (seeds, 2): a level
        ks = sorted({r["k"] for r in select(rows, method=SCRATCH)})
        ci_band(
            left,
            [ks[0], ks[-1]],
            values,
            COLORS[ZERO_SHOT],
            "no target labels",
            marker="",
            linestyle="--",
        )
    left.set_ylabel("target test accuracy (fraction)")
    left.set_title("the four ways to learn the target", fontsize=9)
    left.legend(fontsize=6, loc="lower right")
    ks, fine = _arm(rows, FINE_TUNED, n_layers)
    _, scratch = _arm(rows, SCRATCH, 0)
    ci_band(
        right, ks, fine - scratch, PALETTE["vermillion"], "fine-tuned minus scratch", markersize=3
    )
    right.axhline(0, color="grey", linewidth=1)
    right.axhline(
        MIN_GAIN,
        color="grey",
        linewidth=1,
        linestyle=":",
        label=f"minimum gain of interest ({MIN_GAIN:g})",
    )
    right.axvline(SMALL_K, color="grey", linewidth=0.8, linestyle="--")
    right.set_ylabel("fine-tuned minus scratch accuracy, paired by seed")
    right.set_title(f"the gain the rule reads (k <= {SMALL_K} left of the dashes)", fontsize=9)
    right.legend(fontsize=6)
    for ax in (left, right):
        _k_axis(ax, rows)
        ax.set_xlabel("target labels per class, k (log scale)")
        ax.grid(alpha=0.3)
    fig.subplots_adjust(top=0.82, bottom=0.18)
    fig.suptitle(
        f"{name}: does fine-tuning beat scratch at small k, and does the gain narrow?\n"
        f"mean and 95% CI over {n_seeds} evaluation seeds (each its own data, labels and "
        "pretraining)",
        fontsize=10,
    )
    caption = (
        "Left: target test accuracy against labels per class; the orange band is Yosinski's "
        "control, the same frozen architecture with random weights. Right: the paired gain "
        f"(fine-tuned minus scratch). The rule asks for a band above 0 at every k <= {SMALL_K} "
        f"and a gain at the largest k below {NARROWING_RATIO:g} of the first; it refutes when "
        f"the band lies below the dotted line ({MIN_GAIN:g}) at some such k, Holm-corrected."
    )
    return fig, caption


def layers_figure(name: str, rows, n_layers: int, n_seeds: int):
    """Copy the first n layers, then freeze them or fine-tune them, at three k values."""
    levels = sorted({(r["k"], r["k_label"]) for r in rows if r["method"] == SCRATCH})
    shown = [levels[0], levels[len(levels) // 2], levels[-1]] if len(levels) >= 3 else levels
    fig, axes = new_figure(len(shown), size=(4.0, 4.0))
    axes = np.atleast_1d(axes)
    x = list(range(n_layers + 1))
    for ax, (k, label) in zip(axes, shown):
        scratch = matrix(rows, "test_accuracy", "k", method=SCRATCH, k=k)[2]  # (seeds, 1)
        for method in (FINE_TUNED, FROZEN, RANDOM):
            copied = matrix(rows, "test_accuracy", "n_copied", method=method, k=k)[2]
            name_of = "random, frozen" if method == RANDOM else method
            values = np.hstack([scratch, copied])  # (seeds, n = 0..L)
            ci_band(ax, x, values, COLORS[method], f"first n layers {name_of}", markersize=3)
        ax.set_xticks(x)
        ax.set_xlabel("hidden layers copied from the pretrained net, n")
        ax.set_ylabel("target test accuracy (fraction)")
        ax.set_title(f"k = {label} labels per class", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6)
    fig.subplots_adjust(top=0.82, bottom=0.18)
    fig.suptitle(
        f"Layer by layer ({name}): copy the first n layers, then freeze them or fine-tune them\n"
        f"n = 0 is scratch; mean and 95% CI over {n_seeds} evaluation seeds",
        fontsize=10,
    )
    caption = (
        "Yosinski et al.'s experiment at our scale: a frozen curve that falls with n means the "
        "copied layers are specific to the source task; fine-tuning recovers what freezing loses."
    )
    return fig, caption
