"""Claim 4: the algorithmic innovations (ReLU, good initialisation, dropout, batch norm,
adaptive optimisers, residual connections) fixed deep learning's early problems.

Sub-experiments, each with its own verdict rule (a pure function of per-seed numbers):
1. vanishing_gradients: 10- and 20-layer MLPs in five variants (sigmoid with small-normal
   init, tanh with Xavier, ReLU with He, ReLU with He and batch norm, residual), gradient
   norm by layer and activation/gradient statistics at init and during training; and a
   30-layer ReLU network with Xavier against He init (Glorot & Bengio 2010; He et al. 2015);
2. dropout: a wide MLP on small, noisy teacher data and small digits subsets, p in
   {0, 0.1, 0.3, 0.5} at several training-set sizes (Srivastava et al. 2014);
3. batch_norm: a 3 x 100 sigmoid MLP on digits, with and without BN, over a learning-rate
   grid: steps to a target accuracy, and a hidden unit's input percentiles over training
   (Ioffe & Szegedy 2015);
4. optimizers: SGD, momentum, RMSprop and Adam, each with its learning rate tuned on a log
   grid (Kingma & Ba 2015);
5. residual: plain against residual MLPs at depths 4 to 32 (He et al. 2016).

The article credits ReLU, initialisation, dropout, batch norm and Adam, so the overall
verdict rests on parts 1-4 (`REQUIRED`); residual connections are not in its list, and part 5
is reported with its own verdict but does not decide.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
from matplotlib.ticker import NullFormatter

from whydl.analysis.gradients import (
    GradientFlows,
    UnitInputs,
    activation_inputs,
    gradient_flow,
    recorded_flows,
)
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import build_members, evaluate, tasks
from whydl.errors import DivergedError
from whydl.evidence.frame import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    Claim,
    TrainCall,
    Verdict,
    combine,
)
from whydl.evidence.rules import beats, mean_ci
from whydl.plots.bands import percentile_band as band
from whydl.plots.style import CYCLE, PALETTE, new_figure
from whydl.stats import summarize

# the rules' thresholds (the rule texts print them) ---------------------------------------
MIN_SEEDS = 3  # fewer seeds give no confidence interval worth comparing: inconclusive
VANISHING_DECADES = 2.0  # sigmoid + small init: first/last gradient norm below 10^-2
HEALTHY_DECADES = 1.0  # the init fixes: first/last gradient norm within 10^-1..10^1
DROPOUT_MIN_GAIN = 0.005  # test accuracy: beyond both CI half-widths plus 0.5 points
MIN_SPEEDUP = 1.5  # batch norm: at least 1.5x fewer steps to the target accuracy
TARGET_ACCURACY = 0.9  # batch norm's target: test accuracy on digits
TARGET_TRAIN_LOSS = 0.3  # the optimisers' target: training cross-entropy on digits
DEGRADATION_MARGIN = 0.05  # plain nets degrade: deepest loss above the best by CIs + 0.05
REQUIRED = ("vanishing_gradients", "dropout", "batch_norm", "optimizers")
SMALL_DATA = 500  # Srivastava et al. saw no dropout gain with 100 to 500 examples (notes)

DATA_SEED = 42  # one data sample and split for every member: seeds vary the network only
MONITOR_ROWS = 32  # test rows scored every epoch where only the final test score matters

VARIANTS = {  # the vanishing-gradient variants: name -> ModelConfig fields
    "sigmoid + small init": {"activation": "sigmoid", "init": "small"},
    "tanh + Xavier": {"activation": "tanh", "init": "xavier"},
    "ReLU + He": {"activation": "relu", "init": "he"},
    "ReLU + He + BN": {"activation": "relu", "init": "he", "batch_norm": True},
    "residual (ReLU + He + BN)": {
        "activation": "relu",
        "init": "he",
        "batch_norm": True,
        "residual": True,
    },
}
NAIVE = "sigmoid + small init"
INIT_FIXES = ("tanh + Xavier", "ReLU + He")  # Glorot's and He's fixes: the rule checks these
DEEP_INITS = ("xavier", "he")  # the 30-layer ReLU comparison
# each optimiser's learning-rate grid: half-decade steps around its centre (5 points span two
# decades in the full preset); centres follow common practice, and the figure shows the grid
OPTIMIZER_CENTRES = {"sgd": 0.3, "momentum": 0.1, "rmsprop": 3e-3, "adam": 1e-2}
PLAIN, WITH_BN = "without BN", "with BN"
RESIDUAL_KINDS = ("plain", "residual")

HYPOTHESIS = (
    "ReLU with scaled initialisation keeps gradients flowing where sigmoid with naive "
    "initialisation lets them vanish, and dropout, batch norm and Adam each deliver their "
    "landmark effect (less overfitting, fewer steps, faster convergence), reproduced at "
    "small scale."
)


# decision rules: pure functions of per-seed numbers -------------------------------------


def _enough(*groups) -> bool:
    return all(np.isfinite(np.asarray(g, dtype=float)).sum() >= MIN_SEEDS for g in groups)


def _decide(checks: dict) -> str:
    """Checks are True (passes), False (fails) or None (undecided at this CI)."""
    if all(c is True for c in checks.values()):
        return SUPPORTED
    if any(c is False for c in checks.values()):
        return NOT_SUPPORTED
    return INCONCLUSIVE


def _ci(values) -> dict:
    s = summarize(values)
    return {"mean": s["mean"], "ci_low": s["ci_low"], "ci_high": s["ci_high"], "n": s["n"]}


def vanishing_rule(log10_ratio: dict, deep_loss: dict, seeds: int) -> Verdict:
    """`log10_ratio[variant]`: per-seed log10(first/last weight-gradient norm) at init, at
    the deepest depth; `deep_loss["xavier"|"he"]`: per-seed final training loss of the deep
    ReLU network."""
    rule = (
        f"Supported when (a) {NAIVE}'s first/last weight-gradient-norm ratio at init lies "
        f"below 10^-VANISHING_DECADES (VANISHING_DECADES={VANISHING_DECADES:g}; the whole 95% "
        f"CI of the mean log10 ratio), (b) {' and '.join(INIT_FIXES)} keep it within "
        f"10^±HEALTHY_DECADES (HEALTHY_DECADES={HEALTHY_DECADES:g}; CI inside), and (c) the "
        "deep ReLU network ends with a lower training loss with He init than with Xavier, "
        "beyond both CI half-widths. Not supported when the CI of (a) lies wholly above its "
        "bound, a fix's CI lies wholly outside its band, or He's mean loss is not lower; "
        f"otherwise inconclusive (also with fewer than MIN_SEEDS={MIN_SEEDS} seeds)."
    )
    hyp = (
        "Gradients vanish with sigmoid and small init; Xavier (tanh) and He (ReLU) init keep "
        "them flowing; a deep ReLU net trains with He init and stalls with Xavier."
    )
    numbers = {k: _ci(v) for k, v in log10_ratio.items()}
    numbers.update({f"deep {k} final loss": _ci(v) for k, v in deep_loss.items()})
    groups = [log10_ratio[NAIVE], *(log10_ratio[f] for f in INIT_FIXES), *deep_loss.values()]
    if not _enough(*groups):
        return Verdict("vanishing_gradients", INCONCLUSIVE, hyp, rule, numbers, seeds)
    naive = numbers[NAIVE]
    vanishes = (
        True
        if naive["ci_high"] < -VANISHING_DECADES
        else (False if naive["ci_low"] > -VANISHING_DECADES else None)
    )
    flows = True
    for name in INIT_FIXES:
        s = numbers[name]
        if s["ci_low"] > HEALTHY_DECADES or s["ci_high"] < -HEALTHY_DECADES:
            flows = False
            break
        if not (s["ci_low"] >= -HEALTHY_DECADES and s["ci_high"] <= HEALTHY_DECADES):
            flows = None
    he = beats(deep_loss["xavier"], deep_loss["he"])  # "better": Xavier's loss is higher
    he_trains = True if he["better"] else (False if he["difference"] <= 0 else None)
    checks = {"vanishes": vanishes, "init fixes flow": flows, "He beats Xavier": he_trains}
    numbers["checks"] = checks
    numbers["He vs Xavier loss gap"] = he["difference"]
    return Verdict("vanishing_gradients", _decide(checks), hyp, rule, numbers, seeds)


def dropout_rule(test_accuracy: dict, seeds: int) -> Verdict:
    """`test_accuracy[dataset][p]`: per-seed test accuracy at the largest training set."""
    rule = (
        "At the largest training set of each dataset, the best dropout rate p > 0 is compared "
        "with p = 0 on test accuracy: it helps when its mean is higher by more than both 95% CI "
        f"half-widths plus DROPOUT_MIN_GAIN={DROPOUT_MIN_GAIN:g}, hurts when lower by as much. "
        "Supported when it helps on at least one dataset and hurts on none; not supported when "
        "it hurts on at least one and helps on none; otherwise inconclusive (also with fewer "
        f"than MIN_SEEDS={MIN_SEEDS} seeds)."
    )
    numbers, helps, hurts, enough = {}, [], [], True
    for dataset, by_p in test_accuracy.items():
        rates = [p for p in by_p if p > 0]
        best = max(rates, key=lambda p: mean_ci(by_p[p])[0])
        cmp = beats(by_p[best], by_p[0.0], DROPOUT_MIN_GAIN)
        enough &= _enough(by_p[best], by_p[0.0])
        helps.append(cmp["better"])
        hurts.append(cmp["worse"])
        numbers[dataset] = {
            "best p": best,
            "test accuracy p=0": round(cmp["mean_b"], 4),
            "test accuracy best p": round(cmp["mean_a"], 4),
            "gain": round(cmp["difference"], 4),
            "needed": round(cmp["half_width_a"] + cmp["half_width_b"] + DROPOUT_MIN_GAIN, 4),
        }
    if not enough:
        verdict = INCONCLUSIVE
    elif any(helps) and not any(hurts):
        verdict = SUPPORTED
    elif any(hurts) and not any(helps):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    hyp = "Dropout raises test accuracy of a wide MLP trained on enough (small, noisy) data."
    return Verdict("dropout", verdict, hyp, rule, numbers, seeds)


def batch_norm_rule(steps: dict, seeds: int) -> Verdict:
    """`steps[PLAIN|WITH_BN]`: per-seed steps to the target accuracy, each at its best
    learning rate (runs that never reach it counted at their budget plus one epoch)."""
    rule = (
        f"Speed-up = steps to TARGET_ACCURACY={TARGET_ACCURACY:g} test accuracy without BN / "
        "with BN, each at its best learning rate; the 95% CI is taken over seeds of "
        "log2(speed-up), members paired by index. Runs that never reach the target count as "
        "their budget plus one epoch. Supported when the whole CI lies above "
        f"MIN_SPEEDUP={MIN_SPEEDUP:g}x; not supported when it lies wholly below; otherwise "
        f"inconclusive (also with fewer than MIN_SEEDS={MIN_SEEDS} seeds)."
    )
    plain = np.asarray(steps[PLAIN], dtype=float)
    bn = np.asarray(steps[WITH_BN], dtype=float)
    n = min(len(plain), len(bn))
    log_speedup = np.log2(plain[:n]) - np.log2(bn[:n])
    s = summarize(log_speedup)
    numbers = {
        "speed-up": 2 ** s["mean"] if s["n"] else float("nan"),
        "speed-up CI": [2 ** s["ci_low"], 2 ** s["ci_high"]] if s["n"] else [],
        f"steps {PLAIN}": _ci(plain),
        f"steps {WITH_BN}": _ci(bn),
    }
    bound = math.log2(MIN_SPEEDUP)
    if not _enough(log_speedup):
        verdict = INCONCLUSIVE
    elif s["ci_low"] > bound:
        verdict = SUPPORTED
    elif s["ci_high"] < bound:
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    hyp = "Batch norm reaches the same accuracy in fewer steps, at its best learning rate."
    return Verdict("batch_norm", verdict, hyp, rule, numbers, seeds)


def optimizer_rule(steps: dict, seeds: int) -> Verdict:
    """`steps[optimizer]`: per-seed steps to the target training loss at the optimiser's
    tuned learning rate (censored runs counted at their budget plus one epoch)."""
    rule = (
        f"Steps to training loss TARGET_TRAIN_LOSS={TARGET_TRAIN_LOSS:g} at each optimiser's "
        "tuned learning rate (censored runs count as their budget plus one epoch). Supported "
        "when Adam needs fewer steps than SGD beyond both 95% CI half-widths and no optimiser "
        "needs fewer than Adam beyond both; not supported when one does, or when SGD's mean is "
        "not above Adam's; otherwise inconclusive (also with fewer than "
        f"MIN_SEEDS={MIN_SEEDS} seeds)."
    )
    hyp = "Tuned Adam reaches the target in fewer steps than tuned SGD, and none is faster."
    numbers = {name: _ci(v) for name, v in steps.items()}
    if not _enough(*steps.values()):
        return Verdict("optimizers", INCONCLUSIVE, hyp, rule, numbers, seeds)
    vs_sgd = beats(steps["sgd"], steps["adam"])  # "better": SGD needs more steps
    faster = [n for n, v in steps.items() if n != "adam" and beats(steps["adam"], v)["better"]]
    numbers["faster than Adam"] = faster
    if faster or vs_sgd["difference"] <= 0:
        verdict = NOT_SUPPORTED
    elif vs_sgd["better"]:
        verdict = SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return Verdict("optimizers", verdict, hyp, rule, numbers, seeds)


def residual_rule(final_loss: dict, seeds: int) -> Verdict:
    """`final_loss["plain"|"residual"][depth]`: per-seed final training loss."""
    rule = (
        "Plain degrades when its training loss at the deepest depth exceeds its best depth's "
        f"by both 95% CI half-widths plus DEGRADATION_MARGIN={DEGRADATION_MARGIN:g}; residual "
        "wins when its loss at the deepest depth is below plain's beyond both half-widths. "
        "Supported when plain degrades and residual wins; not supported when residual's mean "
        "loss at the deepest depth is not below plain's; otherwise inconclusive (also with "
        f"fewer than MIN_SEEDS={MIN_SEEDS} seeds)."
    )
    plain, residual = final_loss["plain"], final_loss["residual"]
    deepest = max(plain)
    best = min(plain, key=lambda d: mean_ci(plain[d])[0])
    degrade = beats(plain[deepest], plain[best], DEGRADATION_MARGIN)
    res_best = min(residual, key=lambda d: mean_ci(residual[d])[0])
    win = beats(plain[deepest], residual[deepest])  # "better": plain's loss is higher
    numbers = {
        "deepest": deepest,
        "plain best depth": best,
        "plain degradation": degrade["difference"],
        "plain degrades": degrade["better"],
        "residual best depth": res_best,
        "residual degradation": mean_ci(residual[deepest])[0] - mean_ci(residual[res_best])[0],
        "plain loss at deepest": _ci(plain[deepest]),
        "residual loss at deepest": _ci(residual[deepest]),
        "residual wins": win["better"],
    }
    if not _enough(plain[deepest], plain[best], residual[deepest]):
        verdict = INCONCLUSIVE
    elif degrade["better"] and win["better"]:
        verdict = SUPPORTED
    elif win["difference"] <= 0:
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    hyp = "Plain deep networks train worse as depth grows; residual networks do not."
    return Verdict("residual", verdict, hyp, rule, numbers, seeds)


# helpers ---------------------------------------------------------------------------------


def steps_to_target(curve, target: float, steps_per_epoch: int, below: bool = False):
    """Per member (rows of `curve`, (M, epochs)): the steps until the curve first reaches
    `target` (>= target, or <= with `below`), and whether it did. Members that never do
    count as their budget plus one epoch, a lower bound on the truth.

    Example
    -------
    >>> steps, reached = steps_to_target([[0.5, 0.95], [0.5, 0.6]], 0.9, 10)
    >>> steps.tolist(), reached.tolist()
    ([20.0, 30.0], [True, False])
    """
    curve = np.asarray(curve, dtype=float)
    with np.errstate(invalid="ignore"):
        hit = curve <= target if below else curve >= target
    reached = hit.any(1)
    first = np.where(reached, hit.argmax(1) + 1, curve.shape[1] + 1)
    return (first * steps_per_epoch).astype(float), reached


def _subset(dataset, n_train: int, monitor: int | None = MONITOR_ROWS, seed: int = DATA_SEED):
    """The first `n_train` rows of a seeded permutation of the training split (so smaller
    sets nest inside larger ones) and, with `monitor`, only that many test rows.

    The engine scores its validation split after every epoch; at small n that pass costs
    more than the training step itself. Where only the final test score matters, training
    watches `monitor` rows and the final score is taken on the whole test split."""
    if n_train > len(dataset.X_train):
        raise ValueError(
            f"n_train={n_train} exceeds the {len(dataset.X_train)} training rows of "
            f"{dataset.name!r}. Pass a smaller size."
        )
    order = np.random.default_rng(seed).permutation(len(dataset.X_train))[:n_train]
    out = replace(dataset, X_train=dataset.X_train[order], y_train=dataset.y_train[order])
    if monitor is not None:
        out = replace(out, X_test=dataset.X_test[:monitor], y_test=dataset.y_test[:monitor])
    return out


def _test_scores(fit, dataset) -> tuple[np.ndarray, np.ndarray]:
    """(loss, metric) of every member on the whole test split, in eval mode: (M,) each."""
    X = torch.as_tensor(dataset.X_test)
    y = tasks.prepare_targets(dataset.y_test, dataset.task, "cpu")
    loss, metric = evaluate(fit.stack, X, y, fit.task)
    ok = fit.ok
    return np.where(ok, loss.numpy(), np.nan), np.where(ok, metric.numpy(), np.nan)


def _try_fit(ctx, dataset, model, train, tag, recorders=()):
    """ctx.fit, or None when every member diverged (a learning rate too high to train)."""
    return _try_fit_many(ctx, {0: TrainCall(dataset, model, train, tag, recorders=recorders)})[0]


def _try_fit_many(ctx, calls: dict) -> dict:
    """`_try_fit` for independent calls at once ({key: TrainCall} -> {key: fit or None}), so
    an executor trains them side by side."""
    fits = ctx.fit_many(calls, errors="return")
    for key, fit in fits.items():
        if isinstance(fit, DivergedError):
            ctx.log(f"{calls[key].name}: every member diverged")
            fits[key] = None
    return fits


def _stat_row(experiment: str, metric: str, values, **keys) -> dict:
    s = summarize(values)
    return {
        "experiment": experiment,
        **keys,
        "metric": metric,
        "mean": s["mean"],
        "ci_low": s["ci_low"],
        "ci_high": s["ci_high"],
        "n": s["n"],
    }


def _errorbar(ax, x, values, color, label, marker="o", log=False):
    """Mean with 95% CI error bars over seeds (one array of per-seed values per x). With
    `log`, the mean and CI are taken over log10 values (a geometric mean)."""
    stats = [summarize(np.log10(v) if log else v) for v in values]
    mid, low, high = (np.array([s[k] for s in stats]) for k in ("mean", "ci_low", "ci_high"))
    if log:
        mid, low, high = 10**mid, 10**low, 10**high
    ax.errorbar(
        x, mid, yerr=[mid - low, high - mid], color=color, marker=marker, capsize=3, label=label
    )


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else float("nan")


# the claim ------------------------------------------------------------------------------


class InnovationsClaim(Claim):
    name = "innovations"
    title = "Algorithmic innovations: initialisation, ReLU, dropout, batch norm, Adam, residuals"
    hypothesis = HYPOTHESIS
    literature = (
        "Glorot & Bengio 2010: back-propagated gradients shrink layer by layer in deep "
        "sigmoid networks with naive initialisation; normalised (Xavier) init keeps them level",
        "He et al. 2015: a 30-layer ReLU network stalls with Xavier init and trains with He init",
        "Srivastava et al. 2014: dropout lowered MNIST test error from 1.60% to 1.25% (1.06% "
        "with max-norm); no gain with 100 to 500 training examples",
        "Ioffe & Szegedy 2015: batch norm reached the same accuracy in 2.3x fewer steps on "
        "Inception (14x with a raised learning rate); on MNIST it kept a sigmoid unit's input "
        "distribution stable during training",
        "Kingma & Ba 2015: Adam, with each optimiser's hyperparameters tuned on a grid, "
        "converged as fast as or faster than SGD with momentum, AdaGrad and RMSprop on MNIST "
        "MLPs",
        "He et al. 2016: plain deep networks train worse as depth grows; residual ones do not",
    )
    presets = {
        "quick": {
            "n_seeds": 3,
            "batch_size": 64,
            "grad_depths": (6,),
            "deep_depth": 10,
            "grad_width": 16,
            "grad_train": 192,
            "grad_batch": 128,
            "grad_epochs": 2,
            "grad_lr": 0.01,
            "grad_record_members": 2,
            "dropout_width": 32,
            "dropout_sizes": (60,),
            "dropout_rates": (0.0, 0.1, 0.3, 0.5),
            "dropout_steps": 10,
            "dropout_batch": 50,
            "dropout_lr": 0.002,
            "dropout_noise": 0.2,
            "dropout_test": 200,
            "bn_hidden": (32, 32, 32),
            "bn_lrs": (0.3,),
            "bn_train": 320,
            "bn_epochs_plain": 3,
            "bn_epochs_bn": 2,
            "opt_hidden": (16, 16),
            "opt_train": 320,
            "opt_epochs": 2,
            "opt_grid_points": 1,
            "res_depths": (2, 4),
            "res_width": 16,
            "res_train": 192,
            "res_epochs": 2,
            "res_lr": 0.01,
        },
        "full": {
            "n_seeds": 10,
            "batch_size": 64,
            "grad_depths": (10, 20),
            "deep_depth": 30,
            "grad_width": 32,
            "grad_train": 640,
            "grad_batch": 256,
            "grad_epochs": 10,
            "grad_lr": 0.01,
            "grad_record_members": 3,
            "dropout_width": 128,
            "dropout_sizes": (50, 200, 800),
            "dropout_rates": (0.0, 0.1, 0.3, 0.5),
            "dropout_steps": 150,
            "dropout_batch": 50,
            "dropout_lr": 0.002,
            "dropout_noise": 0.2,
            "dropout_test": 500,
            "bn_hidden": (100, 100, 100),
            "bn_lrs": (0.1, 0.3, 1.0),
            "bn_train": 0,  # 0: the whole training split
            "bn_epochs_plain": 30,
            "bn_epochs_bn": 8,
            "opt_hidden": (32, 32),
            "opt_train": 0,
            "opt_epochs": 8,
            "opt_grid_points": 5,
            "res_depths": (4, 8, 16, 32),
            "res_width": 32,
            "res_train": 512,
            "res_epochs": 8,
            "res_lr": 0.01,
        },
    }

    def experiment(self, ctx, params):
        table: list[dict] = []
        figures: dict = {}
        digits = load_dataset("digits", data_seed=DATA_SEED)
        grads = _vanishing(ctx, params, digits, table, figures)
        drop = _dropout(ctx, params, digits, table, figures)
        bn = _batch_norm(ctx, params, digits, table, figures)
        opt = _optimizers(ctx, params, digits, table, figures)
        res = _residual(ctx, params, digits, table, figures)
        parts = [grads["verdict"], drop["verdict"], bn["verdict"], opt["verdict"], res["verdict"]]
        verdict = combine(self.name, self.hypothesis, parts, params["n_seeds"], REQUIRED)
        naive, relu = grads["ratio"][NAIVE], grads["ratio"]["ReLU + He"]
        headline = (
            f"first/last gradient-norm ratio at depth {grads['depth']}: {NAIVE} "
            f"10^{naive['mean']:.1f} vs ReLU + He 10^{relu['mean']:.1f} (95% CI "
            f"±{(naive['ci_high'] - naive['ci_low']) / 2:.2f} and "
            f"±{(relu['ci_high'] - relu['ci_low']) / 2:.2f} decades)"
        )
        notes = _notes(grads, drop, bn, opt, res)
        return self.result(params, table, verdict, figures, notes, headline)


# 1. vanishing gradients and initialisation -----------------------------------------------


def _vanishing(ctx, p, digits, table, figures) -> dict:
    seeds = list(range(p["n_seeds"]))
    data = _subset(digits, p["grad_train"])
    X, y = data.X_train[: p["grad_batch"]], data.y_train[: p["grad_batch"]]
    epochs = p["grad_epochs"]
    record_at = tuple(sorted({max(1, epochs // 2), epochs}))
    train = TrainConfig(
        optimizer="momentum",
        lr=p["grad_lr"],
        batch_size=p["batch_size"],
        epochs=epochs,
        n_seeds=p["n_seeds"],
    )

    # gradient flow on the batch X, y (the first rows of the training split) during training,
    # of the first grad_record_members members (every member is recorded, and cached)
    recorder = GradientFlows(epochs=record_at, rows=p["grad_batch"], split="train")
    shown = p["grad_record_members"]

    def measure(depth, name, fields):
        model = ModelConfig(hidden=(p["grad_width"],) * depth, **fields)
        at_init = [gradient_flow(m, X, y, data.task) for m in build_members(data, model, seeds)]
        tag = f"gradients {name} depth {depth}"
        fit = _try_fit(ctx, data, model, train, tag, recorders=(recorder,))
        recorded = recorded_flows(fit) if fit is not None else {}
        stages = {"init": at_init}
        for epoch in record_at:
            stages[f"epoch {epoch}"] = recorded.get(epoch, [])[:shown]
        stages = {k: v for k, v in stages.items() if v}  # none recorded if all diverged
        loss = (
            np.where(fit.ok[:, None], fit.history.train_loss, np.nan)
            if fit is not None
            else np.full((p["n_seeds"], epochs), np.nan)
        )
        for stage, flows in stages.items():
            log_ratio = [_log10(f.ratio) for f in flows]
            table.append(
                _stat_row(
                    "vanishing_gradients",
                    "log10 first/last gradient norm",
                    log_ratio,
                    variant=name,
                    depth=depth,
                    stage=stage,
                )
            )
            for layer in range(len(flows[0].layer_names)):
                rows = [f.rows()[layer] for f in flows]
                table.append(
                    {
                        "experiment": "vanishing_gradients",
                        "variant": name,
                        "depth": depth,
                        "stage": stage,
                        "layer": layer + 1,
                        "metric": "per-layer statistics (mean over measured seeds)",
                        **{
                            k: float(np.mean([r[k] for r in rows]))
                            for k in rows[0]
                            if k not in ("layer", "layer_name")
                        },
                    }
                )
        table.append(
            _stat_row(
                "vanishing_gradients", "final training loss", loss[:, -1], variant=name, depth=depth
            )
        )
        return {"stages": stages, "loss": loss}

    results = {d: {n: measure(d, n, f) for n, f in VARIANTS.items()} for d in p["grad_depths"]}
    deep = {
        init: measure(p["deep_depth"], f"ReLU + {init}", {"activation": "relu", "init": init})
        for init in DEEP_INITS
    }
    deepest = max(p["grad_depths"])
    log_ratio = {
        name: [_log10(f.ratio) for f in r["stages"]["init"]] for name, r in results[deepest].items()
    }
    deep_loss = {init: r["loss"][:, -1] for init, r in deep.items()}
    verdict = vanishing_rule(log_ratio, deep_loss, p["n_seeds"])
    figures.update(_vanishing_figures(results, deep, p, epochs, verdict))
    return {
        "verdict": verdict,
        "depth": deepest,
        "ratio": {k: _ci(v) for k, v in log_ratio.items()},
        "results": results,
        "deep": deep,
        "deep_depth": p["deep_depth"],
    }


def _vanishing_figures(results, deep, p, epochs, verdict) -> dict:

    colors = dict(zip(VARIANTS, CYCLE))
    depths = sorted(results)
    last = f"epoch {epochs}"
    fig, axes = new_figure(ncols=len(depths) + 1, size=(4.6, 4.2))
    axes = np.atleast_1d(axes)
    for ax, depth in zip(axes, depths):
        for name, r in results[depth].items():
            norms = np.array([f.weight_grad_norms for f in r["stages"]["init"]])
            band(ax, np.arange(1, norms.shape[1] + 1), norms, colors[name], name)
        ax.set_title(f"{depth} hidden layers, at initialisation", fontsize=9)
    ax = axes[-1]
    for name, r in results[depths[-1]].items():
        if last not in r["stages"]:
            continue
        norms = np.array([f.weight_grad_norms for f in r["stages"][last]])
        band(ax, np.arange(1, norms.shape[1] + 1), norms, colors[name], name)
    ax.set_title(f"{depths[-1]} hidden layers, after {epochs} epochs", fontsize=9)
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("weight layer (1 = first hidden, last = output)")
        ax.set_ylabel("‖∂loss/∂W‖ (gradient norm)")
    axes[0].legend(fontsize=6, loc="lower right")
    naive, relu = verdict.numbers[NAIVE]["mean"], verdict.numbers["ReLU + He"]["mean"]
    fig.suptitle(
        f"First/last gradient norm at {depths[-1]} layers: 10^{naive:.0f} with sigmoid + small "
        f"init, 10^{relu:.1f} with ReLU + He"
    )
    out = {
        "gradient_norms": (
            fig,
            "Norm of the loss gradient with respect to each layer's weights on a batch of "
            f"{p['grad_batch']} digits (median and 10-90% band over seeds; log scale). With "
            "sigmoid and N(0, 0.01²) weights the first layer's gradient is tens of orders of "
            "magnitude below the output layer's; tanh + Xavier and ReLU + He keep it level. "
            "Batch norm makes the first layers' gradients larger than the last's at init.",
        )
    }

    fig, axes = new_figure(ncols=2, size=(5.0, 4.2))
    depth = depths[-1]
    for name, r in results[depth].items():
        for ax, key, log in ((axes[0], "saturated", False), (axes[1], "backprop_grad_std", True)):
            for stage, style in (("init", "-"), (last, "--")):
                if stage not in r["stages"]:
                    continue
                values = np.array([[h[key] for h in f.hidden] for f in r["stages"][stage]])
                x = np.arange(1, values.shape[1] + 1)
                ax.plot(
                    x,
                    np.median(values, 0),
                    style,
                    color=colors[name],
                    label=f"{name} ({stage})" if ax is axes[0] else None,
                )
            if log:
                ax.set_yscale("log")
    axes[0].set_ylabel("saturated fraction of unit-samples")
    axes[1].set_ylabel("std of ∂loss/∂(pre-activation)")
    for ax in axes:
        ax.set_xlabel("hidden layer")
    axes[0].legend(fontsize=5.5, loc="best")
    fig.suptitle(
        f"{depth} hidden layers: ReLUs sit at zero half the time; sigmoid's back-propagated "
        "gradients shrink layer by layer"
    )
    out["activation_stats"] = (
        fig,
        "Per hidden layer, median over seeds, at initialisation (solid) and after training "
        "(dashed): the fraction of unit-samples in a flat region (|tanh| > 0.99, sigmoid < "
        "0.01 or > 0.99, ReLU exactly 0) and the spread of the back-propagated gradient.",
    )

    fig, axes = new_figure(ncols=len(depths) + 1, size=(4.6, 4.2))
    axes = np.atleast_1d(axes)
    for ax, depth in zip(axes, depths):
        for name, r in results[depth].items():
            loss = r["loss"]
            band(ax, np.arange(1, loss.shape[1] + 1), loss, colors[name], name)
        ax.set_title(f"{depth} hidden layers", fontsize=9)
    for (init, r), color in zip(deep.items(), (CYCLE[1], CYCLE[2])):
        loss = r["loss"]
        band(axes[-1], np.arange(1, loss.shape[1] + 1), loss, color, f"ReLU + {init}")
    axes[-1].set_title(f"{p['deep_depth']} hidden ReLU layers: Xavier vs He", fontsize=9)
    axes[-1].legend(fontsize=7)
    axes[0].legend(fontsize=6)
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (cross-entropy, nats; log scale)")
    xavier, he = (verdict.numbers[f"deep {k} final loss"]["mean"] for k in DEEP_INITS)
    fig.suptitle(
        f"Sigmoid + small init does not train; at {p['deep_depth']} ReLU layers Xavier ends at "
        f"loss {xavier:.2f}, He at {he:.2f}"
    )
    out["training_loss"] = (
        fig,
        f"Training loss on {p['grad_train']} digits, SGD with momentum (lr {p['grad_lr']:g}), "
        "median and 10-90% band over seeds. Right: the deep ReLU network with Xavier init "
        "stays at chance loss (ln 10 = 2.30) while He init trains.",
    )
    return out


# 2. dropout ------------------------------------------------------------------------------


def _dropout(ctx, p, digits, table, figures) -> dict:
    sizes, rates = tuple(p["dropout_sizes"]), tuple(p["dropout_rates"])
    n_test = p["dropout_test"]
    total = max(sizes) + n_test
    pools = {
        "teacher": load_dataset(
            "teacher",
            n_samples=total,
            noise=p["dropout_noise"],
            data_seed=DATA_SEED,
            test_size=n_test / total,
        ),
        "digits": digits,
    }
    acc: dict = {name: {} for name in pools}
    gap: dict = {name: {} for name in pools}
    calls = {}
    for name, pool in pools.items():
        for n in sizes:
            data = _subset(pool, n)
            batch = p["dropout_batch"] if p["dropout_batch"] < n else 0  # 0: full batch
            per_epoch = math.ceil(n / batch) if batch else 1
            epochs = math.ceil(p["dropout_steps"] / per_epoch)
            for rate in rates:
                model = ModelConfig(hidden=(p["dropout_width"],) * 2, dropout=rate)
                train = TrainConfig(
                    optimizer="adam",
                    lr=p["dropout_lr"],
                    batch_size=batch,
                    epochs=epochs,
                    n_seeds=p["n_seeds"],
                )
                tag = f"dropout {name} n={n} p={rate}"
                calls[name, n, rate] = TrainCall(data, model, train, tag)
    fits = ctx.fit_many(calls)  # side by side under an executor
    for name, pool in pools.items():
        for n in sizes:
            for rate in rates:
                fit = fits[name, n, rate]
                test = _test_scores(fit, pool)[1]
                train_acc = np.where(fit.ok, fit.history.train_metric[:, -1], np.nan)
                acc[name][(n, rate)] = test
                gap[name][(n, rate)] = train_acc - test
                keys = {"dataset": name, "n_train": n, "dropout": rate}
                table.append(_stat_row("dropout", "test accuracy", test, **keys))
                table.append(_stat_row("dropout", "train-test gap", train_acc - test, **keys))
    largest = {name: {r: acc[name][(max(sizes), r)] for r in rates} for name in pools}
    verdict = dropout_rule(largest, p["n_seeds"])
    figures["dropout"] = _dropout_figure(acc, gap, sizes, rates, p, verdict)
    return {"verdict": verdict, "accuracy": acc, "sizes": sizes, "rates": rates}


def _dropout_figure(acc, gap, sizes, rates, p, verdict):

    fig, axes = new_figure(ncols=2, nrows=len(acc), size=(5.0, 3.6))
    axes = np.atleast_2d(axes)
    for row, name in enumerate(acc):
        for rate, color in zip(rates, CYCLE):
            for col, values in ((0, acc[name]), (1, gap[name])):
                _errorbar(
                    axes[row, col],
                    sizes,
                    [values[(n, rate)] for n in sizes],
                    color,
                    f"p = {rate:g}",
                )
        axes[row, 0].set_ylabel(f"{name}: test accuracy")
        axes[row, 1].set_ylabel(f"{name}: train − test accuracy")
    for ax in axes.flat:
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("training examples (log scale)")
    axes[0, 0].legend(fontsize=7)
    gains = ", ".join(
        f"{name} {v['gain']:+.3f} (p = {v['best p']:g})" for name, v in verdict.numbers.items()
    )
    fig.suptitle(f"Dropout's best test-accuracy gain at n = {max(sizes)}: {gains}")
    return (
        fig,
        f"A {p['dropout_width']}-wide 2-hidden-layer ReLU MLP trained with Adam for about "
        f"{p['dropout_steps']} steps on nested training subsets: teacher data with "
        f"{p['dropout_noise']:.0%} flipped labels, and digits. Mean and 95% CI over seeds.",
    )


# 3. batch norm ---------------------------------------------------------------------------


def _batch_norm(ctx, p, digits, table, figures) -> dict:
    data = _subset(digits, p["bn_train"] or len(digits.X_train), monitor=None)
    per_epoch = math.ceil(len(data.X_train) / p["batch_size"])
    X_probe = data.X_test
    # a typical sigmoid's input (unit 0 of the last hidden layer) on the test inputs after
    # every epoch, as in Ioffe & Szegedy's Figure 1; member 0's is shown
    watch = UnitInputs(layer=-1, unit=0, percentiles=(15, 50, 85), split="test")
    runs: dict = {}
    for kind, bn in ((PLAIN, False), (WITH_BN, True)):
        for lr in p["bn_lrs"]:
            model = ModelConfig(
                hidden=tuple(p["bn_hidden"]), activation="sigmoid", init="xavier", batch_norm=bn
            )
            epochs = p["bn_epochs_bn"] if bn else p["bn_epochs_plain"]
            train = TrainConfig(
                optimizer="momentum",
                lr=lr,
                batch_size=p["batch_size"],
                epochs=epochs,
                n_seeds=p["n_seeds"],
            )
            first = build_members(data, model, [0])[0]  # member 0 at init
            unit = activation_inputs(first, X_probe)[watch.layer][:, watch.unit]
            at_init = np.percentile(unit, watch.percentiles)
            tag = f"batch norm {kind} lr={lr:g}"
            fit = _try_fit(ctx, data, model, train, tag, recorders=(watch,))
            trained = fit.records[watch.name][0] if fit is not None else np.empty((0, 3))
            curve = (
                np.where(fit.ok[:, None], fit.history.val_metric, np.nan)
                if fit is not None
                else np.full((p["n_seeds"], 1), np.nan)
            )
            steps, reached = steps_to_target(curve, TARGET_ACCURACY, per_epoch)
            steps = np.full(p["n_seeds"], (epochs + 1) * per_epoch) if fit is None else steps
            runs[(kind, lr)] = {
                "steps": steps,
                "reached": reached,
                "curve": curve,
                "inputs": np.vstack([at_init, trained]),  # (1 + epochs, 3)
            }
            keys = {"variant": kind, "lr": lr}
            table.append(
                _stat_row(
                    "batch_norm",
                    f"steps to {TARGET_ACCURACY:g} test accuracy",
                    steps,
                    reached=int(reached.sum()),
                    **keys,
                )
            )
            table.append(_stat_row("batch_norm", "final test accuracy", curve[:, -1], **keys))
    best = {
        kind: min(p["bn_lrs"], key=lambda lr, k=kind: np.mean(np.log2(runs[(k, lr)]["steps"])))
        for kind in (PLAIN, WITH_BN)
    }
    for kind, lr in best.items():
        table.append({"experiment": "batch_norm", "variant": kind, "metric": "best lr", "mean": lr})
    steps = {kind: runs[(kind, lr)]["steps"] for kind, lr in best.items()}
    verdict = batch_norm_rule(steps, p["n_seeds"])
    figures["batch_norm"] = _batch_norm_figure(runs, best, per_epoch, p, verdict)
    return {"verdict": verdict, "best": best, "runs": runs, "per_epoch": per_epoch}


def _batch_norm_figure(runs, best, per_epoch, p, verdict):

    colors = {PLAIN: PALETTE["vermillion"], WITH_BN: PALETTE["blue"]}
    fig, axes = new_figure(ncols=3, size=(4.6, 4.2))
    for kind in (PLAIN, WITH_BN):
        lrs = list(p["bn_lrs"])
        _errorbar(
            axes[0], lrs, [runs[(kind, lr)]["steps"] for lr in lrs], colors[kind], kind, log=True
        )
        curve = runs[(kind, best[kind])]["curve"]
        x = np.arange(1, curve.shape[1] + 1) * per_epoch
        band(axes[1], x, curve, colors[kind], f"{kind}, lr {best[kind]:g}")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("learning rate (log scale)")
    axes[0].set_ylabel(f"steps to {TARGET_ACCURACY:g} test accuracy (log scale)")
    axes[0].set_title("censored runs count as budget + 1 epoch", fontsize=8)
    axes[1].axhline(TARGET_ACCURACY, color="grey", linestyle=":", linewidth=1)
    axes[1].set_xlabel("training step")
    axes[1].set_ylabel("test accuracy")
    axes[1].set_title("each at its best learning rate", fontsize=8)
    lr = best[PLAIN]  # both at one learning rate, so only batch norm differs
    for kind, style in ((PLAIN, "-"), (WITH_BN, "--")):
        q = runs[(kind, lr)]["inputs"]
        x = np.arange(len(q)) * per_epoch
        axes[2].plot(x, q[:, 1], style, color=colors[kind], label=f"{kind}: median")
        axes[2].fill_between(
            x,
            q[:, 0],
            q[:, 2],
            color=colors[kind],
            alpha=0.2,
            label=f"{kind}: 15th-85th percentile",
        )
    axes[2].set_xlabel("training step")
    axes[2].set_ylabel("input to a last-layer sigmoid (pre-activation)")
    axes[2].set_title(f"one unit of one member, lr {lr:g}", fontsize=8)
    for ax in axes:
        ax.legend(fontsize=6)
    fig.suptitle(
        f"Batch norm reaches {TARGET_ACCURACY:g} test accuracy in "
        f"{verdict.numbers['speed-up']:.1f}x fewer steps; compare a sigmoid's input over training"
    )
    return (
        fig,
        f"A {'×'.join(map(str, p['bn_hidden']))} sigmoid MLP (Xavier init) on digits, SGD with "
        "momentum. Left: steps to the target at each learning rate (geometric mean and 95% CI). "
        "Middle: test accuracy against step (median and 10-90% band). Right: the 15th, 50th "
        "and 85th percentiles of one sigmoid's input over training.",
    )


# 4. optimisers ---------------------------------------------------------------------------


def _optimizers(ctx, p, digits, table, figures) -> dict:
    data = _subset(digits, p["opt_train"] or len(digits.X_train))
    per_epoch = math.ceil(len(data.X_train) / p["batch_size"])
    half = (p["opt_grid_points"] - 1) // 2
    grids = {
        name: [centre * 10 ** (k / 2) for k in range(-half, half + 1)]
        for name, centre in OPTIMIZER_CENTRES.items()
    }
    runs: dict = {}
    model = ModelConfig(hidden=tuple(p["opt_hidden"]))
    calls = {
        (name, lr): TrainCall(
            data,
            model,
            TrainConfig(
                optimizer=name,
                lr=lr,
                batch_size=p["batch_size"],
                epochs=p["opt_epochs"],
                n_seeds=p["n_seeds"],
            ),
            f"optimizer {name} lr={lr:g}",
        )
        for name, lrs in grids.items()
        for lr in lrs
    }
    fits = _try_fit_many(ctx, calls)
    for name, lrs in grids.items():
        for lr in lrs:
            fit = fits[name, lr]
            if fit is None:
                loss = np.full((p["n_seeds"], p["opt_epochs"]), np.nan)
                test = np.full(p["n_seeds"], np.nan)
            else:
                loss = np.where(fit.ok[:, None], fit.history.train_loss, np.nan)
                test = _test_scores(fit, digits)[1]
            steps, reached = steps_to_target(loss, TARGET_TRAIN_LOSS, per_epoch, below=True)
            # tuning score: mean final training loss; a rate that blew up any member loses
            score = float(np.mean(loss[:, -1])) if np.isfinite(loss[:, -1]).all() else math.inf
            runs[(name, lr)] = {"loss": loss, "test": test, "steps": steps, "score": score}
            keys = {"optimizer": name, "lr": lr}
            table.append(_stat_row("optimizers", "final training loss", loss[:, -1], **keys))
            table.append(
                _stat_row(
                    "optimizers",
                    f"steps to training loss {TARGET_TRAIN_LOSS:g}",
                    steps,
                    reached=int(reached.sum()),
                    **keys,
                )
            )
            table.append(_stat_row("optimizers", "test accuracy", test, **keys))
    best = {
        name: min(lrs, key=lambda lr, n=name: runs[(n, lr)]["score"]) for name, lrs in grids.items()
    }
    for name, lr in best.items():
        table.append(
            {"experiment": "optimizers", "optimizer": name, "metric": "best lr", "mean": lr}
        )
    verdict = optimizer_rule({n: runs[(n, lr)]["steps"] for n, lr in best.items()}, p["n_seeds"])
    figures["optimizers"] = _optimizer_figure(runs, grids, best, per_epoch, p, verdict)
    edge = [n for n, lr in best.items() if len(grids[n]) > 1 and lr in (grids[n][0], grids[n][-1])]
    return {
        "verdict": verdict,
        "best": best,
        "runs": runs,
        "edge": edge,
        "hidden": tuple(p["opt_hidden"]),
        "budget": p["opt_epochs"] * per_epoch,
    }


def _optimizer_figure(runs, grids, best, per_epoch, p, verdict):

    colors = dict(zip(grids, CYCLE))
    fig, axes = new_figure(ncols=3, size=(4.6, 4.2))
    for name, lrs in grids.items():
        r = runs[(name, best[name])]
        x = np.arange(1, r["loss"].shape[1] + 1) * per_epoch
        band(axes[0], x, r["loss"], colors[name], f"{name}, lr {best[name]:.2g}")
        finals = [runs[(name, lr)]["loss"][:, -1] for lr in lrs]
        _errorbar(axes[1], lrs, finals, colors[name], name, log=True)
        axes[2].errorbar(
            [list(grids).index(name)],
            [np.nanmean(r["test"])],
            yerr=[[np.nanmean(r["test"]) - _ci(r["test"])["ci_low"]]],
            color=colors[name],
            marker="o",
            capsize=4,
        )
    axes[0].axhline(TARGET_TRAIN_LOSS, color="grey", linestyle=":", linewidth=1)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("training step")
    axes[0].set_ylabel("training loss (cross-entropy, log scale)")
    axes[0].set_title("each at its tuned learning rate", fontsize=8)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("learning rate (log scale)")
    axes[1].set_ylabel("final training loss (log scale)")
    axes[1].set_title("the tuning grid (geometric mean and 95% CI)", fontsize=8)
    axes[2].set_xticks(range(len(grids)), list(grids))
    axes[2].set_ylabel("test accuracy at the tuned rate")
    axes[2].set_title("mean and 95% CI", fontsize=8)
    for ax in axes[:2]:
        ax.legend(fontsize=6)
    order = sorted(grids, key=lambda n: verdict.numbers[n]["mean"])
    fig.suptitle(
        f"Mean steps to training loss {TARGET_TRAIN_LOSS:g}, each optimiser tuned: "
        + ", ".join(f"{n} {verdict.numbers[n]['mean']:.0f}" for n in order)
    )
    return (
        fig,
        f"An MLP {p['opt_hidden']} on digits, batch {p['batch_size']}, {p['opt_epochs']} "
        "epochs; each optimiser's learning rate picked by its mean final training loss over a "
        "half-decade grid (middle). Untuned comparisons mislead: compare each at its best.",
    )


# 5. residual against plain ---------------------------------------------------------------


def _residual(ctx, p, digits, table, figures) -> dict:
    data = _subset(digits, p["res_train"])
    depths = tuple(p["res_depths"])
    loss: dict = {kind: {} for kind in RESIDUAL_KINDS}
    train = TrainConfig(
        optimizer="momentum",
        lr=p["res_lr"],
        batch_size=p["batch_size"],
        epochs=p["res_epochs"],
        n_seeds=p["n_seeds"],
    )
    calls = {
        (kind, depth): TrainCall(
            data,
            ModelConfig(
                hidden=(p["res_width"],) * depth,
                activation="relu",
                init="he",
                batch_norm=True,
                residual=kind == "residual",
            ),
            train,
            f"residual {kind} depth {depth}",
        )
        for kind in RESIDUAL_KINDS
        for depth in depths
    }
    fits = _try_fit_many(ctx, calls)
    for kind in RESIDUAL_KINDS:
        for depth in depths:
            fit = fits[kind, depth]
            final = (
                np.where(fit.ok, fit.history.train_loss[:, -1], np.nan)
                if fit is not None
                else np.full(p["n_seeds"], np.nan)
            )
            loss[kind][depth] = final
            table.append(
                _stat_row("residual", "final training loss", final, variant=kind, depth=depth)
            )
    verdict = residual_rule(loss, p["n_seeds"])
    figures["residual"] = _residual_figure(loss, depths, p, verdict)
    return {"verdict": verdict, "loss": loss}


def _residual_figure(loss, depths, p, verdict):

    fig, ax = new_figure()
    for kind, color in zip(RESIDUAL_KINDS, (PALETTE["vermillion"], PALETTE["blue"])):
        _errorbar(ax, depths, [loss[kind][d] for d in depths], color, kind)
    ax.set_xscale("log", base=2)
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.set_xlabel("hidden layers (log scale)")
    ax.set_ylabel("final training loss (cross-entropy, nats)")
    ax.legend()
    v = verdict.numbers
    fig.subplots_adjust(top=0.84)
    fig.suptitle(
        f"At {v['deepest']} layers plain nets end at training loss "
        f"{v['plain loss at deepest']['mean']:.2f},\nresidual ones at "
        f"{v['residual loss at deepest']['mean']:.2f}"
    )
    return (
        fig,
        f"ReLU MLPs of width {p['res_width']} with He init and batch norm, trained "
        f"{p['res_epochs']} epochs on {p['res_train']} digits with SGD + momentum; mean and 95% "
        "CI over seeds. The residual ones add each layer's input back (He et al. 2016).",
    )


# notes -----------------------------------------------------------------------------------


def _notes(grads, drop, bn, opt, res) -> list[str]:
    """Plain sentences on where our small-scale numbers differ from the literature, and why."""
    notes = []
    depth = grads["depth"]
    init = grads["results"][depth]
    bn_ratio = [_log10(f.ratio) for f in init["ReLU + He + BN"]["stages"]["init"]]
    if np.mean(bn_ratio) > HEALTHY_DECADES:
        notes.append(
            f"With batch norm the first layer's gradient is 10^{np.mean(bn_ratio):.1f} times "
            f"the output layer's at initialisation ({depth} layers): batch norm does not level "
            "gradients at init, it makes the early layers' larger (Yang et al. 2019 call this "
            "gradient explosion). It trains well anyway, because a batch-normalised layer's "
            "output does not change with its weights' scale."
        )
    stages = grads["deep"]["xavier"]["stages"]
    ratio = np.mean([_log10(f.ratio) for f in stages["init"]])
    size = np.median([f.weight_grad_norms.max() for f in stages["init"]])
    last = list(stages)[-1]  # the last recorded epoch, when training ran
    trained = np.nanmean([_log10(f.ratio) for f in stages[last]])
    later = f" After training ({last}) it is 10^{trained:.1f}." if last != "init" else ""
    notes.append(
        f"The {grads['deep_depth']}-layer ReLU network with Xavier init has a first/last "
        f"ratio of 10^{ratio:.1f} at init, yet every layer's gradient is tiny (at most "
        f"{size:.1e}): its activations halve in variance at every layer, so the ratio alone "
        f"misses the stall that He et al. 2015 reported.{later}"
    )
    small = [n for n in drop["sizes"] if n <= SMALL_DATA] or [min(drop["sizes"])]
    effects = []
    for name, acc in drop["accuracy"].items():
        for n in small:
            rates = [r for r in drop["rates"] if r > 0]
            best = max(rates, key=lambda r, n=n, acc=acc: np.nanmean(acc[(n, r)]))
            cmp = beats(acc[(n, best)], acc[(n, 0.0)])
            word = "gain" if cmp["better"] else ("loss" if cmp["worse"] else "no difference")
            effects.append(
                f"{name} n = {n}: best p = {best:g} {cmp['mean_a']:.3f} vs p = 0 "
                f"{cmp['mean_b']:.3f} ({word} beyond the CIs)"
            )
    notes.append(
        f"Dropout on small training sets (at most {SMALL_DATA} examples, where Srivastava et "
        "al. saw no gain): " + "; ".join(effects) + "."
    )
    drop_v = drop["verdict"]
    if drop_v.verdict != SUPPORTED:
        notes.append(
            f"Dropout's test-accuracy gain at the largest n is {drop_v.verdict}: "
            + "; ".join(
                f"{k} {v['gain']:+.3f} (needed {v['needed']:.3f})"
                for k, v in drop_v.numbers.items()
            )
            + ". Srivastava et al.'s MNIST gain came from 60,000 examples, nets of thousands "
            "of units and hundreds of epochs; ours train for a few hundred steps."
        )
    bn_v = bn["verdict"]
    plain_reached = bn["runs"][(PLAIN, bn["best"][PLAIN])]["reached"]
    drift = {  # the watched unit's median input: largest move from its value at init
        kind: float(np.max(np.abs(q[:, 1] - q[0, 1])))
        for kind in (PLAIN, WITH_BN)
        for q in [bn["runs"][(kind, bn["best"][PLAIN])]["inputs"]]
    }
    notes.append(
        f"Batch norm: {bn_v.numbers['speed-up']:.1f}x fewer steps to {TARGET_ACCURACY:g} test "
        f"accuracy (best lr {bn['best'][WITH_BN]:g} with BN, {bn['best'][PLAIN]:g} without; "
        f"{int(plain_reached.sum())}/{len(plain_reached)} runs without BN reached the target "
        "within their budget). Steps are counted in whole epochs of "
        f"{bn['per_epoch']} steps, so BN's count is coarse. Ioffe & Szegedy's 14x is for "
        "Inception on ImageNet; the shape (a large factor) is what carries over. The watched "
        f"sigmoid's median input drifts by up to {drift[PLAIN]:.1f} without BN and "
        f"{drift[WITH_BN]:.1f} with it (lr {bn['best'][PLAIN]:g})."
    )
    if opt["edge"]:
        notes.append(
            f"The tuned learning rate of {', '.join(opt['edge'])} sits at the edge of its grid; "
            "a wider grid might move it."
        )
    o = opt["verdict"].numbers
    notes.append(
        f"The optimisers train a {opt['hidden']} MLP for {opt['budget']} steps (mean steps to "
        f"loss {TARGET_TRAIN_LOSS:g}: "
        + ", ".join(f"{n} {o[n]['mean']:.0f}" for n in OPTIMIZER_CENTRES)
        + "); Kingma & Ba trained 1000-unit layers on MNIST for many epochs, where Adam's edge "
        "over a tuned alternative is modest. Which optimiser wins also depends on the grid."
    )
    r = res["verdict"].numbers
    if r["residual degradation"] > DEGRADATION_MARGIN:
        notes.append(
            f"Residual networks also lose ground at depth {r['deepest']}: training loss "
            f"{r['residual degradation']:+.2f} over their best depth ({r['residual best depth']})"
            ", with a wide CI (some seeds barely train in this short budget at one learning "
            "rate). He et al. trained to convergence with tuned schedules."
        )
    return notes


CLAIM = InnovationsClaim()
