import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

from whydl.data import DATASETS, article_moons, load_dataset
from whydl.data.split import make_moons as our_moons
from whydl.data.split import train_test_split as our_split
from whydl.errors import WhydlError


def test_article_data_is_sklearns_exactly():
    X, y = make_moons(n_samples=1000, noise=0.1, random_state=42)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=42)
    ds = article_moons()
    np.testing.assert_array_equal(ds.X_train, X_train.astype(np.float32))
    np.testing.assert_array_equal(ds.X_test, X_test.astype(np.float32))
    np.testing.assert_array_equal(ds.y_train, y_train)
    np.testing.assert_array_equal(ds.y_test, y_test)


@pytest.mark.parametrize(
    "n,noise,seed,test_size", [(7, None, 5, 0.5), (333, 0.3, 0, 0.25), (1001, 0.05, 123, 0.1)]
)
def test_fast_moons_and_split_equal_sklearn(n, noise, seed, test_size):
    X, y = make_moons(n, noise=noise, random_state=seed)
    ours = our_moons(n, noise, seed)
    np.testing.assert_array_equal(ours[0], X)
    np.testing.assert_array_equal(ours[1], y)
    for a, b in zip(
        train_test_split(X, y, test_size=test_size, random_state=seed),
        our_split(X, y, test_size, seed),
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_loads_with_consistent_shapes(name):
    ds = load_dataset(name, n_samples=200, data_seed=0)
    assert len(ds.X_train) == len(ds.y_train) and len(ds.X_test) == len(ds.y_test)
    assert ds.X_train.dtype == np.float32 and np.isfinite(ds.X_train).all()
    assert ds.X_train.shape[1] == ds.X_test.shape[1] == len(ds.feature_names) or ds.image_shape
    if ds.task == "regression":
        assert ds.n_classes == 0
    else:
        assert set(np.unique(ds.y_train)) <= set(range(ds.n_classes))


def test_generators_are_deterministic_and_seed_dependent():
    a, b = load_dataset("spiral", data_seed=3), load_dataset("spiral", data_seed=3)
    c = load_dataset("spiral", data_seed=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)


def test_n_classes_for_spiral_and_gaussians():
    assert load_dataset("spiral", n_classes=3).n_classes == 3
    assert load_dataset("gaussians", n_classes=5).task == "multiclass"
    with pytest.raises(WhydlError, match="n_classes only applies"):
        load_dataset("moons", n_classes=3)


def test_bundled_data_is_standardised_on_train_only():
    ds = load_dataset("wine")
    np.testing.assert_allclose(ds.X_train.mean(0), 0, atol=1e-5)
    assert np.abs(ds.X_test.mean(0)).max() > 1e-3
    digits = load_dataset("digits")
    assert digits.image_shape == (8, 8) and digits.X_train.max() <= 1.0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"name": "mnist"}, "Unknown dataset 'mnist'"),
        ({"name": "moons", "n_samples": 2}, "n_samples=2 is out of range"),
        ({"name": "moons", "noise": -1.0}, "noise=-1.0 is out of range"),
        ({"name": "moons", "test_size": 1.5}, "test_size=1.5"),
    ],
)
def test_bad_dataset_arguments(kwargs, match):
    with pytest.raises(WhydlError, match=match):
        load_dataset(kwargs.pop("name"), **kwargs)
