import json

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.data_scaling import (
    learning_curve_verdict,
    model_size_verdict,
    samples_to_target,
    samples_to_target_verdict,
    schedule,
    sizes,
)

N = [16, 32, 64, 128, 256, 512]


def table(errors, gaps=None, dataset="spiral", model="main", n=N, seeds=8, noise=0.01):
    """Hand-made rows: `errors[i]` is the mean test error at n[i]; seeds scatter around it."""
    rng = np.random.default_rng(0)
    gaps = errors if gaps is None else gaps
    return [
        {
            "dataset": dataset,
            "model": model,
            "n": size,
            "seed": seed,
            "test_error": float(err * np.exp(rng.normal(0, noise))),
            "gap": float(gap + rng.normal(0, noise * 0.1)),
        }
        for seed in range(seeds)
        for size, err, gap in zip(n, errors, gaps)
    ]


POWER_LAW = [2.0 * n**-0.5 for n in N]


def test_falling_error_and_shrinking_gap_is_supported():
    v = learning_curve_verdict(table(POWER_LAW, gaps=np.linspace(0.4, 0.01, len(N))), "spiral")
    assert v.verdict == SUPPORTED
    assert v.numbers["slope"] == pytest.approx(-0.5, abs=0.02)
    assert v.numbers["slope_ci_high"] < 0
    assert "5%" in v.rule and ">= 3 sizes" in v.rule


def test_flat_error_is_not_supported():
    v = learning_curve_verdict(table([0.3] * len(N), gaps=np.linspace(0.4, 0.01, len(N))), "spiral")
    assert v.verdict == NOT_SUPPORTED
    assert v.numbers["power_law_region_found"] is False  # no region: all sizes were used


def test_growing_gap_is_not_supported():
    v = learning_curve_verdict(table(POWER_LAW, gaps=np.linspace(0.01, 0.4, len(N))), "spiral")
    assert v.verdict == NOT_SUPPORTED


def test_falling_error_with_unchanged_gap_is_inconclusive():
    v = learning_curve_verdict(table(POWER_LAW, gaps=[0.1] * len(N)), "spiral")
    assert v.verdict == INCONCLUSIVE


def test_too_few_sizes_is_inconclusive():
    v = learning_curve_verdict(table(POWER_LAW[:2], n=N[:2]), "spiral")
    assert v.verdict == INCONCLUSIVE


def test_the_floor_is_found_where_the_curve_flattens():
    errors = [0.4, 0.2, 0.1, 0.05, 0.05, 0.05]
    v = learning_curve_verdict(table(errors, gaps=np.linspace(0.4, 0.0, len(N))), "spiral")
    assert v.numbers["floor_from_n"] == 128
    assert v.numbers["floor_error"] == pytest.approx(0.05, rel=0.05)
    assert v.numbers["slope_range_n"] == [16, 128]


def sized(small_errors, large_errors, datasets=("spiral",)):
    rows = []
    for name in datasets:
        rows += table(small_errors, dataset=name, model="small")
        rows += table(large_errors, dataset=name, model="main")
    return rows


def test_model_size_rule_gives_each_outcome():
    small, large = [0.3, 0.25, 0.2, 0.18, 0.17, 0.16], [0.35, 0.3, 0.2, 0.1, 0.06, 0.03]
    v = model_size_verdict(sized(small, large), datasets=("spiral",))
    assert v.verdict == SUPPORTED
    assert v.numbers["spiral"]["small_better_at_n"] == [16, 32]  # it needed data to pay off
    assert v.numbers["spiral"]["large_better_from_n"] == 128
    assert model_size_verdict(sized(large, small), ("spiral",)).verdict == NOT_SUPPORTED
    assert model_size_verdict(sized(small, small), ("spiral",)).verdict == INCONCLUSIVE


def accuracy_table(accuracies):
    return table([1.0 - a for a in accuracies], noise=0.005)


def test_samples_to_target_rule_gives_each_outcome():
    reached = samples_to_target_verdict(accuracy_table([0.6, 0.8, 0.9, 0.97, 0.98, 0.99]))
    assert reached.verdict == SUPPORTED and reached.numbers["n_reached"] == 128
    short = samples_to_target_verdict(accuracy_table([0.5, 0.6, 0.7, 0.8, 0.85, 0.9]))
    assert short.verdict == NOT_SUPPORTED and short.numbers["n_reached"] is None
    rows = accuracy_table([0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    for r in rows:  # the last size straddles the target: some seeds above, some below
        if r["n"] == N[-1]:
            r["test_error"] = 0.03 if r["seed"] % 2 else 0.07
    assert samples_to_target_verdict(rows).verdict == INCONCLUSIVE


def test_samples_to_target_per_seed():
    found = samples_to_target(np.array([16.0, 32, 64]), [[0.5, 0.96, 0.97], [0.5, 0.6, 0.96]], 0.95)
    assert found["n_per_seed"] == [32, 64]
    assert found["n_reached_on_average"] == 64


def test_sizes_double_and_end_at_the_whole_pool():
    assert sizes(128, 10_000) == [16, 32, 64, 128]
    assert sizes(8192, 1257) == [16, 32, 64, 128, 256, 512, 1024, 1257]


def test_small_sets_get_the_same_step_budget():
    batch, epochs = schedule(16, min_steps=800, min_epochs=30)
    assert (batch, epochs) == (16, 800)  # full batch: one step per epoch
    batch, epochs = schedule(8192, min_steps=800, min_epochs=30)
    assert (batch, epochs) == (128, 30)  # 64 steps per epoch, at least 30 passes


def test_member_on_its_own_rows_equals_member_trained_alone():
    """The claim trains each seed on its own subsample through the engine's `train_rows`."""
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


def test_claim_data_runs_end_to_end(tmp_path):
    from whydl.cli import main

    assert main(["claim", "data", "--preset", "quick", "--out", str(tmp_path)]) == 0
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert set(saved) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert saved["claim"] == "data" and saved["seeds"] == 3
    assert {p["claim"] for p in saved["parts"]} >= {"spiral", "teacher", "digits", "model_size"}
    for stem in ("learning_curves", "train_test_gap", "model_size", "samples_to_target"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}.png").exists()
    rows = json.loads((tmp_path / "results.json").read_text())
    test_sets = {(r["dataset"], r["n"]) for r in rows}
    assert ("digits", 128) in test_sets and all(0 <= r["test_error"] <= 1 for r in rows)
