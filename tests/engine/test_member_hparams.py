"""Per-member hyperparameters: in a stack whose members differ by lr, weight decay or
momentum, each member equals (a) the engine trained alone with its own float and (b) the
plain per-member torch.optim loop, to the tolerances of test_equivalence."""

import numpy as np
import pytest
import torch

from tests.engine import reference
from tests.engine.test_equivalence import EPOCHS, TOL
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import StackedOptimizer, Trainer, build_members, fit

MODEL = ModelConfig(hidden=(10, 10))
SEEDS = (0, 1, 2)
ALL = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
LRS = {"rmsprop": (0.0005, 0.001, 0.002)}  # rmsprop's steps are large: smaller rates
DEFAULT_LRS = (0.01, 0.05, 0.1)


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_samples=200, noise=0.2, data_seed=1)


def _train(ds, optimizer, seeds, lr, wd, momentum):
    """The engine; each of lr, wd, momentum is a float for all, or a tuple per member."""
    floats = {k: v for k, v in (("lr", lr), ("weight_decay", wd), ("momentum", momentum))}
    config = TrainConfig(
        optimizer=optimizer,
        epochs=EPOCHS,
        n_seeds=len(seeds),
        seed=seeds[0],
        **{k: v for k, v in floats.items() if not isinstance(v, tuple)},
    )
    hooks = {f"member_{k}": v for k, v in floats.items() if isinstance(v, tuple)}
    return fit(ds, MODEL, config, **hooks)


def _torch_alone(module, ds, seed, optimizer, lr, wd, momentum, monkeypatch):
    """The reference loop, with `momentum` instead of its fixed 0.9 where the optimiser uses it."""
    if optimizer in ("momentum", "nesterov"):
        monkeypatch.setitem(
            reference.TORCH_OPTIMIZERS,
            optimizer,
            lambda p, lr, wd: torch.optim.SGD(
                p, lr=lr, momentum=momentum, nesterov=optimizer == "nesterov", weight_decay=wd
            ),
        )
    return reference.train_alone(
        module, ds.X_train, ds.y_train, ds.task, seed, optimizer, lr, wd, 32, EPOCHS
    )


def _assert_weights_close(exported, expected):
    for name, value in expected.items():
        np.testing.assert_allclose(
            exported[name].numpy(), value.numpy(), rtol=1e-4, atol=1e-4, err_msg=name
        )


def _check_each_member(ds, optimizer, monkeypatch, lr=0.05, wd=0.01, momentum=0.9):
    at = lambda v, m: v[m] if isinstance(v, tuple) else v  # noqa: E731
    together = _train(ds, optimizer, SEEDS, lr, wd, momentum)
    modules = build_members(ds, MODEL, list(SEEDS))
    for m, (seed, module) in enumerate(zip(SEEDS, modules)):
        own = at(lr, m), at(wd, m), at(momentum, m)
        # (a) the engine trained alone with this member's floats
        alone = _train(ds, optimizer, (seed,), *own)
        np.testing.assert_allclose(
            together.history.train_loss[m], alone.history.train_loss[0], rtol=TOL, atol=TOL
        )
        exported = together.stack.member(m).state_dict()
        _assert_weights_close(exported, alone.stack.member(0).state_dict())
        # (b) plain torch.optim, one member at a time
        expected = _torch_alone(module, ds, seed, optimizer, *own, monkeypatch)
        np.testing.assert_allclose(together.history.train_loss[m], expected, rtol=TOL, atol=TOL)
        _assert_weights_close(exported, module.state_dict())


@pytest.mark.parametrize("optimizer", ALL)
def test_per_member_lr(moons, optimizer, monkeypatch):
    lrs = LRS.get(optimizer, DEFAULT_LRS)
    _check_each_member(moons, optimizer, monkeypatch, lr=lrs)


@pytest.mark.parametrize("optimizer", ALL)
def test_per_member_weight_decay(moons, optimizer, monkeypatch):
    lr = LRS.get(optimizer, DEFAULT_LRS)[1]
    _check_each_member(moons, optimizer, monkeypatch, lr=lr, wd=(0.0, 0.01, 0.1))


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov"])
def test_per_member_momentum(moons, optimizer, monkeypatch):
    _check_each_member(moons, optimizer, monkeypatch, momentum=(0.5, 0.9, 0.95))


@pytest.mark.parametrize("optimizer", ["nesterov", "adamw"])
def test_all_three_per_member_at_once(moons, optimizer, monkeypatch):
    lr, wd, momentum = (0.01, 0.05, 0.1), (0.1, 0.0, 0.01), (0.95, 0.5, 0.9)
    _check_each_member(moons, optimizer, monkeypatch, lr=lr, wd=wd, momentum=momentum)


def test_equal_values_per_member_match_the_float(moons):
    """The per-member path with one value repeated gives the float path's numbers."""
    a = _train(moons, "adam", SEEDS, 0.01, 0.0, 0.9)
    b = _train(moons, "adam", SEEDS, (0.01,) * 3, 0.0, 0.9)
    np.testing.assert_allclose(b.history.train_loss, a.history.train_loss, rtol=TOL, atol=TOL)


def test_trainer_takes_the_hooks(moons):
    config = TrainConfig(epochs=2, n_seeds=2)
    trainer = Trainer(moons, MODEL, config, member_lr=[0.01, 0.1], member_weight_decay=(0, 1e-3))
    while not trainer.done:
        trainer.run_epoch()
    assert trainer.opt.lr.tolist() == [0.01, 0.1]
    assert trainer.opt.weight_decay.tolist() == [0.0, 1e-3]
    assert trainer.opt.momentum == config.momentum  # None: the config's float


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ({"member_lr": [0.01, 0.1]}, r"member_lr=\[0.01, 0.1\] has shape \(2,\); expected \(3,\)"),
        ({"member_momentum": [[0.9] * 3]}, r"has shape \(1, 3\); expected \(3,\)"),
        ({"member_lr": [0.01, 0.0, 0.1]}, r"member_lr\[1\]=0.0 must be in \(0, 100\]"),
        ({"member_momentum": [0.9, 1.0, 0.5]}, r"member_momentum\[1\]=1.0 must be in \[0, 1\)"),
        ({"member_weight_decay": [0, -1, 0]}, r"member_weight_decay\[1\]=-1 must be"),
        ({"member_lr": ["fast", 0.1, 0.1]}, r"member_lr\[0\]=fast must be"),
    ],
)
def test_bad_member_values_are_refused(moons, hooks, message):
    with pytest.raises(ValueError, match=message):
        fit(moons, MODEL, TrainConfig(epochs=1, n_seeds=3), **hooks)


def test_divergence_message_names_the_members_own_lr():
    ds = load_dataset("plane", n_samples=200, noise=0.1, data_seed=0)
    f = fit(
        ds,
        ModelConfig(hidden=(16,)),
        TrainConfig(optimizer="sgd", lr=0.01, epochs=20, n_seeds=2),
        member_lr=[0.01, 50.0],
    )
    assert list(f.diverged) == [1] and "learning rate lr=50 is too high" in f.diverged[1]


def test_optimizer_refuses_a_wrong_number_of_values():
    params = [torch.zeros(3, 2)]
    with pytest.raises(ValueError, match=r"lr has shape \(2,\); expected a float or \(3,\)"):
        StackedOptimizer(params, "sgd", lr=[0.1, 0.2])


def test_repeated_member_seeds_train_each_member_as_alone(moons):
    """`member_seeds` may repeat a seed (the runtime's grouped calls): each member is still
    the one its own seed and rate give alone."""
    seeds, lrs = [5, 5, 6], [0.01, 0.1, 0.01]
    config = TrainConfig(epochs=EPOCHS, n_seeds=3)
    together = fit(moons, MODEL, config, member_seeds=seeds, member_lr=lrs)
    assert together.seeds == seeds
    for m, (seed, lr) in enumerate(zip(seeds, lrs)):
        alone = fit(moons, MODEL, TrainConfig(epochs=EPOCHS, n_seeds=1, seed=seed, lr=lr))
        np.testing.assert_allclose(
            together.history.train_loss[m], alone.history.train_loss[0], rtol=TOL, atol=TOL
        )


def test_divergence_is_told_per_member_when_seeds_repeat(moons):
    config = TrainConfig(epochs=EPOCHS, n_seeds=2, optimizer="nesterov")
    f = fit(moons, MODEL, config, member_seeds=[0, 0], member_lr=[0.01, 100.0])
    assert list(f.ok) == [True, False]
    assert list(f.diverged_members) == [1] and "lr=100" in f.diverged_members[1]


@pytest.mark.parametrize("seeds", [[1, 2], [1, -1, 2], [0.5, 1, 2]])
def test_bad_member_seeds_are_refused(moons, seeds):
    with pytest.raises(ValueError, match="member_seeds"):
        fit(moons, MODEL, TrainConfig(epochs=1, n_seeds=3), member_seeds=seeds)


def test_per_member_dropout_draws_each_members_own_masks(moons):
    """A stack whose members differ by dropout p (0 included): each member equals the one
    trained alone with its own p, masks and all."""
    ps = [0.0, 0.2, 0.5]
    together = fit(moons, MODEL, TrainConfig(epochs=EPOCHS, n_seeds=3), member_dropout=ps)
    for m, p in enumerate(ps):
        model = ModelConfig(hidden=MODEL.hidden, dropout=p)
        alone = fit(moons, model, TrainConfig(epochs=EPOCHS, n_seeds=1, seed=m))
        np.testing.assert_allclose(
            together.history.train_loss[m], alone.history.train_loss[0], rtol=TOL, atol=TOL
        )
        _assert_weights_close(
            together.stack.member(m).state_dict(), alone.stack.member(0).state_dict()
        )


@pytest.mark.parametrize(
    "values, message",
    [([0.1, 0.2], r"expected \(3,\)"), ([0.1, 1.0, 0.2], r"member_dropout\[1\]=1")],
)
def test_bad_member_dropout_is_refused(moons, values, message):
    with pytest.raises(ValueError, match=message):
        fit(moons, MODEL, TrainConfig(epochs=1, n_seeds=3), member_dropout=values)


def test_per_member_init_scale_scales_weight_matrices_only(moons):
    config = TrainConfig(epochs=1, n_seeds=2)
    trainer = Trainer(moons, MODEL, config, member_init_scale=[1.0, 0.5])
    plain = build_members(moons, MODEL, [0, 1])
    for name, tensor in trainer.net.tensors.items():
        expected = plain[1].state_dict()[name] * (0.5 if name.endswith("weight") else 1.0)
        torch.testing.assert_close(tensor[1], expected)
        torch.testing.assert_close(tensor[0], plain[0].state_dict()[name])
    # each member then trains as the member alone whose weights were scaled so
    small = fit(moons, MODEL, TrainConfig(epochs=EPOCHS, n_seeds=2), member_init_scale=[1.0, 0.5])
    alone = fit(
        moons, MODEL, TrainConfig(epochs=EPOCHS, n_seeds=1, seed=1), member_init_scale=[0.5]
    )
    np.testing.assert_allclose(small.history.train_loss[1], alone.history.train_loss[0], TOL, TOL)
    with pytest.raises(ValueError, match="member_init_scale"):
        fit(moons, MODEL, TrainConfig(epochs=1, n_seeds=2), member_init_scale=[1.0, -1.0])


def test_per_member_label_noise_corrupts_nested_labels_and_each_member_as_alone(moons):
    from whydl.engine.label_noise import noisy_labels

    y = moons.y_train
    low, high = noisy_labels(y, 0.1, 3, 2), noisy_labels(y, 0.4, 3, 2)
    assert 0.05 < np.mean(low != y) < 0.15 and 0.3 < np.mean(high != y) < 0.5
    assert np.all((low != y) <= (high != y))  # the rows a lower rate corrupts, and more
    rates = [0.0, 0.3]
    together = fit(moons, MODEL, TrainConfig(epochs=EPOCHS, n_seeds=2), member_label_noise=rates)
    clean = fit(moons, MODEL, TrainConfig(epochs=EPOCHS, n_seeds=1))
    np.testing.assert_allclose(
        together.history.train_loss[0], clean.history.train_loss[0], TOL, TOL
    )
    alone = fit(
        moons, MODEL, TrainConfig(epochs=EPOCHS, n_seeds=1, seed=1), member_label_noise=[0.3]
    )
    np.testing.assert_allclose(
        together.history.train_loss[1], alone.history.train_loss[0], TOL, TOL
    )
    assert together.history.train_metric[1, -1] < together.history.train_metric[0, -1]
    with pytest.raises(ValueError, match="member_label_noise"):
        fit(moons, MODEL, TrainConfig(epochs=1, n_seeds=2), member_label_noise=[0.1, 1.0])
