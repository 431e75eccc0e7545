"""Does the network gain more from data than a classical learner on the same curve?

"A bigger model gains more from data" needs a yardstick: a learner whose error also keeps
falling with n. k-nearest neighbours is one (it is consistent: with k growing, its error
tends to the Bayes error on any task), so it is fitted on the SAME per-seed data and sizes
as the network's learning curve: seed s, size n, the first n rows of seed s's own training
split, scored on seed s's own test split. Logistic regression is reported beside it: it is
linear, so where the task is not (spiral) it stops gaining early; a rule against it alone
would test a straw man.

k and C are choices made from data, so they are made on the selection seeds: for each
(task, n) the k of `K_GRID` (k <= n) and the C of `C_GRID` with the lowest mean test error
over the selection seeds' own splits. The evaluation seeds then fit both learners with
those. scikit-learn runs in this process (seconds, no torch); the network's errors are the
main model's, trained by the tasks' own experiments.

The effect, per task and per evaluation seed: the least-squares slope, over all sizes, of
log(k-NN error / network error) against log n, which is the network's log-log slope
steeper than k-NN's (positive: the network's advantage, as a ratio of errors, grows with
n). Paired by seed: both learners see the same rows. Reported beside it: the paired
difference of test errors (k-NN minus network) at the smallest and at the largest n, and
the same numbers for logistic regression. Reported, not deciding, like `model_size`.
"""

from __future__ import annotations

import numpy as np

from whydl.analysis.powerlaw import MIN_ERROR
from whydl.analysis.probes import probe_accuracy
from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.data_scaling.curves import (
    DATASETS,
    MODELS,
    curve,
    curve_sizes,
    score_curve,
    seed_data,
)
from whydl.evidence.data_scaling.effects import all_required
from whydl.evidence.decide import INCONCLUSIVE, mean_effect, paired_difference, slopes, three_way
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.verdict import Verdict
from whydl.plots.bands import ci_band
from whydl.plots.style import PALETTE, new_figure

NETWORK, KNN, LOGISTIC = "network", "k-NN", "logistic regression"
K_GRID = (1, 3, 5, 9, 17, 33, 65, 129)  # odd (no ties between two classes), about doubling
C_GRID = (0.1, 1.0, 10.0)  # logistic regression's inverse L2 strength, on standardised inputs
# the selection seeds score every k and C on their first 1,024 test rows (5,120 rows in all
# at the full preset, enough to rank them): scoring all 4,096 took over three times as long
SELECTION_TEST_ROWS = 1024
MIN_SLOPE_GAIN = 0.05  # minimum effect: the network's log-log slope steeper by 0.05
MIN_SLOPE_GAIN_REASON = (
    "a log-log slope steeper by 0.05 changes the ratio of the two errors by 3.5% per "
    "doubling of n (37% over the full sweep's nine doublings); the learning-curve rule's "
    "own minimum slope (-0.05) is the same, the flattest curve that counts as gaining"
)
MIN_ADVANTAGE = 0.005  # the errors' difference at one n (reported): as model_size's
# the simulator: per (task, learner, size, seed) log test error, on each task's full-preset
# sizes, near the full run's curves
SIM_SIZES = {
    "spiral": tuple(16 * 2**j for j in range(10)),
    "teacher": tuple(16 * 2**j for j in range(10)),
    "digits": (*(16 * 2**j for j in range(7)), 1257),  # up to its whole training split
}
SIM_ERROR = 0.4  # both learners' error at the smallest n
SIM_SLOPE = 0.4  # k-NN's log-log slope (negated); the network's is steeper by the effect
# each (seed, learner, size) cell's own: set so that the per-seed slope gains scatter as
# in the full run (sd 0.05 on spiral, 0.013 on teacher, 0.11 on digits)
SIM_SEED_SD = {"spiral": 0.22, "teacher": 0.06, "digits": 0.33}
SIM_SHARED_SD = 0.1  # a seed's draw, shared by both learners and all sizes: pairing cancels it
# a (learner, size) cell's own, shared by its seeds: the k chosen on the selection seeds
# moved k-NN's mean log error by sd 0.009-0.015 per cell (mean over sizes; 200 draws of 5
# of 15 selection seeds, full preset), and 0.01 on each learner's cell is 0.014 on their
# ratio. The network's fixed schedule at n is part of what is compared, not noise.
SIM_CONFIG_SD = 0.01
CLEAR_SLOPE_GAIN = 0.15  # a clear effect: the ratio of errors changing 11% per doubling
SIM_GAINS = {  # per task; the null's least favourable case: one task null, two clear
    NULL: (0.0, CLEAR_SLOPE_GAIN, CLEAR_SLOPE_GAIN),
    MINIMUM: (MIN_SLOPE_GAIN,) * 3,
    CLEAR: (CLEAR_SLOPE_GAIN,) * 3,
}


def knn_errors(member, sizes, ks, n_test: int | None = None) -> np.ndarray:
    """(len(sizes), len(ks)) test errors of k-NN fitted on the first n training rows of
    `member` (a Dataset) for every n in `sizes` (increasing) and every k in `ks`, scored on
    its first `n_test` test rows (None: all); NaN where k > n.

    The sizes are nested, so the training rows are queried in blocks (the rows from one
    size to the next) and each size's neighbours merged from its blocks': every training
    row is searched once, not once per size. Votes are uniform; a tie goes to the smallest
    class label, as `sklearn.neighbors.KNeighborsClassifier` breaks it."""
    # lazily: scikit-learn's estimators take a second to import, and the rules need none
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    sizes, ks = [int(n) for n in sizes], [int(k) for k in ks]
    if sizes != sorted(set(sizes)) or sizes[0] < 1:
        raise ValueError(f"sizes={sizes}; expected increasing training-set sizes, e.g. [16, 32].")
    # float32: the brute-force search (20-D teacher, 64-D digits) runs a third faster
    X_train = np.asarray(member.X_train, dtype=np.float32)
    X_test = np.asarray(member.X_test[:n_test], dtype=np.float32)
    y_test = np.asarray(member.y_test[:n_test], dtype=int)
    y_train = np.asarray(member.y_train, dtype=int)
    n_classes = int(max(y_train.max(), y_test.max()) + 1)
    k_max = max(ks)
    out = np.full((len(sizes), len(ks)), np.nan)
    distance = np.empty((len(X_test), 0))  # (t, <= k_max) nearest so far, sorted
    index = np.empty((len(X_test), 0), dtype=int)
    lo = 0
    # one OpenMP thread: on a shared machine a second one spins more than it searches
    # (nearly twice the CPU time of one thread, measured at the full preset)
    with threadpool_limits(limits=1):
        blocks = {}  # n -> (distances, indices) of the block of rows lo..n
        for n in sizes:
            if n > lo:
                search = NearestNeighbors(n_neighbors=min(k_max, n - lo)).fit(X_train[lo:n])
                d, j = search.kneighbors(X_test)
                blocks[n] = d, j + lo
                lo = n
    for i, n in enumerate(sizes):
        if n in blocks:
            d, j = blocks[n]
            distance, index = np.hstack([distance, d]), np.hstack([index, j])
            order = np.argsort(distance, axis=1, kind="stable")[:, : min(k_max, n)]
            distance = np.take_along_axis(distance, order, axis=1)
            index = np.take_along_axis(index, order, axis=1)
        labels = y_train[index]  # (t, K) nearest first
        votes = np.zeros((*labels.shape, n_classes), dtype=np.int32)
        np.put_along_axis(votes, labels[..., None], 1, axis=2)
        votes = votes.cumsum(axis=1)  # (t, K, C): votes among the k nearest, every k
        for c, k in enumerate(ks):
            if k <= n:
                out[i, c] = float(np.mean(votes[:, k - 1].argmax(axis=1) != y_test))
    return out


def logistic_errors(member, sizes, cs, n_test: int | None = None) -> np.ndarray:
    """(len(sizes), len(cs)) test errors of logistic regression (`probe_accuracy`: inputs
    standardised on the training rows) fitted on the first n training rows of `member`,
    scored on its first `n_test` test rows (None: all)."""
    X_test, y_test = member.X_test[:n_test], member.y_test[:n_test]
    return np.array(
        [
            [
                1.0 - probe_accuracy(member.X_train[:n], member.y_train[:n], X_test, y_test, c)
                for c in cs
            ]
            for n in sizes
        ]
    )


def _curves(rows) -> dict:
    """{dataset: (n (k,), {learner: log test errors (seeds, k)})} over the seeds complete
    in every learner the rows have (a diverged network member leaves NaNs), in seed order."""
    out = {}
    for name in sorted({r["dataset"] for r in rows}):
        own = [r for r in rows if r["dataset"] == name]
        ns, seeds = sorted({r["n"] for r in own}), sorted({r["seed"] for r in own})
        at_n, at_seed = {n: j for j, n in enumerate(ns)}, {s: i for i, s in enumerate(seeds)}
        grid = {ln: np.full((len(seeds), len(ns)), np.nan) for ln in {r["learner"] for r in own}}
        for r in own:
            grid[r["learner"]][at_seed[r["seed"]], at_n[r["n"]]] = r["test_error"]
        keep = np.logical_and.reduce([np.isfinite(g).all(axis=1) for g in grid.values()])
        out[name] = (
            np.asarray(ns, float),
            {ln: np.log(np.clip(g[keep], MIN_ERROR, None)) for ln, g in grid.items()},
        )
    return out


def compare(n, classical, network) -> tuple:
    """(Effect, numbers) of one classical learner against the network on one task, from
    their log test errors (seeds, k) at sizes `n`: the per-seed slope of the log ratio of
    their errors against log n (positive: the network's curve is steeper), each curve's
    mean log-log slope and the paired difference of errors at the smallest and largest n."""
    x = np.log(n)
    effect = mean_effect(slopes(x, classical - network))
    numbers = {
        "sizes": [float(n[0]), float(n[-1])],
        "network_slope": float(slopes(x, network).mean()),
        "classical_slope": float(slopes(x, classical).mean()),
        **effect.numbers("slope_gain"),
    }
    for end, j in (("smallest", 0), ("largest", -1)):
        error_classical, error_network = np.exp(classical[:, j]), np.exp(network[:, j])
        difference = paired_difference(error_classical, error_network)
        numbers |= {
            f"error_network_{end}_n": float(error_network.mean()),
            f"error_classical_{end}_n": float(error_classical.mean()),
            f"log_ratio_{end}_n": float((classical[:, j] - network[:, j]).mean()),
            **difference.numbers(f"advantage_{end}_n"),
            f"advantage_{end}_n_verdict": three_way(difference, MIN_ADVANTAGE),
        }
    return effect, numbers


class ClassicalCurveRule(Rule):
    """Rows: one per (dataset, learner, n, seed) with test_error; learners NETWORK and KNN
    (decided on) and LOGISTIC (reported when present)."""

    name = "classical_curve"
    hypothesis = (
        "The network gains more from data than a classical learner: on the same samples its "
        "test error falls faster with n than k-nearest neighbours' does."
    )
    minimum_effect = MIN_SLOPE_GAIN
    minimum_effect_reason = MIN_SLOPE_GAIN_REASON

    def text(self) -> str:
        return (
            "on each task, per evaluation seed, the least-squares slope over all sizes of "
            "log(k-NN test error / network test error) against log n (positive: the network's "
            f"log-log slope is steeper), k-NN's k chosen per size from {list(K_GRID)} on the "
            "selection seeds; paired by seed (the same rows), a t-CI over seeds. Supported "
            "when its 95% CI lies above 0 on every task (all of); not supported when on any "
            "task the CI's upper end, at the Bonferroni level (one-sided 2.5% / tasks), lies "
            f"below {MIN_SLOPE_GAIN}; otherwise inconclusive. Reported beside: the paired "
            "difference of test errors, k-NN minus network, at the smallest and the largest "
            f"n (against {MIN_ADVANTAGE}, uncorrected), and the same numbers for logistic "
            f"regression (C from {list(C_GRID)} per size on the selection seeds)."
        )

    def decide(self, rows) -> Verdict:
        effects, numbers = {}, {}
        for name, (n, logs) in _curves(rows).items():
            if len(n) < 3 or KNN not in logs or NETWORK not in logs or not len(logs[KNN]):
                continue
            effects[name], numbers[name] = compare(n, logs[KNN], logs[NETWORK])
            if LOGISTIC in logs:  # reported beside, not decided on
                numbers[name]["logistic"] = compare(n, logs[LOGISTIC], logs[NETWORK])[1]
        if not effects:
            return self.verdict(INCONCLUSIVE, numbers, 0)
        verdict, each = all_required(effects, dict.fromkeys(effects, MIN_SLOPE_GAIN))
        for name, v in each.items():
            numbers[name]["verdict"] = v
        return self.verdict(verdict, numbers, min(e.n for e in effects.values()))

    def simulate(self, condition, rng, n_evaluation, n_selection) -> list[dict]:
        rows = []
        for name, gain in zip(DATASETS, SIM_GAINS[condition]):
            sizes = SIM_SIZES[name]
            log_n = np.log(np.asarray(sizes, float) / sizes[0])
            knn = np.log(SIM_ERROR) - SIM_SLOPE * log_n
            network = knn - gain * log_n
            means = np.concatenate([network, knn])  # (network at every n, then k-NN)
            grid = noisy_grid(
                rng, means, n_evaluation, SIM_SEED_SD[name], SIM_CONFIG_SD, SIM_SHARED_SD
            )
            cells = [(learner, n) for learner in (NETWORK, KNN) for n in sizes]
            rows += [
                {"dataset": name, "learner": learner, "n": n, "seed": s}
                | {"test_error": float(np.exp(grid[s, c]))}
                for c, (learner, n) in enumerate(cells)
                for s in range(n_evaluation)
            ]
        return rows


class ClassicalCurve(Experiment):
    """k-NN and logistic regression on every task's curve (the same seeds, rows and sizes),
    beside the main model's."""

    name = "classical_curve"
    rule = ClassicalCurveRule()
    deciding = False
    selects = True

    def select(self, ctx, params, seeds) -> dict:
        """Each (task, n)'s k and C: the lowest mean test error over the selection seeds."""
        chosen = {}
        for name in DATASETS:
            sizes = curve_sizes(name, params)
            members = seed_data(name, params, seeds).members
            knn = np.mean(
                [knn_errors(m, sizes, K_GRID, SELECTION_TEST_ROWS) for m in members], axis=0
            )  # (sizes, ks); NaN only where k > n, in every seed
            logistic = np.mean(
                [logistic_errors(m, sizes, C_GRID, SELECTION_TEST_ROWS) for m in members], axis=0
            )
            chosen[name] = {
                "n": sizes,
                "k": [K_GRID[int(np.nanargmin(row))] for row in knn],
                "C": [C_GRID[int(np.argmin(row))] for row in logistic],
                "selection_error_knn": [round(float(np.nanmin(row)), 5) for row in knn],
                "selection_error_logistic": [round(float(row.min()), 5) for row in logistic],
            }
        ks = {name: c["k"] for name, c in chosen.items()}
        ctx.log(f"k-NN's k per size: {ks}")
        return chosen

    def train(self, ctx, params, seeds, chosen) -> dict:
        """{(dataset, learner): (seeds, sizes) test errors} on the evaluation seeds, each
        size at its chosen k or C (no engine training)."""
        fits = {}
        for name in DATASETS:
            sizes, at = chosen[name]["n"], np.arange(len(chosen[name]["n"]))
            members = seed_data(name, params, seeds).members
            ks = sorted(set(chosen[name]["k"]))  # one search serves every chosen k
            column = [ks.index(k) for k in chosen[name]["k"]]
            fits[name, KNN] = np.stack([knn_errors(m, sizes, ks)[at, column] for m in members])
            fits[name, LOGISTIC] = np.stack(  # one fit per size, at its own C
                [
                    [logistic_errors(m, [n], [c])[0, 0] for n, c in zip(sizes, chosen[name]["C"])]
                    for m in members
                ]
            )
        return fits

    def rows(self, run) -> list[dict]:
        rows = []
        for name in DATASETS:
            network = score_curve(run.others[name].fits, name, "main", run.params)
            rows += [
                {"dataset": name, "learner": NETWORK, "n": r["n"], "seed": r["seed"]}
                | {"setting": "x".join(map(str, MODELS["main"])), "test_error": r["test_error"]}
                for r in network
            ]
            chosen = run.chosen[name]
            for learner, key in ((KNN, "k"), (LOGISTIC, "C")):
                rows += [
                    {"dataset": name, "learner": learner, "n": n, "seed": int(seed)}
                    | {"setting": f"{key}={value:g}"}
                    | {"test_error": float(run.fits[name, learner][m, j])}
                    for m, seed in enumerate(run.plan.evaluation)
                    for j, (n, value) in enumerate(zip(chosen["n"], chosen[key]))
                ]
        return rows

    def figures(self, run) -> dict:
        fig, axes = new_figure(ncols=len(DATASETS), size=(4.6, 4.2))
        for ax, name in zip(np.atleast_1d(axes), DATASETS):
            for learner, label, color in (
                (NETWORK, f"MLP {'x'.join(map(str, MODELS['main']))}", PALETTE["blue"]),
                (KNN, "k-NN (k per n)", PALETTE["vermillion"]),
                (LOGISTIC, "logistic regression (C per n)", PALETTE["green"]),
            ):
                n, error = curve(run.rows, "test_error", dataset=name, learner=learner)
                if len(n):
                    ci_band(ax, n, error, color, label)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("training samples n (log scale)")
            ax.set_ylabel("test error (fraction misclassified, log scale)")
            ax.set_title(name, fontsize=10)
            ax.legend(fontsize=7)
        fig.suptitle(
            "The network and classical learners on the same samples: whose error falls faster?"
        )
        caption = (
            "Test error against n on log-log axes, mean and 95% CI band over the evaluation "
            "seeds, for the main MLP, k-nearest neighbours and logistic regression, all fitted "
            "on the same rows of each seed's own training split and scored on its own test "
            "split (k and C chosen per n on the selection seeds). A steeper curve gains more "
            "from data; the rule reads the per-seed slope of the log ratio of k-NN's error to "
            "the network's."
        )
        return {"classical_curve": (fig, caption)}

    def notes(self, run) -> list[str]:
        notes = []
        for name in DATASETS:
            s = run.verdict.numbers.get(name)
            if s is None:
                continue
            line = (
                f"network against k-NN on {name} (k {run.chosen[name]['k']} at n = "
                f"{run.chosen[name]['n']}): {_compared(s)}: {s['verdict']}."
            )
            if "logistic" in s:
                line += f" Against logistic regression: {_compared(s['logistic'])}."
            notes.append(line)
        return notes


def _compared(s: dict) -> str:
    """One comparison's numbers (`compare`) in words."""
    return (
        f"log-log slopes {s['network_slope']:.2f} (network) and {s['classical_slope']:.2f}; "
        f"the network steeper by {s['slope_gain']:.3f} (95% CI {s['slope_gain_ci_low']:.3f} "
        f"to {s['slope_gain_ci_high']:.3f}, paired); test error at n = {s['sizes'][0]:.0f} "
        f"{s['error_network_smallest_n']:.3f} (network) against "
        f"{s['error_classical_smallest_n']:.3f}, at n = {s['sizes'][1]:.0f} "
        f"{s['error_network_largest_n']:.4f} against {s['error_classical_largest_n']:.4f} "
        f"(difference {s['advantage_largest_n']:+.4f}, 95% CI "
        f"{s['advantage_largest_n_ci_low']:+.4f} to {s['advantage_largest_n_ci_high']:+.4f})"
    )
