"""Batch norm (Ioffe & Szegedy 2015): a 3 x 100 sigmoid MLP on digits with and without batch
norm, each at its own learning rate, races to a target test accuracy.

Protocol: each arm's learning rate is chosen from `bn_lrs` on the selection seeds (their
own initialisations and digits splits): the fewest steps to the target, ties to the higher
final test accuracy. The evaluation seeds then train each arm once, at its chosen rate, on
their own splits, and the rule compares the two arms' steps seed by seed. The selection runs
also record one sigmoid's input over training (Ioffe & Szegedy's Figure 1) for the figure.
"""

from __future__ import annotations

import math

import numpy as np

from whydl.analysis.gradients import UnitInputs, activation_inputs
from whydl.config import ModelConfig, TrainConfig
from whydl.engine import build_members
from whydl.evidence.calibration import CLEAR, MINIMUM, NULL
from whydl.evidence.calls import TrainCall
from whydl.evidence.experiment import Experiment
from whydl.evidence.innovations import tuning
from whydl.evidence.innovations.common import digits
from whydl.evidence.rows import by_seed, select
from whydl.plots.bands import ci_band, ci_errorbar
from whydl.plots.style import PALETTE, new_figure

PRESETS = {
    "quick": {
        "bn_hidden": (32, 32, 32),
        "bn_lrs": (0.3,),
        "bn_train": 320,
        "bn_epochs_plain": 2,
        "bn_epochs_bn": 2,  # equal budgets (issue 16)
        "bn_max_extensions": 0,
        "bn_batch_size": 64,
    },
    "full": {
        "bn_hidden": (100, 100, 100),
        "bn_lrs": (0.1, 0.3, 1.0),
        "bn_train": 0,  # 0: each seed's whole training split (1,257 digits)
        "bn_epochs_plain": 15,
        "bn_epochs_bn": 15,  # equal budgets (issue 16): both arms the same epochs
        "bn_max_extensions": 3,  # grid points added beyond an edge, per arm, at most
        "bn_batch_size": 64,
    },
}

PLAIN, WITH_BN = "without BN", "with BN"
ARMS = (PLAIN, WITH_BN)
TARGET_ACCURACY = 0.9  # the race's finish line: test accuracy on digits
MIN_SPEEDUP_REASON = (
    "a 1.5x speed-up (ln 1.5 = 0.405) is the smallest worth the name of batch norm's landmark "
    "effect: Ioffe & Szegedy's smallest reported gain was 2.3x, and counted in whole epochs "
    "one epoch more or less of five already moves a step count by 1.2x"
)
WATCHED_ROWS = 256  # the watched sigmoid's input: over the first selection seed's first rows

# the simulator's noise, in ln(steps): a seed's own luck (the full run's 10 seeds: a per-seed
# ln speed-up of sd 0.26, so 0.18 per arm), its data draw shared by both arms, and each
# (arm, lr) configuration's own luck, shared by all its seeds
SIMULATED_NOISE = tuning.RaceNoise(seed_sd=0.18, shared_sd=0.10, config_sd=0.05, curvature=0.3)
SIMULATED_STEPS = {  # condition -> true steps at each arm's best rate
    NULL: {PLAIN: 120.0, WITH_BN: 120.0},
    MINIMUM: {PLAIN: 120.0, WITH_BN: 120.0 / tuning.MIN_SPEEDUP},
    CLEAR: {PLAIN: 240.0, WITH_BN: 80.0},  # 3x: twice the minimum's log (the old run: 13x)
}


def race(params: dict) -> tuning.Race:
    """The batch-norm race of these settings: test accuracy to TARGET_ACCURACY."""
    per_epoch = tuning.steps_per_epoch(
        tuning.digits_train_size(params["bn_train"]), params["bn_batch_size"]
    )
    epochs = {PLAIN: params["bn_epochs_plain"], WITH_BN: params["bn_epochs_bn"]}
    return tuning.Race("val_metric", TARGET_ACCURACY, False, per_epoch, epochs)


class BatchNormRule(tuning.RaceRule):
    """Speed-up = steps to the target without BN / with BN, each arm at its chosen rate,
    paired by evaluation seed; decided on the bounds of its log (`tuning.speedup`).

    `verdict.numbers`: `log_speedup`, `log_speedup_ci_low`, `log_speedup_ci_high`,
    `log_speedup_n`, `log_speedup_paired` (ln of the counted speed-up, mean over seeds and
    its CI); `log_speedup_low_ci_low` (what "supported" needs above 0) and
    `log_speedup_high_ci_high` (what "not supported" needs below ln 1.5; None where open);
    `speedup`, `speedup_ci_low`, `speedup_ci_high` (the same as ratios: geometric mean);
    `steps_without_bn`, `steps_with_bn` (geometric mean steps); `lr_without_bn`,
    `lr_with_bn` (the chosen rates); `reached_without_bn`, `reached_with_bn` (seeds that
    reached the target within their budget)."""

    name = "batch_norm"
    hypothesis = "Batch norm reaches the same accuracy in fewer steps, at its best learning rate."
    minimum_effect_reason = MIN_SPEEDUP_REASON

    def text(self) -> str:
        return (
            f"Speed-up = steps to TARGET_ACCURACY={TARGET_ACCURACY:g} test accuracy without "
            "BN / with BN, each arm at its learning rate chosen on the selection seeds, paired "
            "by evaluation seed (its own init and digits split). Steps count whole epochs, so "
            "a run's true steps lie within the epoch it is counted at; a run that never "
            "reaches the target took more than its budget. Supported when the 95% CI of the "
            "mean over seeds of the LOWEST ln(speed-up) these bounds allow lies above 0; not "
            "supported when that of the HIGHEST lies below ln(MIN_SPEEDUP="
            f"{tuning.MIN_SPEEDUP:g}); otherwise inconclusive (also with fewer than MIN_SEEDS "
            "seeds, or where a bound is open: a run cut off, or one done in its first epoch)."
        )

    def decide(self, rows):
        effect = tuning.speedup(rows, PLAIN, WITH_BN)
        numbers = effect.numbers("log_speedup")
        for arm, key in ((PLAIN, "without_bn"), (WITH_BN, "with_bn")):
            mine = select(rows, arm=arm)
            numbers[f"steps_{key}"] = tuning.geometric_mean(by_seed(mine, "steps").values())
            numbers[f"lr_{key}"] = mine[0]["lr"] if mine else math.nan
            numbers[f"reached_{key}"] = sum(bool(r["reached"]) for r in mine)
        verdict = effect.verdict(self.minimum_effect)
        return self.verdict(verdict, numbers, effect.counted.n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        log_steps = {arm: math.log(s) for arm, s in SIMULATED_STEPS[condition].items()}
        full = PRESETS["full"]
        return tuning.simulate_race(
            rng, race(full), log_steps, full["bn_lrs"], SIMULATED_NOISE, n_evaluation, n_selection
        )


def _model(params, arm: str) -> ModelConfig:
    hidden = tuple(params["bn_hidden"])
    return ModelConfig(
        hidden=hidden, activation="sigmoid", init="xavier", batch_norm=arm == WITH_BN
    )


def _calls(params, seeds, lrs: dict, recorders=()) -> dict:
    """(arm, lr) -> a TrainCall of all `seeds`, each on its own digits split."""
    data = digits(seeds, params["bn_train"], monitor=None)
    epochs = race(params).epochs
    return {
        (arm, lr): TrainCall(
            data.pool,
            _model(params, arm),
            TrainConfig(
                optimizer="momentum",
                lr=lr,
                batch_size=params["bn_batch_size"],
                epochs=epochs[arm],
                seed=seeds[0],
                n_seeds=len(seeds),
            ),
            f"batch norm {arm} lr={lr:g} seeds {seeds[0]}+",
            hooks=data.hooks,
            recorders=recorders,
        )
        for arm in ARMS
        for lr in lrs[arm]
    }


# a typical sigmoid's input (unit 0 of the last hidden layer) after every epoch, as in Ioffe &
# Szegedy's Figure 1; the figure shows the first selection seed's
WATCH = UnitInputs(layer=-1, unit=0, percentiles=(15, 50, 85), rows=WATCHED_ROWS, split="test")


def _extend(grid, best) -> tuple:
    """The grid with one more point beyond the edge `best` sits at (unchanged if interior)."""
    grid = sorted(grid)
    if best == grid[-1]:
        return (*grid, float(f"{grid[-1] ** 2 / grid[-2]:.3g}"))
    if best == grid[0]:
        return (float(f"{grid[0] ** 2 / grid[1]:.3g}"), *grid)
    return tuple(grid)


class BatchNormExperiment(Experiment):
    name = "batch_norm"
    rule = BatchNormRule()
    selects = True

    def select(self, ctx, params, seeds):
        """Each arm's rate on the selection seeds; while an arm's best rate sits at an edge
        of its grid, extend the grid one step beyond that edge (the grid's own ratio), up to
        `bn_max_extensions` times per arm; `chosen["cap_hit"]` lists arms still at an edge."""
        grids = dict.fromkeys(ARMS, tuple(params["bn_lrs"]))
        fits: dict = {}
        for extension in range(params["bn_max_extensions"] + 1):
            todo = {arm: tuple(lr for lr in g if (arm, lr) not in fits) for arm, g in grids.items()}
            calls = _calls(params, seeds, todo, recorders=(WATCH,))
            fits |= ctx.fit_many(calls, errors="return")
            chosen = race(params).choose(fits, grids, len(seeds))
            last = extension == params["bn_max_extensions"]
            if last or not chosen["at_grid_edge"] or len(grids[ARMS[0]]) < 2:
                break
            grids = {arm: _extend(g, chosen["lr"][arm]) for arm, g in grids.items()}
        self.selection_fits_ = fits  # for the figure: the frame keeps no staged fits
        chosen["grids"] = {arm: [float(lr) for lr in g] for arm, g in grids.items()}
        chosen["cap_hit"] = list(chosen["at_grid_edge"])
        return chosen

    def calls(self, params, seeds, chosen):
        return _calls(params, seeds, {arm: (chosen["lr"][arm],) for arm in ARMS})

    def rows(self, run):
        r, seeds = race(run.params), run.plan.evaluation
        return [row for (arm, lr), fit in run.fits.items() for row in r.rows(fit, arm, lr, seeds)]

    def figures(self, run):
        return {"batch_norm": _figure(run)}

    def notes(self, run):
        v, chosen, r = run.verdict.numbers, run.chosen, race(run.params)
        notes = [
            f"Batch norm: {v['speedup']:.1f}x fewer steps to {TARGET_ACCURACY:g} test accuracy, "
            "as counted "
            f"(95% CI {v['speedup_ci_low']:.1f}-{v['speedup_ci_high']:.1f}x over "
            f"{v['log_speedup_n']} evaluation seeds, each with its own digits split), at "
            f"learning rates chosen on the selection seeds: {chosen['lr'][WITH_BN]:g} with BN, "
            f"{chosen['lr'][PLAIN]:g} without; {v['reached_without_bn']}/{v['log_speedup_n']} "
            f"runs without BN and {v['reached_with_bn']}/{v['log_speedup_n']} with it reached "
            f"the target within their budgets (a run cut off counts as its budget plus one "
            "epoch, so the counted factor understates the speed-up where runs without BN were "
            "cut off and overstates it where runs with BN were; the rule decides on the "
            f"bounds). Steps are counted in whole epochs of {r.per_epoch} steps, so BN's "
            "count is coarse. Ioffe & Szegedy's 14x is for Inception on ImageNet; the shape "
            "(a large factor) is what carries over."
        ]
        if chosen["cap_hit"]:
            notes.append(
                f"The cap was hit: the chosen learning rate of {', '.join(chosen['cap_hit'])} "
                f"still sits at the edge of its grid {chosen['grids']} after "
                f"{run.params['bn_max_extensions']} extensions; a wider grid might move it."
            )
        else:
            notes.append(
                f"Both arms' chosen rates are interior to their grids {chosen['grids']} "
                "(each extended on the selection seeds while its best rate sat at an edge)."
            )
        return notes


def _watched(run, arm: str, lr: float) -> np.ndarray:
    """(1 + epochs, 3) percentiles of the watched sigmoid's input, at init and after every
    epoch, for the first selection seed's run of `arm` at `lr`."""
    seed, params = run.plan.selection[0], run.params
    pool = digits((seed,), params["bn_train"], monitor=None).pool
    first = build_members(pool, _model(params, arm), [seed])[0]
    unit = activation_inputs(first, pool.X_test[:WATCHED_ROWS])[WATCH.layer][:, WATCH.unit]
    fits = _selection_fits(run)
    fit = fits.get((arm, lr)) or fits[arm, run.chosen["lr"][arm]]  # grids may differ
    trained = fit.records[WATCH.name][0] if hasattr(fit, "records") else np.empty((0, 3))
    return np.vstack([np.percentile(unit, WATCH.percentiles), trained])


def _selection_fits(run) -> dict:
    return run.selection_fits or getattr(run.experiment, "selection_fits_", {})


def _figure(run):
    p, r, v = run.params, race(run.params), run.verdict.numbers
    colors = {PLAIN: PALETTE["vermillion"], WITH_BN: PALETTE["blue"]}
    n_selection = len(run.plan.selection)
    fig, axes = new_figure(ncols=3, size=(4.6, 4.2))
    for arm in ARMS:
        grid = run.chosen["grids"][arm]
        fits = _selection_fits(run)
        steps = np.array([r.steps(fits[arm, lr], arm, n_selection)[0] for lr in grid])
        ci_errorbar(axes[0], grid, steps.T, colors[arm], arm, log=True)
        lr = run.chosen["lr"][arm]
        curve = r.curves(run.fits[arm, lr], arm, len(run.plan.evaluation))
        x = np.arange(1, curve.shape[1] + 1) * r.per_epoch
        ci_band(axes[1], x, curve, colors[arm], f"{arm}, lr {lr:g}")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("learning rate (log scale)")
    axes[0].set_ylabel(f"steps to {TARGET_ACCURACY:g} test accuracy (log scale)")
    axes[0].set_title(f"tuning, on {n_selection} selection seeds", fontsize=8)
    axes[1].axhline(TARGET_ACCURACY, color="grey", linestyle=":", linewidth=1)
    axes[1].set_xlabel("training step")
    axes[1].set_ylabel("test accuracy (each seed's own test split)")
    axes[1].set_title("evaluation seeds, each arm at its chosen rate", fontsize=8)
    lr = run.chosen["lr"][PLAIN]  # both arms at one learning rate, so only batch norm differs
    for arm, style in ((PLAIN, "-"), (WITH_BN, "--")):
        q = _watched(run, arm, lr)
        x = np.arange(len(q)) * r.per_epoch
        axes[2].plot(x, q[:, 1], style, color=colors[arm], label=f"{arm}: median")
        axes[2].fill_between(
            x, q[:, 0], q[:, 2], color=colors[arm], alpha=0.2, label=f"{arm}: 15th-85th percentile"
        )
    axes[2].set_xlabel("training step")
    axes[2].set_ylabel("input to a last-layer sigmoid (pre-activation)")
    axes[2].set_title(f"one unit, first selection seed, lr {lr:g}", fontsize=8)
    for ax in axes:
        ax.legend(fontsize=6)
    fig.suptitle(
        f"Batch norm reaches {TARGET_ACCURACY:g} test accuracy in {v['speedup']:.1f}x fewer "
        "steps; compare a sigmoid's input over training"
    )
    return (
        fig,
        f"A {'×'.join(map(str, p['bn_hidden']))} sigmoid MLP (Xavier init) on digits, SGD with "
        "momentum. Left: steps to the target at each learning rate on the selection seeds "
        "(mean and 95% CI; censored runs count as budget + 1 epoch). Middle: test accuracy "
        "against step on the evaluation seeds (mean and 95% CI). Right: the 15th, 50th and "
        f"85th percentiles of one sigmoid's input on {WATCHED_ROWS} training inputs.",
    )
