"""The vanishing-gradient rule: its three outcomes on hand-built rows, its calibration at the
full preset's seeds, and the experiment's calls and rows."""

import time

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.calibration import (
    MAX_FALSE_NEGATIVE,
    MAX_FALSE_POSITIVE,
    MIN_POWER,
    calibrate,
)
from whydl.evidence.decide import MIN_SEEDS
from whydl.evidence.innovations import CLAIM
from whydl.evidence.innovations.vanishing import (
    DEEP,
    INIT_FIXES,
    NAIVE,
    PRESETS,
    VanishingExperiment,
    VanishingRule,
    configurations,
)
from whydl.evidence.protocol import seed_plan

RULE = VanishingRule()
FULL = CLAIM.params("full")


def around(mean, spread, n):
    """n per-seed values evenly spread around `mean`."""
    return mean + np.linspace(-spread, spread, n)


def table(naive=-36.0, fixes=0.3, xavier=2.30, he=1.8, spread=0.1, n=6, naive_spread=None):
    """Rows as the experiment writes them: ratios at init at 20 layers (and a shallower
    depth the rule must ignore), the deep pair's training loss at two epochs (He's seeds in
    the opposite order, so the paired difference varies by seed)."""
    rows = []
    ratios = {NAIVE: naive, **dict.fromkeys(INIT_FIXES, fixes), "ReLU + He + BN": 1.5}
    for variant, mean in ratios.items():
        width = naive_spread if variant == NAIVE and naive_spread is not None else spread
        for depth, shift in ((10, 30.0), (20, 0.0)):  # 10 layers: far off, never read
            for s, r in enumerate(around(mean + shift, width, n)):
                rows.append(
                    {"measure": "ratio", "variant": variant, "depth": depth, "stage": "init"}
                    | {"seed": s, "log10_ratio": float(r), "largest_grad_norm": 1.0}
                )
    for init, final in (("xavier", xavier), ("he", he)):
        for epoch, value in ((1, 2.5), (10, final)):  # only the last epoch counts
            values = around(value, spread, n)
            for s, v in enumerate(values if init == "xavier" else values[::-1]):
                rows.append(
                    {"measure": "loss", "variant": DEEP[init], "depth": 30, "epoch": epoch}
                    | {"seed": s, "train_loss": float(v), "diverged": False}
                )
    return rows


@pytest.mark.parametrize(
    "rows,expected",
    [
        (table(), SUPPORTED),
        (table(naive=-0.5), NOT_SUPPORTED),  # nothing vanishes
        (table(fixes=3.0), NOT_SUPPORTED),  # the fixes tilt by three decades
        (table(xavier=1.8, he=2.0), NOT_SUPPORTED),  # He worse than Xavier
        (table(naive=-0.5, naive_spread=3.0), INCONCLUSIVE),  # CI from below 0 to above 2
        (table(xavier=1.85, he=1.8, spread=0.3), INCONCLUSIVE),  # gap within the CI
        (table(n=MIN_SEEDS - 1), INCONCLUSIVE),  # too few seeds
    ],
)
def test_rule_gives_each_outcome(rows, expected):
    verdict = RULE.decide(rows)
    assert verdict.verdict == expected
    assert "VANISHING_DECADES=2" in verdict.rule and "HEALTHY_DECADES=1" in verdict.rule
    assert verdict.numbers["depth"] == 20
    mean = verdict.numbers["log10_ratio_at_init"][NAIVE]["mean"]
    assert mean == pytest.approx(np.mean([r["log10_ratio"] for r in rows if r["variant"] == NAIVE
                                          and r["depth"] == 20]), abs=1e-3)  # fmt: skip


def test_a_fix_may_tilt_either_way():
    """Within a decade of level counts as flowing whether the first layer's gradient is
    larger or smaller than the last's."""
    up, down = RULE.decide(table(fixes=0.4)), RULE.decide(table(fixes=-0.4))
    assert up.verdict == down.verdict == SUPPORTED
    assert up.numbers["ReLU + He flows"]["estimate"] == pytest.approx(1.6, abs=1e-3)


def test_the_deep_pair_is_compared_paired():
    """Seeds that differ a lot but whose He net is always 0.3 nats ahead: paired, the gap is
    clear; the seeds' spread would hide it from an unpaired comparison."""
    rows = table()
    spread = {s: 0.8 * s for s in range(6)}
    for r in rows:
        if r["measure"] == "loss" and r["epoch"] == 10:
            base = 2.3 if r["variant"] == DEEP["xavier"] else 2.0
            r["train_loss"] = base - spread[r["seed"]]
    verdict = RULE.decide(rows)
    gain = verdict.numbers["He trains the deep net"]
    assert gain["paired"] and gain["estimate"] == pytest.approx(0.3)
    assert gain["ci_low"] > 0 and verdict.verdict == SUPPORTED


def test_not_supported_needs_holm_over_the_four_effects():
    """A gap whose own 95% CI lies below the minimum, but which Holm over the four effects
    (family-wise 2.5%) does not show below it: inconclusive, not "not supported"."""
    verdict = RULE.decide(table(xavier=1.84, he=1.8, spread=0.02, n=4))
    gain = verdict.numbers["He trains the deep net"]
    assert gain["verdict"] == NOT_SUPPORTED  # its own three-way call
    assert gain["ci_high"] < gain["minimum"] and not gain["holm_below_minimum"]
    assert verdict.verdict == INCONCLUSIVE


def test_decide_is_fast():
    rows = RULE.simulate("clear", np.random.default_rng(0), 10, 0)
    RULE.decide(rows)
    start = time.perf_counter()
    for _ in range(50):
        RULE.decide(rows)
    assert (time.perf_counter() - start) / 50 < 0.01


def test_simulated_rows_are_shaped_like_the_experiments():
    rows = RULE.simulate("null", np.random.default_rng(0), 4, 0)
    real = table(n=4)
    keys = {frozenset(r) - {"largest_grad_norm"} for r in real}
    assert {frozenset(r) for r in rows} <= keys
    assert {r["seed"] for r in rows} == set(range(4))


@pytest.mark.parametrize("seed", [0, 1])
def test_calibrated_at_the_full_presets_seeds(seed):
    c = calibrate(RULE, FULL["n_seeds"], 0, n_simulations=1000, seed=seed)
    assert c.n_evaluation_seeds == 10 and c.n_simulations == 1000
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE
    assert c.power >= MIN_POWER


# the experiment --------------------------------------------------------------------------


def test_calls_train_every_variant_on_each_seeds_own_data():
    params = CLAIM.params("quick")
    plan = seed_plan(params["n_seeds"], params["n_selection_seeds"])
    calls = VanishingExperiment().calls(params, plan.evaluation, {})
    assert set(calls) == set(configurations(params))
    assert (DEEP["xavier"], params["deep_depth"]) in calls
    call = next(iter(calls.values()))
    assert call.train.seeds == list(plan.evaluation)
    rows = call.hooks["train_rows"]
    assert rows.shape == (params["n_seeds"], params["grad_train"])
    assert len({frozenset(r) for r in rows.tolist()}) == params["n_seeds"]  # own rows each


def test_the_deep_pair_shares_a_call_where_the_depths_coincide():
    params = dict(PRESETS["quick"], deep_depth=PRESETS["quick"]["grad_depths"][0])
    keys = configurations(params)
    assert (DEEP["he"], params["deep_depth"]) in keys
    assert len(keys) == 6  # five variants, and Xavier at the same depth
