"""The data claim's rules tested like instruments, at the full preset's seed counts."""

import numpy as np
import pytest

from tests.evidence.test_data_scaling import PARTS
from whydl.evidence import SUPPORTED
from whydl.evidence.calibration import MAX_FALSE_NEGATIVE, MAX_FALSE_POSITIVE, MIN_POWER, calibrate
from whydl.evidence.data_scaling import CLAIM
from whydl.evidence.data_scaling import learning_curve as lc
from whydl.evidence.data_scaling.curves import sizes

FULL = CLAIM.presets["full"]
N_EVALUATION, N_SELECTION = FULL["n_seeds"], FULL["n_selection_seeds"]
RULES = {rule.name: (rule, n_selection) for rule, _, n_selection in CLAIM.rules(FULL)}


def assert_calibrated(c):
    assert c.n_simulations >= 1000 and c.n_evaluation_seeds == N_EVALUATION
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE, c.line()
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE, c.line()
    assert c.power >= MIN_POWER, c.line()


@pytest.mark.parametrize("name", ["spiral", "digits"])  # teacher's curve has spiral's sizes
def test_learning_curve_rule_is_calibrated(name):
    rule, n_selection = RULES[name]
    assert n_selection == N_SELECTION
    assert rule.sizes == tuple(sizes(FULL["n_max"], 1257 if name == "digits" else FULL["pool"]))
    assert_calibrated(calibrate(rule, N_EVALUATION, n_selection, seed=2))


def test_learning_curve_rule_stays_calibrated_under_twice_the_size_noise(monkeypatch):
    """The region is chosen on selection seeds that share each size's own noise with the
    evaluation seeds; the regression over sizes keeps the false-positive rate in bounds."""
    monkeypatch.setattr(lc, "SIM_CONFIG_SD", 2 * lc.SIM_CONFIG_SD)
    rule = RULES["spiral"][0]
    c = calibrate(rule, N_EVALUATION, N_SELECTION, seed=3)
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE, c.line()
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE, c.line()


def test_learning_curve_rule_with_a_flat_gap_and_falling_error_rarely_supports():
    """The other least favourable null of the conjunction: the gap does not shrink."""
    rule = RULES["spiral"][0]
    rng = np.random.default_rng(4)
    n = 1000
    supported = sum(
        rule.decide(
            lc.simulate_curve(
                rng, rule.sizes, N_EVALUATION, N_SELECTION, lc.CLEAR_SLOPE, shrink=0.0
            )
        ).verdict
        == SUPPORTED
        for _ in range(n)
    )
    assert supported / n <= MAX_FALSE_POSITIVE


@pytest.mark.parametrize("name", ["form", "model_size", "samples_to_target"])
def test_reported_rules_are_calibrated(name):
    rule, n_selection = RULES[name]
    assert n_selection == 0  # they choose nothing
    assert_calibrated(calibrate(rule, N_EVALUATION, 0, seed=5))


def test_the_claim_lists_its_rules_at_the_full_seed_counts():
    assert set(RULES) == set(PARTS)
    assert all(n_eval == N_EVALUATION for _, n_eval, _ in CLAIM.rules(FULL))
    assert RULES["teacher"][0].sizes == RULES["spiral"][0].sizes
