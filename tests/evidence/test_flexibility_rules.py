"""The flexibility claim's rules: each of their three outcomes on hand-built rows, and their
calibration on simulated experiments at the full preset's seed counts."""

import time

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
from whydl.evidence.decide import MIN_SEEDS, every, p_below, paired_difference, shifted
from whydl.evidence.flexibility import CLAIM
from whydl.evidence.flexibility.double_descent_rule import (
    DESCENT_MINIMUM,
    INTERPOLATION_ERROR,
    DoubleDescentRule,
    interpolation_width,
)
from whydl.evidence.flexibility.recipe_rule import (
    CLEAR_WIN,
    MATCH_MARGIN,
    MATCH_MINIMUM,
    RecipeRule,
)
from whydl.evidence.flexibility.scale_rule import SCALE_MINIMUM, ScaleRule, exponent

N = 10  # evaluation seeds of the hand-built rows
WOBBLE = np.linspace(-1, 1, N)  # per-seed noise of unit spread, mean 0


# one recipe ------------------------------------------------------------------------------


def recipe_rows(tasks, n=N):
    """tasks: {name: (nonlinear, deep mean, linear mean, spread of the difference)}."""
    rows = []
    for task, (nonlinear, deep, linear, spread) in tasks.items():
        wobble = np.linspace(-1, 1, n)
        for s in range(n):
            for model, value in (("deep", deep + spread * wobble[s]), ("linear", linear)):
                rows.append(
                    {"task": task, "model": model, "nonlinear": nonlinear, "seed": s}
                    | {"metric": "accuracy", "test_metric": value}
                )
    return rows


RECIPE = RecipeRule([("xor", True), ("wine", False)])
WIN = (True, 0.95, 0.60, 0.02)  # a nonlinear task won clearly
MATCH = (False, 0.97, 0.97, 0.005)  # a linear task matched


@pytest.mark.parametrize(
    "tasks,expected",
    [
        ({"xor": WIN, "wine": MATCH}, SUPPORTED),
        # trailing by 0.009 with a tight CI: within MATCH_MARGIN, a match (old: "matches")
        ({"xor": WIN, "wine": (False, 0.961, 0.97, 0.002)}, SUPPORTED),
        # shown to trail by more than MATCH_MARGIN - MATCH_MINIMUM: not a match
        ({"xor": WIN, "wine": (False, 0.93, 0.97, 0.005)}, NOT_SUPPORTED),
        # a real win, shown smaller than CLEAR_WIN: not a clear win
        ({"xor": (True, 0.62, 0.60, 0.005), "wine": MATCH}, NOT_SUPPORTED),
        # a win whose CI spans both 0 and CLEAR_WIN
        ({"xor": (True, 0.65, 0.60, 0.2), "wine": MATCH}, INCONCLUSIVE),
    ],
)
def test_recipe_rule_gives_each_outcome(tasks, expected):
    verdict = RECIPE.decide(recipe_rows(tasks))
    assert verdict.verdict == expected
    assert (
        f"CLEAR_WIN={CLEAR_WIN:g}" in verdict.rule
        and f"MATCH_MARGIN={MATCH_MARGIN:g}" in verdict.rule
    )
    assert "requires ALL tasks" in verdict.rule and "Holm" in verdict.rule


def test_recipe_rule_is_inconclusive_below_min_seeds():
    rows = recipe_rows({"xor": WIN, "wine": MATCH}, n=MIN_SEEDS - 1)
    assert RECIPE.decide(rows).verdict == INCONCLUSIVE


def test_recipe_rule_reports_every_task_paired():
    numbers = RECIPE.decide(recipe_rows({"xor": WIN, "wine": MATCH})).numbers["tasks"]
    assert numbers["xor"]["requirement"] == "wins clearly" and numbers["xor"]["nonlinear"]
    assert numbers["xor"]["difference"] == pytest.approx(0.35)
    assert numbers["wine"]["requirement"] == "matches"
    assert numbers["wine"]["effect"] == pytest.approx(MATCH_MARGIN)  # deep - linear + margin
    assert numbers["xor"]["n"] == N and numbers["xor"]["verdict"] == SUPPORTED


def test_one_task_shown_below_on_its_own_but_not_after_holm_is_inconclusive():
    """Nine tasks give nine chances to call 'not supported': a task just below its minimum
    at 2.5% on its own is not enough once Holm corrects for them."""
    tasks = {f"t{i}": WIN for i in range(8)}
    rows = recipe_rows(tasks | {"edge": (True, 0.60 + CLEAR_WIN - 0.0148, 0.60, 0.02)})
    rule = RecipeRule([(t, True) for t in [*tasks, "edge"]])
    verdict = rule.decide(rows)
    edge = verdict.numbers["tasks"]["edge"]
    assert edge["verdict"] == NOT_SUPPORTED and not edge["holm_below_minimum"]
    assert verdict.verdict == INCONCLUSIVE


def test_every_needs_all_and_holm_for_not_supported():
    good = paired_difference([0.9, 0.91, 0.92], [0.8, 0.8, 0.81])
    bad = paired_difference([0.8, 0.801, 0.802], [0.8, 0.8, 0.8])
    assert every([good, good], [0.05, 0.05])[0] == SUPPORTED
    assert every([good, bad], [0.05, 0.05])[0] == NOT_SUPPORTED
    assert shifted(good, 0.1).estimate == pytest.approx(good.estimate + 0.1)
    assert p_below(bad, 0.05) < 0.001 < 0.99 < p_below(good, 0.05)


# scale -----------------------------------------------------------------------------------

SIZES = [85, 610, 4810, 38410]
SCALE = ScaleRule([1, 8, 64, 512], SIZES)


def scale_rows(curve, spread=0.02, n=N):
    """(seeds, sizes) losses around `curve`, each seed scaled a little differently."""
    return [
        {"labels": "clean", "width": w, "n_parameters": size, "seed": s}
        | {"test_loss": float(loss * (1 + spread * WOBBLE[s] * (1 + k % 2)))}
        | {"test_error": 0.1, "train_error": 0.0}
        for k, (w, size, loss) in enumerate(zip(SCALE.widths, SIZES, curve))
        for s in range(n)
    ]


@pytest.mark.parametrize(
    "curve,expected",
    [
        (2.0 * np.asarray(SIZES, dtype=float) ** -0.3, SUPPORTED),
        ([0.5, 0.5, 0.5, 0.5], NOT_SUPPORTED),  # flat: no fall at all
        ([0.2, 0.3, 0.5, 1.0], NOT_SUPPORTED),  # grows with size
        ([1.0, 0.3, 0.2, 0.3], INCONCLUSIVE),  # falls, then turns up at the top
        ([1.0, 0.3, 1.1, 0.3], INCONCLUSIVE),  # too bumpy for its line: a wide CI
    ],
)
def test_scale_rule_gives_each_outcome(curve, expected):
    verdict = SCALE.decide(scale_rows(curve))
    assert verdict.verdict == expected
    assert f"SCALE_MINIMUM={SCALE_MINIMUM:g}" in verdict.rule and "Holm" in verdict.rule


def test_scale_rule_is_inconclusive_below_min_seeds():
    rows = scale_rows(2.0 * np.asarray(SIZES, dtype=float) ** -0.3, n=MIN_SEEDS - 1)
    assert SCALE.decide(rows).verdict == INCONCLUSIVE


def test_scale_rule_recovers_a_known_slope_and_flags_a_turn_up():
    numbers = SCALE.decide(scale_rows(2.0 * np.asarray(SIZES, dtype=float) ** -0.3)).numbers
    assert numbers["slope"] == pytest.approx(-0.3, abs=1e-3)
    assert numbers["best_n_parameters"] == SIZES[-1] and not numbers["turned_up"]
    turned = SCALE.decide(scale_rows([1.0, 0.3, 0.2, 0.3])).numbers
    assert turned["turned_up"] and SIZES[2] in turned["turned_up_against"]


def test_the_exponent_ci_widens_with_noise_shared_by_a_width():
    """Seeds that share a width's luck agree with each other: their spread alone would give
    a narrow CI; the mean curve's scatter about its line widens it."""
    log_n = np.log(SIZES)
    bumps = np.array([0.0, 0.3, -0.3, 0.0])  # each width's own luck, shared by its seeds
    seeds = -0.3 * log_n + bumps + 0.01 * WOBBLE[:, None]
    effect, parts = exponent(log_n, seeds)
    assert parts["se_lack_of_fit"] > 10 * parts["se_seeds"]
    assert effect.ci_low < 0.3 - 0.1 and effect.ci_high > 0.3 + 0.1


# double descent --------------------------------------------------------------------------

WIDTHS = [1, 4, 16, 64, 256]
DD = DoubleDescentRule(WIDTHS)


def dd_rows(errors, threshold=64, spread=0.005, n=N):
    return [
        {"labels": "20% noisy", "width": w, "n_parameters": 0, "seed": s}
        | {"test_loss": 1.0, "test_error": float(e + spread * WOBBLE[s] * (1 + k % 2))}
        | {"train_error": 0.0, "at_threshold": w == threshold}
        for k, (w, e) in enumerate(zip(WIDTHS, errors))
        for s in range(n)
    ]


@pytest.mark.parametrize(
    "errors,threshold,spread,expected",
    [
        ([0.5, 0.15, 0.17, 0.22, 0.18], 64, 0.005, SUPPORTED),  # down, up, down again
        ([0.5, 0.15, 0.17, 0.22, 0.23], 64, 0.005, NOT_SUPPORTED),  # no second descent
        ([0.5, 0.3, 0.25, 0.2, 0.18], 64, 0.005, NOT_SUPPORTED),  # no rise: only descent
        ([0.5, 0.15, 0.17, 0.22, 0.21], 64, 0.03, INCONCLUSIVE),  # a fall lost in the noise
        ([0.5, 0.15, 0.17, 0.22, 0.18], None, 0.005, INCONCLUSIVE),  # nothing interpolates
        ([0.5, 0.15, 0.17, 0.22, 0.18], 256, 0.005, INCONCLUSIVE),  # threshold at the end
    ],
)
def test_double_descent_rule_gives_each_outcome(errors, threshold, spread, expected):
    verdict = DD.decide(dd_rows(errors, threshold, spread))
    assert verdict.verdict == expected
    assert f"DESCENT_MINIMUM={DESCENT_MINIMUM:g}" in verdict.rule
    assert f"INTERPOLATION_ERROR={INTERPOLATION_ERROR:g}" in verdict.rule


def test_double_descent_rule_reports_both_sides():
    numbers = DD.decide(dd_rows([0.5, 0.15, 0.17, 0.22, 0.18])).numbers
    assert numbers["interpolation_width"] == 64
    assert numbers["rise_best_width"] == 4 and numbers["rise"] == pytest.approx(0.07)
    assert numbers["fall_best_width"] == 256 and numbers["fall"] == pytest.approx(0.04)


def test_interpolation_width_is_the_first_width_below_the_threshold():
    train = [[0.5, 0.1, 0.005, 0.0], [0.5, 0.1, 0.009, 0.001]]
    assert interpolation_width([1, 2, 3, 4], train) == 3
    assert interpolation_width([1, 2, 3, 4], [[0.5, 0.4, 0.3, 0.2]]) is None


# calibration -----------------------------------------------------------------------------

FULL = CLAIM.params("full")
RULES = CLAIM.rules(FULL)


@pytest.mark.parametrize("rule,n_evaluation,n_selection", RULES, ids=[r.name for r, *_ in RULES])
def test_every_rule_is_calibrated_at_the_full_presets_seeds(rule, n_evaluation, n_selection):
    assert n_evaluation == FULL["n_seeds"] == 10
    c = calibrate(rule, n_evaluation, n_selection, n_simulations=N_SIMULATIONS, seed=0)
    assert c.n_simulations >= 1000
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE, c
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE, c
    assert c.power >= MIN_POWER, c


@pytest.mark.parametrize("rule,n_evaluation,n_selection", RULES, ids=[r.name for r, *_ in RULES])
def test_simulated_rows_decide_fast(rule, n_evaluation, n_selection):
    rng = np.random.default_rng(0)
    rows = rule.simulate("clear", rng, n_evaluation, n_selection)
    started = time.perf_counter()
    for _ in range(20):
        rule.decide(rows)
    assert (time.perf_counter() - started) / 20 < 0.02  # a few ms: 3000 take seconds


def test_the_minimum_effects_are_named_with_reasons():
    for rule, *_ in RULES:
        assert rule.minimum_effect > 0 and rule.minimum_effect_reason
    recipe = RULES[0][0]
    assert f"MATCH_MINIMUM={MATCH_MINIMUM:g}" in recipe.minimum_text()
