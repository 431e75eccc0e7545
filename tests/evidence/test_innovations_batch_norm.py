"""Batch norm (innovations) and the race helpers it shares with the optimisers: steps to a
target, the learning rate chosen per arm, bounded speed-ups; the rule's three outcomes on
hand-built rows, its calibration at the full preset's seeds, and the experiment end to end."""

import math

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Claim
from whydl.evidence.calibration import MAX_FALSE_NEGATIVE, MAX_FALSE_POSITIVE, MIN_POWER, calibrate
from whydl.evidence.decide import MIN_SEEDS
from whydl.evidence.innovations.batch_norm import (
    PLAIN,
    PRESETS,
    WITH_BN,
    BatchNormExperiment,
    BatchNormRule,
)
from whydl.evidence.innovations.tuning import (
    MIN_SPEEDUP,
    choose_lr,
    grid_edge,
    speedup,
    steps_to_target,
)

RULE = BatchNormRule()
PER_EPOCH = 20


def race(steps: dict, cut=(), per_epoch=PER_EPOCH) -> list[dict]:
    """Rows of a race: `steps[arm]` per seed (whole epochs); arms in `cut` never reached the
    target (their steps are then budget + 1 epoch)."""
    return [
        {
            "seed": s,
            "arm": arm,
            "lr": 0.1,
            "steps": float(v),
            "reached": arm not in cut,
            "steps_per_epoch": per_epoch,
        }
        for arm, values in steps.items()
        for s, v in enumerate(values)
    ]


def epochs(*counts):
    return [PER_EPOCH * c for c in counts]


# the race helpers ------------------------------------------------------------------------


def test_steps_to_target_counts_whole_epochs_and_censors_at_budget_plus_one():
    steps, reached = steps_to_target([[0.5, 0.95, 0.97], [0.5, 0.6, 0.7]], 0.9, 10)
    assert steps.tolist() == [20.0, 40.0] and reached.tolist() == [True, False]
    steps, reached = steps_to_target([[1.0, 0.2], [np.nan, np.nan]], 0.3, 5, below=True)
    assert steps.tolist() == [10.0, 15.0] and reached.tolist() == [True, False]


def test_choose_lr_takes_fewest_steps_then_the_tiebreak_then_the_grid_order():
    steps = {0.1: [40, 40], 0.3: [40, 40], 1.0: [80, 80]}
    assert choose_lr(steps, {0.1: [0.5, 0.5], 0.3: [0.2, 0.2], 1.0: [0.0, 0.0]}) == 0.3
    assert choose_lr(steps, {0.1: [0.5, 0.5], 0.3: [0.5, np.nan], 1.0: [0, 0]}) == 0.1
    assert choose_lr({0.1: [100, 20], 0.3: [60, 60]}, {0.1: [0, 0], 0.3: [0, 0]}) == 0.1
    assert grid_edge((0.1, 0.3, 1.0), 0.1) and not grid_edge((0.1, 0.3, 1.0), 0.3)
    assert not grid_edge((0.3,), 0.3)


def test_speedup_bounds_hold_the_true_ratio_of_whole_epochs():
    table = race({PLAIN: epochs(10, 12, 11), WITH_BN: epochs(2, 2, 3)})
    effect = speedup(table, PLAIN, WITH_BN)
    counted = np.log([10 / 2, 12 / 2, 11 / 3])
    assert effect.counted.estimate == pytest.approx(counted.mean())
    assert effect.low.estimate == pytest.approx(np.log([9 / 2, 11 / 2, 10 / 3]).mean())
    assert effect.high.estimate == pytest.approx(np.log([10 / 1, 12 / 1, 11 / 2]).mean())
    assert effect.low.estimate < effect.counted.estimate < effect.high.estimate


def test_a_cut_off_or_first_epoch_run_leaves_its_bound_open():
    cut = speedup(
        race({PLAIN: epochs(9, 9, 9), WITH_BN: epochs(3, 3, 3)}, cut=(WITH_BN,)), PLAIN, WITH_BN
    )
    assert cut.low.estimate == -math.inf and math.isfinite(cut.high.estimate)
    first = speedup(race({PLAIN: epochs(1, 1, 1), WITH_BN: epochs(1, 1, 1)}), PLAIN, WITH_BN)
    assert first.low.estimate == -math.inf and first.high.estimate == math.inf
    assert first.verdict(math.log(MIN_SPEEDUP)) == INCONCLUSIVE


# the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table,expected",
    [
        (race({PLAIN: epochs(25, 26, 24, 27, 25), WITH_BN: epochs(2, 2, 2, 2, 2)}), SUPPORTED),
        (race({PLAIN: epochs(8, 9, 8, 9, 8), WITH_BN: epochs(8, 9, 8, 9, 8)}), NOT_SUPPORTED),
        (race({PLAIN: epochs(6, 12, 5, 14, 7), WITH_BN: epochs(5, 4, 9, 5, 8)}), INCONCLUSIVE),
        # BN cut off by its budget: its counted speed-up would overstate the truth
        (
            race(
                {PLAIN: epochs(30, 30, 30, 30, 30), WITH_BN: epochs(9, 9, 9, 9, 9)}, cut=(WITH_BN,)
            ),
            INCONCLUSIVE,
        ),
        # no run without BN reached the target: an equal count understates BN's speed-up
        (race({PLAIN: epochs(9, 9, 9), WITH_BN: epochs(8, 9, 8)}, cut=(PLAIN,)), INCONCLUSIVE),
        (  # fewer than MIN_SEEDS seeds
            race({PLAIN: epochs(*[25] * (MIN_SEEDS - 1)), WITH_BN: epochs(*[2] * (MIN_SEEDS - 1))}),
            INCONCLUSIVE,
        ),
    ],
)
def test_batch_norm_rule_gives_each_outcome(table, expected):
    verdict = RULE.decide(table)
    assert verdict.verdict == expected
    assert f"MIN_SPEEDUP={MIN_SPEEDUP:g}" in verdict.rule
    assert {"speedup", "log_speedup_low_ci_low", "lr_with_bn", "reached_without_bn"} <= set(
        verdict.numbers
    )


def test_batch_norm_rule_is_calibrated_at_the_full_preset():
    c = calibrate(RULE, 10, 5, n_simulations=1000, seed=0)
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE
    assert c.power >= MIN_POWER


def test_batch_norm_simulator_makes_race_rows_at_one_rate_per_arm():
    table = RULE.simulate("minimum", np.random.default_rng(1), 4, 3)
    assert {r["arm"] for r in table} == {PLAIN, WITH_BN} and len(table) == 8
    for arm in (PLAIN, WITH_BN):
        assert len({r["lr"] for r in table if r["arm"] == arm}) == 1
    assert all(r["steps"] % r["steps_per_epoch"] == 0 for r in table)


# the experiment end to end -------------------------------------------------------------


class BatchNormOnly(Claim):
    name = "batch-norm-only"
    hypothesis = "Batch norm is faster."
    presets = {
        "tiny": {"n_seeds": 3, "n_selection_seeds": 2, **PRESETS["quick"], "bn_lrs": (0.3, 1.0)}
    }

    def experiments(self, params):
        return [BatchNormExperiment()]


def test_batch_norm_tunes_on_selection_seeds_and_races_on_evaluation_seeds():
    result = BatchNormOnly().run("tiny")
    part = result.verdict.parts[0]
    chosen = part.protocol["chosen"]
    assert set(chosen["lr"]) == {PLAIN, WITH_BN} and set(chosen["lr"].values()) <= {0.3, 1.0}
    assert set(chosen["selection_steps"][PLAIN]) == {"0.3", "1"}
    assert set(chosen["at_grid_edge"]) == {PLAIN, WITH_BN}  # a two-point grid: all edges
    assert part.protocol["selection_seeds"] == [10000, 10001]
    assert {r["seed"] for r in result.table} == {0, 1, 2} and len(result.table) == 6
    for r in result.table:  # every evaluation run at its arm's chosen rate
        assert r["lr"] == chosen["lr"][r["arm"]]
    assert "batch_norm" in result.figures
    assert any("edge of its grid" in n for n in result.notes)
