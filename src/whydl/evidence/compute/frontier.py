"""The compute frontier: MLPs of several widths trained on digits, test loss after every
epoch against the training FLOPs spent so far (`whydl.analysis.flops`).

Protocol: the frontier (at each of N_BUDGETS log-spaced budgets, the (width, epoch) with
the lowest mean log test loss among those that cost at most the budget) is picked on
*selection seeds*; the rule (`frontier_rule`) measures its slope on *evaluation seeds*.
Every seed, of either set, has its own initialisation and its own stratified train/test
split of digits (`per_seed_data`), so the CI holds the luck of the split too. Evaluation
fits record `EpochSeconds` for the time to a target accuracy (`time_to_target`), on one
thread like the old claim's frontier.
"""

from __future__ import annotations

import functools

import numpy as np

from whydl.analysis.flops import forward_flops, training_flops
from whydl.config import ModelConfig, TrainConfig
from whydl.engine.device import torch_threads
from whydl.engine.recorders import EpochSeconds
from whydl.errors import DivergedError
from whydl.evidence.calls import TrainCall
from whydl.evidence.compute.frontier_rule import (
    DIGITS_SHAPE,
    N_BUDGETS,
    FrontierRule,
    affordable,
    budgets,
    column_means,
    frontier_indices,
    frontier_row,
)
from whydl.evidence.compute.timing import DATASET, LR, epoch_seconds
from whydl.evidence.experiment import Experiment
from whydl.evidence.protocol import check_calls, per_seed_data
from whydl.evidence.rows import matrix, select
from whydl.plots.bands import ci_band, ci_errorbar
from whydl.plots.style import CYCLE, PALETTE, new_figure

BATCH = 64


@functools.lru_cache(maxsize=2)
def seed_data(seeds: tuple):
    """Every seed's own split of digits, pooled (kept: selection, training and rows share
    it)."""
    data = per_seed_data(DATASET, seeds)
    if (data.pool.n_features, data.pool.n_outputs) != DIGITS_SHAPE:
        raise ValueError(
            f"{DATASET} has shape {(data.pool.n_features, data.pool.n_outputs)}; the frontier "
            f"rule's simulator assumes {DIGITS_SHAPE}: update DIGITS_SHAPE."
        )
    return data


def grid(widths, epochs: int, data) -> list[tuple[int, int, int]]:
    """(width, epoch, training FLOPs) of every configuration, sorted by FLOPs."""
    n_train = data.train_rows.shape[1]  # one seed's training rows
    pool = data.pool
    out = []
    for w in widths:
        per_sample = forward_flops(ModelConfig(hidden=(w, w)), pool.n_features, pool.n_outputs)
        out += [(w, e, training_flops(per_sample, n_train, e)) for e in range(1, epochs + 1)]
    return sorted(out, key=lambda g: g[2])


def log_losses(fit, epochs: int, n_members: int) -> np.ndarray:
    """(members, epochs) log test loss of a fit; NaN for a call that diverged."""
    if isinstance(fit, DivergedError):
        return np.full((n_members, epochs), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(fit.history.val_loss)


class Frontier(Experiment):
    name = "frontier"
    selects = True

    def __init__(self, params: dict):
        self.rule = FrontierRule(params["widths"], params["frontier_epochs"])

    def _calls(self, params, seeds, role: str, recorders=()) -> dict:
        data = seed_data(tuple(seeds))
        train = TrainConfig(
            lr=LR,
            batch_size=BATCH,
            epochs=params["frontier_epochs"],
            seed=seeds[0],
            n_seeds=len(seeds),
        )
        return {
            w: TrainCall(
                data.pool,
                ModelConfig(hidden=(w, w)),
                train,
                tag=f"frontier {role} width {w}",
                hooks=data.hooks,
                recorders=recorders,
            )
            for w in params["widths"]
        }

    def selection_calls(self, params, seeds):
        return self._calls(params, seeds, "selection")

    def select(self, ctx, params, seeds):
        """The selection fits on one thread too: on a busy machine a second thread mostly
        waits (see `threads`), and the old claim's frontier trained on one."""
        calls = self.selection_calls(params, seeds)
        check_calls(self.name, calls, seeds, "selection")
        with torch_threads(1):
            return self.choose(params, ctx.fit_many(calls, errors="return"))

    def choose(self, params, fits):
        """The frontier on the selection seeds: per budget, the configuration with the
        lowest mean log test loss among those it affords."""
        seeds = next((f.seeds for f in fits.values() if not isinstance(f, DivergedError)), None)
        if seeds is None:  # every selection fit diverged: nothing to pick from
            return {"budget_flops": [], "widths": [], "epochs": []}
        epochs = params["frontier_epochs"]
        configs = grid(params["widths"], epochs, seed_data(tuple(seeds)))
        means = {w: column_means(log_losses(f, epochs, len(seeds))) for w, f in fits.items()}
        values = np.array([[means[w][e - 1] for w, e, _ in configs]])  # (1, configs)
        flops = np.array([f for *_, f in configs], dtype=float)
        picked = frontier_indices(affordable(flops), values)[0]
        return {
            "budget_flops": [float(b) for b in budgets(flops)],
            "widths": [configs[j][0] for j in picked],
            "epochs": [configs[j][1] for j in picked],
        }

    def train(self, ctx, params, seeds, chosen):
        """The evaluation fits, timed, on one thread (threading does not mix in)."""
        calls = self._calls(params, seeds, "evaluation", recorders=(EpochSeconds(),))
        check_calls(self.name, calls, seeds, "evaluation")
        with torch_threads(1):
            return ctx.fit_many(calls, errors="return")

    def rows(self, run):
        """One row per evaluation seed and configuration ("config"), and one per evaluation
        seed and budget for the frontier picked on the selection seeds ("frontier")."""
        seeds, epochs = run.plan.evaluation, run.params["frontier_epochs"]
        configs = grid(run.params["widths"], epochs, seed_data(tuple(seeds)))
        loss = {w: np.exp(log_losses(f, epochs, len(seeds))) for w, f in run.fits.items()}
        out = []
        for w, fit in run.fits.items():
            if isinstance(fit, DivergedError):
                continue
            stamps, accuracy = epoch_seconds(fit), fit.history.val_metric
            for m, seed in enumerate(seeds):
                out += [
                    {
                        "kind": "config",
                        "seed": seed,
                        "width": w,
                        "epoch": e,
                        "flops": f,
                        "seconds": float(stamps[e - 1]),
                        "test_loss": float(loss[w][m, e - 1]),
                        "test_accuracy": float(accuracy[m, e - 1]),
                    }
                    for ww, e, f in configs
                    if ww == w
                ]
        flops = {(w, e): f for w, e, f in configs}
        chosen = run.chosen
        for k, (budget, w, e) in enumerate(
            zip(chosen["budget_flops"], chosen["widths"], chosen["epochs"])
        ):
            out += [
                frontier_row(seed, k, budget, w, e, flops[w, e], loss[w][m, e - 1])
                for m, seed in enumerate(seeds)
            ]
        return out

    def figures(self, run):
        return {"frontier": plot_frontier(run.rows, run.verdict)}

    def notes(self, run):
        chosen, v = run.chosen, run.verdict.numbers
        widths, epochs = chosen["widths"], chosen["epochs"]
        if not widths:
            return ["Every selection fit diverged: no frontier was picked."]
        path = " -> ".join(f"{w} ({e} ep.)" for w, e in dict.fromkeys(zip(widths, epochs)))
        grows = widths[-1] > widths[0] and all(b >= a for a, b in zip(widths, widths[1:]))
        notes = [
            "FLOPs are counted from layer shapes (2 per multiply-add, training = 3 x forward "
            "x samples x epochs; biases and activations left out), as Kaplan et al. do; the "
            "frontier is read from every epoch of every width, so longer training and larger "
            "models compete for the same budget.",
            f"The frontier was picked on {len(run.plan.selection)} selection seeds and "
            f"measured on {len(run.plan.evaluation)} evaluation seeds, each seed with its own "
            "initialisation and its own stratified split of digits. The compute-optimal "
            f"width at increasing budgets: {path}."
            + (
                " It grows with the budget, as Kaplan et al. find: small networks are the best "
                "use of little compute, wide ones of much."
                if grows
                else " It does not grow steadily with the budget as Kaplan et al. find; at "
                "our scale digits saturates early and noise reorders close configurations."
            ),
        ]
        if "fall_ci_low" in v:
            notes.append(
                f"Frontier slope {v['slope']:.2f}; its 95% CI over seeds alone would be "
                f"{v['slope_seed_ci_low']:.2f} to {v['slope_seed_ci_high']:.2f}, but a "
                "configuration's own luck is shared by all its seeds and a larger budget "
                "picks the best of more configurations, so the rule's CI "
                f"({v['slope_ci_low']:.2f} to {v['slope_ci_high']:.2f}) comes from "
                f"{v['n_permutations']} permutations of configurations instead."
            )
        return notes


def plot_frontier(rows, verdict):
    """Each width's test loss against FLOPs, the envelope, and the chosen frontier."""
    fig, ax = new_figure(size=(6.4, 4.8))
    grid_rows = select(rows, kind="config")
    for color, width in zip(CYCLE, sorted({r["width"] for r in grid_rows})):
        mine = select(grid_rows, width=width)
        flops, _, per_seed = matrix(mine, "test_loss", "flops")
        ci_band(ax, flops, per_seed, color, f"width {width}", marker=None, lw=1.2)
    flops, _, per_seed = matrix(grid_rows, "test_loss", "flops")
    envelope = np.minimum.accumulate(np.nanmean(per_seed, axis=0))
    label = "lower envelope of the means"
    ax.step(flops, envelope, where="post", color=PALETTE["black"], lw=1, ls="--", label=label)
    front = select(rows, kind="frontier")
    if front:
        budgets_, _, at_frontier = matrix(front, "test_loss", "budget_flops")
        label = "frontier (picked on selection seeds), 95% CI"
        ci_errorbar(ax, budgets_, at_frontier, PALETTE["black"], label, log=True)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute (FLOPs, log scale)")
    ax.set_ylabel("test loss (cross-entropy, log scale)")
    ax.set_title(f"More compute, lower test loss along the frontier ({verdict.verdict})")
    ax.legend(fontsize=6, ncol=2)
    caption = (
        "Test loss after every epoch of MLPs of several widths on digits against the training "
        "FLOPs spent so far (mean over evaluation seeds, 95% CI bands). Black points: the "
        f"frontier at {N_BUDGETS} log-spaced budgets (the configuration picked on selection "
        "seeds, measured on evaluation seeds, placed at its budget); dashed: the lower "
        "envelope of the evaluation means, for reference."
    )
    return fig, caption
