"""The transfer claim's rules: each outcome on hand-built rows, Holm where one failure
refutes, and calibration on simulated experiments at the full preset's seed counts."""

import time

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.calibration import (
    CLEAR,
    MAX_FALSE_NEGATIVE,
    MAX_FALSE_POSITIVE,
    MIN_POWER,
    MINIMUM,
    NULL,
    calibrate,
)
from whydl.evidence.decide import MIN_SEEDS, Effect, all_of, mean_effect, p_below, three_way
from whydl.evidence.transfer import CLAIM
from whydl.evidence.transfer.rules import (
    MIN_FEATURES_GAIN,
    MIN_GAIN,
    MIN_NARROWING,
    NARROWING_RATIO,
    SMALL_K,
    FeaturesRule,
    FineTuningRule,
    catch_up_k,
    every_or_holm,
)
from whydl.evidence.transfer.table import FINE_TUNED, FROZEN, RANDOM, SCRATCH, row

KS = [1, 2, 5, 20, 100]
SCRATCH_CURVE = [0.50, 0.60, 0.75, 0.90, 0.95]
LAYERS = 2


def spread(n, width, order=1):
    """n offsets in [-width, width]; opposite `order`s differ seed by seed, so a paired gap
    between them has a nonzero CI."""
    return np.linspace(-width, width, n)[::order]


def finetuning_rows(fine_tuned, scratch=SCRATCH_CURVE, n=10, width=0.01):
    """Rows of a sweep with the given mean curves (one value per k in KS)."""
    rows = []
    for k, ft, sc in zip(KS, fine_tuned, scratch):
        label = "all" if k == KS[-1] else str(k)
        for s, (a, b) in enumerate(zip(spread(n, width), spread(n, width, -1))):
            rows.append(row("toy", s, SCRATCH, 0, k, label, sc + a))
            rows.append(row("toy", s, FINE_TUNED, LAYERS, k, label, ft + b))
            rows.append(row("toy", s, FINE_TUNED, 1, k, label, 0.0))  # other depths: ignored
    return rows


RULE = FineTuningRule("toy", LAYERS, (1, 2, 5, 20, "all"))


@pytest.mark.parametrize(
    "fine_tuned,n,width,expected",
    [
        ([0.80, 0.85, 0.88, 0.92, 0.96], 10, 0.01, SUPPORTED),  # ahead, and narrowing
        ([0.40, 0.55, 0.75, 0.90, 0.95], 10, 0.01, NOT_SUPPORTED),  # behind at small k
        ([0.51, 0.61, 0.76, 0.90, 0.95], 10, 0.002, NOT_SUPPORTED),  # real gain, below minimum
        ([0.60, 0.70, 0.85, 1.00, 1.05], 10, 0.01, NOT_SUPPORTED),  # the gain does not narrow
        ([0.80, 0.85, 0.88, 0.92, 0.96], 10, 0.5, INCONCLUSIVE),  # too noisy to tell
        ([0.80, 0.85, 0.88, 0.92, 0.96], 2, 0.01, INCONCLUSIVE),  # too few seeds
    ],
)
def test_finetuning_rule_gives_each_outcome(fine_tuned, n, width, expected):
    verdict = RULE.decide(finetuning_rows(fine_tuned, n=n, width=width))
    assert verdict.verdict == expected
    for name in ("SMALL_K", "NARROWING_RATIO", "MIN_GAIN", "MIN_NARROWING", "MIN_SEEDS", "Holm"):
        assert name in verdict.rule
    assert "2 points" in verdict.minimum_effect


def test_finetuning_rule_reads_the_small_ks_and_the_narrowing_paired_by_seed():
    v = RULE.decide(finetuning_rows([0.80, 0.85, 0.80, 0.90, 0.95]))
    n = v.numbers
    assert set(n["components"]) == {"gain at k=1", "gain at k=2", "gain at k=5", "narrowing"}
    assert n["gap_mean"][0] == pytest.approx(0.30)
    assert n["components"]["narrowing"]["effect"] == pytest.approx(NARROWING_RATIO * 0.30)
    assert 0.28 < n["gap_ci_low"][0] < 0.30 < n["gap_ci_high"][0] < 0.32
    assert n["catch_up_k"] == 20 and v.verdict == SUPPORTED and v.seeds == 10
    behind = RULE.decide(finetuning_rows([0.40, 0.55, 0.75, 0.90, 0.95])).numbers
    assert behind["scratch_leads_at_k"] == [1, 2] and behind["catch_up_k"] == 1


def effect_below_minimum_by(t):
    """An Effect over 10 seeds whose estimate lies t standard errors below MIN_GAIN."""
    se, half = 0.01, 2.262 * 0.01  # t(9) at 97.5%
    estimate = MIN_GAIN - t * se
    return Effect(estimate, estimate - half, estimate + half, 10, True, se, 9.0)


def test_refuting_one_of_several_components_is_holm_corrected():
    # each of four components lies below the minimum by its own 95% CI (p = 0.02), but not
    # by Holm's bar for four chances (0.025 / 4): all_of would refute; this rule does not
    four = {f"c{i}": (effect_below_minimum_by(2.4), MIN_GAIN) for i in range(4)}
    alone = [three_way(*c) for c in four.values()]
    assert alone == [NOT_SUPPORTED] * 4 and all_of(alone) == NOT_SUPPORTED
    assert every_or_holm(four)[0] == INCONCLUSIVE
    four["c0"] = (effect_below_minimum_by(5.0), MIN_GAIN)  # p < 0.001: refuted even so
    verdict, detail = every_or_holm(four)
    assert verdict == NOT_SUPPORTED and detail["c0"]["holm_rejects_minimum"]


def test_below_minimum_p_agrees_with_the_ci():
    rng = np.random.default_rng(0)
    for _ in range(50):
        e = mean_effect(rng.normal(0.0, 0.03, 10))
        assert (p_below(e, MIN_GAIN) < 0.025) == (e.ci_high < MIN_GAIN)


def test_catch_up_k_is_where_the_gap_stops_being_positive_for_good():
    assert catch_up_k([1, 2, 5, 10], [0.1, -0.01, 0.02, -0.1]) == 10
    assert catch_up_k([1, 2, 5, 10], [0.1, 0.1, 0.1, 0.1]) is None
    assert catch_up_k([1, 2, 5, 10], [-0.1, 0.1, -0.1, -0.1]) == 5


def features_rows(frozen, random, k=1):
    return [
        r
        for s, (f, x) in enumerate(zip(frozen, random))
        for r in (
            row("toy", s, FROZEN, LAYERS, k, str(k), f),
            row("toy", s, RANDOM, LAYERS, k, str(k), x),
        )
    ] + [row("toy", 0, FROZEN, LAYERS, 5, "5", 0.0)]  # a larger k: not read


@pytest.mark.parametrize(
    "frozen,random,expected",
    [
        ([0.8, 0.81, 0.82, 0.8], [0.6, 0.6, 0.61, 0.62], SUPPORTED),
        ([0.4, 0.41, 0.42, 0.4], [0.6, 0.6, 0.61, 0.6], NOT_SUPPORTED),
        ([0.6, 0.7, 0.5, 0.65], [0.6, 0.6, 0.6, 0.6], INCONCLUSIVE),
        ([0.8, 0.81], [0.6, 0.6], INCONCLUSIVE),  # too few seeds
    ],
)
def test_features_rule_gives_each_outcome(frozen, random, expected):
    v = FeaturesRule("toy", LAYERS).decide(features_rows(frozen, random))
    assert v.verdict == expected and v.numbers["k"] == 1
    assert f"MIN_FEATURES_GAIN={MIN_FEATURES_GAIN:g}" in v.rule


def test_the_constants_say_what_the_rules_use():
    assert MIN_NARROWING == NARROWING_RATIO * MIN_GAIN and SMALL_K == 5 and MIN_SEEDS == 3


# calibration ------------------------------------------------------------------------------

FULL = CLAIM.params("full")


@pytest.mark.parametrize("rule,n_evaluation,n_selection", CLAIM.rules(FULL), ids=lambda x: str(x))
def test_every_rule_is_calibrated_at_the_full_preset(rule, n_evaluation, n_selection):
    assert n_evaluation == 10 and n_selection in (0, FULL["n_selection_seeds"])
    c = calibrate(rule, n_evaluation, n_selection, n_simulations=1000, seed=0)
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE, c
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE, c
    assert c.power >= MIN_POWER, c


@pytest.mark.parametrize(
    "rule", [RULE, FeaturesRule("toy", LAYERS)], ids=["fine-tuning", "features"]
)
def test_simulated_rows_look_like_the_sweeps_and_decide_in_milliseconds(rule):
    rng = np.random.default_rng(0)
    rows = rule.simulate(MINIMUM, rng, 10, 0)
    assert set(rows[0]) == {
        "domain",
        "method",
        "n_copied",
        "head",
        "k",
        "k_label",
        "seed",
        "test_accuracy",
    }
    assert {r["seed"] for r in rows} == set(range(10))
    started = time.perf_counter()
    for condition in (NULL, MINIMUM, CLEAR) * 10:
        rule.decide(rule.simulate(condition, rng, 10, 0))
    assert (time.perf_counter() - started) / 30 < 0.02  # seconds per simulated experiment


def test_the_quick_preset_cannot_refute_a_clear_effect():
    # 3 seeds: a clear effect is rarely supported, and never "not supported" for lack of seeds
    c = calibrate(FineTuningRule("toy", LAYERS, (1, 5, "all")), 3, n_simulations=300)
    assert c.power < 0.5
    rng = np.random.default_rng(1)
    outcomes = [RULE.decide(RULE.simulate(CLEAR, rng, 3, 0)).verdict for _ in range(300)]
    assert outcomes.count(NOT_SUPPORTED) / 300 <= MAX_FALSE_NEGATIVE
