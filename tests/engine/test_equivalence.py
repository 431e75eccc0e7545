"""The vectorised engine against a plain per-member PyTorch loop (micrograd-style: the
reference implementation is PyTorch itself)."""

import numpy as np
import pytest

from tests.engine.reference import train_alone
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import build_members, fit

EPOCHS = 5
TOL = 1e-5


def _compare(ds, model, optimizer="adam", lr=0.01, seeds=(0, 1, 2), batch_size=32, wd=0.0):
    train = TrainConfig(
        optimizer=optimizer,
        lr=lr,
        epochs=EPOCHS,
        n_seeds=len(seeds),
        seed=seeds[0],
        batch_size=batch_size,
        weight_decay=wd,
    )
    stacked = fit(ds, model, train)
    references = build_members(ds, model, list(seeds))
    for m, (seed, module) in enumerate(zip(seeds, references)):
        expected = train_alone(
            module,
            ds.X_train,
            ds.y_train,
            ds.task,
            seed,
            optimizer,
            lr,
            wd,
            batch_size or len(ds.X_train),
            EPOCHS,
        )
        np.testing.assert_allclose(stacked.history.train_loss[m], expected, rtol=TOL, atol=TOL)
        # and the trained weights themselves, exported as a plain module
        exported = stacked.stack.member(m).state_dict()
        for name, value in module.state_dict().items():
            np.testing.assert_allclose(
                exported[name].numpy(), value.numpy(), rtol=1e-4, atol=1e-4, err_msg=name
            )


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_samples=200, noise=0.2, data_seed=1)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_optimizers_match_torch_optim(moons, optimizer):
    lr = 0.001 if optimizer == "rmsprop" else 0.05
    _compare(moons, ModelConfig(hidden=(10, 10)), optimizer, lr, wd=0.01)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "linear"])
def test_activations_match(moons, activation):
    _compare(moons, ModelConfig(hidden=(8, 8), activation=activation))


@pytest.mark.parametrize(
    "options",
    [
        {"batch_norm": True},
        {"residual": True, "hidden": (8, 8, 8)},
        {"residual": True, "batch_norm": True, "hidden": (8, 8, 8)},
        {"init": "he"},
        {"init": "xavier", "activation": "tanh"},
        {"init": "small", "activation": "sigmoid"},
        {"hidden": ()},
    ],
)
def test_model_options_match(moons, options):
    _compare(moons, ModelConfig(**{"hidden": (8, 8), **options}))


def test_full_batch_matches(moons):
    _compare(moons, ModelConfig(), batch_size=0)


def test_multiclass_and_regression_match():
    _compare(load_dataset("gaussians", n_samples=150, data_seed=0), ModelConfig(hidden=(8,)))
    _compare(load_dataset("sine", n_samples=150, data_seed=0), ModelConfig(hidden=(16,)))


def test_cnn_matches():
    ds = load_dataset("digits")
    from whydl.data import Dataset

    small = Dataset(
        "digits",
        ds.X_train[:120],
        ds.y_train[:120],
        ds.X_test[:50],
        ds.y_test[:50],
        "multiclass",
        10,
        image_shape=(8, 8),
    )
    _compare(small, ModelConfig(architecture="cnn"), lr=0.01, seeds=(0, 1))
