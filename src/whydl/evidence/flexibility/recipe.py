"""Part 1, "one recipe": the same deep recipe against a linear model on nine tasks.

The recipe is a ReLU MLP 64-64 (the small CNN on digits, too) trained with Adam at whydl's
defaults, unchanged on every task; the linear model is the engine's MLP with no hidden layer
(logistic, softmax or least-squares regression), trained the same way on the same seeds.
Every evaluation seed draws its own data (generated sets) or its own stratified split
(bundled sets), shared by both models of that seed, so each task is compared paired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from matplotlib.ticker import FormatStrFormatter

from whydl.config import ModelConfig, TrainConfig
from whydl.errors import DivergedError
from whydl.evidence.calls import TrainCall
from whydl.evidence.decide import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.experiment import Experiment
from whydl.evidence.flexibility.recipe_rule import (
    CLEAR_WIN,
    MATCH_MARGIN,
    MATCH_MINIMUM,
    RecipeRule,
)
from whydl.evidence.protocol import per_seed_data
from whydl.evidence.rows import by_seed
from whydl.plots.bands import mean_and_ci
from whydl.plots.style import PALETTE, new_figure

DEEP = ModelConfig(hidden=(64, 64))  # the recipe's network
LINEAR = ModelConfig(hidden=())  # no hidden layer: a linear model
CNN = ModelConfig(architecture="cnn")
DEEP_MODEL, LINEAR_MODEL = "deep", "linear"
VERDICT_COLORS = {
    SUPPORTED: PALETTE["blue"],
    NOT_SUPPORTED: PALETTE["vermillion"],
    INCONCLUSIVE: "grey",
}
DIFFERENCE_TICKS = (-0.02, -0.01, 0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


@dataclass(frozen=True)
class Task:
    """One task of the recipe: a dataset (with extra `load_dataset` arguments), whether it
    is nonlinear (fixed in advance) and the deep model that the recipe trains on it."""

    name: str
    dataset: str
    nonlinear: bool
    deep: ModelConfig = DEEP
    load: dict = field(default_factory=dict)


TASKS = (
    Task("moons", "moons", True),
    Task("circles", "circles", True),
    Task("xor", "xor", True),
    Task("spiral (3 arms)", "spiral", True, load={"n_classes": 3}),
    Task("sine", "sine", True),
    Task("digits (MLP)", "digits", False),
    Task("digits (CNN)", "digits", False, deep=CNN),
    Task("breast_cancer", "breast_cancer", False),
    Task("wine", "wine", False),
)


@lru_cache(maxsize=32)
def task_data(dataset: str, seeds: tuple, n_samples: int, load: tuple = ()):
    """Every seed's own draw or split of `dataset`, pooled (`protocol.per_seed_data`);
    cached, so the calls and the rows of one run build it once."""
    return per_seed_data(dataset, seeds, n_samples=n_samples, **dict(load))


def recipe_train(params: dict, seeds) -> TrainConfig:
    """The one recipe's training settings, for members `seeds` (consecutive)."""
    seeds = tuple(seeds)
    if seeds != tuple(range(seeds[0], seeds[0] + len(seeds))):
        raise ValueError(f"seeds {seeds} are not consecutive; one engine call trains them.")
    return TrainConfig(seed=seeds[0], n_seeds=len(seeds), epochs=params["epochs"])


def final(fit, column: str, n: int) -> np.ndarray:
    """The last epoch's value of `history.<column>` for each of `n` members, NaN where one
    diverged (and for all when the whole call did: `fit` is then its DivergedError)."""
    if isinstance(fit, DivergedError):
        return np.full(n, np.nan)
    return np.where(fit.ok, getattr(fit.history, column)[:, -1], np.nan)


class RecipeExperiment(Experiment):
    name = "one recipe"
    deciding = False  # issue 16: "best classical" decides; a linear baseline is a straw man
    rule = RecipeRule([(t.name, t.nonlinear) for t in TASKS])

    def _data(self, task: Task, params: dict, seeds):
        return task_data(task.dataset, tuple(seeds), params["n_samples"], _key(task.load))

    def calls(self, params, seeds, chosen):
        train = recipe_train(params, seeds)
        calls = {}
        for task in TASKS:
            sd = self._data(task, params, seeds)
            tag = f"flexibility {task.dataset}: linear"
            calls.setdefault(
                (LINEAR_MODEL, task.dataset), TrainCall(sd.pool, LINEAR, train, tag, sd.hooks)
            )
            tag = f"flexibility {task.name}: deep"
            calls[DEEP_MODEL, task.name] = TrainCall(sd.pool, task.deep, train, tag, sd.hooks)
        return calls

    def rows(self, run):
        seeds = run.plan.evaluation
        rows = []
        for task in TASKS:
            regression = self._data(task, run.params, seeds).pool.task == "regression"
            fits = {
                DEEP_MODEL: run.fits[DEEP_MODEL, task.name],
                LINEAR_MODEL: run.fits[LINEAR_MODEL, task.dataset],
            }
            for model, fit in fits.items():
                values = final(fit, "val_metric", len(seeds))
                rows += [
                    {"task": task.name, "model": model, "nonlinear": task.nonlinear}
                    | {"metric": "r2" if regression else "accuracy", "seed": s}
                    | {"test_metric": round(float(v), 6)}
                    for s, v in zip(seeds, values)
                ]
        return rows

    def figures(self, run):
        return {"flexibility_tasks": tasks_figure(run)}

    def notes(self, run):
        notes = []
        for task, t in run.verdict.numbers["tasks"].items():
            if t["verdict"] == SUPPORTED:
                continue
            test = (
                f"a clear win needs CLEAR_WIN={CLEAR_WIN:g}"
                if t["nonlinear"]
                else f"a match allows trailing by under MATCH_MARGIN={MATCH_MARGIN:g}"
            )
            notes.append(
                f"{task}: deep {t['deep_mean']:.3f} against linear {t['comparator_mean']:.3f}; "
                f"paired difference {t['difference']:+.3f} (95% CI {t['difference_ci_low']:+.3f}"
                f" to {t['difference_ci_high']:+.3f}, {t['n']} seeds): {t['verdict']} ({test})."
            )
        notes.append(
            "The linear baseline is the engine's MLP with no hidden layer, trained with the "
            "same Adam recipe, seeds and data draws (logistic, softmax or least-squares "
            "regression), not sklearn's solvers: the comparison then differs only in the "
            "hidden layers. Each evaluation seed has its own data draw (generated sets) or "
            "stratified split (bundled sets), shared by the two models of that seed."
        )
        return notes


def _key(load: dict) -> tuple:
    return tuple(sorted(load.items()))


def tasks_figure(run):
    """Scores of both models per task, and the paired differences against the thresholds."""
    rows, tasks = run.rows, run.verdict.numbers["tasks"]
    names = [t.name for t in TASKS]
    x = np.arange(len(names))
    fig, (ax, ax_diff) = new_figure(2, size=(5.6, 4.8))
    for offset, model, color, label in (
        (-0.2, DEEP_MODEL, PALETTE["blue"], "deep recipe (MLP 64-64, or the CNN)"),
        (0.2, LINEAR_MODEL, PALETTE["orange"], "linear model, same training"),
    ):
        per_seed = np.array(
            [list(by_seed(rows, "test_metric", task=t, model=model).values()) for t in names]
        ).T  # (seeds, tasks)
        mean, low, high = mean_and_ci(per_seed)
        ax.bar(x + offset, mean, 0.4, color=color, label=label)
        ax.errorbar(x + offset, mean, yerr=[mean - low, high - mean], fmt="none", ecolor="k")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test accuracy (fraction); R² for sine")
    ax.set_title("scores: mean and 95% CI over seeds", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    for a in (ax, ax_diff):
        a.set_xticks(x)
        a.set_xticklabels(names, fontsize=7, rotation=30, ha="right")
        a.grid(axis="y", alpha=0.3)
    ax_diff.axhline(0, color="k", linewidth=0.8)
    for i, t in enumerate(names):
        d = tasks[t]
        err = [
            [d["difference"] - d["difference_ci_low"]],
            [d["difference_ci_high"] - d["difference"]],
        ]
        color = VERDICT_COLORS[d["verdict"]]
        ax_diff.errorbar(x[i], d["difference"], yerr=err, fmt="o", color=color, capsize=3)
    for verdict, color in VERDICT_COLORS.items():
        ax_diff.plot([], [], "o", color=color, label=f"task {verdict}")
    spans = {
        kind: (min(i) - 0.4, max(i) + 0.4)
        for kind, i in (
            (True, [i for i, t in enumerate(names) if tasks[t]["nonlinear"]]),
            (False, [i for i, t in enumerate(names) if not tasks[t]["nonlinear"]]),
        )
    }
    for kind, level, style, label in (
        (True, CLEAR_WIN, "--", f"not supported below: CLEAR_WIN = {CLEAR_WIN:g}"),
        (False, -MATCH_MARGIN, ":", f"supported above: -MATCH_MARGIN = -{MATCH_MARGIN:g}"),
        (
            False,
            MATCH_MINIMUM - MATCH_MARGIN,
            "--",
            f"not supported below: MATCH_MINIMUM - MATCH_MARGIN = {MATCH_MINIMUM - MATCH_MARGIN:g}",
        ),
    ):
        ax_diff.hlines(level, *spans[kind], colors="grey", linestyles=style, label=label)
    ax_diff.set_yscale("symlog", linthresh=0.05, linscale=2.0)
    ax_diff.set_yticks(DIFFERENCE_TICKS)
    ax_diff.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax_diff.set_ylabel("deep - linear, paired per seed (accuracy; R²; symlog scale)")
    ax_diff.set_title("paired difference with its 95% CI: nonlinear left, linear right", fontsize=9)
    ax_diff.legend(fontsize=6, loc="center left")  # the empty band between 0.02 and 0.05
    fig.subplots_adjust(top=0.84)
    fig.suptitle(
        "One recipe, nine tasks: the deep recipe wins clearly where the task is nonlinear and "
        f"matches the linear model elsewhere?\n{len(run.plan.evaluation)} evaluation seeds, "
        "each its own data draw or split",
        fontsize=10,
    )
    caption = (
        "Left: test accuracy (R² for sine) of the deep recipe (blue) and the linear model "
        "(orange), mean and 95% CI over seeds. Right: the per-seed paired difference with its "
        "95% CI, coloured by the task's own verdict. A nonlinear task (left five) is not "
        f"supported when the CI lies below CLEAR_WIN={CLEAR_WIN:g}, else supported when it "
        "lies above 0; a linear task (right four) is not supported when the CI lies below "
        f"{MATCH_MINIMUM - MATCH_MARGIN:g}, else supported when it lies above "
        f"-MATCH_MARGIN=-{MATCH_MARGIN:g}. The part needs every task (Holm for 'not supported')."
    )
    return fig, caption
