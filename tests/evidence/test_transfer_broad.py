"""The glyph domain (a broad source, deciding) and the feature-health check: each method's
learning rate is chosen on selection seeds only, the frozen methods' head trains on the
frozen network's own features, and the health rows describe every seed's layers."""

import math

import numpy as np
import pytest
import torch

from whydl.analysis.feature_health import dead_fraction
from whydl.evidence import Context
from whydl.evidence.experiment import run_experiments
from whydl.evidence.protocol import seed_plan
from whydl.evidence.transfer import CLAIM, REQUIRED
from whydl.evidence.transfer.broad import (
    GRIDS,
    METHODS,
    NAME,
    TARGET_BATCH,
    BroadSourceExperiment,
    best_lr,
    feature_pool,
    glyph_spec,
    networks,
    schedule,
)
from whydl.evidence.transfer.domains import domain_data
from whydl.evidence.transfer.health import FeatureHealth, layer_features
from whydl.evidence.transfer.sweep import PRETRAIN
from whydl.evidence.transfer.table import FINE_TUNED, FROZEN, RANDOM, SCRATCH

TINY = {
    **CLAIM.presets["quick"],
    "ks": (1, "all"),
    "glyph_samples": 400,
    "glyphs_pretrain_epochs": 1,
    "glyphs_steps": 2,
}


def test_only_the_glyph_domain_decides_and_every_preset_selects():
    assert REQUIRED == (NAME,)
    for preset in ("quick", "full"):
        params = CLAIM.params(preset)
        experiments = CLAIM.experiments(params)
        deciding = [e.name for e in experiments if e.deciding]
        assert deciding == [NAME] and params["n_selection_seeds"] >= 2
        assert [e.name for e in experiments if e.selects] == [NAME]
    full = CLAIM.params("full")
    assert full["glyph_samples"] >= 20_000 and full["ks"] == (1, 2, 5, 10, 20, "all")


def test_every_k_gets_the_same_steps_on_at_most_one_target_batch():
    assert schedule(10, 60) == (0, 60)  # k labels in one batch: 60 full-batch epochs
    assert schedule(TARGET_BATCH, 60) == (0, 60)
    batch, epochs = schedule(1257, 60)  # every label: batches, 10 steps an epoch
    assert batch == TARGET_BATCH and epochs == 6
    assert epochs * math.ceil(1257 / batch) >= 60


def test_the_best_rate_is_the_highest_score_ties_go_low_and_a_diverged_rate_never_wins():
    assert best_lr({0.001: 0.5, 0.003: 0.7, 0.01: 0.6, 0.03: float("nan")}) == 0.003
    assert best_lr({0.001: 0.7, 0.003: 0.7, 0.01: 0.6, 0.03: 0.1}) == 0.001
    assert best_lr({0.1: float("nan"), 0.01: float("nan")}) == 0.01


def test_a_frozen_method_trains_its_head_on_each_seeds_own_network_features():
    seeds = (0, 1)
    data = domain_data(glyph_spec(TINY), seeds)
    states = [fake_state(data) for _ in seeds]
    for method in (FROZEN, RANDOM):
        nets = networks(data, states, seeds, method)
        dataset, offsets = feature_pool(data, nets)
        n = len(data.target.pool.X_train)
        assert list(offsets) == [0, n]
        X = torch.as_tensor(data.target.pool.X_train[:5])
        for m, net in enumerate(nets):
            expected = net.features(X)[-1].detach().numpy()
            np.testing.assert_allclose(dataset.X_train[offsets[m] : offsets[m] + 5], expected, 1e-6)
    # the random control starts from scratch's draw: seed 1000 + s, no pretrained layer
    random, scratch = networks(data, states, seeds, RANDOM), networks(data, states, seeds, SCRATCH)
    assert torch.equal(random[1].conv1.weight, scratch[1].conv1.weight)
    fine = networks(data, states, seeds, FINE_TUNED)
    assert torch.equal(fine[0].conv1.weight, states[0]["conv1.weight"])


def fake_state(data):
    """A recognisable 'pretrained' state: every conv weight 0.01."""
    net = networks(data, [{}] * 1, (0,), SCRATCH)[0]
    return {k: torch.full_like(v, 0.01) for k, v in net.state_dict().items()}


@pytest.fixture(scope="module")
def tiny_run():
    experiments = CLAIM.experiments(TINY)
    broad = next(e for e in experiments if e.name == NAME)
    health = next(e for e in experiments if isinstance(e, FeatureHealth))
    plan = seed_plan(2, 2)
    runs = run_experiments(Context(), [broad, health], TINY, plan)
    return plan, runs


def test_the_rates_are_chosen_on_selection_seeds_and_the_rows_are_evaluation_seeds(tiny_run):
    plan, (broad, _) = tiny_run
    assert isinstance(broad.experiment, BroadSourceExperiment)
    assert set(broad.chosen["lr"]) == set(METHODS)
    for method, scores in broad.chosen["selection_accuracy"].items():
        grid = GRIDS[method]
        assert set(scores) == {f"{lr:g}" for lr in grid}
        assert broad.chosen["lr"][method] == max(grid, key=lambda lr: (scores[f"{lr:g}"], -lr))
    assert {r["seed"] for r in broad.rows} == set(plan.evaluation)
    assert not set(plan.selection) & set(plan.evaluation)
    assert {r["method"] for r in broad.rows} == set(METHODS)
    assert broad.fits[PRETRAIN].seeds == list(plan.evaluation)
    assert broad.verdict.protocol["selection_seeds"] == list(plan.selection)
    assert all(
        0 <= r["test_accuracy"] <= 1 for r in broad.rows if math.isfinite(r["test_accuracy"])
    )


def test_feature_health_describes_every_seed_layer_and_initialisation(tiny_run):
    plan, (broad, health) = tiny_run
    rows = health.rows
    assert health.verdict is None and not health.experiment.deciding
    expected = {
        (s, init, layer)
        for s in plan.evaluation
        for init in ("pretrained", "random")
        for layer in ("conv1", "conv2")
    }
    assert {(r["seed"], r["features"], r["layer"]) for r in rows} == expected
    for r in rows:
        assert 0 <= r["dead_fraction"] <= 1 and 0 < r["effective_rank"] <= r["units"]
    assert "transfer_feature_health" in health.experiment.figures(health)
    assert any("dead" in note for note in health.experiment.notes(health))


def test_layer_features_are_the_flattened_blocks_the_head_reads():
    data = domain_data(glyph_spec(TINY), (0,))
    net = networks(data, [{}], (0,), SCRATCH)[0]
    X = data.target.pool.X_test[:7]
    h1, h2 = layer_features(net, X)
    assert h1.shape == (7, 8 * 4 * 4) and h2.shape == (7, 16 * 2 * 2)
    assert 0 <= dead_fraction(h2) <= 1
