"""The transfer claim's machinery: per-seed data, freezing, layer copying, the sweep's calls
and rows, and the claim end to end."""

import json

import numpy as np
import pytest
import torch

from whydl.data import load_dataset
from whydl.evidence import INCONCLUSIVE, Context
from whydl.evidence.transfer import CLAIM, REQUIRED
from whydl.evidence.transfer.domains import DomainSpec, domain_data, k_levels, seed_tasks, shift
from whydl.evidence.transfer.sweep import (
    PRETRAIN,
    copy_layers,
    k_calls,
    layer_parameters,
    pretrain_call,
    pretrained_states,
    sweep_rows,
)
from whydl.evidence.transfer.table import FINE_TUNED, FROZEN, RANDOM, SCRATCH, ZERO_SHOT
from whydl.models import MLP

SEEDS = (0, 1)


class Recorder(Context):
    """A Context that keeps every call's hooks and Fit, so tests can look inside."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def fit(self, dataset, model, train, tag="", **hooks):
        fit = super().fit(dataset, model, train, tag, **hooks)
        self.calls.append((tag, hooks, fit))
        return fit


def transfer(spec, k_label="2"):
    """Pretrain `spec` on SEEDS and train every variant at one k through a Recorder."""
    data = domain_data(spec, SEEDS)
    pretrained = Context().fit_many([pretrain_call(data, SEEDS, epochs=2)])[0]
    states = pretrained_states(pretrained, len(SEEDS))
    k = next(k for k in k_levels([1, 2, "all"], data.target.member(0)) if k.label == k_label)
    ctx = Recorder()
    fits = ctx.fit_many(k_calls(data, states, k, SEEDS, epochs=3))
    rows = sweep_rows(data, {PRETRAIN: pretrained, **fits}, [k], SEEDS)
    return data, states, ctx, rows


@pytest.fixture(scope="module")
def digits():
    return transfer(DomainSpec("toy digits", "digits", (6, 6)))


@pytest.fixture(scope="module")
def moons():
    return transfer(DomainSpec("toy moons", "moons", (6, 6), moons_samples=120))


def test_each_seed_draws_its_own_data():
    for spec in (DomainSpec("d", "digits", (4,)), DomainSpec("m", "moons", (4,), moons_samples=60)):
        data = domain_data(spec, SEEDS)
        for side in (data.source, data.target):
            a, b = side.member(0), side.member(1)
            assert a.X_train.shape == b.X_train.shape
            assert not np.array_equal(a.X_test, b.X_test)  # its own split or sample
    moons = domain_data(DomainSpec("m", "moons", (4,), moons_samples=60), SEEDS)
    assert not np.array_equal(moons.source.member(0).X_train, moons.target.member(0).X_train)


def test_the_pool_holds_each_row_once_and_every_seed_finds_its_own():
    spec = DomainSpec("d", "digits", (4,))
    data = domain_data(spec, (0, 1, 2))
    target = data.target
    assert len(target.pool.X_train) == len(target.member(0).X_train) + len(target.member(0).X_test)
    for m in range(3):
        member = target.member(m)
        np.testing.assert_array_equal(target.pool.X_train[target.train_rows[m]], member.X_train)
        np.testing.assert_array_equal(target.pool.y_test[target.test_rows[m]], member.y_test)


def test_the_digits_target_is_the_upper_five_relabelled(digits):
    data = digits[0]
    assert data.source.member(0).n_classes == data.target.member(0).n_classes == 5
    assert set(np.unique(data.target.member(1).y_test)) == set(range(5))


def test_frozen_parameters_do_not_change_while_the_others_train(digits):
    _, _, ctx, _ = digits
    frozen_calls = [(hooks, fit) for _, hooks, fit in ctx.calls if hooks["frozen"]]
    assert [len(h["frozen"]) for h, _ in frozen_calls] == [2, 4]  # hidden.0; hidden.0 and .1
    for hooks, fit in frozen_calls:
        for i, member in enumerate(hooks["members"]):
            before, after = member.state_dict(), fit.stack.state_dict(i)
            for name in before:
                assert torch.equal(before[name], after[name]) == (name in hooks["frozen"])


def test_frozen_variants_start_from_the_pretrained_layers_and_the_control_does_not(digits):
    _, states, ctx, _ = digits
    hooks = next(h for _, h, _ in ctx.calls if h["frozen"] == ("hidden.0.weight", "hidden.0.bias"))
    pretrained, random = hooks["members"][0], hooks["members"][1]  # seed 0: frozen, control
    assert torch.equal(pretrained.state_dict()["hidden.0.weight"], states[0]["hidden.0.weight"])
    assert not torch.equal(random.state_dict()["hidden.0.weight"], states[0]["hidden.0.weight"])
    assert not torch.equal(pretrained.state_dict()["out.weight"], states[0]["out.weight"])


def test_each_seed_trains_on_its_own_k_labels_and_is_scored_on_its_own_test_rows(digits):
    data, _, ctx, _ = digits
    hooks = ctx.calls[0][1]  # unfrozen: scratch, fine-tuned 1, fine-tuned 2, per seed
    train_rows, test_rows = hooks["train_rows"], hooks["test_rows"]
    assert train_rows.shape == (6, 10)  # 3 variants x 2 seeds; 5 classes x 2 labels
    for m, seed_index in enumerate([0, 0, 0, 1, 1, 1]):
        own = data.target.train_rows[seed_index]
        assert set(train_rows[m]) <= set(own)  # its own data draw
        np.testing.assert_array_equal(np.bincount(data.target.pool.y_train[train_rows[m]]), [2] * 5)
        np.testing.assert_array_equal(test_rows[m], data.target.test_rows[seed_index])
    np.testing.assert_array_equal(train_rows[0], train_rows[2])  # a seed's variants share labels


def test_every_variant_gets_one_row_per_seed(digits, moons):
    rows = digits[3]
    got = {(r["method"], r["n_copied"]) for r in rows}
    expected = {(SCRATCH, 0), (FINE_TUNED, 1), (FINE_TUNED, 2)}
    assert got == expected | {(m, n) for m in (FROZEN, RANDOM) for n in (1, 2)}
    assert len(rows) == 7 * len(SEEDS) and {r["seed"] for r in rows} == set(SEEDS)
    assert all(0 <= r["test_accuracy"] <= 1 for r in rows)
    moon_rows = moons[3]  # moons: no layer sweep, and a zero-shot score (the labels agree)
    assert {(r["method"], r["n_copied"]) for r in moon_rows} == {
        (SCRATCH, 0),
        (FINE_TUNED, 2),
        (FROZEN, 2),
        (RANDOM, 2),
        (ZERO_SHOT, 2),
    }
    assert {r["head"] for r in moon_rows if r["method"] == FINE_TUNED} == {"copied"}


def test_fine_tuning_with_the_head_copies_every_layer(moons):
    _, states, ctx, _ = moons
    hooks = ctx.calls[0][1]  # unfrozen: scratch, fine-tuned 2 (head too), per seed
    full = hooks["members"][1].state_dict()
    assert all(torch.equal(full[n], states[0][n]) for n in states[0])
    assert not torch.equal(hooks["members"][0].state_dict()["out.weight"], states[0]["out.weight"])


def test_copy_layers_moves_only_the_named_layers():
    a, b = MLP(3, 2, hidden=(4, 4), seed=0), MLP(3, 2, hidden=(4, 4), seed=1)
    copy_layers(a.state_dict(), b, ["hidden.1"])
    assert layer_parameters(b, ["hidden.1"]) == ("hidden.1.weight", "hidden.1.bias")
    assert torch.equal(a.hidden[1].weight, b.hidden[1].weight)
    assert not torch.equal(a.hidden[0].weight, b.hidden[0].weight)
    with pytest.raises(ValueError, match="match no parameter"):
        copy_layers(a.state_dict(), b, ["conv1"])


def test_shift_rotates_and_scales_the_inputs():
    ds = load_dataset("moons", n_samples=20, data_seed=0)
    moved = shift(ds, 90.0, 2.0)
    np.testing.assert_allclose(moved.X_train[:, 0], -2 * ds.X_train[:, 1], atol=1e-5)
    np.testing.assert_allclose(moved.X_test[:, 1], 2 * ds.X_test[:, 0], atol=1e-5)


def test_the_cnn_path_freezes_convolutions_too():
    data, _, ctx, rows = transfer(DomainSpec("cnn", "digits", architecture="cnn"), "1")
    assert {(r["method"], r["n_copied"]) for r in rows} == {
        (SCRATCH, 0),
        (FINE_TUNED, 2),
        (FROZEN, 2),
        (RANDOM, 2),
    }
    _, hooks, fit = ctx.calls[1]
    assert set(hooks["frozen"]) == {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"}
    before, after = hooks["members"][0].state_dict(), fit.stack.state_dict(0)
    assert torch.equal(before["conv2.weight"], after["conv2.weight"])
    assert not torch.equal(before["out.weight"], after["out.weight"])


def test_the_presets_hold_every_domain_its_control_and_the_health_check():
    for preset in ("quick", "full"):
        experiments = CLAIM.experiments(CLAIM.params(preset))
        names = [e.name for e in experiments]
        assert set(REQUIRED) <= set(names) and len(names) == 7
        assert names[-1] == "feature health" and experiments[-1].rule is None
        assert [e.name for e in experiments if e.selects] == list(REQUIRED)
    assert CLAIM.params("full")["n_seeds"] == 10


def test_two_seeds_train_and_come_out_inconclusive():
    result = CLAIM.run("quick", seeds=2)
    assert {p.verdict for p in result.verdict.parts} == {INCONCLUSIVE}
    assert {r["seed"] for r in result.table} == {0, 1}


def test_claim_runs_end_to_end_from_the_cli(claim_cli):
    tmp_path = claim_cli("transfer")[0] / "c"  # the installed `whydl claim` (conftest)
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert verdict["claim"] == "transfer" and verdict["seeds"] == 3
    parts = {p["claim"]: p for p in verdict["parts"]}
    assert set(REQUIRED) <= set(parts)
    for part in parts.values():
        assert part["calibration"]["n_evaluation_seeds"] == 3
        assert part["protocol"]["evaluation_seeds"] == [0, 1, 2] and part["minimum_effect"]
        selects = part["claim"] in REQUIRED  # the glyph domain's learning rates
        assert bool(part["protocol"]["selection_seeds"]) == selects
    assert {parts[name]["protocol"]["deciding"] for name in REQUIRED} == {True}
    assert {p["protocol"]["deciding"] for n, p in parts.items() if n not in REQUIRED} == {False}
    stems = ("transfer_digits", "transfer_shifted_moons", "transfer_layers")
    for stem in (*stems, "transfer_glyphs_to_digits_cnn", "transfer_feature_health"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}.png").exists()
    rows = json.loads((tmp_path / "results.json").read_text())
    health = [r for r in rows if r["experiment"] == "feature health"]
    assert {r["domain"] for r in health} == {"glyphs to digits (CNN)", "digits", "shifted moons"}
    rows = [r for r in rows if r["experiment"] != "feature health"]
    assert {r["method"] for r in rows} >= {SCRATCH, FROZEN, FINE_TUNED, RANDOM}
    assert {r["k_label"] for r in rows} >= {"1", "5", "all"}
    assert {r["seed"] for r in rows} == {0, 1, 2}


def test_the_glyph_domain_is_broad_and_targets_all_ten_digits():
    spec = DomainSpec("glyphs to digits (CNN)", "glyphs", architecture="cnn")
    source, target = seed_tasks(spec, 0)
    assert source.n_classes >= 20 and len(source.y_train) + len(source.y_test) >= 20_000
    assert target.n_classes == 10 and source.image_shape == target.image_shape == (8, 8)
    pooled = domain_data(spec, (0, 1)).source  # one shared source, held once
    assert len(pooled.pool.X_train) == len(source.X_train) + len(source.X_test)
    np.testing.assert_array_equal(pooled.train_rows[0], pooled.train_rows[1])
