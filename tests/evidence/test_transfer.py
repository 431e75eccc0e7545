"""The transfer claim: freezing, layer copying, its decision rules and the claim end to end."""

import json

import numpy as np
import pytest
import torch

from whydl.cli import main
from whydl.config import ModelConfig
from whydl.data import load_dataset
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Context
from whydl.evidence.transfer import (
    FINE_TUNED,
    FROZEN,
    MIN_SEEDS,
    NARROWING_RATIO,
    RANDOM,
    REQUIRED,
    SCRATCH,
    SMALL_K,
    Domain,
    _pretrain,
    _train_k,
    catch_up_k,
    copy_layers,
    features_rule,
    finetuning_rule,
    layer_parameters,
    shift,
)
from whydl.models import MLP


class Recorder(Context):
    """A Context that keeps every call's hooks and Fit, so tests can look inside."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def fit(self, dataset, model, train, tag="", **hooks):
        fit = super().fit(dataset, model, train, tag, **hooks)
        self.calls.append((tag, hooks, fit))
        return fit


@pytest.fixture(scope="module")
def transferred():
    """A tiny moons domain, pretrained and transferred at k=2 through the claim's code."""
    source = load_dataset("moons", n_samples=120, noise=0.2, data_seed=1)
    target = shift(load_dataset("moons", n_samples=120, noise=0.2, data_seed=2), 45.0, 1.5)
    domain = Domain(
        "toy", source, target, ModelConfig(hidden=(6, 6)), ("hidden.0", "hidden.1"), True, True
    )
    params = {"pretrain_epochs": 3, "epochs": 5}
    seeds = [0, 1]
    states, _, zero_shot = _pretrain(Context(), domain, params, seeds)
    ctx = Recorder()
    accuracy = _train_k(ctx, domain, states, (2, "2"), seeds, params)
    return domain, states, zero_shot, ctx, accuracy


def test_frozen_parameters_do_not_change_while_the_others_train(transferred):
    _, _, _, ctx, _ = transferred
    frozen_calls = [(hooks, fit) for _, hooks, fit in ctx.calls if hooks["frozen"]]
    assert [len(h["frozen"]) for h, _ in frozen_calls] == [2, 4]  # hidden.0; hidden.0 and .1
    for hooks, fit in frozen_calls:
        for i, member in enumerate(hooks["members"]):
            before, after = member.state_dict(), fit.stack.state_dict(i)
            for name in before:
                same = torch.equal(before[name], after[name])
                assert same == (name in hooks["frozen"]), (i, name)


def test_frozen_variants_start_from_the_pretrained_layers_and_the_control_does_not(transferred):
    _, states, _, ctx, _ = transferred
    hooks = next(h for _, h, _ in ctx.calls if h["frozen"] == ("hidden.0.weight", "hidden.0.bias"))
    pretrained, random = hooks["members"][0], hooks["members"][1]  # seed 0: frozen, control
    assert torch.equal(pretrained.state_dict()["hidden.0.weight"], states[0]["hidden.0.weight"])
    assert not torch.equal(random.state_dict()["hidden.0.weight"], states[0]["hidden.0.weight"])
    assert not torch.equal(pretrained.state_dict()["out.weight"], states[0]["out.weight"])


def test_each_seed_trains_on_its_own_k_labels_per_class(transferred):
    domain, _, _, ctx, _ = transferred
    rows = ctx.calls[0][1]["train_rows"]  # (members, 2 classes x 2 labels)
    assert rows.shape[1] == 4
    for r in rows:
        np.testing.assert_array_equal(np.bincount(domain.target.y_train[r]), [2, 2])
    assert not np.array_equal(rows[0], rows[-1])  # seed 0's first member, seed 1's last


def test_every_variant_gets_one_accuracy_per_seed(transferred):
    _, _, zero_shot, _, accuracy = transferred
    expected = {(SCRATCH, 0), (FINE_TUNED, 1), (FINE_TUNED, 2)}
    expected |= {(m, n) for m in (FROZEN, RANDOM) for n in (1, 2)}
    assert set(accuracy) == expected
    assert all(v.shape == (2,) and np.all((v >= 0) & (v <= 1)) for v in accuracy.values())
    assert zero_shot.shape == (2,)  # the moons keep their labels: scored before any target label


def test_fine_tuning_with_the_head_copies_every_layer(transferred):
    _, states, _, ctx, _ = transferred
    hooks = ctx.calls[0][1]  # unfrozen: scratch, fine-tuned 1, fine-tuned 2 (head too), per seed
    full = hooks["members"][2].state_dict()
    assert all(torch.equal(full[n], states[0][n]) for n in states[0])
    one = hooks["members"][1].state_dict()
    assert torch.equal(one["hidden.0.weight"], states[0]["hidden.0.weight"])
    assert not torch.equal(one["hidden.1.weight"], states[0]["hidden.1.weight"])


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


# the decision rules on hand-made tables -----------------------------------------------------


def per_seed(means, spread=0.01, n=5, order=1):
    """(len(means), n) accuracies around `means`: the same spread at every k. Curves built
    with opposite `order` differ seed by seed, so their paired gap has a nonzero CI."""
    offsets = np.linspace(-spread, spread, n)[::order]
    return np.asarray(means, dtype=float)[:, None] + offsets[None, :]


KS = [1, 2, 5, 20, 100]
SCRATCH_CURVE = per_seed([0.50, 0.60, 0.75, 0.90, 0.95])


def tuned(means, n=5):
    return per_seed(means, n=n, order=-1)  # paired gap: mean +- about 0.02 (95% CI)


@pytest.mark.parametrize(
    "finetuned,scratch,expected",
    [
        (tuned([0.80, 0.85, 0.88, 0.92, 0.96]), SCRATCH_CURVE, SUPPORTED),
        (tuned([0.40, 0.55, 0.75, 0.90, 0.95]), SCRATCH_CURVE, NOT_SUPPORTED),  # behind
        (tuned([0.51, 0.61, 0.76, 0.90, 0.95]), SCRATCH_CURVE, NOT_SUPPORTED),  # no clear gain
        (tuned([0.80, 0.60, 0.75, 0.90, 0.95]), SCRATCH_CURVE, INCONCLUSIVE),  # ahead at k=1 only
        (tuned([0.60, 0.70, 0.85, 0.98, 1.03]), SCRATCH_CURVE, INCONCLUSIVE),  # no narrowing
        (tuned([0.8, 0.85, 0.88, 0.92, 0.96], n=2), per_seed([0.5] * 5, n=2), INCONCLUSIVE),
    ],
)
def test_finetuning_rule_gives_each_outcome(finetuned, scratch, expected):
    verdict = finetuning_rule("toy", KS, finetuned, scratch)
    assert verdict.verdict == expected
    assert f"SMALL_K={SMALL_K}" in verdict.rule
    assert f"NARROWING_RATIO={NARROWING_RATIO}" in verdict.rule
    assert f"MIN_SEEDS={MIN_SEEDS}" in verdict.rule


def test_finetuning_rule_reports_the_gap_and_where_scratch_catches_up():
    finetuned = tuned([0.80, 0.85, 0.80, 0.90, 0.95])
    v = finetuning_rule("toy", KS, finetuned, SCRATCH_CURVE)
    assert v.numbers["gap_mean"][0] == pytest.approx(0.30)
    assert 0.27 < v.numbers["gap_ci_low"][0] < 0.29 < 0.31 < v.numbers["gap_ci_high"][0] < 0.33
    assert v.numbers["catch_up_k"] == 20.0 and v.verdict == SUPPORTED
    assert v.numbers["gap_narrows"] and v.seeds == 5 and v.numbers["scratch_leads_at_k"] == []
    behind = finetuning_rule("toy", KS, tuned([0.40, 0.55, 0.75, 0.90, 0.95]), SCRATCH_CURVE)
    assert behind.numbers["scratch_leads_at_k"] == [1.0, 2.0]
    assert behind.numbers["catch_up_k"] == 1.0  # fine-tuning never leads


def test_catch_up_k_is_where_the_gap_stops_being_positive_for_good():
    assert catch_up_k([1, 2, 5, 10], [0.1, -0.01, 0.02, -0.1]) == 10
    assert catch_up_k([1, 2, 5, 10], [0.1, 0.1, 0.1, 0.1]) is None
    assert catch_up_k([1, 2, 5, 10], [-0.1, 0.1, -0.1, -0.1]) == 5
    assert catch_up_k([1, 2], [-0.1, -0.1]) == 1


@pytest.mark.parametrize(
    "frozen,random,expected",
    [
        ([0.8, 0.81, 0.82], [0.6, 0.6, 0.61], SUPPORTED),
        ([0.4, 0.41, 0.42], [0.6, 0.6, 0.61], NOT_SUPPORTED),
        ([0.6, 0.7, 0.5], [0.6, 0.6, 0.6], INCONCLUSIVE),
        ([0.8, 0.81], [0.6, 0.6], INCONCLUSIVE),  # too few seeds
    ],
)
def test_features_rule_gives_each_outcome(frozen, random, expected):
    assert features_rule("toy", frozen, random).verdict == expected


# end to end -------------------------------------------------------------------------------


def test_claim_runs_end_to_end_from_the_cli(tmp_path):
    assert main(["claim", "transfer", "--preset", "quick", "--out", str(tmp_path)]) == 0
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert set(verdict) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert verdict["claim"] == "transfer" and verdict["seeds"] == 3
    assert set(REQUIRED) <= {p["claim"] for p in verdict["parts"]}
    for stem in ("transfer_vs_k", "transfer_gap", "transfer_layers"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}.png").exists()
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {r["method"] for r in rows} >= {SCRATCH, FROZEN, FINE_TUNED, RANDOM}
    assert {r["k_label"] for r in rows} >= {"1", "5", "all"}


def test_the_cnn_path_freezes_convolutions_too():
    from whydl.data.subsets import select_classes

    digits = load_dataset("digits")
    source, target = select_classes(digits, [0, 1]), select_classes(digits, [5, 6])
    cnn = ModelConfig(architecture="cnn")
    domain = Domain("cnn", source, target, cnn, ("conv1", "conv2"), False, False)
    params = {"pretrain_epochs": 1, "epochs": 2}
    states, _, zero_shot = _pretrain(Context(), domain, params, [0, 1])
    ctx = Recorder()
    accuracy = _train_k(ctx, domain, states, (1, "1"), [0, 1], params)
    expected = {(m, 2) for m in (FINE_TUNED, FROZEN, RANDOM)} | {(SCRATCH, 0)}
    assert zero_shot is None and set(accuracy) == expected
    _, hooks, fit = ctx.calls[1]
    assert set(hooks["frozen"]) == {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"}
    before, after = hooks["members"][0].state_dict(), fit.stack.state_dict(0)
    assert torch.equal(before["conv2.weight"], after["conv2.weight"])
    assert not torch.equal(before["out.weight"], after["out.weight"])
