"""The frame's protocol and statistics: selection apart from evaluation, paired tests,
the three-way verdict, Holm, calibration, and a data draw per seed."""

import json

import numpy as np
import pytest

from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import fit
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Claim, Context, TrainCall
from whydl.evidence.calibration import (
    CLEAR,
    MINIMUM,
    NULL,
    Calibration,
    calibrate,
    noisy_grid,
)
from whydl.evidence.decide import (
    MIN_SEEDS,
    any_of,
    holm,
    paired_difference,
    three_way,
    unpaired_difference,
)
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.protocol import (
    SELECTION_SEED_BASE,
    SeedPlan,
    SelectionLeak,
    data_seed,
    per_seed_data,
    seed_plan,
)
from whydl.evidence.rows import by_seed

GAIN = 0.02  # the toy rule's minimum effect of interest


class PairedGain(Rule):
    """Toy rule: arm "b" beats arm "a" in `score`, paired by seed."""

    name = "toy_gain"
    hypothesis = "b scores higher than a."
    minimum_effect = GAIN
    minimum_effect_reason = "two points is the smallest gain worth a change of method"

    def text(self):
        return f"paired b - a; supported when its 95% CI is above 0, not when below {GAIN}"

    def decide(self, rows):
        effect = paired_difference(by_seed(rows, "score", arm="b"), by_seed(rows, "score", arm="a"))
        return self.verdict(three_way(effect, GAIN), effect.numbers(), effect.n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        gain = {NULL: 0.0, MINIMUM: GAIN, CLEAR: 0.06}[condition]
        values = noisy_grid(rng, [0.8, 0.8 + gain], n_evaluation, 0.02, 0.002, 0.05)
        return [
            {"seed": s, "arm": arm, "score": values[s, j]}
            for s in range(n_evaluation)
            for j, arm in enumerate("ab")
        ]


def rows_of(a, b):
    return [{"seed": s, "arm": "a", "score": x} for s, x in enumerate(a)] + [
        {"seed": s, "arm": "b", "score": x} for s, x in enumerate(b)
    ]


# -- statistics -----------------------------------------------------------------------------
def test_paired_and_unpaired_comparisons_answer_differently_when_seeds_share_luck():
    # each seed's data draw moves both arms together (sd 0.05); b is ahead by 0.01 on every
    # seed. Paired, the shared luck cancels; unpaired, it swamps the gap.
    luck = np.array([0.05, -0.04, 0.08, -0.07, 0.02, -0.01, 0.06, -0.05, 0.03, -0.06])
    a = 0.8 + luck
    b = a + 0.01 + np.array([1, -1, 1, -1, 1, -1, 1, -1, 1, -1]) * 0.001
    paired = paired_difference(b, a)
    unpaired = unpaired_difference(b, a)
    assert paired.paired and not unpaired.paired
    assert three_way(paired, GAIN) == NOT_SUPPORTED  # CI tight around 0.01 < 0.02
    assert paired.ci_low > 0  # the gain is real, but shown to be below the minimum
    assert three_way(unpaired, GAIN) == INCONCLUSIVE
    assert unpaired.ci_low < 0 < unpaired.ci_high


@pytest.mark.parametrize(
    "b_minus_a,expected",
    [(0.05, SUPPORTED), (0.0, NOT_SUPPORTED), (0.01, NOT_SUPPORTED), (0.015, INCONCLUSIVE)],
)
def test_three_way_gives_each_outcome(b_minus_a, expected):
    # 0.01: real (CI above 0) but shown to be below the minimum effect: not supported
    noise = np.array([0.002, -0.002, 0.001, -0.001, 0.0]) * (10 if b_minus_a == 0.015 else 1)
    effect = paired_difference(0.8 + b_minus_a + noise, np.full(5, 0.8))
    assert three_way(effect, GAIN) == expected


def test_too_few_seeds_are_inconclusive_never_not_supported():
    effect = paired_difference([0.8, 0.8], [0.8, 0.8])
    assert effect.n < MIN_SEEDS and three_way(effect, GAIN) == INCONCLUSIVE


def test_three_way_needs_a_positive_minimum_effect():
    with pytest.raises(ValueError, match="minimum effect"):
        three_way(paired_difference([1, 2, 3], [0, 1, 2]), 0.0)


def test_holm_steps_down():
    assert holm([0.001, 0.02, 0.5]) == [True, False, False]
    assert holm([0.001, 0.012, 0.02]) == [True, True, True]  # 0.025/3, /2, /1
    assert holm([0.2, 0.3]) == [False, False]


def test_any_of_corrects_for_several_chances():
    rng = np.random.default_rng(0)
    weak = {
        k: paired_difference(0.8 + rng.normal(0.004, 0.01, 10), np.full(10, 0.8)) for k in "abcdef"
    }
    p = [e.p_value() for e in weak.values()]
    verdict, detail = any_of(weak, GAIN)
    assert min(p) < 0.025 or verdict != SUPPORTED
    assert set(detail) == set("abcdef")
    assert all(
        d["holm_rejects"] == (verdict == SUPPORTED and d["holm_rejects"]) for d in detail.values()
    )


# -- calibration ----------------------------------------------------------------------------
def test_calibration_measures_a_paired_rule_as_designed():
    c = calibrate(PairedGain(), n_evaluation=10, n_simulations=1000, seed=0)
    assert isinstance(c, Calibration) and c.n_simulations == 1000 and c.n_evaluation_seeds == 10
    assert c.false_positive_rate <= 0.05
    assert c.false_negative_rate_at_minimum_effect <= 0.05
    assert c.power >= 0.8
    assert c.passes
    assert "power" in c.line() and "10 evaluation seeds" in c.line()


def test_calibration_catches_a_rule_that_ignores_config_noise():
    class Careless(PairedGain):
        name = "careless"

        def simulate(self, condition, rng, n_evaluation, n_selection):
            gain = {NULL: 0.0, MINIMUM: GAIN, CLEAR: 0.06}[condition]
            # a large config offset shared by every seed of arm b: pairing cannot cancel it
            values = noisy_grid(rng, [0.8, 0.8 + gain], n_evaluation, 0.01, 0.03, 0.05)
            return [
                {"seed": s, "arm": arm, "score": values[s, j]}
                for s in range(n_evaluation)
                for j, arm in enumerate("ab")
            ]

    assert calibrate(Careless(), 10, n_simulations=400).false_positive_rate > 0.05


# -- selection apart from evaluation --------------------------------------------------------
def test_seed_plan_keeps_selection_and_evaluation_apart():
    plan = seed_plan(10, 5)
    assert plan.evaluation == tuple(range(10))
    assert plan.selection == tuple(range(SELECTION_SEED_BASE, SELECTION_SEED_BASE + 5))
    with pytest.raises(SelectionLeak, match="both selection and evaluation"):
        SeedPlan(evaluation=(0, 1, 2), selection=(2, 3))


class FakeFit:
    def __init__(self, seeds, score):
        self.seeds, self.score = list(seeds), score


def fake_fit(dataset, model, train, **hooks):
    return FakeFit(train.seeds, 0.8 + 0.05 * train.lr)


class Choosy(Experiment):
    """Chooses an lr on selection seeds, then compares it with lr 0 on evaluation seeds."""

    name = "toy_gain"
    rule = PairedGain()
    selects = True

    def __init__(self, leak=False):
        self.leak = leak

    def selection_calls(self, params, seeds):
        ds = load_dataset("moons", n_samples=40)
        return {
            lr: TrainCall(ds, ModelConfig(), TrainConfig(lr=lr, seed=seeds[0], n_seeds=len(seeds)))
            for lr in (1.0, 2.0)
        }

    def choose(self, params, fits):
        return {"lr": max(fits, key=lambda lr: fits[lr].score)}

    def calls(self, params, seeds, chosen):
        ds = load_dataset("moons", n_samples=40)
        n = len(seeds)
        return {
            "a": TrainCall(ds, ModelConfig(), TrainConfig(lr=0.001, seed=seeds[0], n_seeds=n)),
            "b": TrainCall(
                ds, ModelConfig(), TrainConfig(lr=chosen["lr"], seed=seeds[0], n_seeds=n)
            ),
        }

    def rows(self, run):
        fits = dict(run.fits)
        if self.leak:  # reads the selection fits, as a careless rule might
            fits["b"] = next(iter(run.selection_fits.values()))
        return [
            {"seed": s, "arm": arm, "score": f.score + 0.0001 * s}
            for arm, f in fits.items()
            for s in f.seeds
        ]


class ToyClaim(Claim):
    name = "toy"
    title = "Toy"
    hypothesis = "b beats a"
    presets = {"quick": {"n_seeds": 4, "n_selection_seeds": 2}}

    def __init__(self, leak=False):
        self.leak = leak

    def experiments(self, params):
        return [Choosy(self.leak)]


def test_the_frame_refuses_a_rule_that_reads_a_selection_seed():
    with pytest.raises(SelectionLeak, match="selection seeds"):
        ToyClaim(leak=True).run("quick", ctx=Context(fit=fake_fit))


def test_the_frame_refuses_an_evaluation_call_on_selection_seeds():
    class Sneaky(Choosy):
        def calls(self, params, seeds, chosen):
            return super().calls(params, [SELECTION_SEED_BASE], chosen)

    class SneakyClaim(ToyClaim):
        def experiments(self, params):
            return [Sneaky()]

    with pytest.raises(SelectionLeak, match="not evaluation seeds"):
        SneakyClaim().run("quick", ctx=Context(fit=fake_fit))


def test_a_claim_run_records_its_choices_seeds_and_calibration(tmp_path):
    result = ToyClaim().run("quick", ctx=Context(fit=fake_fit))
    part = result.verdict.parts[0]
    assert part.protocol["chosen"] == {"lr": 2.0}
    assert part.protocol["evaluation_seeds"] == [0, 1, 2, 3]
    assert part.protocol["selection_seeds"] == [SELECTION_SEED_BASE, SELECTION_SEED_BASE + 1]
    assert part.verdict == SUPPORTED and result.verdict.verdict == SUPPORTED
    assert {r["experiment"] for r in result.table} == {"toy_gain"}
    result.save(tmp_path)
    saved = json.loads((tmp_path / "verdict.json").read_text())["parts"][0]
    assert set(saved["calibration"]) >= {
        "false_positive_rate",
        "false_negative_rate_at_minimum_effect",
        "power",
        "n_simulations",
        "n_evaluation_seeds",
    }
    assert saved["calibration"]["n_evaluation_seeds"] == 4
    assert json.loads((tmp_path / "config.json").read_text())["seeds"]["selection"] == [
        SELECTION_SEED_BASE,
        SELECTION_SEED_BASE + 1,
    ]


# -- a data draw per seed -------------------------------------------------------------------
def test_each_seed_draws_its_own_data_and_trains_as_if_alone():
    seeds = [0, 1, 2]
    data = per_seed_data("moons", seeds, n_samples=60)
    assert len({d.X_train[:3].tobytes() for d in data.members}) == 3  # three draws
    together = fit(data.pool, ModelConfig(), TrainConfig(epochs=3, n_seeds=3), **data.hooks)
    for m, seed in enumerate(seeds):
        alone = fit(
            load_dataset("moons", n_samples=60, data_seed=data_seed(seed)),
            ModelConfig(),
            TrainConfig(epochs=3, seed=seed),
        )
        np.testing.assert_allclose(
            together.history.val_loss[m], alone.history.val_loss[0], rtol=1e-5
        )


def test_bundled_data_gets_a_stratified_split_per_seed():
    data = per_seed_data("digits", [0, 1])
    a, b = data.members
    assert a.X_test.shape == b.X_test.shape and not np.array_equal(a.y_test, b.y_test)
    assert np.bincount(a.y_test).min() >= 15  # stratified: every class in every test split


def test_test_rows_need_train_rows():
    data = per_seed_data("moons", [0, 1], n_samples=40)
    with pytest.raises(ValueError, match="test_rows"):
        fit(data.pool, ModelConfig(), TrainConfig(epochs=1, n_seeds=2), test_rows=data.test_rows)
