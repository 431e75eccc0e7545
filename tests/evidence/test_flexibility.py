"""The flexibility claim: its decision rules on hand-made tables, and the claim end to end."""

import json

import numpy as np
import pytest

from whydl.cli import main
from whydl.data import load_dataset
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.flexibility import (
    CLEAR_WIN_MARGIN,
    INTERPOLATION_ERROR,
    MATCH_MARGIN,
    MIN_SEEDS,
    REQUIRED,
    compare,
    corrupt_labels,
    double_descent_rule,
    n_parameters,
    recipe_rule,
    scale_rule,
)
from whydl.models import MLP


def seeds(mean, spread=0.01, n=5):
    return mean + np.linspace(-spread, spread, n)


WIN = (seeds(0.95), seeds(0.60), True)  # a nonlinear task the deep recipe wins clearly
TIE = (seeds(0.97), seeds(0.97), False)  # a linear task where both do equally well


@pytest.mark.parametrize(
    "deep,linear,outcome",
    [
        (0.95, 0.60, "wins clearly"),
        (0.95, 0.92, "wins"),  # beyond the CIs, but by less than CLEAR_WIN_MARGIN
        (0.95, 0.95, "matches"),
        (0.95, 0.955, "matches"),  # a little behind: within MATCH_MARGIN
        (0.90, 0.95, "loses"),
    ],
)
def test_compare_names_each_outcome(deep, linear, outcome):
    assert compare(seeds(deep), seeds(linear))["outcome"] == outcome


@pytest.mark.parametrize(
    "results,expected",
    [
        ({"xor": WIN, "wine": TIE}, SUPPORTED),
        ({"xor": WIN, "wine": (seeds(0.90), seeds(0.97), False)}, NOT_SUPPORTED),  # loses one
        ({"xor": (seeds(0.60), seeds(0.60), True), "wine": TIE}, NOT_SUPPORTED),  # no win
        ({"xor": (seeds(0.65), seeds(0.62), True), "wine": TIE}, INCONCLUSIVE),  # small win
        ({"xor": (seeds(0.95, n=2), seeds(0.6, n=2), True)}, INCONCLUSIVE),  # too few seeds
    ],
)
def test_recipe_rule_gives_each_outcome(results, expected):
    verdict = recipe_rule(results)
    assert verdict.verdict == expected
    assert f"MATCH_MARGIN={MATCH_MARGIN}" in verdict.rule
    assert f"CLEAR_WIN_MARGIN={CLEAR_WIN_MARGIN}" in verdict.rule
    assert f"MIN_SEEDS={MIN_SEEDS}" in verdict.rule


def test_recipe_rule_reports_every_task():
    numbers = recipe_rule({"xor": WIN, "wine": TIE}).numbers["tasks"]
    assert numbers["xor"]["outcome"] == "wins clearly" and numbers["xor"]["nonlinear"]
    assert numbers["xor"]["difference"] == pytest.approx(0.35)
    assert numbers["wine"]["outcome"] == "matches" and not numbers["wine"]["nonlinear"]


SIZES = [10, 100, 1_000, 10_000]


def curves(means, spread=0.02, n=5):
    """(n seeds, sizes) losses around `means`, each seed scaled a little differently."""
    return np.asarray(means)[None, :] * (1 + np.linspace(-spread, spread, n))[:, None]


@pytest.mark.parametrize(
    "losses,expected",
    [
        (curves([1.0, 0.5, 0.25, 0.2]), SUPPORTED),
        (curves([0.2, 0.3, 0.5, 1.0]), NOT_SUPPORTED),  # grows with size
        (curves([1.0, 0.2, 0.2, 0.5]), INCONCLUSIVE),  # falls, then turns up at the top
        (
            np.array([[1.0, 0.9, 1.1, 1.0], [1.0, 1.1, 0.9, 1.0], [1.0, 1.0, 1.0, 1.05]]),
            INCONCLUSIVE,
        ),
        (curves([1.0, 0.5, 0.25, 0.2], n=2), INCONCLUSIVE),  # too few seeds
    ],
)
def test_scale_rule_gives_each_outcome(losses, expected):
    verdict = scale_rule(SIZES, losses)
    assert verdict.verdict == expected and f"MIN_SEEDS={MIN_SEEDS}" in verdict.rule


def test_scale_rule_recovers_a_known_slope():
    losses = curves(2.0 * np.asarray(SIZES, dtype=float) ** -0.3)
    numbers = scale_rule(SIZES, losses).numbers
    assert numbers["slope"] == pytest.approx(-0.3, abs=1e-6)
    assert numbers["best_n_parameters"] == 10_000 and not numbers["turned_up"]


@pytest.mark.parametrize(
    "errors,expected",
    [
        (curves([0.5, 0.2, 0.3, 0.15]), SUPPORTED),  # down, up, down again
        (curves([0.5, 0.3, 0.2, 0.15]), NOT_SUPPORTED),  # only down
        (curves([0.5, 0.2, 0.3, 0.3]), NOT_SUPPORTED),  # up at the end, no second descent
        (curves([0.5, 0.2, 0.3, 0.15], n=2), INCONCLUSIVE),  # too few seeds
    ],
)
def test_double_descent_rule_gives_each_outcome(errors, expected):
    verdict = double_descent_rule(SIZES, errors, curves([0.5, 0.1, 0.0, 0.0]))
    assert verdict.verdict == expected
    assert f"INTERPOLATION_ERROR={INTERPOLATION_ERROR}" in verdict.rule


def test_double_descent_rule_finds_the_peak_and_the_interpolation_threshold():
    numbers = double_descent_rule(
        SIZES, curves([0.5, 0.2, 0.3, 0.15]), curves([0.5, 0.1, 0.005, 0.0])
    ).numbers
    assert numbers["peak_n_parameters"] == 1_000
    assert numbers["interpolation_threshold"] == 1_000
    never = double_descent_rule(SIZES, curves([0.5, 0.3, 0.2, 0.1]), curves([0.5] * 4))
    assert never.numbers["interpolation_threshold"] is None


def test_corrupt_labels_flips_about_that_fraction_of_training_labels_only():
    ds = load_dataset("digits")
    noisy = corrupt_labels(ds, 0.2, seed=0)
    flipped = noisy.y_train != ds.y_train
    assert 0.17 < flipped.mean() < 0.23  # every corrupted label differs from the clean one
    assert noisy.y_train.max() < 10 and noisy.y_train.min() >= 0
    np.testing.assert_array_equal(noisy.y_test, ds.y_test)
    np.testing.assert_array_equal(corrupt_labels(ds, 0.2, seed=0).y_train, noisy.y_train)
    with pytest.raises(ValueError, match="regression"):
        corrupt_labels(load_dataset("sine", n_samples=20), 0.2, seed=0)


@pytest.mark.parametrize("hidden", [(1,), (7,), (5, 3)])
def test_n_parameters_counts_the_mlps_weights(hidden):
    net = MLP(64, 10, hidden=hidden, seed=0)
    assert n_parameters(64, 10, hidden) == sum(p.numel() for p in net.parameters())


def test_claim_runs_end_to_end_from_the_cli(tmp_path):
    assert main(["claim", "flexibility", "--preset", "quick", "--out", str(tmp_path)]) == 0
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert set(verdict) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert verdict["claim"] == "flexibility" and verdict["seeds"] == 3
    parts = {p["claim"]: p for p in verdict["parts"]}
    assert set(REQUIRED) <= set(parts) and "double descent" in parts
    assert len(parts["one recipe"]["numbers"]["tasks"]) == 9
    for stem in ("flexibility_tasks", "flexibility_scale"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}.png").exists()
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {r["part"] for r in rows} == {"one recipe", "scale"}
