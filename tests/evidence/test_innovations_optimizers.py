"""The optimiser race (innovations): the rule's three outcomes on hand-built rows, its
calibration at the full preset's seeds, and the experiment end to end under the protocol."""

import math

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Claim
from whydl.evidence.calibration import MAX_FALSE_NEGATIVE, MAX_FALSE_POSITIVE, MIN_POWER, calibrate
from whydl.evidence.innovations.optimizers import (
    OPTIMIZER_CENTRES,
    OPTIMIZERS,
    PRESETS,
    OptimizersExperiment,
    OptimizersRule,
    grids,
)
from whydl.evidence.innovations.tuning import MIN_SPEEDUP

RULE = OptimizersRule()
PER_EPOCH = 20


def race(epochs: dict, cut=()) -> list[dict]:
    """Rows of a race: `epochs[optimizer]` per seed, whole epochs of PER_EPOCH steps; those
    in `cut` never reached the target."""
    return [
        {
            "seed": s,
            "arm": name,
            "lr": OPTIMIZER_CENTRES[name],
            "steps": float(PER_EPOCH * e),
            "reached": name not in cut,
            "steps_per_epoch": PER_EPOCH,
        }
        for name, values in epochs.items()
        for s, e in enumerate(values)
    ]


def table(
    sgd=(8, 8, 7, 8, 8, 7),
    momentum=(4, 5, 4, 4, 5, 4),
    rmsprop=(4, 4, 4, 4, 4, 4),
    adam=(2, 3, 2, 2, 3, 2),
    cut=(),
):
    return race({"sgd": sgd, "momentum": momentum, "rmsprop": rmsprop, "adam": adam}, cut)


@pytest.mark.parametrize(
    "rows,expected",
    [
        (table(), SUPPORTED),
        (table(sgd=(3, 3, 3, 3, 3, 3), adam=(3, 3, 3, 3, 3, 3)), NOT_SUPPORTED),  # no speed-up
        (
            table(momentum=(2, 2, 2, 2, 2, 2), adam=(6, 6, 6, 6, 6, 6)),
            NOT_SUPPORTED,
        ),  # a rival wins
        (table(sgd=(3, 9, 2, 8, 4, 3), adam=(2, 3, 6, 2, 5, 2)), INCONCLUSIVE),  # noisy
        (race(dict.fromkeys(OPTIMIZERS, (9,) * 6), cut=OPTIMIZERS), INCONCLUSIVE),  # none reached
        (table(sgd=(2, 2, 2, 2, 2, 2), adam=(2, 2, 2, 2, 2, 2), cut=("sgd",)), INCONCLUSIVE),
        (table(sgd=(8, 8), momentum=(4, 4), rmsprop=(4, 4), adam=(2, 2)), INCONCLUSIVE),  # 2 seeds
    ],
)
def test_optimizer_rule_gives_each_outcome(rows, expected):
    verdict = RULE.decide(rows)
    assert verdict.verdict == expected
    assert f"MIN_SPEEDUP={MIN_SPEEDUP:g}" in verdict.rule and "Holm" in verdict.rule
    assert {f"steps_{n}" for n in OPTIMIZERS} <= set(verdict.numbers)


def test_a_rival_cut_off_by_its_budget_is_never_counted_faster():
    rows = table(momentum=(1,) * 6, cut=("momentum",))  # counted tiny, but never reached
    verdict = RULE.decide(rows)
    assert verdict.numbers["faster_than_adam"] == [] and not verdict.numbers["momentum_faster"]
    assert verdict.verdict == SUPPORTED


def test_the_rival_check_is_holm_corrected():
    rows = table(momentum=(2, 2, 2, 2, 2, 2), rmsprop=(7,) * 6, adam=(6, 6, 6, 6, 6, 6))
    verdict = RULE.decide(rows)
    assert verdict.numbers["faster_than_adam"] == ["momentum"]
    assert verdict.numbers["p_momentum_faster"] < 0.025
    assert verdict.numbers["speedup_momentum_over_adam"] == pytest.approx(3.0)


def test_optimizer_rule_is_calibrated_at_the_full_preset():
    c = calibrate(RULE, 10, 5, n_simulations=1000, seed=0)
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE
    assert c.power >= MIN_POWER


def test_grids_are_half_decades_around_each_centre():
    full = grids(PRESETS["full"])
    assert set(full) == set(OPTIMIZERS)
    for name, grid in full.items():
        assert len(grid) == 5 and grid[2] == pytest.approx(OPTIMIZER_CENTRES[name])
        assert np.diff(np.log10(grid)) == pytest.approx([0.5] * 4)
    assert grids(PRESETS["quick"])["adam"] == (OPTIMIZER_CENTRES["adam"],)


def test_optimizer_simulator_races_every_optimizer_at_one_rate():
    rows = RULE.simulate("clear", np.random.default_rng(2), 5, 3)
    assert len(rows) == 5 * len(OPTIMIZERS)
    assert all(math.isfinite(r["steps"]) for r in rows)


class OptimizersOnly(Claim):
    name = "optimizers-only"
    hypothesis = "Adam is faster."
    presets = {
        "tiny": {"n_seeds": 3, "n_selection_seeds": 2, **PRESETS["quick"], "opt_grid_points": 3}
    }

    def experiments(self, params):
        return [OptimizersExperiment()]


def test_optimizers_tune_on_selection_seeds_and_race_on_evaluation_seeds():
    result = OptimizersOnly().run("tiny")
    part = result.verdict.parts[0]
    chosen = part.protocol["chosen"]
    grid = grids(result.params)
    for name in OPTIMIZERS:
        assert chosen["lr"][name] in grid[name]
        assert len(chosen["selection_steps"][name]) == 3
    assert part.protocol["selection_seeds"] == [10000, 10001]
    assert {r["seed"] for r in result.table} == {0, 1, 2} and len(result.table) == 12
    assert all(0 <= r["final_test_accuracy"] <= 1 for r in result.table)
    assert "optimizers" in result.figures and result.notes
