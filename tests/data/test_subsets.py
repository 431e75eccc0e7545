"""k labels per class and class selection: stratified, deterministic, clear errors."""

import numpy as np
import pytest

from whydl.data import Dataset, load_dataset
from whydl.data.subsets import sample_per_class, select_classes, subset

Y = np.repeat([0, 1, 2], [5, 8, 3])  # classes of 5, 8 and 3 rows


@pytest.mark.parametrize("k", [1, 2, 3])
def test_sampler_takes_exactly_k_distinct_rows_of_each_class(k):
    idx = sample_per_class(Y, k, seed=0)
    assert len(set(idx.tolist())) == len(idx) == 3 * k
    np.testing.assert_array_equal(np.bincount(Y[idx]), [k, k, k])
    assert np.all(np.diff(idx) > 0)  # sorted: the subset keeps the original row order


def test_sampler_is_deterministic_and_seeded():
    a, b = sample_per_class(Y, 2, seed=7), sample_per_class(Y, 2, seed=7)
    np.testing.assert_array_equal(a, b)
    draws = {tuple(sample_per_class(Y, 2, seed=s)) for s in range(20)}
    assert len(draws) > 10  # other seeds pick other rows


def test_sampler_with_k_equal_to_the_smallest_class_takes_all_of_it():
    idx = sample_per_class(Y, 3, seed=1)
    np.testing.assert_array_equal(np.flatnonzero(Y == 2), idx[Y[idx] == 2])


def test_sampler_errors_clearly_when_k_exceeds_a_class():
    with pytest.raises(ValueError, match=r"k=4 exceeds the 3 rows of class 2\. Pass k <= 3"):
        sample_per_class(Y, 4, seed=0)


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_sampler_rejects_k_that_is_not_a_positive_whole_number(k):
    with pytest.raises(ValueError, match="labels per class >= 1"):
        sample_per_class(Y, k, seed=0)


def test_sampler_rejects_2d_labels():
    with pytest.raises(ValueError, match="Expected 1D labels"):
        sample_per_class(Y.reshape(-1, 1), 1, seed=0)


def toy() -> Dataset:
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.array([0, 1, 2, 2, 1, 0])
    return Dataset("toy", X, y, X[:3] + 100, y[:3], "multiclass", 3, class_names=("a", "b", "c"))


def test_subset_keeps_the_chosen_training_rows_and_the_whole_test_split():
    ds = toy()
    small = subset(ds, [1, 4])
    np.testing.assert_array_equal(small.X_train, ds.X_train[[1, 4]])
    np.testing.assert_array_equal(small.y_train, [1, 1])
    assert small.X_test is ds.X_test and len(ds.y_train) == 6  # the input is unchanged


def test_select_classes_keeps_those_rows_and_relabels_in_the_order_given():
    ds = select_classes(toy(), [2, 0])
    np.testing.assert_array_equal(ds.y_train, [1, 0, 0, 1])  # rows of class 0, 2, 2, 0
    np.testing.assert_array_equal(ds.X_train[:, 0], [0, 4, 6, 10])
    np.testing.assert_array_equal(ds.y_test, [1, 0])  # test rows of class 0 and 2
    assert ds.task == "binary" and ds.n_classes == 2 and ds.class_names == ("c", "a")


def test_select_classes_on_digits_turns_digit_five_into_label_zero():
    digits = load_dataset("digits")
    high = select_classes(digits, [5, 6, 7, 8, 9])
    assert high.n_classes == 5 and high.n_outputs == 5 and high.class_names[0] == "5"
    assert len(high.y_train) == int((digits.y_train >= 5).sum())
    np.testing.assert_array_equal(high.y_train, digits.y_train[digits.y_train >= 5] - 5)


@pytest.mark.parametrize("classes", [[0], [0, 0], [0, 7]])
def test_select_classes_rejects_bad_class_lists(classes):
    with pytest.raises(ValueError, match="at least 2 distinct labels among 0..2"):
        select_classes(toy(), classes)
