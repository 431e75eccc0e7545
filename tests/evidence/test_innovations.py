"""The innovations claim: every decision rule on hand-made tables, and the claim end to end."""

import json

import numpy as np
import pytest

from whydl.cli import main
from whydl.data import load_dataset
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.innovations.legacy import (
    CLAIM,
    INIT_FIXES,
    MIN_SEEDS,
    NAIVE,
    PLAIN,
    REQUIRED,
    WITH_BN,
    _subset,
    batch_norm_rule,
    dropout_rule,
    optimizer_rule,
    residual_rule,
    steps_to_target,
    vanishing_rule,
)


def around(mean, spread=0.01, n=6):
    """n per-seed values evenly spread around `mean`."""
    return mean + np.linspace(-spread, spread, n)


# vanishing gradients ----------------------------------------------------------------------


def ratios(naive=-36.0, fixes=0.3, spread=0.1, n=6):
    table = {NAIVE: around(naive, spread, n)}
    table.update({name: around(fixes, spread, n) for name in INIT_FIXES})
    table["ReLU + He + BN"] = around(1.5, spread, n)  # reported, not decided on
    return table


def deep(xavier=2.30, he=1.8, spread=0.05, n=6):
    return {"xavier": around(xavier, spread, n), "he": around(he, spread, n)}


@pytest.mark.parametrize(
    "log10_ratio,deep_loss,expected",
    [
        (ratios(), deep(), SUPPORTED),
        (ratios(naive=-0.5), deep(), NOT_SUPPORTED),  # nothing vanishes
        (ratios(fixes=2.5), deep(), NOT_SUPPORTED),  # the fixes explode
        (ratios(), deep(xavier=1.8, he=1.9), NOT_SUPPORTED),  # He no better than Xavier
        (ratios(naive=-2.0, spread=1.0), deep(), INCONCLUSIVE),  # CI straddles the bound
        (ratios(), deep(xavier=1.85, he=1.8, spread=0.3), INCONCLUSIVE),  # gap within CIs
        (ratios(n=MIN_SEEDS - 1), deep(n=MIN_SEEDS - 1), INCONCLUSIVE),  # too few seeds
    ],
)
def test_vanishing_rule_gives_each_outcome(log10_ratio, deep_loss, expected):
    verdict = vanishing_rule(log10_ratio, deep_loss, seeds=6)
    assert verdict.verdict == expected
    assert "VANISHING_DECADES=2" in verdict.rule and "HEALTHY_DECADES=1" in verdict.rule
    assert verdict.numbers[NAIVE]["mean"] == pytest.approx(np.mean(log10_ratio[NAIVE]))


# dropout ---------------------------------------------------------------------------------


def accuracies(teacher_gain, digits_gain, spread=0.005, n=6):
    """Per-seed test accuracy: p = 0.1 moves half as far from p = 0 as p = 0.5."""

    def rates(gain):
        return {
            0.0: around(0.80, spread, n),
            0.1: around(0.80 + gain / 2, spread, n),
            0.5: around(0.80 + gain, spread, n),
        }

    return {"teacher": rates(teacher_gain), "digits": rates(digits_gain)}


@pytest.mark.parametrize(
    "table,expected",
    [
        (accuracies(0.05, 0.0), SUPPORTED),  # helps on one, hurts on none
        (accuracies(-0.05, -0.05), NOT_SUPPORTED),  # every rate hurts on both
        (accuracies(0.05, -0.05), INCONCLUSIVE),  # helps on one, hurts on the other
        (accuracies(0.0, 0.0), INCONCLUSIVE),  # no difference anywhere
        (accuracies(0.05, 0.0, n=MIN_SEEDS - 1), INCONCLUSIVE),
    ],
)
def test_dropout_rule_gives_each_outcome(table, expected):
    verdict = dropout_rule(table, seeds=6)
    assert verdict.verdict == expected
    assert "DROPOUT_MIN_GAIN" in verdict.rule


def test_dropout_rule_compares_the_best_rate():
    table = accuracies(-0.05, -0.05)
    table["teacher"][0.1] = around(0.80, 0.005)  # a tie on teacher; every rate hurts on digits
    verdict = dropout_rule(table, seeds=6)
    assert verdict.verdict == NOT_SUPPORTED  # hurts on one, helps on none
    assert verdict.numbers["teacher"]["best p"] == 0.1
    assert verdict.numbers["teacher"]["gain"] == pytest.approx(0.0, abs=1e-9)
    assert verdict.numbers["digits"]["gain"] == pytest.approx(-0.025)


# batch norm ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plain,bn,expected",
    [
        (around(500, 40), around(40, 0), SUPPORTED),
        (around(40, 2), around(40, 2), NOT_SUPPORTED),  # no speed-up
        (around(60, 40), around(40, 10), INCONCLUSIVE),  # noisy, around the threshold
        (around(500, 40, n=MIN_SEEDS - 1), around(40, 0, n=MIN_SEEDS - 1), INCONCLUSIVE),
    ],
)
def test_batch_norm_rule_gives_each_outcome(plain, bn, expected):
    verdict = batch_norm_rule({PLAIN: plain, WITH_BN: bn}, seeds=6)
    assert verdict.verdict == expected
    assert "MIN_SPEEDUP=1.5" in verdict.rule


def test_batch_norm_speedup_is_the_geometric_mean_ratio():
    verdict = batch_norm_rule({PLAIN: [400, 800, 400], WITH_BN: [40, 40, 40]}, seeds=3)
    assert verdict.numbers["speed-up"] == pytest.approx(2 ** np.mean(np.log2([10, 20, 10])))


# optimisers ------------------------------------------------------------------------------


def steps(sgd=150, momentum=80, rmsprop=70, adam=45, spread=5, n=6):
    return {
        "sgd": around(sgd, spread, n),
        "momentum": around(momentum, spread, n),
        "rmsprop": around(rmsprop, spread, n),
        "adam": around(adam, spread, n),
    }


@pytest.mark.parametrize(
    "table,expected",
    [
        (steps(), SUPPORTED),
        (steps(momentum=20), NOT_SUPPORTED),  # momentum beats Adam
        (steps(sgd=40), NOT_SUPPORTED),  # SGD is no slower than Adam
        (steps(sgd=50, spread=20), INCONCLUSIVE),  # Adam ahead of SGD within the CIs
        (steps(n=MIN_SEEDS - 1), INCONCLUSIVE),
    ],
)
def test_optimizer_rule_gives_each_outcome(table, expected):
    verdict = optimizer_rule(table, seeds=6)
    assert verdict.verdict == expected
    assert "TARGET_TRAIN_LOSS" in verdict.rule


# residual --------------------------------------------------------------------------------


def losses(plain, residual, spread=0.02, n=6):
    depths = (4, 8, 16, 32)
    return {
        "plain": {d: around(v, spread, n) for d, v in zip(depths, plain)},
        "residual": {d: around(v, spread, n) for d, v in zip(depths, residual)},
    }


@pytest.mark.parametrize(
    "table,expected",
    [
        (losses([0.3, 0.4, 1.1, 1.9], [0.1, 0.07, 0.05, 0.1]), SUPPORTED),
        (losses([0.3, 0.4, 1.1, 1.9], [0.1, 0.5, 1.5, 2.2]), NOT_SUPPORTED),  # residual worse
        (losses([0.3, 0.3, 0.3, 0.3], [0.1, 0.1, 0.1, 0.1]), INCONCLUSIVE),  # no degradation
        (losses([0.3, 0.4, 1.1, 1.9], [0.1] * 4, n=MIN_SEEDS - 1), INCONCLUSIVE),
    ],
)
def test_residual_rule_gives_each_outcome(table, expected):
    verdict = residual_rule(table, seeds=6)
    assert verdict.verdict == expected
    assert "DEGRADATION_MARGIN" in verdict.rule


# helpers ---------------------------------------------------------------------------------


def test_steps_to_target_counts_whole_epochs_and_censors():
    loss = [[2.0, 0.5, 0.2, 0.1], [2.0, 1.0, 0.9, 0.8], [2.0, np.nan, np.nan, np.nan]]
    counted, reached = steps_to_target(loss, 0.3, steps_per_epoch=10, below=True)
    assert counted.tolist() == [30.0, 50.0, 50.0]  # never reached: budget + 1 epoch
    assert reached.tolist() == [True, False, False]


def test_subsets_nest_and_keep_a_small_monitor_split():
    digits = load_dataset("digits")
    small, large = _subset(digits, 50), _subset(digits, 200, monitor=None)
    np.testing.assert_array_equal(small.X_train, large.X_train[:50])
    assert len(small.X_test) == 32 and len(large.X_test) == len(digits.X_test)
    with pytest.raises(ValueError, match="exceeds"):
        _subset(digits, 10_000)


def test_required_parts_are_the_articles_innovations():
    assert set(REQUIRED) == {"vanishing_gradients", "dropout", "batch_norm", "optimizers"}


# end to end ------------------------------------------------------------------------------

FIGURES = (
    "gradient_norms",
    "activation_stats",
    "training_loss",
    "dropout",
    "batch_norm",
    "optimizers",
    "residual",
)


def test_quick_preset_end_to_end(tmp_path):
    code = main(["claim", "innovations", "--preset", "quick", "--out", str(tmp_path)])
    assert code == 0
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert set(verdict) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert verdict["claim"] == "innovations"
    assert [p["claim"] for p in verdict["parts"]] == [
        "vanishing_gradients",
        "dropout",
        "batch_norm",
        "optimizers",
        "residual",
    ]
    for name in FIGURES:
        assert (tmp_path / f"{name}.svg").is_file() and (tmp_path / f"{name}.png").is_file()
    rows = json.loads((tmp_path / "results.json").read_text())
    experiments = {row["experiment"] for row in rows}
    assert experiments == {"vanishing_gradients", "dropout", "batch_norm", "optimizers", "residual"}


@pytest.mark.slow
def test_full_preset_runs_and_shows_vanishing_gradients():
    result = CLAIM.run("full")
    parts = {p.claim: p for p in result.verdict.parts}
    assert set(parts) == {"vanishing_gradients", "dropout", "batch_norm", "optimizers", "residual"}
    assert result.params["n_seeds"] >= 10
    # sigmoid + small init at 20 layers: the first layer's gradient is ~1e-36 of the last's
    assert parts["vanishing_gradients"].numbers[NAIVE]["ci_high"] < -10
