"""Dropout (Srivastava et al. 2014): a wide MLP on small, noisy teacher data and on digits,
p in {0, 0.1, 0.3, 0.5}, at several training-set sizes.

Protocol: on each dataset, the dropout rate p > 0 is chosen on the selection seeds (their
own initialisations and data draws: a teacher sample, a digits split) at the largest
training set, by mean test accuracy on their own test splits. The evaluation seeds train
every (size, p) on their own draws; the rule compares the chosen p with p = 0 at the largest
size, seed by seed. The other sizes and rates are reported (figure, notes), not decided on.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from matplotlib.ticker import NullFormatter

from whydl.config import ModelConfig, TrainConfig
from whydl.engine import tasks
from whydl.errors import DivergedError
from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.calls import TrainCall
from whydl.evidence.decide import INCONCLUSIVE, SUPPORTED, any_of, paired_difference
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.innovations.common import digits
from whydl.evidence.innovations.tuning import last
from whydl.evidence.protocol import per_seed_data
from whydl.evidence.rows import by_seed, matrix, select
from whydl.plots.bands import ci_errorbar
from whydl.plots.style import CYCLE, new_figure

PRESETS = {
    "quick": {
        "dropout_width": 32,
        "dropout_sizes": (60,),
        "dropout_rates": (0.0, 0.1, 0.3, 0.5),
        "dropout_steps": 10,
        "dropout_batch": 50,
        "dropout_lr": 0.002,
        "dropout_noise": 0.2,
        "dropout_test": 200,
    },
    "full": {
        "dropout_width": 128,
        "dropout_sizes": (50, 200, 800),
        "dropout_rates": (0.0, 0.1, 0.3, 0.5),
        "dropout_steps": 150,
        "dropout_batch": 50,
        "dropout_lr": 0.002,
        "dropout_noise": 0.2,
        "dropout_test": 500,
    },
}

DATASETS = ("teacher", "digits")
MIN_GAIN = 0.005  # the minimum effect of interest: test accuracy, chosen p over p = 0
MIN_GAIN_REASON = (
    "half a point of test accuracy is about 2.5 rows of a 500-row test split: a smaller gain "
    "is not worth a regulariser's extra hyperparameter (Srivastava et al.'s MNIST gain was "
    "0.35 points at 60,000 examples; on small noisy data the gain should be larger)"
)
SMALL_DATA = 500  # Srivastava et al. saw no dropout gain with 100 to 500 examples (notes)
MONITOR_ROWS = 32  # test rows scored every epoch; the final score takes the whole split

# the simulator, in test accuracy: a seed's own luck (about what the full run's 10 teacher
# seeds show), its data draw (shared by its rates), and each (dataset, p) configuration's
# own luck, shared by all its seeds, selection and evaluation alike (an eighth of a seed's:
# with per-seed draws nothing else is shared by a configuration's seeds, yet the chosen p's
# share is what choosing on selection seeds cannot remove)
SIMULATED_SEED_SD = 0.012
SIMULATED_SHARED_SD = 0.020
SIMULATED_CONFIG_SD = 0.0015
SIMULATED_ACCURACY = {"teacher": 0.70, "digits": 0.95}  # p = 0, about the old full run's
SIMULATED_SHAPE = {0.1: 0.5, 0.3: 1.0, 0.5: 0.8}  # each p's share of the best p's gain
SIMULATED_GAIN = {  # condition -> the best p's true gain per dataset
    NULL: {"teacher": 0.0, "digits": 0.0},
    MINIMUM: {"teacher": MIN_GAIN, "digits": 0.0},  # only one dataset: the hardest case
    CLEAR: {"teacher": 0.03, "digits": 0.0},  # about the old full run's teacher gain
}


class DropoutRule(Rule):
    """Per dataset, the paired difference in test accuracy (chosen p minus p = 0) at the
    largest training set; Holm's `any_of` over the datasets, and no "supported" while
    dropout clearly hurts on a dataset.

    `verdict.numbers`: `n_train` (the largest training set); per dataset d (teacher,
    digits): `gain_<d>` with `_ci_low`, `_ci_high`, `_n`, `_paired` (test accuracy, chosen
    p minus p = 0, mean over evaluation seeds and CI), `chosen_p_<d>`, `accuracy_p0_<d>`,
    `accuracy_chosen_<d>` (mean test accuracies), `p_value_<d>` (one-sided) and
    `holm_rejects_<d>`; `hurts_on` (datasets whose gain's CI lies wholly below 0)."""

    name = "dropout"
    hypothesis = "Dropout raises test accuracy of a wide MLP trained on enough (small, noisy) data."
    minimum_effect = MIN_GAIN
    minimum_effect_reason = MIN_GAIN_REASON

    def text(self) -> str:
        return (
            "On each dataset (teacher, digits), the dropout rate p > 0 chosen on the selection "
            "seeds is compared with p = 0 at the largest training set: the 95% CI of the mean "
            "over evaluation seeds of the paired difference in test accuracy (each seed its "
            "own data draw). Any of the datasets may carry it, so the one-sided tests are "
            "Holm-corrected at 2.5%. Supported when Holm rejects on at least one dataset and "
            "no dataset's CI lies wholly below 0 (dropout hurting); not supported when every "
            f"dataset's CI lies below MIN_GAIN={MIN_GAIN:g}; otherwise inconclusive (also "
            "with fewer than MIN_SEEDS seeds)."
        )

    def decide(self, rows):
        n_train = max(r["n_train"] for r in rows)
        effects, numbers = {}, {"n_train": n_train}
        for d in DATASETS:
            mine = select(rows, dataset=d, n_train=n_train)
            chosen = by_seed(mine, "test_accuracy", chosen=True)
            base = by_seed(mine, "test_accuracy", dropout=0.0)
            effects[d] = paired_difference(chosen, base)
            numbers.update(effects[d].numbers(f"gain_{d}"))
            picked = select(mine, chosen=True)
            numbers[f"chosen_p_{d}"] = picked[0]["dropout"] if picked else math.nan
            numbers[f"accuracy_p0_{d}"] = float(np.nanmean(list(base.values())))
            numbers[f"accuracy_chosen_{d}"] = float(np.nanmean(list(chosen.values())))
        verdict, tests = any_of(effects, self.minimum_effect)
        for d, t in tests.items():
            numbers[f"p_value_{d}"] = t["p_value"]
            numbers[f"holm_rejects_{d}"] = t["holm_rejects"]
        hurts = [d for d, e in effects.items() if e.ci_high < 0]
        numbers["hurts_on"] = hurts
        if verdict == SUPPORTED and hurts:
            verdict = INCONCLUSIVE
        return self.verdict(verdict, numbers, min(e.n for e in effects.values()))

    def simulate(self, condition, rng, n_evaluation, n_selection):
        n_train = max(PRESETS["full"]["dropout_sizes"])
        rates = [p for p in PRESETS["full"]["dropout_rates"] if p > 0]
        rows = []
        for d in DATASETS:
            means = [SIMULATED_ACCURACY[d]] + [
                SIMULATED_ACCURACY[d] + SIMULATED_GAIN[condition][d] * SIMULATED_SHAPE[p]
                for p in rates
            ]
            config = rng.normal(0.0, SIMULATED_CONFIG_SD, len(means))  # shared by all seeds
            truth = np.asarray(means) + config
            noise = (SIMULATED_SEED_SD, 0.0, SIMULATED_SHARED_SD)
            picked = noisy_grid(rng, truth, n_selection, *noise)[:, 1:].mean(0).argmax()
            chosen = rates[picked]
            accuracy = noisy_grid(rng, truth, n_evaluation, *noise)
            for s in range(n_evaluation):
                for j, p in enumerate([0.0, *rates]):
                    rows.append(
                        {
                            "seed": s,
                            "dataset": d,
                            "n_train": n_train,
                            "dropout": p,
                            "chosen": p == chosen,
                            "test_accuracy": float(accuracy[s, j]),
                        }
                    )
        return rows


def _data(params, d: str, seeds):
    """Every seed's own draw of dataset `d`: a teacher sample or a digits split."""
    total = max(params["dropout_sizes"]) + params["dropout_test"]
    return _draws(d, tuple(seeds), total, params["dropout_noise"], params["dropout_test"])


@functools.lru_cache(maxsize=4)  # the calls, the choice and the rows read the same draws
def _draws(d: str, seeds: tuple, total: int, noise: float, n_test: int):
    if d == "digits":
        return digits(seeds, monitor=None)
    return per_seed_data("teacher", seeds, n_samples=total, noise=noise, test_size=n_test / total)


def _test_accuracy(fit, data) -> np.ndarray:
    """Each member's accuracy on its own whole test split, in eval mode (NaN: diverged).

    Training watches only MONITOR_ROWS test rows per epoch: at small n, scoring the whole
    test split after every epoch costs more than the training step itself."""
    if isinstance(fit, DivergedError):
        return np.full(len(data.seeds), np.nan)
    device = fit.stack.device
    X = torch.as_tensor(data.pool.X_test[data.test_rows], device=device)  # (M, n_test, D)
    y = data.pool.y_test[data.test_rows]
    targets = tasks.prepare_targets(y.reshape(-1), fit.task, device)
    targets = targets.view(*y.shape, *targets.shape[1:])
    with torch.no_grad():
        accuracy = tasks.metric(fit.stack.forward(X, train=False), targets, fit.task)
    return np.where(fit.ok, accuracy.cpu().numpy(), np.nan)


def _calls(params, seeds, sizes, rates) -> dict:
    """(dataset, n_train, p) -> a TrainCall of all `seeds`, each on its own data draw."""
    calls = {}
    for d in DATASETS:
        data = _data(params, d, seeds)
        for n in sizes:
            sub = data.subsample(n)
            batch = params["dropout_batch"] if params["dropout_batch"] < n else 0  # 0: full
            per_epoch = math.ceil(n / batch) if batch else 1
            for p in rates:
                train = TrainConfig(
                    optimizer="adam",
                    lr=params["dropout_lr"],
                    batch_size=batch,
                    epochs=math.ceil(params["dropout_steps"] / per_epoch),
                    seed=seeds[0],
                    n_seeds=len(seeds),
                )
                model = ModelConfig(hidden=(params["dropout_width"],) * 2, dropout=p)
                tag = f"dropout {d} n={n} p={p:g} seeds {seeds[0]}+"
                hooks = {"train_rows": sub.train_rows, "test_rows": sub.test_rows[:, :MONITOR_ROWS]}
                calls[d, n, p] = TrainCall(sub.pool, model, train, tag, hooks=hooks)
    return calls


class DropoutExperiment(Experiment):
    name = "dropout"
    rule = DropoutRule()
    selects = True

    def selection_calls(self, params, seeds):
        rates = [p for p in params["dropout_rates"] if p > 0]
        return _calls(params, seeds, (max(params["dropout_sizes"]),), rates)

    def choose(self, params, fits):
        n = max(params["dropout_sizes"])
        seeds = next(f.seeds for f in fits.values() if not isinstance(f, DivergedError))
        accuracy = {d: {} for d in DATASETS}
        for (d, _, p), fit in fits.items():
            accuracy[d][p] = float(np.nanmean(_test_accuracy(fit, _data(params, d, seeds))))
        best = {
            d: max(a, key=lambda p, a=a: np.nan_to_num(a[p], nan=-1.0)) for d, a in accuracy.items()
        }
        selection = {d: {f"{p:g}": a for p, a in acc.items()} for d, acc in accuracy.items()}
        return {"p": best, "n_train": n, "selection_test_accuracy": selection}

    def calls(self, params, seeds, chosen):
        return _calls(params, seeds, tuple(params["dropout_sizes"]), tuple(params["dropout_rates"]))

    def rows(self, run):
        seeds, rows = run.plan.evaluation, []
        for (d, n, p), fit in run.fits.items():
            test = _test_accuracy(fit, _data(run.params, d, seeds))
            train = last(fit, "train_metric", len(seeds))
            for m, s in enumerate(seeds):
                rows.append(
                    {
                        "seed": int(s),
                        "dataset": d,
                        "n_train": int(n),
                        "dropout": float(p),
                        "chosen": p == run.chosen["p"][d],
                        "test_accuracy": float(test[m]),
                        "train_accuracy": float(train[m]),
                        "gap": float(train[m] - test[m]),
                    }
                )
        return rows

    def figures(self, run):
        return {"dropout": _figure(run)}

    def notes(self, run):
        sizes = sorted(run.params["dropout_sizes"])
        small = [n for n in sizes if n <= SMALL_DATA] or sizes[:1]
        effects = []
        for d in DATASETS:
            p = run.chosen["p"][d]
            for n in small:
                mine = select(run.rows, dataset=d, n_train=n)
                e = paired_difference(
                    by_seed(mine, "test_accuracy", dropout=p),
                    by_seed(mine, "test_accuracy", dropout=0.0),
                )
                effects.append(
                    f"{d} n = {n}: p = {p:g} minus p = 0 {e.estimate:+.3f} (95% CI "
                    f"{e.ci_low:+.3f} to {e.ci_high:+.3f})"
                )
        notes = [
            f"Dropout on small training sets (at most {SMALL_DATA} examples, where Srivastava et "
            "al. saw no gain), at the p chosen at the largest set: " + "; ".join(effects) + "."
        ]
        v = run.verdict
        if v.verdict != SUPPORTED:
            notes.append(
                f"Dropout's test-accuracy gain at n = {v.numbers['n_train']} is {v.verdict}: "
                + "; ".join(_gain(v.numbers, d) for d in DATASETS)
                + ". Srivastava et al.'s MNIST gain came from 60,000 examples, nets of thousands "
                "of units and hundreds of epochs; ours train for a few hundred steps."
            )
        return notes


def _gain(numbers: dict, d: str) -> str:
    """'teacher +0.032 (95% CI +0.020 to +0.044, p = 0.5)'."""
    low, high = numbers[f"gain_{d}_ci_low"], numbers[f"gain_{d}_ci_high"]
    return (
        f"{d} {numbers[f'gain_{d}']:+.3f} (95% CI {low:+.3f} to {high:+.3f}, "
        f"p = {numbers[f'chosen_p_{d}']:g})"
    )


def _figure(run):
    p, v = run.params, run.verdict.numbers
    rates = tuple(p["dropout_rates"])
    fig, axes = new_figure(ncols=2, nrows=len(DATASETS), size=(5.0, 3.6))
    axes = np.atleast_2d(axes)
    for row, d in enumerate(DATASETS):
        for rate, color in zip(rates, CYCLE):
            for col, column in ((0, "test_accuracy"), (1, "gap")):
                sizes, _, values = matrix(run.rows, column, "n_train", dataset=d, dropout=rate)
                chosen = " (chosen)" if rate == run.chosen["p"][d] else ""
                ci_errorbar(axes[row, col], sizes, values, color, f"p = {rate:g}{chosen}")
        axes[row, 0].set_ylabel(f"{d}: test accuracy")
        axes[row, 1].set_ylabel(f"{d}: train − test accuracy")
        axes[row, 0].legend(fontsize=6)
    sizes = sorted(p["dropout_sizes"])
    for ax in axes.flat:
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("training examples (log scale)")
    gains = ", ".join(f"{d} {v[f'gain_{d}']:+.3f} (p = {v[f'chosen_p_{d}']:g})" for d in DATASETS)
    fig.suptitle(f"Dropout's test-accuracy gain at n = {v['n_train']}, p chosen apart: {gains}")
    return (
        fig,
        f"A {p['dropout_width']}-wide 2-hidden-layer ReLU MLP trained with Adam for about "
        f"{p['dropout_steps']} steps on nested training subsets of each evaluation seed's own "
        f"draw: teacher data with {p['dropout_noise']:.0%} flipped labels, and digits. Mean and "
        "95% CI over evaluation seeds; p was chosen on separate selection seeds.",
    )
