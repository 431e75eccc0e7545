"""The compute-matched trade-off (Kaplan et al. 2020, Figure 14): at a fixed budget of
training FLOPs, a bigger model for fewer epochs against a smaller model for more.

It trains nothing new. On the *selection seeds* it asks for the frontier's own selection
calls (the same `TrainCall`s: a results store returns them without training) and reads,
at the frontier's N_BUDGETS log-spaced budgets, the compute-optimal size N_opt(C): the
parameters (weights, as the FLOPs count them) of the configuration with the lowest mean
log test loss among those costing at most C. The log-log slope of N_opt against C is
reported beside Kaplan's 0.73. At one matched budget, the FLOPs of the narrowest width
trained for every epoch, it names the pair the rule (`trade_off_rule`) tests: that
*smaller* configuration, and the *bigger* one (a wider width, picked on the selection seeds
among those costing at most the budget); and, reported beside, the *widest* width the
budget affords, for the epochs it affords. On the *evaluation seeds* it reads the
frontier's evaluation fits (`run.others["frontier"]`).

Reported, not deciding (`deciding = False`): the issue lists it under the compute claim
without the "deciding" mark, and the claim's question, whether loss falls with compute, is
the frontier's.
"""

from __future__ import annotations

import numpy as np

from whydl.analysis.flops import forward_flops
from whydl.config import ModelConfig
from whydl.engine.device import torch_threads
from whydl.errors import DivergedError
from whydl.evidence.compute.frontier import Frontier, grid, log_losses, seed_data
from whydl.evidence.compute.frontier_rule import (
    affordable,
    budgets,
    column_means,
    frontier_indices,
)
from whydl.evidence.compute.trade_off_rule import (
    ARMS,
    BIGGER,
    SMALLER,
    WIDEST,
    TradeOffRule,
    arm_row,
)
from whydl.evidence.experiment import Experiment
from whydl.evidence.protocol import check_calls
from whydl.evidence.rows import matrix, select
from whydl.plots.bands import ci_band, ci_errorbar
from whydl.plots.style import CYCLE, PALETTE, new_figure

KAPLAN_SLOPE = 0.73  # Kaplan et al. 2020: N_opt ∝ C^0.73 (their Figure 14)
ARM_COLORS = {BIGGER: PALETTE["blue"], SMALLER: PALETTE["vermillion"], WIDEST: PALETTE["green"]}


def parameters(width: int, n_features: int, n_outputs: int) -> int:
    """Weights of the two-hidden-layer MLP of this width (biases left out, as the FLOPs
    count them): forward FLOPs / 2, so training FLOPs = 6 x parameters x samples, Kaplan's
    C = 6ND."""
    return forward_flops(ModelConfig(hidden=(width, width)), n_features, n_outputs) // 2


def epochs_text(n: int) -> str:
    """'1 epoch', '8 epochs'."""
    return f"{n} epoch" + ("" if n == 1 else "s")


def n_opt_slope(budget_flops, n_opt) -> float:
    """Least-squares slope of log N_opt against log C (Kaplan: 0.73); NaN when N_opt never
    changes or is missing somewhere."""
    x, y = np.log(np.asarray(budget_flops, float)), np.log(np.asarray(n_opt, float))
    if len(x) < 2 or not np.all(np.isfinite(y)) or np.ptp(y) == 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def pick(configs, means) -> dict:
    """The choices from mean log test loss per configuration (`configs`: (width, epoch,
    FLOPs) sorted by FLOPs; `means` (C,), NaN for a diverged one): N_opt at each budget,
    and the matched pair (with the widest arm) at the narrowest width's full budget."""
    flops = np.array([f for *_, f in configs], dtype=float)
    picked = frontier_indices(affordable(flops), np.asarray(means, float)[None])[0]
    narrowest, n_epochs = min(w for w, *_ in configs), max(e for _, e, _ in configs)
    smaller = next(j for j, c in enumerate(configs) if c[:2] == (narrowest, n_epochs))
    budget = configs[smaller][2]
    wider = [
        j
        for j, (w, _, f) in enumerate(configs)
        if w > narrowest and f <= budget and np.isfinite(means[j])
    ]
    arms = {SMALLER: smaller}
    if wider:
        arms[BIGGER] = min(wider, key=lambda j: means[j])
        # the widest width affordable, for all the epochs it affords
        arms[WIDEST] = max(wider, key=lambda j: configs[j][:2])
    return {
        "budget_flops": [float(b) for b in budgets(flops)],
        "n_opt_widths": [configs[j][0] for j in picked],
        "n_opt_epochs": [configs[j][1] for j in picked],
        "matched_budget_flops": float(budget),
        **{arm: {"width": configs[j][0], "epoch": configs[j][1]} for arm, j in arms.items()},
    }


def choices(params, fits, seeds: tuple) -> dict:
    """`pick` on the mean log test loss of `fits` (width -> the frontier's fit of `seeds`),
    with N_opt in parameters and its log-log slope against the budget."""
    data, n_epochs = seed_data(seeds), params["frontier_epochs"]
    configs = grid(params["widths"], n_epochs, data)
    means = {w: column_means(log_losses(f, n_epochs, len(seeds))) for w, f in fits.items()}
    chosen = pick(configs, [means[w][e - 1] for w, e, _ in configs])
    shape = (data.pool.n_features, data.pool.n_outputs)
    chosen["n_opt_parameters"] = [parameters(w, *shape) for w in chosen["n_opt_widths"]]
    chosen["n_opt_slope"] = n_opt_slope(chosen["budget_flops"], chosen["n_opt_parameters"])
    return chosen


class TradeOff(Experiment):
    name = "trade_off"
    selects = True
    deciding = False

    def __init__(self, params: dict):
        self.frontier = Frontier(params)
        self.rule = TradeOffRule()

    def select(self, ctx, params, seeds):
        """The frontier's own selection calls, on one thread like the frontier's (a results
        store returns them without training), and the choices read from them."""
        calls = self.frontier.selection_calls(params, seeds)
        check_calls(self.name, calls, seeds, "selection")
        with torch_threads(1):
            return self.choose(params, ctx.fit_many(calls, errors="return"))

    def choose(self, params, fits):
        seeds = next((f.seeds for f in fits.values() if not isinstance(f, DivergedError)), None)
        if seeds is None:  # every selection fit diverged: nothing to pick from
            return {}
        return choices(params, fits, tuple(seeds))

    def train(self, ctx, params, seeds, chosen):
        return {}  # nothing of its own: the rows read the frontier's evaluation fits

    def rows(self, run):
        """One row per evaluation seed and arm, from the frontier's evaluation fits."""
        chosen, fits = run.chosen, run.others["frontier"].fits
        seeds, n_epochs = run.plan.evaluation, run.params["frontier_epochs"]
        flops = {(w, e): f for w, e, f in grid(run.params["widths"], n_epochs, seed_data(seeds))}
        out = []
        for arm in (a for a in ARMS if a in chosen):
            w, e = chosen[arm]["width"], chosen[arm]["epoch"]
            loss = np.exp(log_losses(fits[w], n_epochs, len(seeds))[:, e - 1])
            budget = chosen["matched_budget_flops"]
            out += [arm_row(s, arm, w, e, flops[w, e], budget, v) for s, v in zip(seeds, loss)]
        return out

    def evaluation_n_opt(self, run) -> dict:
        """The same choices made on the evaluation seeds' means: N_opt measured again, for
        the figure and the notes (not tested)."""
        return choices(run.params, run.others["frontier"].fits, run.plan.evaluation)

    def figures(self, run):
        if not run.chosen:
            return {}
        return {
            "trade_off": plot_n_opt(run, self.evaluation_n_opt(run)),
            "trade_off_matched": plot_matched(run),
        }

    def notes(self, run):
        chosen, v = run.chosen, run.verdict.numbers
        if not chosen:
            return ["trade_off: every selection fit diverged; nothing was picked."]
        path = " -> ".join(
            f"{n:,} ({w} wide)"
            for n, w in dict.fromkeys(zip(chosen["n_opt_parameters"], chosen["n_opt_widths"]))
        )
        again = self.evaluation_n_opt(run)
        notes = [
            f"Compute-optimal model size N_opt (weights) at {len(chosen['budget_flops'])} "
            f"budgets, picked on the selection seeds: {path}; log-log slope of N_opt against "
            f"C {chosen['n_opt_slope']:.2f} (Kaplan et al. 2020: 0.73); picked again on the "
            f"evaluation seeds' means, {again['n_opt_slope']:.2f}."
        ]
        if "gain" not in v:
            notes.append(
                "trade_off: no wider width is affordable at the narrowest width's full "
                "budget (quick preset?): nothing to compare."
            )
            return notes
        widest = ""
        if "widest_gain" in v:
            widest = (
                f" The widest affordable, {v['widest_width']} wide for "
                f"{epochs_text(v['widest_epoch'])}, is behind the bigger one by "
                f"{v['widest_gain']:.2f} (95% CI {v['widest_gain_ci_low']:.2f} to "
                f"{v['widest_gain_ci_high']:.2f}): too big for the budget wastes it as well."
            )
        notes.append(
            f"At matched compute ({v['budget_flops']:.2g} FLOPs), the {v['bigger_width']}-wide "
            f"model for {epochs_text(v['bigger_epoch'])} ({v['flops_ratio']:.0%} of the FLOPs) "
            f"against the {v['smaller_width']}-wide for {epochs_text(v['smaller_epoch'])}: lower "
            f"log test loss by {v['gain']:.2f} (95% CI {v['gain_ci_low']:.2f} to "
            f"{v['gain_ci_high']:.2f}, paired over {v['gain_n']} evaluation seeds): "
            f"{run.verdict.verdict}.{widest}"
        )
        return notes


def plot_n_opt(run, again: dict):
    """Left: N_opt against C (log-log), picked on the selection seeds and again on the
    evaluation seeds, with the fitted slope and Kaplan's; right: the matched test, each
    evaluation seed's test loss of the two arms joined by a line."""
    chosen, verdict = run.chosen, run.verdict
    fig, (left, right) = new_figure(ncols=2)
    c, n = np.array(chosen["budget_flops"]), np.array(chosen["n_opt_parameters"], float)
    slope = chosen["n_opt_slope"]
    left.plot(c, n, "o", color=PALETTE["black"], label=f"selection seeds (slope {slope:.2f})")
    left.plot(
        c,
        again["n_opt_parameters"],
        "x",
        color=PALETTE["sky"],
        label=f"evaluation seeds (slope {again['n_opt_slope']:.2f})",
    )
    x = np.log(c)
    if np.isfinite(slope):
        b = np.mean(np.log(n)) - slope * np.mean(x)
        left.plot(c, np.exp(b + slope * x), color=PALETTE["black"], lw=1, label="fitted power law")
    kaplan = np.exp(np.mean(np.log(n)) + KAPLAN_SLOPE * (x - np.mean(x)))
    left.plot(c, kaplan, ls=":", color=PALETTE["orange"], label=f"Kaplan's slope {KAPLAN_SLOPE}")
    left.axvline(chosen["matched_budget_flops"], color=PALETTE["purple"], ls="--", lw=1)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("training compute budget C (FLOPs, log scale)")
    left.set_ylabel("compute-optimal size N_opt (weights, log scale)")
    left.set_title(f"Compute-optimal size: slope {slope:.2f} (Kaplan et al. {KAPLAN_SLOPE})")
    left.legend(fontsize=6)
    arms = [a for a in (SMALLER, BIGGER, WIDEST) if select(run.rows, arm=a)]
    if arms:
        _, _, per_seed = matrix(run.rows, "test_loss", "arm")
        order = sorted({r["arm"] for r in run.rows})
        per_seed = per_seed[:, [order.index(a) for a in arms]]
        for row in per_seed:
            right.plot(range(len(arms)), row, color=PALETTE["black"], alpha=0.25, lw=0.8)
        for i, arm in enumerate(arms):
            ci_errorbar(right, [i], per_seed[:, [i]], ARM_COLORS[arm], arm, log=True)
        r = {a: select(run.rows, arm=a)[0] for a in arms}
        ticks = [f"{a}\n{r[a]['width']} wide\n{epochs_text(r[a]['epoch'])}" for a in arms]
        right.set_xticks(range(len(arms)), ticks, fontsize=8)
        right.set_xlim(-0.5, len(arms) - 0.5)
        right.set_yscale("log")
    right.set_ylabel("test loss (cross-entropy, log scale)")
    right.set_title(f"At matched FLOPs, per evaluation seed ({verdict.verdict})")
    caption = (
        "Left: the compute-optimal model size N_opt (weights of the configuration with the "
        "lowest mean log test loss among those costing at most C) at the frontier's budgets, "
        "picked on selection seeds (black) and again on evaluation seeds' means (blue "
        "crosses), with the fitted power law and Kaplan et al.'s slope 0.73 through the same "
        "centre (dotted), after their Figure 14; dashed: the matched budget. Right: at that "
        "budget, each evaluation seed's test loss for the smaller model trained for every "
        "epoch, the bigger one picked on selection seeds and the widest affordable (grey "
        "lines join a seed's arms; mean and 95% CI in colour)."
    )
    return fig, caption


def plot_matched(run):
    """Each width's test loss against FLOPs, the matched budget, and the three arms on it."""
    fig, ax = new_figure(size=(6.4, 4.8))
    grid_rows = select(run.others["frontier"].rows, kind="config")
    for color, width in zip(CYCLE, sorted({r["width"] for r in grid_rows})):
        flops, _, per_seed = matrix(select(grid_rows, width=width), "test_loss", "flops")
        ci_band(ax, flops, per_seed, color, f"width {width}", marker=None, lw=1.2)
    ax.axvline(run.chosen["matched_budget_flops"], color=PALETTE["purple"], ls="--", lw=1)
    for arm in (a for a in ARMS if select(run.rows, arm=a)):
        flops, _, per_seed = matrix(run.rows, "test_loss", "flops", arm=arm)
        ci_errorbar(ax, flops, per_seed, PALETTE["black"], None, marker="s", log=True)
        ax.annotate(
            arm,
            (flops[0], np.nanmean(per_seed)),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute (FLOPs, log scale)")
    ax.set_ylabel("test loss (cross-entropy, log scale)")
    ax.set_title("Which width is lowest at the matched budget (dashed)")
    ax.legend(fontsize=6, ncol=2)
    caption = (
        "Test loss of every width against the training FLOPs spent so far (mean over "
        "evaluation seeds, 95% CI bands); dashed: the matched budget (the narrowest width "
        "trained for every epoch); black squares: the arms the trade-off compares there "
        "(mean and 95% CI over evaluation seeds)."
    )
    return fig, caption
