"""The compositional targets: the sawtooth's pieces, nested parity's levels, the split."""

import numpy as np
import pytest

from whydl.data.compositional import (
    compositional_dataset,
    parity_levels,
    sawtooth,
    tent_composition,
)


def test_parity_levels_are_nested_xors():
    bits = np.array([[1, 1, 1, 1], [-1, 1, 1, 1], [-1, -1, -1, 1]])
    levels = parity_levels(bits)
    assert levels[2].tolist() == [0, 1, 0] and levels[4].tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="power of two"):
        parity_levels(np.ones((2, 3)))


def test_sawtooth_crosses_one_half_once_per_linear_piece():
    x = np.linspace(0, 1, 4001)[1:-1, None]
    y = (tent_composition(x[:, 0], 3) > 0.5).astype(int)
    assert np.count_nonzero(np.diff(y)) == 2**3  # one crossing of 1/2 per linear piece
    X, labels = sawtooth(500, seed=1, folds=3)
    assert X.shape == (500, 1) and 0.4 < labels.mean() < 0.6


def test_compositional_data_refuses_unknown_targets():
    with pytest.raises(ValueError, match="Expected one of"):
        compositional_dataset("spiral", 100, 0)


@pytest.mark.parametrize(
    "name,task,n_features",
    [("sawtooth", "binary", 1), ("nested_parity", "binary", 8), ("smooth_sine", "regression", 2)],
)
def test_each_target_is_a_dataset_of_its_own_draw(name, task, n_features):
    a, b = (compositional_dataset(name, 100, seed) for seed in (0, 1))
    assert a.task == task and a.n_features == n_features and len(a.X_test) == 30
    assert not np.allclose(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.X_train, compositional_dataset(name, 100, 0).X_train)
