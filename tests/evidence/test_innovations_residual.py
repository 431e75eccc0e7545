"""The residual rule: its three outcomes on hand-built rows, its calibration at the full
preset's seeds, and the experiment's calls and rows."""

import time

import numpy as np
import pytest

from whydl.errors import DivergedError
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.calibration import (
    MAX_FALSE_NEGATIVE,
    MAX_FALSE_POSITIVE,
    MIN_POWER,
    calibrate,
)
from whydl.evidence.decide import MIN_SEEDS
from whydl.evidence.experiment import ExperimentRun
from whydl.evidence.innovations import CLAIM
from whydl.evidence.innovations.residual import (
    PLAIN,
    RESIDUAL,
    ResidualExperiment,
    ResidualRule,
)
from whydl.evidence.protocol import seed_plan

RULE = ResidualRule()
FULL = CLAIM.params("full")
DEPTHS = (4, 8, 16, 32)


def table(plain, residual, spread=0.02, n=6):
    """Final training loss per kind and depth; residual's seeds in the opposite order, so
    the paired differences vary by seed."""
    rows = []
    for kind, losses in ((PLAIN, plain), (RESIDUAL, residual)):
        for d, v in zip(DEPTHS, losses):
            values = v + np.linspace(-spread, spread, n)
            values = values if kind == PLAIN else values[::-1]
            rows += [
                {"variant": kind, "depth": d, "seed": s, "train_loss": float(x), "diverged": False}
                for s, x in enumerate(values)
            ]
    return rows


@pytest.mark.parametrize(
    "rows,expected",
    [
        (table([0.3, 0.4, 1.1, 1.9], [0.1, 0.07, 0.05, 0.1]), SUPPORTED),
        (table([0.3, 0.4, 1.1, 1.9], [0.1, 0.5, 1.5, 2.2]), NOT_SUPPORTED),  # residual worse
        (table([0.3, 0.3, 0.3, 0.3], [0.1] * 4), NOT_SUPPORTED),  # plain does not degrade
        (table([0.3, 0.4, 1.1, 1.9], [0.1, 0.5, 1.0, 1.85], spread=0.5), INCONCLUSIVE),
        (table([0.3, 0.4, 1.1, 1.9], [0.1] * 4, n=MIN_SEEDS - 1), INCONCLUSIVE),
    ],
)
def test_rule_gives_each_outcome(rows, expected):
    verdict = RULE.decide(rows)
    assert verdict.verdict == expected
    assert "DEGRADATION_MARGIN=0.05" in verdict.rule
    assert verdict.numbers["shallowest"] == 4 and verdict.numbers["deepest"] == 32


def test_degradation_is_measured_from_the_shallowest_depth_not_the_best():
    """Plain's best depth (8) is reported, but the degradation is 32 layers against 4."""
    verdict = RULE.decide(table([0.5, 0.2, 1.1, 1.9], [0.1] * 4))
    assert verdict.numbers["plain best depth"] == 8
    assert verdict.numbers["plain degrades"]["estimate"] == pytest.approx(1.4)


def test_decide_is_fast():
    rows = RULE.simulate("clear", np.random.default_rng(0), 10, 0)
    RULE.decide(rows)
    start = time.perf_counter()
    for _ in range(50):
        RULE.decide(rows)
    assert (time.perf_counter() - start) / 50 < 0.01


def test_simulated_rows_are_shaped_like_the_experiments():
    rows = RULE.simulate("minimum", np.random.default_rng(0), 4, 0)
    assert {frozenset(r) for r in rows} == {frozenset(table([0] * 4, [0] * 4)[0])}
    assert {r["seed"] for r in rows} == set(range(4))


@pytest.mark.parametrize("seed", [0, 1])
def test_calibrated_at_the_full_presets_seeds(seed):
    c = calibrate(RULE, FULL["n_seeds"], 0, n_simulations=1000, seed=seed)
    assert c.n_evaluation_seeds == 10 and c.n_simulations == 1000
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE
    assert c.power >= MIN_POWER


# the experiment --------------------------------------------------------------------------


def test_calls_pair_plain_and_residual_on_each_seeds_own_data():
    params = CLAIM.params("quick")
    plan = seed_plan(params["n_seeds"], params["n_selection_seeds"])
    calls = ResidualExperiment().calls(params, plan.evaluation, {})
    assert set(calls) == {(k, d) for k in (PLAIN, RESIDUAL) for d in params["res_depths"]}
    plain, residual = calls[PLAIN, 2], calls[RESIDUAL, 2]
    assert not plain.model.residual and residual.model.residual
    np.testing.assert_array_equal(plain.hooks["train_rows"], residual.hooks["train_rows"])
    assert plain.train.seeds == list(plan.evaluation)
    assert not ResidualExperiment.deciding


class FakeFit:
    """What `rows` reads of a fit: members' training loss and which diverged."""

    def __init__(self, final, ok):
        self.history = type("History", (), {"train_loss": np.array(final)[:, None]})()
        self.ok = np.array(ok)


def test_rows_count_diverged_members_as_untrained():
    """A member that diverged stays in the rows, at chance loss (ln 10 for digits), and is
    flagged; so does every member of a call that diverged altogether."""
    params = CLAIM.params("quick") | {"res_epochs": 1}
    plan = seed_plan(3)
    fits = {
        (PLAIN, 2): FakeFit([1.0, 2.0, 3.0], [True, False, True]),
        (RESIDUAL, 2): DivergedError("every member diverged"),
    }
    run = ExperimentRun(ResidualExperiment(), params, plan, fits=fits)
    rows = ResidualExperiment().rows(run)
    loss = {(r["variant"], r["seed"]): r["train_loss"] for r in rows}
    assert loss[PLAIN, 0] == 1.0 and loss[PLAIN, 2] == 3.0
    assert loss[PLAIN, 1] == loss[RESIDUAL, 2] == pytest.approx(np.log(10))
    assert [r["diverged"] for r in rows if r["variant"] == PLAIN] == [False, True, False]
    assert {r["seed"] for r in rows} == set(plan.evaluation)


def test_diverged_members_are_counted_and_reported():
    rows = table([0.3, 0.4, 1.1, 2.3], [0.1] * 4)
    for r in rows:
        if r["variant"] == PLAIN and r["depth"] == 32 and r["seed"] < 4:
            r["diverged"] = True
    verdict = RULE.decide(rows)
    assert verdict.numbers["plain diverged at deepest"] == 4
    assert verdict.numbers["residual diverged at deepest"] == 0
    assert verdict.verdict == SUPPORTED
