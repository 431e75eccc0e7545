"""Claim 2, more data: test error falls as a power law in the training-set size, to a floor.

The sweep: learning curves on three tasks (a noisy 2-D spiral, a 20-D teacher-student task
and sklearn's digits), n doubling from 16 up to 8,192 (digits: up to its whole training
split). Every size is scored on the same test set; each seed trains on its own nested
subsample of one pool (`train_rows`), so the 95% CIs over seeds include the luck of the
draw. All seeds of one size train as one vectorised `ctx.fit`.

What we report: test error and the train-test gap against n with 95% CIs; the power-law
region and the floor (`whydl.analysis.powerlaw.curve_regions`); ε(n) = a·n^(−b) + c fitted
on the power-law region with a bootstrap CI on b; a small against a larger model on the
same sizes; the samples needed to reach a target accuracy.

Example
-------
>>> from whydl.evidence import get_claim
>>> result = get_claim("data").run("quick")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from whydl.analysis.powerlaw import FLAT_DROP, bootstrap_exponent, curve_regions
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import evaluate
from whydl.engine.device import torch_threads
from whydl.engine.tasks import prepare_targets
from whydl.evidence.frame import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    Claim,
    Context,
    TrainCall,
    Verdict,
    combine,
)
from whydl.evidence.rules import beats, slope_ci
from whydl.plots.style import CYCLE, PALETTE, new_figure
from whydl.stats import summarize

DATASETS = ("spiral", "teacher", "digits")
SPIRAL_NOISE = 0.1  # spiral's noise (std 0.05): a few % of points lie across the arms
TEACHER_NOISE = 0.0  # teacher's noise is a label-flip probability; clean labels: no floor
TEACHER_FEATURES = 20  # the teacher generator's input dimension
MODELS = {"main": (32, 32), "small": (8, 8)}  # hidden widths
COMPARED = ("spiral", "teacher")  # where the small model trains beside the main one
BATCH_SIZE = 128  # min(128, n); n <= 128 trains full batch
LR = 0.01  # Adam
MONITOR_ROWS = 64  # test rows the engine scores every epoch; all of them are scored at the end
DATA_SEED = 42
LITERATURE_SLOPES = (-0.35, -0.07)  # Hestness et al. 2017's range, for the notes only

# decision thresholds
MIN_RANGE_POINTS = 3  # sizes a power-law region needs before its slope is used
TARGET_ACCURACY = {"spiral": 0.95, "teacher": 0.90, "digits": 0.95}
HYPOTHESIS = (
    "Test error falls as a power law in the number of training samples (down to a floor), "
    "and the train-test gap shrinks as the training set grows."
)


# -- decision rules: pure functions of a table with columns dataset, model, n, seed, ... ----
def curve(table, dataset: str, model: str = "main", column: str = "test_error"):
    """(n, values) for one dataset and model: n sorted (k,), values (seeds, k)."""
    rows = [r for r in table if r["dataset"] == dataset and r["model"] == model]
    if not rows:
        raise ValueError(
            f"No rows for dataset={dataset!r}, model={model!r} in the table. Expected rows "
            "with columns dataset, model, n, seed and the measured columns."
        )
    ns = sorted({r["n"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    values = np.full((len(seeds), len(ns)), np.nan)
    for r in rows:
        values[seeds.index(r["seed"]), ns.index(r["n"])] = r[column]
    return np.asarray(ns, dtype=float), values


def _complete(values: np.ndarray) -> np.ndarray:
    """Seeds with a value at every size (a diverged member leaves NaNs)."""
    return values[np.isfinite(values).all(axis=1)]


def _ci(values) -> tuple[float, float]:
    s = summarize(values)
    return s["mean"], (s["ci_high"] - s["ci_low"]) / 2


def learning_curve_verdict(table, dataset: str, model: str = "main") -> Verdict:
    """Does test error fall with n over the power-law region, and does the gap shrink?

    Rule: `supported` when the per-seed least-squares slope of log(test error) against
    log(n), over the power-law region found by `curve_regions` (at least MIN_RANGE_POINTS
    sizes; otherwise all sizes), has a 95% CI entirely below 0, AND the train-test gap at
    the largest n is smaller than at the smallest n beyond both 95% CIs. `not supported`
    when the slope's CI reaches 0 or above, or the gap grows beyond both CIs. Otherwise
    (error falls but the gap's change is within noise, or too few sizes or seeds)
    `inconclusive`.
    """
    rule = (
        "supported when the log-log slope of test error against n over the power-law region "
        f"(consecutive sizes whose doubling lowers the mean error by > {FLAT_DROP:.0%} and "
        f"beyond both 95% CIs; >= {MIN_RANGE_POINTS} sizes, else all sizes) has a 95% CI "
        "below 0 AND the train-test gap at the largest n is below the gap at the smallest n "
        "beyond both 95% CIs; not supported when the slope's CI reaches 0 or the gap grows "
        "beyond the CIs; otherwise inconclusive."
    )
    n, error = curve(table, dataset, model, "test_error")
    _, gap = curve(table, dataset, model, "gap")
    error, gap = _complete(error), _complete(gap)
    n_seeds = len(error)
    if len(n) < MIN_RANGE_POINTS or n_seeds < 2:
        numbers = {"sizes": len(n), "seeds": n_seeds}
        return Verdict(dataset, INCONCLUSIVE, HYPOTHESIS, rule, numbers, n_seeds)
    regions = curve_regions(n, error)
    lo, hi = regions["start"], regions["end"]
    in_region = lo is not None and hi - lo + 1 >= MIN_RANGE_POINTS
    if not in_region:
        lo, hi = 0, len(n) - 1
    log_error = np.log(np.clip(error[:, lo : hi + 1], 1e-6, None))
    slope = slope_ci(np.log(n[lo : hi + 1]), log_error)
    shrink = beats(gap[:, 0], gap[:, -1])  # "better": the gap at the smallest n is larger
    falls = slope["ci_high"] < 0
    if falls and shrink["better"]:
        verdict = SUPPORTED
    elif not falls or shrink["worse"]:
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    floor = regions["floor"]
    numbers = {
        "slope": slope["slope"],
        "slope_ci_low": slope["ci_low"],
        "slope_ci_high": slope["ci_high"],
        "slope_range_n": [n[lo], n[hi]],
        "power_law_region_found": in_region,
        "gap_smallest_n": shrink["mean_a"],
        "gap_smallest_n_ci": shrink["half_width_a"],
        "gap_largest_n": shrink["mean_b"],
        "gap_largest_n_ci": shrink["half_width_b"],
        "floor_from_n": None if floor is None else n[floor],
        "floor_error": regions["floor_error"],
    }
    return Verdict(dataset, verdict, HYPOTHESIS, rule, numbers, n_seeds)


def model_size_verdict(table, datasets=COMPARED) -> Verdict:
    """Does the larger model gain more from data than the small one?

    Rule: `supported` when, at the largest n of every compared dataset, the main (larger)
    model's test error is below the small model's beyond both 95% CIs; `not supported`
    when the small model's is below the larger one's that way on any dataset; otherwise
    `inconclusive`. Also reported: the sizes where the small model is better beyond the CIs
    (the larger one "needs more data before it pays off") and the smallest n from which the
    larger model is better at every larger size.
    """
    hypothesis = "A larger model gains more from more data: at the largest n it beats a small one."
    rule = (
        f"supported when the larger model {MODELS['main']} has lower test error than the small "
        f"one {MODELS['small']} at the largest n beyond both 95% CIs on every compared "
        "dataset; not supported when the small one is lower that way on any; otherwise "
        "inconclusive."
    )
    numbers, outcomes, n_seeds = {}, [], 0
    for name in datasets:
        n, small = curve(table, name, "small")
        _, large = curve(table, name, "main")
        ok = np.isfinite(small).all(1) & np.isfinite(large).all(1)
        small, large = small[ok], large[ok]
        n_seeds = max(n_seeds, len(small))
        cmp = [beats(small[:, i], large[:, i]) for i in range(len(n))]  # better: large wins
        large_wins = [c["better"] for c in cmp]
        pays_off = next((n[i] for i in range(len(n)) if all(large_wins[i:])), None)
        outcomes.append("large" if large_wins[-1] else "small" if cmp[-1]["worse"] else "tie")
        numbers[name] = {
            "largest_n": n[-1],
            "error_small": cmp[-1]["mean_a"],
            "error_small_ci": cmp[-1]["half_width_a"],
            "error_large": cmp[-1]["mean_b"],
            "error_large_ci": cmp[-1]["half_width_b"],
            "small_better_at_n": [n[i] for i, c in enumerate(cmp) if c["worse"]],
            "large_better_from_n": pays_off,
        }
    if all(o == "large" for o in outcomes):
        verdict = SUPPORTED
    elif "small" in outcomes:
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return Verdict("model_size", verdict, hypothesis, rule, numbers, n_seeds)


def samples_to_target(n, accuracy, target: float) -> dict:
    """The smallest n whose mean accuracy reaches `target` with its 95% CI (and without),
    and each seed's own smallest n (NaN when never reached). `accuracy` is (seeds, k)."""
    stats = [_ci(col) for col in np.asarray(accuracy).T]
    reliable = [n[i] for i, (m, h) in enumerate(stats) if m - h >= target]
    on_average = [n[i] for i, (m, _h) in enumerate(stats) if m >= target]
    per_seed = [next((n[i] for i, a in enumerate(row) if a >= target), np.nan) for row in accuracy]
    return {
        "target": target,
        "n_reached": reliable[0] if reliable else None,
        "n_reached_on_average": on_average[0] if on_average else None,
        "n_per_seed": per_seed,
        "accuracy_at_largest_n": stats[-1][0],
        "accuracy_at_largest_n_ci": stats[-1][1],
    }


def samples_to_target_verdict(table, dataset: str = "spiral", target: float | None = None):
    """Can more data reach the target accuracy, and how much does it take?

    Rule: `supported` when some n in the sweep has mean test accuracy whose 95% CI lies at
    or above the target; `not supported` when even the largest n's CI lies below it;
    otherwise `inconclusive`.
    """
    target = TARGET_ACCURACY[dataset] if target is None else target
    n, error = curve(table, dataset, "main")
    error = _complete(error)
    found = samples_to_target(n, 1.0 - error, target)
    mean, half = found["accuracy_at_largest_n"], found["accuracy_at_largest_n_ci"]
    if found["n_reached"] is not None:
        verdict = SUPPORTED
    elif mean + half < target:
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    hypothesis = f"Enough training data takes {dataset} to {target:.0%} test accuracy."
    rule = (
        f"supported when some n reaches {target:.0%} mean test accuracy with its 95% CI at or "
        "above the target; not supported when the largest n's CI lies below it; otherwise "
        "inconclusive."
    )
    return Verdict("samples_to_target", verdict, hypothesis, rule, found, len(error))


# -- the experiment ----------------------------------------------------------------------------
def sizes(n_max: int, n_available: int) -> list[int]:
    """16, 32, 64, ... up to n_max; when n_max reaches the pool, the last size is all of it."""
    out = [n for n in (16 * 2**k for k in range(20)) if n <= min(n_max, n_available)]
    if n_max >= n_available and out[-1] < n_available:
        out.append(n_available)
    return out


def schedule(n: int, min_steps: int, min_epochs: int) -> tuple[int, int]:
    """(batch size, epochs): at least `min_steps` Adam steps and `min_epochs` passes, so a
    small training set is optimised as long as a big one rather than for a few steps."""
    batch = min(BATCH_SIZE, n)
    steps_per_epoch = math.ceil(n / batch)
    return batch, max(math.ceil(min_steps / steps_per_epoch), min_epochs)


def load_pool(name: str, pool: int, n_test: int):
    """One dataset whose training split is the pool the sizes are drawn from and whose test
    split is the one test set every size is scored on."""

    if name == "digits":  # bundled: the pool is its whole training split
        return load_dataset("digits", data_seed=DATA_SEED)
    noise = SPIRAL_NOISE if name == "spiral" else TEACHER_NOISE
    total = pool + n_test
    return load_dataset(
        name, n_samples=total, noise=noise, data_seed=DATA_SEED, test_size=n_test / total
    )


def curve_calls(data, hidden, model_name: str, params: dict) -> dict:
    """{(dataset, model, n): TrainCall} for every size of one learning curve; all seeds of a
    size are one call (one vectorised fit), each seed on its own nested subsets of the pool."""
    n_seeds = params["n_seeds"]
    monitor = replace(data, X_test=data.X_test[:MONITOR_ROWS], y_test=data.y_test[:MONITOR_ROWS])
    # each seed's own order of the pool; size n takes its first n rows (nested subsets)
    orders = [
        np.random.default_rng([DATA_SEED, s]).permutation(len(data.X_train)) for s in range(n_seeds)
    ]
    calls = {}
    for n in sizes(params["n_max"], len(data.X_train)):
        batch, epochs = schedule(n, params["min_steps"], params["min_epochs"])
        train = TrainConfig(lr=LR, batch_size=batch, epochs=epochs, n_seeds=n_seeds)
        calls[data.name, model_name, n] = TrainCall(
            monitor,
            ModelConfig(hidden=hidden),
            train,
            f"data {data.name} {model_name} n={n}",
            {"train_rows": np.stack([order[:n] for order in orders])},
        )
    return calls


def learning_curve(ctx: Context, data, hidden, model_name: str, params: dict) -> list[dict]:
    """Train every size (all seeds at once per size) and score each member on the test set."""
    calls = curve_calls(data, hidden, model_name, params)
    return score_curve(ctx.fit_many(calls), data, hidden, model_name, params)


def score_curve(fits: dict, data, hidden, model_name: str, params: dict) -> list[dict]:
    """One table row per (size, seed) of a learning curve, from `fits` keyed as `curve_calls`."""

    X_test = torch.as_tensor(data.X_test)
    y_test = prepare_targets(data.y_test, data.task, "cpu")
    rows = []
    for n in sizes(params["n_max"], len(data.X_train)):
        batch, epochs = schedule(n, params["min_steps"], params["min_epochs"])
        fit = fits[data.name, model_name, n]
        loss, accuracy = evaluate(fit.stack, X_test, y_test, data.task)  # no_grad inside
        train_error = 1.0 - fit.history.train_metric[:, -1]
        for m, seed in enumerate(fit.seeds):
            ok = bool(fit.ok[m])
            test_error = float(1.0 - accuracy[m]) if ok else float("nan")
            rows.append(
                {
                    "dataset": data.name,
                    "model": model_name,
                    "hidden": "x".join(map(str, hidden)),
                    "n": n,
                    "seed": seed,
                    "batch_size": batch,
                    "epochs": epochs,
                    "steps": epochs * math.ceil(n / batch),
                    "test_error": test_error,
                    "train_error": float(train_error[m]) if ok else float("nan"),
                    "gap": test_error - float(train_error[m]) if ok else float("nan"),
                    "test_loss": float(loss[m]) if ok else float("nan"),
                }
            )
    return rows


class DataClaim(Claim):
    name = "data"
    title = "More data: learning curves and their power laws"
    hypothesis = HYPOTHESIS
    literature = (
        "Hestness et al. 2017: test error falls as a power law in training-set size, with "
        "exponents between about -0.07 and -0.35, down to an irreducible floor",
        "Kaplan et al. 2020: loss falls as a power law in parameters, data and compute",
        "Nakkiran et al. 2019: near the interpolation threshold more data can briefly fail "
        "to help (sample-wise double descent)",
    )
    presets = {
        "quick": {
            "n_seeds": 3,
            "n_max": 128,
            "pool": 512,
            "n_test": 512,
            "min_steps": 150,
            "min_epochs": 3,
            "n_boot": 10,
        },
        "full": {
            "n_seeds": 10,
            "n_max": 8192,
            "pool": 16384,
            "n_test": 4096,
            "min_steps": 800,
            "min_epochs": 30,
            "n_boot": 200,
        },
    }

    def experiment(self, ctx: Context, params: dict):

        table = []
        # one thread: these small networks give a second thread too little work per step
        # (the compute claim measures it), and one thread keeps the time predictable
        with torch_threads(1):
            curves, calls = [], {}
            for name in DATASETS:
                data = load_pool(name, params["pool"], params["n_test"])
                ctx.log(f"{name}: pool {len(data.X_train)}, test {len(data.X_test)}")
                for model in ("main", "small") if name in COMPARED else ("main",):
                    curves.append((data, MODELS[model], model))
                    calls |= curve_calls(data, MODELS[model], model, params)
            trained = ctx.fit_many(calls)  # every curve at once: an executor trains them apart
            for data, hidden, model in curves:
                table += score_curve(trained, data, hidden, model, params)

        parts, fits = [], {}
        for name in DATASETS:
            verdict = learning_curve_verdict(table, name)
            fits[name] = _fit_region(table, name, verdict, params["n_boot"])
            parts.append(replace(verdict, numbers={**verdict.numbers, **fits[name]["numbers"]}))
        parts.append(model_size_verdict(table))
        parts.append(samples_to_target_verdict(table, "spiral"))
        seeds = params["n_seeds"]
        overall = combine(self.name, self.hypothesis, parts, seeds, required=DATASETS)

        figures = {
            "learning_curves": _plot_learning_curves(table, parts, fits),
            "train_test_gap": _plot_gap(table),
            "model_size": _plot_model_size(table),
            "samples_to_target": _plot_targets(table),
        }
        slopes = ", ".join(
            f"{p.claim} {p.numbers['slope']:.2f} (95% CI {p.numbers['slope_ci_low']:.2f} to "
            f"{p.numbers['slope_ci_high']:.2f})"
            for p in parts[: len(DATASETS)]
            if "slope" in p.numbers
        )
        headline = f"log-log slope of test error vs n: {slopes}"
        return self.result(params, table, overall, figures, _notes(table, parts, params), headline)


def _fit_region(table, dataset: str, verdict: Verdict, n_boot: int) -> dict:
    """ε = a·n^(−b) + c on the sizes the verdict's slope used, with a bootstrap CI on b."""
    n, error = curve(table, dataset, "main")
    error = _complete(error)
    if "slope_range_n" not in verdict.numbers or len(error) == 0:
        return {"numbers": {}, "fit": None}
    lo, hi = (int(np.flatnonzero(n == v)[0]) for v in verdict.numbers["slope_range_n"])
    out = bootstrap_exponent(n[lo : hi + 1], error[:, lo : hi + 1], n_boot=n_boot)
    fit = out["fit"]
    numbers = {
        "fit_b": fit.b,
        "fit_b_ci_low": out["ci_low"],
        "fit_b_ci_high": out["ci_high"],
        "fit_a": fit.a,
        "fit_c": fit.c,
        "fit_r2_log": fit.r2_log,
        "fit_range_n": [fit.n_min, fit.n_max],
        "fit_method": fit.method,
        "fit_c_at_bound": bool(fit.c >= 0.999 * float(np.nanmin(error.mean(0)[lo : hi + 1]))),
    }
    return {"numbers": numbers, "fit": fit}


def _notes(table, parts, params) -> list[str]:
    by_name = {p.claim: p for p in parts}
    notes = [
        f"Every size trains for at least {params['min_steps']} Adam steps (lr {LR}) and "
        f"{params['min_epochs']} epochs, batch min({BATCH_SIZE}, n): a fixed step budget "
        "rather than a fixed number of epochs, so the smallest sets train as long as "
        "mid-sized ones; the largest sizes get more steps, since every sample must be seen "
        f"{params['min_epochs']} times. Training runs on one torch thread.",
        "Each seed trains on its own nested subsample of one pool (its first n rows of its "
        "own shuffle), so the 95% CIs include which samples were drawn; on digits the "
        "largest size is the whole training split, shared by all seeds.",
    ]
    for name in DATASETS:
        p = by_name[name].numbers
        if "fit_b" not in p:
            continue
        lo, hi = p["fit_range_n"]
        floor = (
            f"it flattens from n = {p['floor_from_n']:.0f} at about {p['floor_error']:.1%} error"
            if p.get("floor_from_n") is not None
            else "no floor within the sweep: it still falls at the largest n"
        )
        notes.append(
            f"{name}: ε ≈ {p['fit_a']:.3g}·n^-{p['fit_b']:.2f} + {p['fit_c']:.3f} on n = "
            f"{lo:.0f}…{hi:.0f} (b 95% bootstrap CI {p['fit_b_ci_low']:.2f}–"
            f"{p['fit_b_ci_high']:.2f}, R² in log space {p['fit_r2_log']:.3f}); {floor}."
            + (
                " The fitted c sits at its bound, the smallest measured error: the curve is "
                "not a clean power law plus a constant, so read b with care."
                if p["fit_c_at_bound"]
                else ""
            )
        )
    slopes = {d: by_name[d].numbers["slope"] for d in DATASETS if "slope" in by_name[d].numbers}
    if slopes:
        lo, hi = LITERATURE_SLOPES
        steeper = [f"{d} ({v:.2f})" for d, v in slopes.items() if v < lo]
        within = [f"{d} ({v:.2f})" for d, v in slopes.items() if lo <= v <= hi]
        flatter = [f"{d} ({v:.2f})" for d, v in slopes.items() if v > hi]
        notes.append(
            f"Hestness et al. report slopes between {hi} and {lo} for large models on large real "
            "tasks. Steeper here: "
            + (", ".join(steeper) or "none")
            + "; within: "
            + (", ".join(within) or "none")
            + "; flatter: "
            + (", ".join(flatter) or "none")
            + ". Small, low-dimensional tasks are learnt fast, so their curves can be steeper "
            "and reach their floor (label noise on spiral, model or optimiser budget elsewhere) "
            "early."
        )
    # a flat stretch inside the teacher's region near n = parameters: double descent's mark
    n, error = curve(table, "teacher", "main")
    regions = curve_regions(n, _complete(error))
    n_params = _n_params(TEACHER_FEATURES, 1, MODELS["main"])
    flat = [
        n[i]
        for i, counts in enumerate(regions["counts"])
        if regions["start"] is not None
        and regions["start"] <= i < regions["end"]
        and not counts
        and n_params / 4 <= n[i] <= 4 * n_params
    ]
    if flat:
        notes.append(
            f"The teacher's curve stalls inside its power-law region at n = {flat[0]:.0f}, "
            f"near the student's {n_params} parameters: what sample-wise double descent "
            "predicts (Nakkiran et al. 2019), where more data briefly does not help."
        )
    size = by_name["model_size"].numbers
    for name in COMPARED:
        s = size[name]
        notes.append(
            f"model size on {name}: the small {MODELS['small']} model is better beyond the "
            f"CIs at n = {_sizes_text(s['small_better_at_n'])}; the larger {MODELS['main']} one "
            + (
                f"is better at every n from {s['large_better_from_n']:.0f} on."
                if s["large_better_from_n"]
                else "is not better beyond the CIs at the largest n."
            )
        )
    for name in DATASETS:
        n, error = curve(table, name, "main")
        found = samples_to_target(n, 1.0 - _complete(error), TARGET_ACCURACY[name])
        reached = found["n_reached"]
        notes.append(
            f"samples to {TARGET_ACCURACY[name]:.0%} test accuracy on {name}: "
            + (f"n = {reached:.0f}" if reached is not None else "not reached in the sweep")
            + f" (accuracy at n = {n[-1]:.0f}: {found['accuracy_at_largest_n']:.3f} ± "
            f"{found['accuracy_at_largest_n_ci']:.3f})."
        )
    return notes


def _sizes_text(values) -> str:
    return ", ".join(f"{v:.0f}" for v in values) or "none"


def _n_params(n_in: int, n_out: int, hidden) -> int:
    widths = (n_in, *hidden, n_out)
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


# -- figures -------------------------------------------------------------------------------
def _mean_ci(values):
    stats = [_ci(col) for col in np.asarray(values).T]
    return np.array([s[0] for s in stats]), np.array([s[1] for s in stats])


def _plot_learning_curves(table, parts, fits):

    fig, axes = new_figure(ncols=len(DATASETS), size=(4.6, 4.2))
    fig.subplots_adjust(left=0.07, wspace=0.35)
    by_name = {p.claim: p for p in parts}
    for ax, name in zip(axes, DATASETS):
        n, error = curve(table, name, "main")
        mean, half = _mean_ci(_complete(error))
        ax.errorbar(
            n,
            mean,
            yerr=half,
            color=PALETTE["blue"],
            marker="o",
            ms=4,
            capsize=2,
            label="test error (mean, 95% CI)",
        )
        numbers = by_name[name].numbers
        if "slope_range_n" in numbers:
            lo, hi = numbers["slope_range_n"]
            ax.axvspan(lo, hi, color=PALETTE["sky"], alpha=0.15, lw=0, label="power-law region")
        fit = fits[name]["fit"]
        if fit is not None:
            grid = np.geomspace(n[0], n[-1], 100)
            inside = (grid >= fit.n_min) & (grid <= fit.n_max)
            ax.plot(
                grid[inside],
                fit.predict(grid[inside]),
                color=PALETTE["black"],
                label=f"fit a·n^-b + c, b = {fit.b:.2f}",
            )
            ax.plot(grid, fit.predict(grid), color=PALETTE["black"], ls=":", lw=1)
        if numbers.get("floor_from_n") is not None:
            ax.axhline(
                numbers["floor_error"],
                color=PALETTE["vermillion"],
                ls="--",
                lw=1,
                label=f"floor from n = {numbers['floor_from_n']:.0f}",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("training samples n (log scale)")
        ax.set_ylabel("test error (fraction misclassified, log scale)")
        ax.set_title(f"{name}: {by_name[name].verdict}", fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle("Test error falls as a power law in n (straight on log-log), then flattens")
    caption = (
        "Mean test error over seeds with 95% CIs against training-set size, on log-log axes. "
        "A straight stretch is a power law; the shaded span is the detected power-law region, "
        "the black line the fit a·n^-b + c on it (dotted: extrapolated), the dashed line the "
        "floor where the curve flattens."
    )
    return fig, caption


def _plot_gap(table):

    fig, ax = new_figure()
    for color, name in zip(CYCLE, DATASETS):
        n, gap = curve(table, name, "main", "gap")
        mean, half = _mean_ci(_complete(gap))
        ax.plot(n, mean, color=color, marker="o", ms=4, label=f"{name} (mean)")
        ax.fill_between(
            n, mean - half, mean + half, color=color, alpha=0.25, lw=0, label=f"{name} (95% CI)"
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training samples n (log scale)")
    ax.set_ylabel("train-test gap (test error − train error)")
    ax.set_title("The train-test gap shrinks as the training set grows")
    ax.legend(fontsize=8)
    caption = (
        "Test error minus training error (on each member's own training rows) against n, "
        "mean and 95% CI over seeds. Small sets are memorised (large gap); with more data the "
        "gap closes."
    )
    return fig, caption


def _plot_model_size(table):

    fig, axes = new_figure(ncols=len(COMPARED), size=(4.8, 4.2))
    for ax, name in zip(np.atleast_1d(axes), COMPARED):
        for model, label, color in (
            ("small", "small", PALETTE["orange"]),
            ("main", "larger", PALETTE["blue"]),
        ):
            n, error = curve(table, name, model)
            mean, half = _mean_ci(_complete(error))
            ax.errorbar(
                n,
                mean,
                yerr=half,
                color=color,
                marker="o",
                ms=4,
                capsize=2,
                label=f"{label} {MODELS[model]} (mean, 95% CI)",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("training samples n (log scale)")
        ax.set_ylabel("test error (log scale)")
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle("A small and a larger model on the same samples: where does size pay off?")
    caption = (
        "Test error against n for a small and a larger MLP trained on the same samples. Where "
        "the curves cross, the larger model starts to pay off; the gap at the largest n shows "
        "which one gains more from data."
    )
    return fig, caption


def _plot_targets(table):

    fig, ax = new_figure()
    for color, name in zip(CYCLE, DATASETS):
        n, error = curve(table, name, "main")
        accuracy = 1.0 - _complete(error)
        mean, half = _mean_ci(accuracy)
        target = TARGET_ACCURACY[name]
        ax.errorbar(
            n,
            mean,
            yerr=half,
            color=color,
            marker="o",
            ms=4,
            capsize=2,
            label=f"{name} (mean, 95% CI)",
        )
        ax.axhline(target, color=color, ls="--", lw=1, label=f"{name} target {target:.0%}")
        reached = samples_to_target(n, accuracy, target)["n_reached"]
        if reached is not None:
            ax.axvline(reached, color=color, ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training samples n (log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("How many samples reach the target accuracy")
    ax.legend(fontsize=7)
    caption = (
        "Test accuracy against n with 95% CIs; dashed lines are each task's target, dotted "
        "lines the smallest n whose CI clears it."
    )
    return fig, caption


CLAIM = DataClaim()
