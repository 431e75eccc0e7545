from types import SimpleNamespace

import numpy as np
import pytest

from whydl.errors import DivergedError
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.calibration import Calibration
from whydl.evidence.compute import CLAIM
from whydl.evidence.compute.frontier import Frontier, grid, seed_data
from whydl.evidence.compute.trade_off import TradeOff, n_opt_slope, parameters, pick
from whydl.evidence.compute.trade_off_rule import (
    BIGGER,
    MIN_GAIN,
    SMALLER,
    WIDEST,
    TradeOffRule,
    arm_row,
)
from whydl.evidence.experiment import run_experiments
from whydl.evidence.protocol import seed_plan
from whydl.runtime import CachedContext
from whydl.store import Store

RULE = TradeOffRule()


def arm_rows(log_loss, seeds=8, sd=0.05, seed=0, arms=(BIGGER, SMALLER, WIDEST)):
    """Rows of the arms with true log test loss `log_loss[arm]`, a seed offset shared by the
    arms and a little noise of each seed's own."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, 0.3, seeds)
    configs = {BIGGER: (16, 8, 8.0), SMALLER: (4, 40, 10.0), WIDEST: (64, 1, 7.0)}
    return [
        arm_row(s, arm, *configs[arm], 10.0, np.exp(log_loss[arm] + shared[s] + rng.normal(0, sd)))
        for s in range(seeds)
        for arm in arms
    ]


def test_the_rule_gives_each_outcome():
    ahead = RULE.decide(arm_rows({BIGGER: -1.5, SMALLER: -0.5, WIDEST: -1.0}))
    assert ahead.verdict == SUPPORTED
    assert ahead.numbers["gain"] == pytest.approx(1.0, abs=0.1)
    assert ahead.numbers["gain_paired"] and ahead.numbers["flops_ratio"] == pytest.approx(0.8)
    assert ahead.numbers["widest_gain"] == pytest.approx(0.5, abs=0.1)
    assert ahead.numbers["bigger_width"] == 16 and ahead.numbers["smaller_epoch"] == 40
    # the seeds' shared offset (sd 0.3) cancels in the pairing: a small gain is still seen
    small = RULE.decide(arm_rows({BIGGER: -1.2, SMALLER: -1.0, WIDEST: -1.0}, sd=0.02))
    assert small.verdict == SUPPORTED
    # the bigger model behind, or ahead by less than the minimum: evidence against
    behind = RULE.decide(arm_rows({BIGGER: -0.5, SMALLER: -1.0, WIDEST: -1.0}))
    assert behind.verdict == NOT_SUPPORTED and behind.numbers["gain"] < 0
    tiny = RULE.decide(arm_rows({BIGGER: -1.01, SMALLER: -1.0, WIDEST: -1.0}, sd=0.005))
    assert tiny.verdict == NOT_SUPPORTED and tiny.numbers["gain_ci_high"] < MIN_GAIN
    noisy = RULE.decide(arm_rows({BIGGER: -1.1, SMALLER: -1.0, WIDEST: -1.0}, sd=0.5, seeds=4))
    assert noisy.verdict == INCONCLUSIVE
    assert "0.05" in RULE.minimum_text() and "paired by seed" in RULE.text()


def test_the_rule_needs_both_arms_and_three_seeds():
    only_smaller = arm_rows({SMALLER: -1.0}, arms=(SMALLER,))
    v = RULE.decide(only_smaller)
    assert v.verdict == INCONCLUSIVE and "gain" not in v.numbers
    two = arm_rows({BIGGER: -2.0, SMALLER: -1.0, WIDEST: -1.0}, seeds=2)
    assert RULE.decide(two).verdict == INCONCLUSIVE


def test_the_simulated_rows_decide_as_their_condition_says():
    rng = np.random.default_rng(1)
    verdicts = [RULE.decide(RULE.simulate("clear", rng, 10, 5)).verdict for _ in range(20)]
    assert verdicts.count(SUPPORTED) >= 16
    rows = RULE.simulate("null", rng, 10, 5)
    assert {r["arm"] for r in rows} == {BIGGER, SMALLER, WIDEST}
    assert sorted({r["seed"] for r in rows}) == list(range(10))


def test_parameters_are_the_weights_the_flops_count():
    assert parameters(16, 64, 10) == 64 * 16 + 16 * 16 + 16 * 10


def test_the_n_opt_slope_is_the_log_log_slope():
    c = np.geomspace(1e6, 1e9, 6)
    assert n_opt_slope(c, 3.0 * c**0.73) == pytest.approx(0.73)
    assert np.isnan(n_opt_slope(c, np.full(6, 100.0)))  # N_opt never changes


def configs_and_means(law):
    """A grid of widths 4, 8, 16 x 10 epochs with FLOPs = width^2 x epoch, sorted by FLOPs,
    and mean log losses law(width, epoch)."""
    configs = sorted(
        ((w, e, float(w * w * e)) for w in (4, 8, 16) for e in range(1, 11)), key=lambda c: c[2]
    )
    return configs, [law(w, e) for w, e, _ in configs]


def test_the_pair_is_named_at_the_narrowest_widths_full_budget():
    configs, means = configs_and_means(lambda w, e: -np.log(w * e))  # loss falls with w and e
    chosen = pick(configs, means)
    assert chosen["matched_budget_flops"] == 160.0  # 4^2 x 10 epochs
    assert chosen[SMALLER] == {"width": 4, "epoch": 10}
    # among the wider configurations costing at most 160: 8 x 2 (128), 8 x 1, and none of 16
    assert chosen[BIGGER] == {"width": 8, "epoch": 2}
    assert chosen[WIDEST] == {"width": 8, "epoch": 2}
    assert chosen["n_opt_widths"][0] == 4 and chosen["n_opt_widths"][-1] == 16
    # a diverged configuration (NaN) is never picked; with no wider one left, no pair
    configs, means = configs_and_means(lambda w, e: np.nan if w > 4 else -e)
    chosen = pick(configs, means)
    assert BIGGER not in chosen and WIDEST not in chosen


def test_it_picks_on_selection_seeds_and_reads_the_frontiers_evaluation_fits():
    params = CLAIM.params("quick")  # widths 4 and 16, 3 epochs
    plan = seed_plan(params["n_seeds"], params["n_selection_seeds"])
    params = {**params, "frontier_epochs": 8}  # width 16 becomes affordable at 4 x 8 epochs
    experiment = TradeOff(params)
    assert experiment.rule is not None and not experiment.deciding and experiment.selects

    def fake(seeds, per_epoch):
        losses = np.tile(np.asarray(per_epoch, float), (len(seeds), 1))
        return SimpleNamespace(seeds=list(seeds), history=SimpleNamespace(val_loss=losses))

    selection = {4: fake(plan.selection, np.linspace(2, 1, 8)), 16: fake(plan.selection, [0.5] * 8)}
    chosen = experiment.choose(params, selection)
    assert chosen[SMALLER] == {"width": 4, "epoch": 8}
    assert chosen[BIGGER]["width"] == 16 and chosen[BIGGER]["epoch"] >= 1
    assert chosen["n_opt_widths"][-1] == 16 and chosen["n_opt_parameters"][-1] == 1440
    # the evaluation rows come from the frontier's fits, on evaluation seeds only
    luck = np.exp(np.arange(len(plan.evaluation))[:, None] * 0.3)  # a seed's, on both arms
    evaluation = {
        4: SimpleNamespace(history=SimpleNamespace(val_loss=np.full((3, 8), 1.0) * luck)),
        16: SimpleNamespace(history=SimpleNamespace(val_loss=np.full((3, 8), 0.4) * luck)),
    }
    frontier = SimpleNamespace(fits=evaluation)
    run = SimpleNamespace(params=params, plan=plan, chosen=chosen, others={"frontier": frontier})
    rows = experiment.rows(run)
    assert {r["seed"] for r in rows} == set(plan.evaluation)
    v = RULE.decide(rows)
    assert v.numbers["gain"] == pytest.approx(np.log(2.5))
    assert v.numbers["flops_ratio"] <= 1.0  # the bigger model never spends more
    # a diverged width gives NaN losses, not an error
    evaluation[16] = DivergedError("every member diverged")
    rows = experiment.rows(run)
    assert all(np.isnan(r["test_loss"]) for r in rows if r["arm"] == BIGGER)


def test_its_selection_calls_are_the_frontiers_so_a_store_trains_them_once(monkeypatch):
    # the rules' rates at these made-up settings are not what this test is about
    uncalibrated = Calibration(float("nan"), float("nan"), float("nan"), 0, 3, 3)
    monkeypatch.setattr("whydl.evidence.experiment.rates", lambda *args: uncalibrated)
    params = {**CLAIM.params("quick"), "widths": [4, 8], "frontier_epochs": 6}
    params |= {"n_seeds": 3, "n_selection_seeds": 3}
    plan = seed_plan(params["n_seeds"], params["n_selection_seeds"])
    ctx = CachedContext(Store(":memory:"))
    frontier, trade_off = run_experiments(ctx, [Frontier(params), TradeOff(params)], params, plan)
    # the frontier trains its selection and evaluation calls; the trade-off reuses them
    assert ctx.n_fits == 2 * len(params["widths"])
    assert ctx.n_cached == len(params["widths"]) * len(plan.selection)
    assert trade_off.chosen["n_opt_widths"] == frontier.chosen["widths"]
    assert trade_off.fits == {}
    assert {r["seed"] for r in trade_off.rows} == set(plan.evaluation)
    assert trade_off.verdict.protocol["selection_seeds"] == list(plan.selection)
    configs = grid(params["widths"], 6, seed_data(plan.evaluation))
    assert trade_off.chosen["matched_budget_flops"] == next(
        f for w, e, f in configs if (w, e) == (4, 6)
    )
    assert set(trade_off.experiment.figures(trade_off)) == {"trade_off", "trade_off_matched"}
    assert len(trade_off.experiment.notes(trade_off)) == 2
