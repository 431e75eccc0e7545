"""The learning curves drawn and described: ε(n) = a·n^(−b) + c fitted on each power-law
region, the figures of test error and of the train-test gap, and the notes that compare
the slopes with the literature. Descriptive (no rule, trains nothing): it reads the tasks'
own experiments (`run.others`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from whydl.analysis.powerlaw import bootstrap_exponent, curve_regions
from whydl.engine.memory import mlp_n_parameters
from whydl.evidence.data_scaling.curves import DATASETS, MODELS, curve, seed_data
from whydl.evidence.data_scaling.learning_curve import MIN_RANGE_POINTS
from whydl.evidence.experiment import Description
from whydl.plots.bands import ci_band, ci_errorbar
from whydl.plots.style import CYCLE, PALETTE, label, new_figure

LITERATURE_SLOPES = (-0.35, -0.07)  # Hestness et al. 2017's range, for the notes only


@lru_cache(maxsize=16)
def _fit(n: tuple, errors: tuple, n_boot: int) -> dict:
    return bootstrap_exponent(np.array(n), np.array(errors), n_boot=n_boot)


def region_fit(task_run, n_boot: int) -> dict | None:
    """ε = a·n^(−b) + c on the task's chosen region (evaluation seeds), with a bootstrap CI
    on b over seeds; None when the region has too few sizes or no seeds."""
    n, error = curve(task_run.rows, "test_error")
    lo, hi = task_run.chosen["region_n"]
    use = (n >= lo) & (n <= hi)
    if use.sum() < 3 or not len(error):
        return None
    out = _fit(tuple(n[use]), tuple(map(tuple, error[:, use])), n_boot)
    fit = out["fit"]
    return {
        "fit": fit,
        "b_ci_low": out["ci_low"],
        "b_ci_high": out["ci_high"],
        "c_at_bound": bool(fit.c >= 0.999 * float(np.nanmin(error.mean(0)[use]))),
    }


class PowerLaw(Description):
    """Figures and notes across the three tasks' curves."""

    name = "power_law"

    def figures(self, run) -> dict:
        return {
            "learning_curves": self._curves(run),
            "train_test_gap": self._gap(run),
        }

    def _curves(self, run):
        fig, axes = new_figure(ncols=len(DATASETS), size=(4.6, 4.2))
        fig.subplots_adjust(left=0.07, wspace=0.35)
        for ax, name in zip(axes, DATASETS):
            task = run.others[name]
            n, error = curve(task.rows, "test_error")
            ci_errorbar(ax, n, error, PALETTE["blue"], "test error (mean, 95% CI)", log=True)
            lo, hi = task.chosen["region_n"]
            label = (
                "power-law region (selection seeds)"
                if task.chosen["region_found"]
                else f"all sizes (no region of >= {MIN_RANGE_POINTS} sizes)"
            )
            ax.axvspan(lo, hi, color=PALETTE["sky"], alpha=0.15, lw=0, label=label)
            fitted = region_fit(task, run.params["n_boot"])
            if fitted is not None:
                fit = fitted["fit"]
                grid = np.geomspace(n[0], n[-1], 100)
                inside = (grid >= fit.n_min) & (grid <= fit.n_max)
                ax.plot(
                    grid[inside],
                    fit.predict(grid[inside]),
                    color=PALETTE["black"],
                    label=f"fit a·n^-b + c, b = {fit.b:.2f}",
                )
                ax.plot(grid, fit.predict(grid), color=PALETTE["black"], ls=":", lw=1)
            if task.chosen.get("floor_from_n") is not None:
                ax.axhline(
                    task.chosen["floor_error"],
                    color=PALETTE["vermillion"],
                    ls="--",
                    lw=1,
                    label=f"floor from n = {task.chosen['floor_from_n']:.0f} (selection seeds)",
                )
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("training samples n (log scale)")
            ax.set_ylabel("test error (fraction misclassified, log scale)")
            ax.set_title(f"{name}: {task.verdict.verdict}", fontsize=10)
            ax.legend(fontsize=7)
        fig.suptitle("Test error falls as a power law in n (straight on log-log), then flattens")
        caption = (
            "Mean test error over evaluation seeds (each its own data draw and test set) with "
            "95% CIs against training-set size, on log-log axes. A straight stretch is a power "
            "law; the shaded span is the power-law region chosen on the selection seeds, the "
            "black line the fit a·n^-b + c on it (dotted: extrapolated), the dashed line the "
            "floor the selection seeds' curve flattened onto."
        )
        return fig, caption

    def _gap(self, run):
        fig, ax = new_figure()
        for color, name in zip(CYCLE, DATASETS):
            n, gap = curve(run.others[name].rows, "gap")
            ci_band(ax, n, gap, color, name)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xscale("log", base=2)
        label(
            ax,
            "training samples n (log scale)",
            "train-test gap (test error − train error, fraction)",
            "The train-test gap shrinks as the training set grows",
        )
        caption = (
            "Test error minus training error (each member on its own training rows and its "
            "own test split) against n, mean and 95% CI over evaluation seeds. Small sets are "
            "memorised (large gap); with more data the gap closes."
        )
        return fig, caption

    def notes(self, run) -> list[str]:
        notes = [self._fit_note(run.others[name], run.params["n_boot"]) for name in DATASETS]
        notes = [n for n in notes if n]
        slopes = {
            d: run.others[d].verdict.numbers["slope"]
            for d in DATASETS
            if "slope" in run.others[d].verdict.numbers
        }
        if slopes:
            lo, hi = LITERATURE_SLOPES
            groups = {
                "steeper": [d for d, v in slopes.items() if v < lo],
                "within": [d for d, v in slopes.items() if lo <= v <= hi],
                "flatter": [d for d, v in slopes.items() if v > hi],
            }
            listed = "; ".join(
                f"{k}: " + (", ".join(f"{d} ({slopes[d]:.2f})" for d in v) or "none")
                for k, v in groups.items()
            )
            notes.append(
                f"Hestness et al. report slopes between {hi} and {lo} for large models on "
                f"large real tasks. Here, {listed}. Small, low-dimensional tasks are learnt "
                "fast, so their curves can be steeper and reach their floor (label noise on "
                "spiral, model or optimiser budget elsewhere) early."
            )
        teacher = seed_data("teacher", run.params, run.plan.evaluation).pool
        stall = _double_descent(run.others["teacher"], teacher.n_features)
        if stall:
            notes.append(stall)
        return notes

    @staticmethod
    def _fit_note(task, n_boot: int) -> str:
        chosen = task.chosen
        lo, hi = chosen["region_n"]
        detected = chosen.get("detected_n")
        how = (
            "found"
            if chosen["region_found"]
            else f"too short (n = {detected[0]:.0f}…{detected[1]:.0f}): all sizes used"
            if detected
            else "not found: all sizes used"
        )
        floor = (
            f"it flattens from n = {chosen['floor_from_n']:.0f} at about "
            f"{chosen['floor_error']:.1%} error"
            if chosen.get("floor_from_n") is not None
            else "no floor within the sweep"
        )
        text = (
            f"{task.name}: power-law region on the selection seeds {how}: n = {lo:.0f}…"
            f"{hi:.0f}; {floor}."
        )
        fitted = region_fit(task, n_boot)
        if fitted is None:
            return text
        fit = fitted["fit"]
        text += (
            f" On the evaluation seeds ε ≈ {fit.a:.3g}·n^-{fit.b:.2f} + {fit.c:.3f} there "
            f"(b 95% bootstrap CI {fitted['b_ci_low']:.2f}–{fitted['b_ci_high']:.2f}, R² in "
            f"log space {fit.r2_log:.3f})."
        )
        if fitted["c_at_bound"]:
            text += (
                " The fitted c sits at its bound, the smallest measured error: the curve is "
                "not a clean power law plus a constant, so read b with care."
            )
        return text


def _double_descent(task, n_inputs: int) -> str:
    """A flat stretch inside the teacher's region near n = parameters: double descent's mark
    (a description of the evaluation seeds' mean curve)."""
    n, error = curve(task.rows, "test_error")
    if not len(error):
        return ""
    regions = curve_regions(n, error)
    n_params = mlp_n_parameters(n_inputs, 1, MODELS["main"])
    lo, hi = task.chosen["region_n"]
    flat = [
        n[i]
        for i, counts in enumerate(regions["counts"])
        if lo <= n[i] < hi and not counts and n_params / 4 <= n[i] <= 4 * n_params
    ]
    if not flat:
        return ""
    return (
        f"The teacher's curve stalls inside its power-law region at n = {flat[0]:.0f}, near "
        f"the student's {n_params} parameters: what sample-wise double descent predicts "
        "(Nakkiran et al. 2019), where more data briefly does not help."
    )
