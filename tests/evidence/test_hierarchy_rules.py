"""The hierarchy claim's rules: each of their three outcomes on hand-built rows, and their
calibration on simulated experiments at the full preset's seed counts."""

import math

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.calibration import (
    MAX_FALSE_NEGATIVE,
    MAX_FALSE_POSITIVE,
    MIN_POWER,
    N_SIMULATIONS,
    calibrate,
)
from whydl.evidence.decide import MIN_SEEDS
from whydl.evidence.hierarchy import CLAIM, REQUIRED
from whydl.evidence.hierarchy.common import DEEP_DEPTH, INIT, SHALLOW_DEPTH, TRAINED
from whydl.evidence.hierarchy.depth_width import ACCURACY_GAIN
from whydl.evidence.hierarchy.parity_probes import LayerRule
from whydl.evidence.hierarchy.probe_rule import DROP_TOLERANCE, PROBE_GAIN, ProbeRule
from whydl.evidence.hierarchy.regions import REGION_RATIO

FULL = CLAIM.params("full")
RULES = {rule.name: (rule, n_eval, n_sel) for rule, n_eval, n_sel in CLAIM.rules(FULL)}
SPREAD = np.array([-0.02, 0.01, 0.0, -0.01, 0.02])  # per-seed offsets, mean 0


def probe_rows(trained, init, n=5, spread=0.01):
    """Rows of a probe table: per-seed accuracies around `trained` and `init` (input first,
    the same for both states), each seed its own offset on every layer but the input, and a
    data draw shared by every layer of the seed."""
    rows = []
    for s in range(n):
        draw = 0.01 * math.sin(s)  # the seed's data luck: the same on every representation
        for state, means in ((TRAINED, trained), (INIT, init)):
            for d, m in enumerate(means):
                wobble = 0.0 if d == 0 else spread * SPREAD[s % 5] * (1 + 0.3 * d)
                value = m + draw + wobble
                rows.append({"seed": s, "state": state, "depth": d, "value": value})
    return rows


RISING = (0.6, 0.7, 0.8, 0.9, 0.95)
FLAT = (0.6, 0.6, 0.61, 0.6, 0.59)
RULE = ProbeRule("probes_test", "test", n_layers=4)


@pytest.mark.parametrize(
    "trained,init,n,expected",
    [
        (RISING, FLAT, 5, SUPPORTED),
        (FLAT, FLAT, 5, NOT_SUPPORTED),  # no gain over the input
        ((0.6, 0.5, 0.55, 0.52, 0.55), FLAT, 5, NOT_SUPPORTED),  # below the input
        ((0.6, 0.95, 0.9, 0.8, 0.7), FLAT, 5, NOT_SUPPORTED),  # a gain, but falls with depth
        ((0.6, 0.7, 0.8, 0.9, 0.89), FLAT, 5, INCONCLUSIVE),  # a small fall is shown
        (RISING, (0.6, 0.7, 0.75, 0.78, 0.8), 5, INCONCLUSIVE),  # the control passes too
        (RISING, FLAT, MIN_SEEDS - 1, INCONCLUSIVE),  # too few seeds
    ],
)
def test_probe_rule_gives_each_outcome(trained, init, n, expected):
    verdict = RULE.decide(probe_rows(trained, init, n))
    assert verdict.verdict == expected, verdict.numbers
    assert "PROBE_GAIN" in verdict.rule and "DROP_TOLERANCE" in verdict.rule


def test_probe_rule_is_inconclusive_on_a_gain_it_cannot_resolve():
    rows = probe_rows((0.6, 0.6, 0.6, 0.6, 0.62), FLAT, n=5, spread=0.5)  # noisy, tiny gain
    assert RULE.decide(rows).verdict == INCONCLUSIVE


def test_probe_rule_reports_the_paired_numbers_it_compared():
    n = RULE.decide(probe_rows(RISING, FLAT)).numbers
    assert n["gain"] == pytest.approx(0.35) and n["gain_paired"]
    assert n["control_gain"] == pytest.approx(-0.01) and n["control_verdict"] == NOT_SUPPORTED
    assert n["learned"] == pytest.approx(0.36) and n["falls_shown"] == []
    assert n["mean_trained"][0] == pytest.approx(0.6 + np.mean(0.01 * np.sin(range(5))), 1e-3)
    steep = RULE.decide(probe_rows((0.6, 0.95, 0.8, 0.9, 0.9), FLAT)).numbers
    assert "layer 2 trails layer 1 by 0.150" in steep["falls_beyond_tolerance"]
    assert DROP_TOLERANCE < 0.15


def test_the_input_cancels_in_the_paired_gain():
    """Every seed's data draw moves its input and its layers alike: the gain's CI is narrow
    although the input's accuracy varies by seed."""
    rows = probe_rows(RISING, FLAT, spread=0.0)
    for r in rows:
        r["value"] += 0.2 * (r["seed"] - 2)  # large data luck, shared by the seed's layers
    n = RULE.decide(rows).numbers
    assert n["gain_ci_high"] - n["gain_ci_low"] < 1e-9


def paired_rows(rule, a_values, b_values):
    return [
        {**where, "seed": s, "value": v}
        for s, (a, b) in enumerate(zip(a_values, b_values))
        for where, v in ((rule.a, a), (rule.b, b))
    ]


ACCURACY_CASES = [
    ([0.9, 0.91, 0.92, 0.9, 0.91], [0.8, 0.81, 0.8, 0.8, 0.82], SUPPORTED),
    ([0.8, 0.81, 0.8, 0.8, 0.82], [0.9, 0.91, 0.92, 0.9, 0.91], NOT_SUPPORTED),
    ([0.9, 0.7, 0.85, 0.8, 0.75], [0.8, 0.9, 0.75, 0.8, 0.82], INCONCLUSIVE),
    ([0.9, 0.91], [0.8, 0.81], INCONCLUSIVE),  # fewer than MIN_SEEDS seeds
]
REGION_CASES = [
    ([1500, 1600, 1400, 1550, 1450], [300, 320, 310, 290, 330], SUPPORTED),
    ([1500, 1600, 1400, 1550, 1450], [5300, 5400, 5200, 5350, 5500], NOT_SUPPORTED),
    ([1500, 400, 1400, 300, 900], [600, 1500, 500, 1300, 800], INCONCLUSIVE),
    ([1500, 1600], [300, 320], INCONCLUSIVE),
]


@pytest.mark.parametrize("name", ["depth_vs_width_spiral", "depth_vs_width_checkerboard"])
@pytest.mark.parametrize("a,b,expected", ACCURACY_CASES)
def test_depth_against_width_gives_each_outcome(name, a, b, expected):
    rule = RULES[name][0]
    assert rule.a["depth"] == DEEP_DEPTH and rule.b["depth"] == SHALLOW_DEPTH
    verdict = rule.decide(paired_rows(rule, a, b))
    assert verdict.verdict == expected
    assert verdict.numbers["difference_paired"] and str(ACCURACY_GAIN) in verdict.rule


@pytest.mark.parametrize("name", ["regions_training", "regions_depth"])
@pytest.mark.parametrize("a,b,expected", REGION_CASES)
def test_region_rules_give_each_outcome_on_log_ratios(name, a, b, expected):
    rule = RULES[name][0]
    verdict = rule.decide(paired_rows(rule, a, b))
    assert verdict.verdict == expected
    if expected == SUPPORTED:
        assert verdict.numbers["ratio"] == pytest.approx(np.exp(np.mean(np.log(a) - np.log(b))))
    assert rule.minimum_effect == pytest.approx(math.log(REGION_RATIO))


def test_a_real_but_negligible_edge_is_not_supported():
    rule = RULES["depth_vs_width_spiral"][0]
    a = [0.905, 0.906, 0.905, 0.904, 0.905]  # 0.005 ahead on every seed: real, below 0.02
    verdict = rule.decide(paired_rows(rule, a, [0.9] * 5))
    assert verdict.verdict == NOT_SUPPORTED


def test_every_rule_is_named_after_its_experiment_and_states_its_minimum():
    assert set(RULES) == {
        *REQUIRED,
        "depth_smooth_sine",
        "probes_spiral",
        "probes_moons",
        "regions_training",
        "regions_depth",
        "depth_vs_width_spiral",
        "depth_vs_width_checkerboard",
        "probes_digits_cnn",
        "probes_digits_mlp",
    }
    for name, (rule, n_evaluation, n_selection) in RULES.items():
        assert rule.minimum_effect > 0 and len(rule.minimum_effect_reason) > 40
        selects = name in ("depth_sawtooth", "depth_nested_parity", "depth_smooth_sine")
        assert n_evaluation == 10 and n_selection == (5 if selects else 0)
    assert RULES["probes_spiral"][0].minimum_effect == PROBE_GAIN
    deciding = {e.name for e in CLAIM.experiments(FULL) if e.deciding}
    assert deciding == set(REQUIRED)


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_is_calibrated_at_the_full_preset(name):
    rule, n_evaluation, n_selection = RULES[name]
    c = calibrate(rule, n_evaluation, n_selection, n_simulations=N_SIMULATIONS, seed=15)
    assert c.n_simulations >= 1000 and c.n_evaluation_seeds == 10
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE, c
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE, c
    assert c.power >= MIN_POWER, c


@pytest.mark.parametrize(
    "name", ["probes_spiral", "depth_vs_width_spiral", "depth_sawtooth", "probes_nested_parity"]
)
def test_simulated_rows_have_the_real_rows_shape(name):
    rule = RULES[name][0]
    rows = rule.simulate("clear", np.random.default_rng(0), 10, 0)
    assert {r["seed"] for r in rows} == set(range(10))
    assert all({"seed", "value"} <= set(r) for r in rows)
    assert rule.decide(rows).seeds == 10


def layer_rows(sizes, n=5):
    """The cells the layer rule reads, per seed, with a seed's wobble shared by all."""
    return [
        {"seed": s, "state": st, "layer": layer, "level": level, "value": v + SPREAD[s % 5]}
        for s in range(n)
        for st, layer, level, v in LayerRule().cells(sizes)
    ]


def test_layer_rule_puts_each_level_at_its_layer():
    rule = LayerRule(n_layers=4, top=8)
    assert rule.levels == {2: 1, 4: 2, 8: 3}
    assert rule.effect_names() == ["learned_2", "learned_4", "learned_8", "later_4", "later_8"]
    assert LayerRule(n_layers=2, top=8).levels == {2: 1, 4: 2, 8: 2}


CLEAR5 = [0.2] * 5


@pytest.mark.parametrize(
    "sizes,n,expected",
    [
        (CLEAR5, 10, SUPPORTED),
        ([0.0, 0.2, 0.2, 0.2, 0.2], 10, NOT_SUPPORTED),  # 2 bits decodable at initialisation
        ([0.2, 0.0, 0.2, 0.2, 0.2], 10, NOT_SUPPORTED),  # 4 bits never learned
        ([0.2, 0.2, 0.2, 0.2, -0.1], 10, NOT_SUPPORTED),  # 8 bits already one layer early
        (CLEAR5, MIN_SEEDS - 1, INCONCLUSIVE),
    ],
)
def test_layer_rule_gives_each_outcome(sizes, n, expected):
    rows = layer_rows(sizes, n=n)
    for i, r in enumerate(rows):  # per-cell noise, so CIs have width
        r["value"] += 0.01 * ((i * 7) % 5 - 2)
    assert LayerRule().decide(rows).verdict == expected


def test_layer_rule_reports_every_comparison():
    numbers = LayerRule().decide(layer_rows([0.2, 0.2, 0.2, 0.1, 0.3])).numbers
    assert {"learned_2", "later_8", "learned_2_verdict"} <= set(numbers)
    assert numbers["later_4"] == pytest.approx(0.1)
