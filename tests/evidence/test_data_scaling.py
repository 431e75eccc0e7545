import json

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.data_scaling.curves import curve_calls, schedule, seed_data, sizes
from whydl.evidence.data_scaling.effects import size_trend, strict_upper
from whydl.evidence.data_scaling.learning_curve import LearningCurveRule, region
from whydl.evidence.data_scaling.model_size import ModelSizeRule
from whydl.evidence.data_scaling.samples_to_target import SamplesToTargetRule
from whydl.evidence.protocol import seed_plan

N = [16, 32, 64, 128, 256, 512]
POWER_LAW = [2.0 * n**-0.5 for n in N]
SHRINKING = np.linspace(0.4, 0.01, len(N))

# every part of the claim, in the order it runs (the calibration tests list them too)
PARTS = (
    "spiral",
    "teacher",
    "digits",
    "form",
    "model_size",
    "classical_curve",
    "samples_to_target",
)


def curve_rows(errors, gaps=SHRINKING, n=N, seeds=8, noise=0.01, region_n=None):
    """Hand-made rows of one learning curve: `errors[i]` is the mean test error at n[i]."""
    rng = np.random.default_rng(0)
    lo, hi = region_n or (n[0], n[-1])
    return [
        {
            "n": size,
            "seed": seed,
            "test_error": float(err * np.exp(rng.normal(0, noise))),
            "gap": float(gap + rng.normal(0, noise * 0.1)),
            "in_region": lo <= size <= hi,
        }
        for seed in range(seeds)
        for size, err, gap in zip(n, errors, gaps)
    ]


RULE = LearningCurveRule("spiral", N)


def test_falling_error_and_shrinking_gap_is_supported():
    v = RULE.decide(curve_rows(POWER_LAW))
    assert v.verdict == SUPPORTED
    assert v.numbers["slope"] == pytest.approx(-0.5, abs=0.02)
    assert v.numbers["slope_ci_high"] < 0 and v.numbers["gap_shrink_ci_low"] > 0
    assert "5%" in v.rule and ">= 4 sizes" in v.rule and "Bonferroni" in v.rule
    assert "-0.05" in v.minimum_effect


def test_flat_error_is_not_supported():
    v = RULE.decide(curve_rows([0.3] * len(N)))
    assert v.verdict == NOT_SUPPORTED
    assert v.numbers["slope_verdict"] == NOT_SUPPORTED and v.numbers["gap_verdict"] == SUPPORTED


def test_falling_error_with_a_flat_gap_is_not_supported():
    v = RULE.decide(curve_rows(POWER_LAW, gaps=[0.1] * len(N)))
    assert v.verdict == NOT_SUPPORTED and v.numbers["gap_verdict"] == NOT_SUPPORTED


def test_noisy_or_few_seeds_is_inconclusive():
    assert RULE.decide(curve_rows(POWER_LAW, seeds=2)).verdict == INCONCLUSIVE
    noisy = curve_rows([0.3, 0.25, 0.35, 0.2, 0.3, 0.22], noise=0.3)  # slope within noise
    assert RULE.decide(noisy).verdict == INCONCLUSIVE


def test_the_slope_is_read_on_the_chosen_region_only():
    errors = [0.4, 0.2, 0.1, 0.05, 0.05, 0.05]  # a power law to n = 128, then a floor
    v = RULE.decide(curve_rows(errors, region_n=(16, 128)))
    assert v.numbers["region_n"] == [16, 128] and not v.numbers["region_is_all_sizes"]
    assert v.numbers["slope"] == pytest.approx(-1.0, abs=0.02)
    everywhere = RULE.decide(curve_rows(errors))
    assert everywhere.numbers["slope"] > -0.8  # the floor flattens the slope over all sizes


def test_region_is_found_where_the_curve_falls_and_ends_at_its_floor():
    rng = np.random.default_rng(1)
    errors = np.array([0.4, 0.2, 0.1, 0.05, 0.05, 0.05]) * np.exp(rng.normal(0, 0.01, (5, 6)))
    chosen = region(N, errors)
    assert chosen["region_found"] and chosen["region_n"] == [16, 128]
    assert chosen["floor_from_n"] == 128 and chosen["floor_error"] == pytest.approx(0.05, rel=0.05)
    flat = region(N, 0.3 * np.exp(rng.normal(0, 0.01, (5, 6))))
    assert not flat["region_found"] and flat["region_n"] == [16, 512]  # all sizes


def test_size_trend_counts_noise_shared_by_all_seeds_of_a_size():
    """Per-seed slopes would agree to the third decimal; the sizes' shared wiggle does not
    average away over seeds, and the trend's CI says so."""
    x = np.log(np.array(N, float))
    wiggle = np.array([0.0, 0.3, -0.3, 0.3, -0.3, 0.0])  # shared by every seed
    rng = np.random.default_rng(0)
    y = -0.05 * x + wiggle + rng.normal(0, 0.001, (10, len(N)))
    e = size_trend(x, y, sign=-1)
    assert e.ci_low < 0 < e.ci_high and e.df == len(N) - 2 and e.n == 10
    assert strict_upper(e, 2).ci_high > e.ci_high  # the Bonferroni bound is wider


def size_rows(small, large, datasets=("spiral", "teacher"), seeds=8, noise=0.002):
    rng = np.random.default_rng(0)
    return [
        {"dataset": d, "model": m, "n": n, "seed": s, "test_error": e + rng.normal(0, noise)}
        for d in datasets
        for m, errors in (("small", small), ("main", large))
        for n, e in zip(N, errors)
        for s in range(seeds)
    ]


SMALL = [0.3, 0.25, 0.2, 0.18, 0.17, 0.16]
LARGE = [0.35, 0.3, 0.2, 0.1, 0.06, 0.03]


def test_model_size_rule_gives_each_outcome():
    rule = ModelSizeRule()
    v = rule.decide(size_rows(SMALL, LARGE))
    assert v.verdict == SUPPORTED
    assert v.numbers["spiral"]["small_better_at_n"] == [16, 32]  # it needed data to pay off
    assert v.numbers["spiral"]["large_better_from_n"] == 128
    assert v.numbers["spiral"]["advantage_paired"] is True
    assert rule.decide(size_rows(LARGE, SMALL)).verdict == NOT_SUPPORTED
    assert rule.decide(size_rows(SMALL, SMALL)).verdict == NOT_SUPPORTED  # no advantage
    assert rule.decide(size_rows(SMALL, LARGE, seeds=3, noise=0.1)).verdict == INCONCLUSIVE


def test_model_size_is_paired_over_the_seeds_shared_data():
    """Each seed's data draw moves both models alike: paired, the advantage is clear."""
    rows = []
    for s, luck in enumerate(np.linspace(-0.05, 0.05, 8)):  # a seed's draw, shared
        for d in ("spiral", "teacher"):
            rows += [
                {"dataset": d, "model": "main", "n": 512, "seed": s, "test_error": 0.1 + luck},
                {"dataset": d, "model": "small", "n": 512, "seed": s, "test_error": 0.12 + luck},
            ]
    assert ModelSizeRule().decide(rows).verdict == SUPPORTED


def accuracy_rows(accuracies, seeds=8, noise=0.002):
    rng = np.random.default_rng(0)
    return [
        {"dataset": "spiral", "n": n, "seed": s, "test_accuracy": a + rng.normal(0, noise)}
        for n, a in zip(N, accuracies)
        for s in range(seeds)
    ]


def test_samples_to_target_rule_gives_each_outcome():
    rule = SamplesToTargetRule()
    reached = rule.decide(accuracy_rows([0.6, 0.8, 0.9, 0.97, 0.98, 0.99]))
    assert reached.verdict == SUPPORTED and reached.numbers["n_reached"] == 128
    short = rule.decide(accuracy_rows([0.5, 0.6, 0.7, 0.8, 0.85, 0.9]))
    assert short.verdict == NOT_SUPPORTED and short.numbers["n_reached"] is None
    rows = accuracy_rows([0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    for r in rows:  # the last size straddles the target: some seeds above, some below
        if r["n"] == N[-1]:
            r["test_accuracy"] = 0.97 if r["seed"] % 2 else 0.93
    assert rule.decide(rows).verdict == INCONCLUSIVE


def test_sizes_double_and_end_at_the_whole_pool():
    assert sizes(128, 10_000) == [16, 32, 64, 128]
    assert sizes(8192, 1257) == [16, 32, 64, 128, 256, 512, 1024, 1257]


def test_small_sets_get_the_same_step_budget():
    assert schedule(16, min_steps=800, min_epochs=30) == (16, 800)  # full batch: 1 step/epoch
    assert schedule(8192, min_steps=800, min_epochs=30) == (128, 30)  # 64 steps, 30 passes


PARAMS = {"n_max": 64, "pool": 128, "n_test": 64, "min_steps": 5, "min_epochs": 1}


def test_every_seed_draws_its_own_data():
    plan = seed_plan(3, 2)
    data = seed_data("spiral", PARAMS, plan.evaluation)
    first, second = data.member(0), data.member(1)
    assert not np.array_equal(first.X_train, second.X_train)
    assert not np.array_equal(first.X_test, second.X_test)
    digits = seed_data("digits", PARAMS, plan.evaluation)
    assert not np.array_equal(digits.member(0).y_test, digits.member(1).y_test)  # own splits
    selection = seed_data("spiral", PARAMS, plan.selection)
    assert not np.isin(selection.member(0).X_train[:, 0], first.X_train[:, 0]).any()


def test_calls_train_their_own_seeds_on_their_own_rows():
    calls = curve_calls("spiral", "main", PARAMS, [10000, 10001])
    call = calls["spiral", "main", 32]
    assert call.train.seeds == [10000, 10001]
    rows = call.hooks["train_rows"]
    assert rows.shape == (2, 32) and not set(rows[0]) & set(rows[1])  # own draws, pooled
    with pytest.raises(ValueError, match="consecutive"):
        curve_calls("spiral", "main", PARAMS, [0, 2])


def test_member_on_its_own_rows_equals_member_trained_alone():
    """The claim trains each seed on its own rows through the engine's `train_rows`."""
    from whydl.config import ModelConfig, TrainConfig
    from whydl.data import load_dataset
    from whydl.data.subsets import subset
    from whydl.engine import fit

    ds = load_dataset("spiral", n_samples=300, data_seed=0)
    rows = np.stack([np.random.default_rng(s).permutation(len(ds.X_train))[:40] for s in range(3)])
    model = ModelConfig(hidden=(8,))
    together = fit(
        ds, model, TrainConfig(epochs=4, batch_size=16, n_seeds=3, seed=5), train_rows=rows
    )
    alone = fit(subset(ds, rows[1]), model, TrainConfig(epochs=4, batch_size=16, seed=6))
    np.testing.assert_allclose(
        together.history.train_loss[1], alone.history.train_loss[0], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(together.history.val_metric[1], alone.history.val_metric[0])


def test_claim_data_runs_end_to_end(claim_cli):
    tmp_path = claim_cli("data")[0] / "c"  # the installed `whydl claim data` (conftest)
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert saved["claim"] == "data" and saved["seeds"] == 3
    parts = {p["claim"]: p for p in saved["parts"]}
    assert set(parts) == set(PARTS)
    for name in ("spiral", "teacher", "digits"):
        protocol = parts[name]["protocol"]
        assert protocol["selection_seeds"] == [10000, 10001, 10002]
        assert protocol["evaluation_seeds"] == [0, 1, 2] and protocol["deciding"]
        assert "region_n" in protocol["chosen"]
        assert parts[name]["calibration"]["n_evaluation_seeds"] == 3
    assert not parts["model_size"]["protocol"]["deciding"]
    for stem in ("learning_curves", "train_test_gap", "model_size", "samples_to_target"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}.png").exists()
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {r["seed"] for r in rows} == {0, 1, 2}  # evaluation seeds only
    curves = [r for r in rows if r["experiment"] == "digits"]
    assert {r["n"] for r in curves} == {16, 32, 64, 128}
    assert all(0 <= r["test_error"] <= 1 for r in curves)
