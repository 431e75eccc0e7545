"""The compute claim's rules tested like instruments, at the full preset's counts."""

import numpy as np
import pytest

from whydl.evidence.calibration import (
    MAX_FALSE_NEGATIVE,
    MAX_FALSE_POSITIVE,
    MIN_POWER,
    NULL,
    calibrate,
)
from whydl.evidence.compute import CLAIM
from whydl.evidence.compute import frontier_rule as fr
from whydl.evidence.decide import SUPPORTED

FULL = CLAIM.presets["full"]
N_EVALUATION, N_SELECTION = FULL["n_seeds"], FULL["n_selection_seeds"]
RULES = {rule.name: (rule, n_selection) for rule, _, n_selection in CLAIM.rules(FULL)}


def assert_calibrated(c):
    assert c.n_simulations >= 1000
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE, c.line()
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE, c.line()
    assert c.power >= MIN_POWER, c.line()


def test_the_claim_lists_its_rules_at_the_full_counts():
    assert set(RULES) == {"throughput", "vectorised", "frontier", "trade_off", "threads", "gpu"}
    rule, n_selection = RULES["frontier"]
    assert n_selection == N_SELECTION == 5 and N_EVALUATION == 10
    assert RULES["trade_off"][1] == N_SELECTION  # it picks its bigger arm on selection seeds
    assert rule.widths == tuple(FULL["widths"]) and rule.epochs == FULL["frontier_epochs"]
    timings = set(RULES) - {"frontier", "trade_off"}
    assert all(RULES[name][0].repeats == FULL["repeats"] for name in timings)


@pytest.mark.slow  # 18 s; the shipped rates (test_calibration_file) hold it in every run
def test_frontier_rule_is_calibrated_under_configuration_noise():
    rule, n_selection = RULES["frontier"]
    assert fr.CONFIG_SD > 0  # each configuration's own luck, shared by all its seeds
    assert_calibrated(calibrate(rule, N_EVALUATION, n_selection, seed=1))


@pytest.mark.slow
@pytest.mark.parametrize("config_sd", [0.05, 0.5])
def test_frontier_rule_stays_honest_with_less_or_more_configuration_noise(monkeypatch, config_sd):
    monkeypatch.setattr(fr, "CONFIG_SD", config_sd)
    rule, n_selection = RULES["frontier"]
    c = calibrate(rule, N_EVALUATION, n_selection, n_simulations=300, seed=2)
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE, c.line()
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE, c.line()


def test_seeds_alone_would_be_fooled_by_the_best_of_many():
    """Why the rule needs its permutation references: with loss independent of compute, the
    frontier picked on selection seeds still falls on evaluation seeds (a configuration's
    luck is shared), and a CI over seeds alone calls that an effect most of the time."""
    rule, n_selection = RULES["frontier"]
    rng = np.random.default_rng(3)
    n, seeds_say, rule_says = 200, 0, 0
    for _ in range(n):
        v = rule.decide(rule.simulate(NULL, rng, N_EVALUATION, n_selection))
        seeds_say += v.numbers["slope_seed_ci_high"] < 0
        rule_says += v.verdict == SUPPORTED
    assert seeds_say / n > 0.5 and rule_says / n <= MAX_FALSE_POSITIVE


@pytest.mark.parametrize("name", ["throughput", "vectorised", "threads", "gpu"])
def test_speedup_rules_are_calibrated_at_the_full_repeats(name):
    rule, n_selection = RULES[name]
    assert n_selection == 0  # they choose nothing
    assert_calibrated(calibrate(rule, N_EVALUATION, 0, seed=4))
