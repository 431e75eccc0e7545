"""Dropout (innovations): the rule's three outcomes on hand-built rows, its calibration at the
full preset's seeds, and the experiment end to end under the protocol."""

import numpy as np
import pytest

from whydl.config import ModelConfig, TrainConfig
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Claim, Context
from whydl.evidence.calibration import MAX_FALSE_NEGATIVE, MAX_FALSE_POSITIVE, MIN_POWER, calibrate
from whydl.evidence.decide import MIN_SEEDS
from whydl.evidence.innovations.dropout import (
    DATASETS,
    MIN_GAIN,
    PRESETS,
    DropoutExperiment,
    DropoutRule,
    _test_accuracy,
)
from whydl.evidence.protocol import SELECTION_SEED_BASE, per_seed_data

RULE = DropoutRule()
N_EVALUATION, N_SELECTION = 10, 5  # the full preset's seeds


def rows(gains, n=8, spread=0.01, chosen=0.5, n_train=800, others=0.0):
    """Per-seed test accuracy: p = 0 around 0.8 (each seed its own draw, shared by its
    rates), the chosen p `gains[d]` higher (with a seed's own +-spread/2), the other rates
    `others` higher."""
    out = []
    for d in DATASETS:
        for s in range(n):
            draw = 0.8 + 0.03 * np.sin(s)
            own = spread * (s % 2 - 0.5)
            for p in (0.0, 0.1, 0.3, 0.5):
                gain = 0.0 if p == 0 else gains[d] if p == chosen else others
                out.append(
                    {
                        "seed": s,
                        "dataset": d,
                        "n_train": n_train,
                        "dropout": p,
                        "chosen": p == chosen,
                        "test_accuracy": draw + gain + (own if p == chosen else 0.0),
                    }
                )
    return out


@pytest.mark.parametrize(
    "table,expected",
    [
        (rows({"teacher": 0.03, "digits": 0.0}), SUPPORTED),  # helps on one, hurts on none
        (rows({"teacher": 0.0, "digits": 0.0}, spread=0.002), NOT_SUPPORTED),  # tight, no gain
        (rows({"teacher": -0.02, "digits": -0.02}), NOT_SUPPORTED),  # hurts on both
        (rows({"teacher": 0.03, "digits": -0.03}), INCONCLUSIVE),  # helps on one, hurts on one
        (rows({"teacher": 0.003, "digits": 0.0}, spread=0.04), INCONCLUSIVE),  # noisy
        (rows({"teacher": 0.03, "digits": 0.0}, n=MIN_SEEDS - 1), INCONCLUSIVE),  # too few
    ],
)
def test_dropout_rule_gives_each_outcome(table, expected):
    verdict = RULE.decide(table)
    assert verdict.verdict == expected
    assert f"MIN_GAIN={MIN_GAIN:g}" in verdict.rule and "Holm" in verdict.rule
    assert verdict.numbers["n_train"] == 800 and verdict.numbers["chosen_p_teacher"] == 0.5


def test_dropout_rule_reads_only_the_chosen_rate_at_the_largest_size():
    table = rows({"teacher": 0.0, "digits": 0.0}, spread=0.002, others=0.2)  # unchosen p shine
    table += [dict(r, n_train=50, test_accuracy=0.0) for r in table if r["dropout"] == 0]
    verdict = RULE.decide(table)
    assert verdict.verdict == NOT_SUPPORTED
    assert verdict.numbers["gain_teacher"] == pytest.approx(0.0, abs=1e-9)


def test_dropout_rule_is_calibrated_at_the_full_preset():
    c = calibrate(RULE, N_EVALUATION, N_SELECTION, n_simulations=1000, seed=0)
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE
    assert c.power >= MIN_POWER


def test_dropout_simulator_makes_rows_like_the_experiment():
    table = RULE.simulate("clear", np.random.default_rng(0), 4, 3)
    assert {r["seed"] for r in table} == set(range(4))
    assert {r["dataset"] for r in table} == set(DATASETS)
    for d in DATASETS:  # one chosen p > 0 per dataset, on every seed
        chosen = {r["dropout"] for r in table if r["dataset"] == d and r["chosen"]}
        assert len(chosen) == 1 and chosen.pop() > 0


class DropoutOnly(Claim):
    name = "dropout-only"
    hypothesis = "Dropout helps."
    presets = {"tiny": {"n_seeds": 3, "n_selection_seeds": 2, **PRESETS["quick"]}}

    def experiments(self, params):
        return [DropoutExperiment()]


def test_dropout_chooses_p_on_selection_seeds_and_decides_on_evaluation_seeds():
    result = DropoutOnly().run("tiny")
    part = result.verdict.parts[0]
    assert part.claim == "dropout" and part.verdict in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
    chosen = part.protocol["chosen"]
    assert set(chosen["p"]) == set(DATASETS) and all(p > 0 for p in chosen["p"].values())
    assert part.protocol["selection_seeds"] == [SELECTION_SEED_BASE, SELECTION_SEED_BASE + 1]
    assert part.calibration["n_evaluation_seeds"] == 3
    assert {r["seed"] for r in result.table} == {0, 1, 2}
    sizes, rates = PRESETS["quick"]["dropout_sizes"], PRESETS["quick"]["dropout_rates"]
    assert len(result.table) == 3 * len(DATASETS) * len(sizes) * len(rates)
    flagged = {(r["dataset"], r["dropout"]) for r in result.table if r["chosen"]}
    assert flagged == {(d, p) for d, p in chosen["p"].items()}
    assert "dropout" in result.figures and any("small training sets" in n for n in result.notes)


def test_the_final_score_is_each_members_own_whole_test_split():
    data = per_seed_data("teacher", (0, 1), n_samples=120, noise=0.2, test_size=0.5)
    model, train = ModelConfig(hidden=(8,), dropout=0.3), TrainConfig(epochs=2, seed=0, n_seeds=2)
    full = Context().fit(data.pool, model, train, **data.hooks)  # scored on all test rows
    watched = Context().fit(
        data.pool, model, train, train_rows=data.train_rows, test_rows=data.test_rows[:, :4]
    )
    np.testing.assert_allclose(_test_accuracy(watched, data), full.history.val_metric[:, -1])
