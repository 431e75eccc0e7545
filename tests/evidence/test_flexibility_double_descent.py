"""Double descent: its own long training into the interpolation regime, its choice of the
threshold on selection seeds, its notes (the regime reached or not), its simulator."""

from types import SimpleNamespace

import numpy as np
import pytest

from whydl.config import ModelConfig
from whydl.engine import fit
from whydl.evidence.calls import Context
from whydl.evidence.experiment import run_experiments
from whydl.evidence.flexibility import CLAIM
from whydl.evidence.flexibility.double_descent import (
    DoubleDescentExperiment,
    descent_train,
)
from whydl.evidence.flexibility.double_descent_rule import (
    INTERPOLATION_ERROR,
    DoubleDescentRule,
)
from whydl.evidence.flexibility.labels import NOISY
from whydl.evidence.flexibility.recipe import recipe_train
from whydl.evidence.flexibility.scale import ScaleExperiment
from whydl.evidence.flexibility.sweep import n_parameters, sweep_data
from whydl.evidence.protocol import SELECTION_SEED_BASE, seed_plan

QUICK, FULL = CLAIM.params("quick"), CLAIM.params("full")
SEEDS = (0, 1, 2)


def test_the_sweep_trains_its_own_widths_and_labels_longer_in_batches():
    dd = DoubleDescentExperiment(FULL)
    calls = dd.calls(FULL, SEEDS, {})
    assert tuple(calls) == FULL["descent_widths"] != FULL["widths"]
    train = calls[1].train
    assert train == descent_train(FULL, SEEDS)
    recipe = recipe_train(FULL, SEEDS)
    assert (train.optimizer, train.lr, train.seeds) == (recipe.optimizer, recipe.lr, [0, 1, 2])
    assert (train.epochs, train.batch_size) == (FULL["descent_epochs"], 100)
    n = 10 * FULL["descent_per_class"]
    assert calls[1].hooks["train_rows"].shape == (3, n)
    # thousands of steps, as Nakkiran et al.: the "trained into the regime"
    assert train.epochs * -(-n // train.batch_size) >= 2000
    # the widths span the classical side (below the 10 classes) to far above n parameters
    assert min(dd.widths) == 1 and n_parameters(max(dd.widths)) > 10 * n


def test_scale_keeps_its_sweep():
    """ "scale" still trains the preset's widths on `sweep_per_class` with the recipe."""
    calls = ScaleExperiment(QUICK).calls(QUICK, SEEDS, {})
    assert tuple(calls) == QUICK["widths"]
    call = calls[QUICK["widths"][0]]
    assert call.train == recipe_train(QUICK, SEEDS)
    assert call.hooks["train_rows"].shape == (3, 10 * QUICK["sweep_per_class"])


def test_a_noisy_sweep_with_more_labels_per_class_keeps_its_seeds_splits():
    small, _ = sweep_data(NOISY, SEEDS, 10)
    large, rows = sweep_data(NOISY, SEEDS, 60)
    assert rows.shape == (3, 600)
    np.testing.assert_array_equal(small.test_rows, large.test_rows)


def fake_fit(train_error):
    history = SimpleNamespace(train_metric=np.array([[0.0, 1 - e] for e in train_error]))
    return SimpleNamespace(ok=np.ones(len(train_error), bool), history=history)


def test_the_interpolation_threshold_is_chosen_on_selection_seeds_training_error():
    dd = DoubleDescentExperiment(QUICK)
    assert dd.selects and not dd.deciding
    seeds = tuple(range(SELECTION_SEED_BASE, SELECTION_SEED_BASE + 2))
    calls = dd.selection_calls(QUICK, seeds)
    assert {c.train.seeds[0] for c in calls.values()} == {SELECTION_SEED_BASE}
    assert tuple(calls) == QUICK["descent_widths"] == (2, 16, 64)
    errors = {2: [0.5, 0.4], 16: [0.005, 0.02], 64: [0.001, 0.0]}  # 16: mean above the limit
    chosen = dd.choose(QUICK, {w: fake_fit(e) for w, e in errors.items()})
    assert INTERPOLATION_ERROR == 0.01 and chosen["interpolation_width"] == 64
    assert chosen["interpolation_n_parameters"] == n_parameters(64)
    assert chosen["selection_train_error"]["16"] == pytest.approx(0.0125)


def fake_run(widest_train_error):
    """A run of the full sweep with a peak at width 24 and the given widest training error."""
    widths = FULL["descent_widths"]
    test = dict(zip(widths, [0.78, 0.61, 0.28, 0.22, 0.26, 0.29, 0.30, 0.28, 0.26, 0.23, 0.2]))
    rows = [
        {"labels": NOISY, "width": w, "n_parameters": n_parameters(w), "seed": s}
        | {"test_loss": 1.0, "test_error": test[w] + 0.01 * np.sin(3 * s + j)}
        | {"train_error": widest_train_error if w >= 64 else max(0.0, 0.3 - w / 80)}
        | {"at_threshold": w == 24}
        for j, w in enumerate(widths)
        for s in range(10)
    ]
    verdict = DoubleDescentRule(widths).decide(rows)
    chosen = {"interpolation_width": 24}
    return SimpleNamespace(rows=rows, verdict=verdict, params=FULL, chosen=chosen)


@pytest.mark.parametrize("widest,regime", [(0.0, "reached"), (0.05, "NOT reached")])
def test_the_notes_say_whether_the_regime_was_reached_and_the_peak(widest, regime):
    run = fake_run(widest)
    assert run.verdict.verdict == "supported"
    [note] = DoubleDescentExperiment(FULL).notes(run)
    assert f"the interpolation regime is {regime}" in note
    assert f"width 128: mean {widest:.4f}" in note
    assert "2400 Adam steps" in note and "600 training images" in note
    assert "95% CI" in note and "a peak at the threshold and a second descent" in note


def test_the_simulated_threshold_can_miss_the_true_one_by_a_width():
    rule = DoubleDescentRule(FULL["descent_widths"])
    rng = np.random.default_rng(0)
    chosen = []
    for _ in range(200):
        rows = rule.simulate("clear", rng, 10, 3)
        marked = {r["width"] for r in rows if r["at_threshold"]}
        assert len(marked) <= 1
        chosen += marked
    counts = {w: chosen.count(w) for w in set(chosen)}
    assert counts[24] > 40 and counts[32] > 40  # the true threshold (24) or the next width
    assert sum(counts.values()) > 190


def test_the_quick_run_draws_its_figure_and_notes():
    dd = DoubleDescentExperiment(QUICK)
    plan = seed_plan(QUICK["n_seeds"], QUICK["n_selection_seeds"])
    [run] = run_experiments(Context(), [dd], QUICK, plan)
    assert {r["width"] for r in run.rows} == set(QUICK["descent_widths"])
    assert {r["seed"] for r in run.rows} == set(plan.evaluation)
    assert sum(r["at_threshold"] for r in run.rows) in (0, len(plan.evaluation))
    fig, caption = dd.figures(run)["flexibility_double_descent"]
    assert len(fig.axes) == 2 and "interpolation threshold" in caption
    [note] = dd.notes(run)
    assert "interpolation regime is" in note


@pytest.mark.slow
def test_the_full_presets_training_fits_every_noisy_label_at_the_widest_width():
    """The premise: the full preset trains the widest model into the interpolation regime,
    and the narrowest cannot fit even the clean labels (one seed of each)."""
    data, rows = sweep_data(NOISY, (0,), FULL["descent_per_class"])
    hooks = {"train_rows": rows, "test_rows": data.test_rows}
    train = descent_train(FULL, (0,))
    errors = {}
    for width in (min(FULL["descent_widths"]), max(FULL["descent_widths"])):
        f = fit(data.pool, ModelConfig(hidden=(width,)), train, **hooks)
        errors[width] = 1 - f.history.train_metric[0, -1]
    assert errors[128] < INTERPOLATION_ERROR and errors[1] > 0.3
