"""Smaller datasets cut from bigger ones: k labels per class, or some of the classes.

Transfer experiments need both: pretrain on some classes, then learn the others from only a
few labelled examples each. Every function returns a new `Dataset` and leaves its input as
it was; sampling is seeded, so the same seed always picks the same rows.

Example
-------
>>> from whydl.data import load_dataset
>>> digits = load_dataset("digits")
>>> high = select_classes(digits, [5, 6, 7, 8, 9])  # relabelled 0..4
>>> few = subset(high, sample_per_class(high.y_train, k=2, seed=0))
>>> len(few.y_train), few.n_classes
(10, 5)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from whydl.data.dataset import Dataset


def sample_per_class(y, k: int, seed: int) -> np.ndarray:
    """Indices of exactly `k` rows of each class in the labels `y`, drawn without replacement.

    Deterministic: the same (y, k, seed) gives the same indices. They come sorted, so the
    subset keeps the original row order.

    Example
    -------
    >>> sample_per_class([0, 0, 1, 1, 1], k=1, seed=0).shape
    (2,)
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"Expected 1D labels, got an array of shape {y.shape} instead.")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k={k!r} is not valid. Expected a whole number of labels per class >= 1.")
    classes, counts = np.unique(y, return_counts=True)
    if k > counts.min():
        small = classes[counts.argmin()].item()
        raise ValueError(
            f"k={k} exceeds the {counts.min()} rows of class {small!r}. "
            f"Pass k <= {counts.min()}, or use all the rows."
        )
    rng = np.random.default_rng(seed)
    picked = [rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c in classes]
    return np.sort(np.concatenate(picked))


def subset(dataset: Dataset, indices) -> Dataset:
    """The dataset with only the training rows at `indices`; the test split is unchanged, so
    models trained on different subsets are scored on the same examples."""
    indices = np.asarray(indices, dtype=np.int64)
    return replace(dataset, X_train=dataset.X_train[indices], y_train=dataset.y_train[indices])


def select_classes(dataset: Dataset, classes) -> Dataset:
    """Only the rows (train and test) of `classes`, relabelled 0..len(classes)-1 in the order
    given: select_classes(digits, [5, 6, 7, 8, 9]) turns digit 5 into label 0."""
    classes = [int(c) for c in classes]
    if dataset.task == "regression":
        raise ValueError(f"select_classes needs a classification dataset; {dataset.name!r} is not.")
    known = range(dataset.n_classes)
    if len(classes) < 2 or len(set(classes)) != len(classes) or not set(classes) <= set(known):
        raise ValueError(
            f"classes={classes} is not valid for {dataset.name!r}. Expected at least 2 distinct "
            f"labels among 0..{dataset.n_classes - 1}."
        )
    relabel = np.full(dataset.n_classes, -1, dtype=np.int64)
    relabel[classes] = np.arange(len(classes))
    keep_train = relabel[dataset.y_train] >= 0
    keep_test = relabel[dataset.y_test] >= 0
    names = dataset.class_names or tuple(str(c) for c in known)
    return replace(
        dataset,
        name=f"{dataset.name}[{','.join(map(str, classes))}]",
        X_train=dataset.X_train[keep_train],
        y_train=relabel[dataset.y_train[keep_train]],
        X_test=dataset.X_test[keep_test],
        y_test=relabel[dataset.y_test[keep_test]],
        task="binary" if len(classes) == 2 else "multiclass",
        n_classes=len(classes),
        class_names=tuple(names[c] for c in classes),
    )
