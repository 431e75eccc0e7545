"""The flexibility claim: its data (a draw per seed, corrupted labels), its calls as data,
its choice on selection seeds, and the claim end to end."""

import json

import numpy as np
import pytest

from whydl.data import load_dataset
from whydl.evidence import NOT_SUPPORTED
from whydl.evidence.flexibility import CLAIM
from whydl.evidence.flexibility.labels import CLEAN, LABEL_NOISE, NOISY
from whydl.evidence.flexibility.recipe import TASKS
from whydl.evidence.flexibility.sweep import corrupt_labels, n_parameters, sweep_data
from whydl.models import MLP

QUICK = CLAIM.params("quick")


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


@pytest.mark.parametrize("width", [1, 7, 64])
def test_n_parameters_counts_the_sweeps_mlp(width):
    net = MLP(64, 10, hidden=(width,), seed=0)
    assert n_parameters(width) == sum(p.numel() for p in net.parameters())


def test_every_seed_has_its_own_split_and_the_noisy_sweep_its_images():
    seeds = (0, 1, 2)
    clean, rows = sweep_data(CLEAN, seeds, 10)
    noisy, noisy_rows = sweep_data(NOISY, seeds, 10)
    assert rows.shape == (3, 100)
    np.testing.assert_array_equal(rows, noisy_rows)  # the same training images...
    np.testing.assert_array_equal(clean.pool.X_train, noisy.pool.X_train)
    tests = [set(map(tuple, clean.member(m).X_test.round(6))) for m in range(3)]
    assert tests[0] != tests[1]  # ...but each seed its own test split
    for m in range(3):
        a, b = clean.member(m), noisy.member(m)
        assert 0.15 < (a.y_train != b.y_train).mean() < 0.25  # LABEL_NOISE of training labels
        np.testing.assert_array_equal(a.y_test, b.y_test)  # test labels stay clean
        np.testing.assert_array_equal(clean.pool.y_train[clean.test_rows[m]], a.y_test)


def test_the_recipe_pairs_deep_and_linear_on_each_seeds_own_data():
    recipe = CLAIM.experiments(QUICK)[0]
    calls = recipe.calls(QUICK, (0, 1, 2), {})
    assert len([k for k in calls if k[0] == "deep"]) == len(TASKS) == 9
    for task in TASKS:
        deep, linear = calls["deep", task.name], calls["linear", task.dataset]
        assert deep.dataset is linear.dataset  # one draw per seed, shared by both models
        np.testing.assert_array_equal(deep.hooks["test_rows"], linear.hooks["test_rows"])
        assert deep.train.seeds == linear.train.seeds == [0, 1, 2]


def test_claim_runs_end_to_end_from_the_cli(claim_cli):
    tmp_path = claim_cli("flexibility")[0] / "c"  # the installed `whydl claim` (conftest)
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert verdict["claim"] == "flexibility" and verdict["seeds"] == 3
    parts = {p["claim"]: p for p in verdict["parts"]}
    assert set(parts) == {"one recipe", "best classical", "scale", "double descent"}
    assert not parts["one recipe"]["protocol"]["deciding"]
    assert parts["best classical"]["protocol"]["selection_seeds"] == [10000, 10001]
    champions = parts["best classical"]["protocol"]["chosen"]
    assert len(champions) == 8 and all("selection_scores" in c for c in champions.values())
    assert len(parts["one recipe"]["numbers"]["tasks"]) == 9
    for name, part in parts.items():
        if name == "best classical":  # 5 epochs of the recipe can lose to tuned sklearn
            continue
        assert part["verdict"] != NOT_SUPPORTED, name  # 3 seeds: inconclusive, not "no"
        assert part["calibration"]["n_evaluation_seeds"] == 3 and part["minimum_effect"]
    dd = parts["double descent"]["protocol"]
    assert not dd["deciding"] and dd["selection_seeds"] == [10000, 10001]
    assert "interpolation_width" in dd["chosen"]
    assert parts["one recipe"]["protocol"]["selection_seeds"] == []
    for stem in ("flexibility_tasks", "flexibility_scale"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}.png").exists()
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {r["experiment"] for r in rows} == set(parts)
    assert {r["seed"] for r in rows} == {0, 1, 2}  # evaluation seeds only
    assert {r["labels"] for r in rows if "labels" in r} == {CLEAN, f"{LABEL_NOISE:.0%} noisy"}


def test_simulated_rows_are_shaped_like_the_real_ones(claim_cli):
    # the real rows: the quick run's tidy table (conftest), whose rows add "experiment"
    table = json.loads((claim_cli("flexibility")[0] / "c/results.json").read_text())
    rng = np.random.default_rng(0)
    experiments = CLAIM.experiments(CLAIM.params("quick", None))
    assert {e.name for e in experiments} == {r["experiment"] for r in table}
    for experiment in experiments:
        real = {k for row in table if row["experiment"] == experiment.name for k in row}
        simulated = experiment.rule.simulate("clear", rng, 3, 2)
        assert {k for row in simulated for k in row} | {"experiment"} == real, experiment.name


def test_classical_scores_fit_each_seeds_own_training_rows_only():
    from whydl.evidence.flexibility.classical import GRIDS, scores
    from whydl.evidence.flexibility.recipe import task_data

    data = task_data("moons", (0, 1, 2), 200)
    for name, _parameter, values in GRIDS:
        s = scores(data, name, values[0])
        assert s.shape == (3,) and (s > 0.6).all(), name  # moons: every model beats chance
    sine = task_data("sine", (0, 1, 2), 200)
    assert (scores(sine, "rbf svm", 10.0) > 0.8).all()  # R² of SVR on a sine
