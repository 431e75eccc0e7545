"""The network against k-nearest neighbours on the same learning curve (issue 16)."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from whydl.data import Dataset
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.calibration import MAX_FALSE_NEGATIVE, MAX_FALSE_POSITIVE, MIN_POWER, calibrate
from whydl.evidence.calls import Context
from whydl.evidence.data_scaling import CLAIM
from whydl.evidence.data_scaling.classical_curve import (
    C_GRID,
    K_GRID,
    KNN,
    LOGISTIC,
    NETWORK,
    ClassicalCurve,
    ClassicalCurveRule,
    knn_errors,
)
from whydl.evidence.data_scaling.curves import DATASETS, curve_sizes

N = [16, 32, 64, 128, 256, 512, 1024]
RULE = ClassicalCurveRule()


def blobs(n_train=300, n_test=200, classes=3, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (classes, 5))
    y = rng.integers(0, classes, n_train + n_test)
    X = (centres[y] + rng.normal(0, 1.5, (len(y), 5))).astype(np.float32)
    return Dataset(
        name="blobs",
        X_train=X[:n_train],
        y_train=y[:n_train],
        X_test=X[n_train:],
        y_test=y[n_train:],
        task="multiclass",
        n_classes=classes,
    )


def test_knn_errors_match_scikit_learn_on_every_nested_size():
    data, sizes, ks = blobs(), [8, 20, 64, 300], [1, 3, 9, 33]
    errors = knn_errors(data, sizes, ks)
    assert errors.shape == (len(sizes), len(ks))
    for i, n in enumerate(sizes):
        for c, k in enumerate(ks):
            if k > n:
                assert np.isnan(errors[i, c])
                continue
            model = KNeighborsClassifier(n_neighbors=k).fit(data.X_train[:n], data.y_train[:n])
            expected = np.mean(model.predict(data.X_test) != data.y_test)
            assert errors[i, c] == pytest.approx(expected, abs=1e-12), (n, k)


def test_knn_errors_want_increasing_sizes():
    with pytest.raises(ValueError, match="increasing"):
        knn_errors(blobs(), [64, 32], [1])


def rows_of(gains, seeds=10, noise=0.05, sizes=N, seed=0):
    """Rows with k-NN's log-log slope -0.3 and the network's steeper by `gains[task]`."""
    rng = np.random.default_rng(seed)
    log_n = np.log(np.asarray(sizes, float) / sizes[0])
    rows = []
    for name, gain in zip(DATASETS, gains):
        for learner, slope in ((KNN, 0.3), (NETWORK, 0.3 + gain)):
            for s in range(seeds):
                error = 0.4 * np.exp(-slope * log_n + rng.normal(0, noise, len(sizes)))
                rows += [
                    {"dataset": name, "learner": learner, "n": n, "seed": s, "test_error": e}
                    for n, e in zip(sizes, error)
                ]
    return rows


def test_a_network_falling_faster_on_every_task_is_supported():
    v = RULE.decide(rows_of([0.2, 0.2, 0.2]))
    assert v.verdict == SUPPORTED
    for name in DATASETS:
        s = v.numbers[name]
        assert s["slope_gain"] == pytest.approx(0.2, abs=0.03)
        assert s["network_slope"] == pytest.approx(-0.5, abs=0.03)
        assert s["classical_slope"] == pytest.approx(-0.3, abs=0.03)
        # equal errors at n = 16; at 1024 k-NN is the worse by 0.4·64^-0.3·(1 - 64^-0.2)
        assert abs(s["advantage_smallest_n"]) < 0.02
        assert s["advantage_largest_n"] == pytest.approx(0.4 * 64**-0.3 * (1 - 64**-0.2), rel=0.1)
        assert s["advantage_largest_n_verdict"] == SUPPORTED
    assert "Bonferroni" in v.rule and str(list(K_GRID)) in v.rule


def test_knn_gaining_as_much_on_one_task_is_not_supported():
    v = RULE.decide(rows_of([0.2, 0.0, 0.2]))
    assert v.verdict == NOT_SUPPORTED
    assert v.numbers["teacher"]["verdict"] == NOT_SUPPORTED
    assert v.numbers["spiral"]["verdict"] == SUPPORTED


def test_few_seeds_or_noise_is_inconclusive():
    assert RULE.decide(rows_of([0.2, 0.2, 0.2], seeds=2)).verdict == INCONCLUSIVE
    assert RULE.decide(rows_of([0.05, 0.05, 0.05], noise=1.0)).verdict == INCONCLUSIVE


def test_the_rule_is_calibrated_at_the_full_preset():
    full = CLAIM.presets["full"]
    c = calibrate(RULE, full["n_seeds"], full["n_selection_seeds"], seed=5)
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE, c.line()
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE, c.line()
    assert c.power >= MIN_POWER, c.line()


def test_logistic_regression_is_reported_beside_not_decided_on():
    rows = rows_of([0.2, 0.2, 0.2])
    flat = [r | {"learner": LOGISTIC} for r in rows if r["learner"] == KNN and r["n"] == 16]
    plateau = [r | {"n": n} for r in flat for n in N]  # its error stays where it starts
    v = RULE.decide(rows + plateau)
    assert v.verdict == RULE.decide(rows).verdict == SUPPORTED
    logistic = v.numbers["teacher"]["logistic"]
    assert logistic["classical_slope"] == pytest.approx(0.0, abs=1e-9)
    assert logistic["slope_gain"] == pytest.approx(0.5, abs=0.03)


def test_k_and_c_are_chosen_on_the_selection_seeds_and_used_on_the_evaluation_seeds():
    params = CLAIM.params("quick")
    experiment = ClassicalCurve()
    chosen = experiment.select(Context(), params, [10000, 10001, 10002])
    for name in DATASETS:
        sizes = chosen[name]["n"]
        assert sizes == curve_sizes(name, params)
        assert all(k in K_GRID and k <= n for n, k in zip(sizes, chosen[name]["k"]))
        assert all(c in C_GRID for c in chosen[name]["C"])
    fits = experiment.train(Context(), params, [0, 1, 2], chosen)
    for name in DATASETS:
        for learner in (KNN, LOGISTIC):
            assert fits[name, learner].shape == (3, len(chosen[name]["n"]))
            assert np.all((fits[name, learner] >= 0) & (fits[name, learner] <= 1))
    # another choice of k gives other errors on the same evaluation seeds
    other = {d: {**c, "k": [1] * len(c["n"])} for d, c in chosen.items()}
    changed = [d for d in DATASETS if chosen[d]["k"] != other[d]["k"]]
    refit = experiment.train(Context(), params, [0, 1, 2], other)
    assert changed and all(not np.allclose(refit[d, KNN], fits[d, KNN]) for d in changed)
