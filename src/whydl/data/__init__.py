"""Datasets: generators, sklearn's bundled sets and users' CSV files, all as `Dataset`.

Example
-------
>>> from whydl.data import load_dataset
>>> ds = load_dataset("spiral", n_samples=400, noise=0.2, data_seed=0)
>>> ds.task, ds.X_train.shape
('binary', (280, 2))
"""

from __future__ import annotations

import numpy as np

from whydl.data.bundled import BUNDLED, load_bundled
from whydl.data.dataset import TASKS, Dataset, standardize
from whydl.data.split import train_test_split
from whydl.data.synthetic import GENERATORS
from whydl.data.tabular import load_csv
from whydl.errors import WhydlError, did_you_mean

DATASETS = tuple(GENERATORS) + tuple(BUNDLED)
MAX_SAMPLES = 1_000_000
MIN_SPLIT = 2  # points in each of the train and test splits: one gives no spread to learn

__all__ = ["DATASETS", "TASKS", "Dataset", "load_csv", "load_dataset", "article_moons"]


def load_dataset(
    name: str,
    *,
    n_samples: int = 1000,
    noise: float | None = None,
    data_seed: int = 42,
    test_size: float = 0.3,
    n_classes: int | None = None,
) -> Dataset:
    """Generate (or load) a dataset by name and split it into train and test.

    The split is `train_test_split(X, y, test_size=test_size, random_state=data_seed)`, so
    `load_dataset("moons")` is exactly the article's data and split. Bundled datasets ignore
    `n_samples` and `noise`; their inputs are standardised on the training split.

    Example
    -------
    >>> load_dataset("digits").image_shape
    (8, 8)
    """
    if name not in DATASETS:
        raise WhydlError(
            f"Unknown dataset {name!r}. Expected one of: {', '.join(DATASETS)}."
            f"{did_you_mean(name, DATASETS)} For your own data use --data FILE.csv --target COLUMN."
        )
    if not 0.0 < test_size < 1.0:
        raise WhydlError(f"test_size={test_size} must be between 0 and 1 (exclusive), e.g. 0.3.")
    if name in BUNDLED:
        # lazily: sklearn takes ~2 s to import, and only bundled datasets need it
        from sklearn.model_selection import train_test_split as stratified_split

        X, y, feature_names, class_names, image_shape = load_bundled(name)
        X_train, X_test, y_train, y_test = stratified_split(
            X, y, test_size=test_size, random_state=data_seed, stratify=y
        )
        mean = scale = None
        if BUNDLED[name][1] == "standardize":
            X_train, X_test, mean, scale = standardize(X_train, X_test)
        n = int(y.max()) + 1
        return Dataset(
            name=name,
            X_train=np.asarray(X_train, np.float32),
            y_train=y_train,
            X_test=np.asarray(X_test, np.float32),
            y_test=y_test,
            task="binary" if n == 2 else "multiclass",
            n_classes=n,
            feature_names=feature_names,
            target_name="class",
            class_names=class_names,
            image_shape=image_shape,
            input_mean=mean,
            input_scale=scale,
        )
    if not 4 <= n_samples <= MAX_SAMPLES:
        raise WhydlError(
            f"n_samples={n_samples} is out of range. Expected 4..{MAX_SAMPLES}, e.g. 1000."
        )
    generator, task, default_noise = GENERATORS[name]
    noise = default_noise if noise is None else noise
    if not 0.0 <= noise <= 10.0:
        raise WhydlError(f"noise={noise} is out of range. Expected 0..10, e.g. 0.1.")
    kwargs = {}
    if n_classes is not None:
        if name not in ("gaussians", "spiral"):
            raise WhydlError(
                f"n_classes only applies to gaussians and spiral, not {name!r}. Drop it."
            )
        if not 2 <= n_classes <= 10:
            raise WhydlError(f"n_classes={n_classes} is out of range. Expected 2..10.")
        kwargs["n_classes"] = n_classes
    X, y = generator(n_samples, noise, data_seed, **kwargs)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=data_seed
    )
    if min(len(X_train), len(X_test)) < MIN_SPLIT:
        raise WhydlError(
            f"n_samples={n_samples} with test_size={test_size} leaves {len(X_train)} training "
            f"and {len(X_test)} test points; each split needs at least {MIN_SPLIT}. Pass more "
            "points (--n) or a test size nearer 0.3 (--test-size)."
        )
    if task == "regression":
        y_train, y_test, n = y_train.astype(np.float32), y_test.astype(np.float32), 0
    else:
        y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
        n = int(max(y_train.max(), y_test.max())) + 1
        task = "binary" if n == 2 else "multiclass"
    return Dataset(
        name=name,
        X_train=np.asarray(X_train, np.float32),
        y_train=y_train,
        X_test=np.asarray(X_test, np.float32),
        y_test=y_test,
        task=task,
        n_classes=n,
        feature_names=tuple(f"x{i + 1}" for i in range(X.shape[1])),
        class_names=tuple(str(i) for i in range(n)),
    )


def article_moons() -> Dataset:
    """The article's data exactly: make_moons(1000, noise=0.1, random_state=42), 70/30 split.
    (`whydl.config.article_config()` is the whole experiment; its data part equals this.)"""
    return load_dataset("moons", n_samples=1000, noise=0.1, data_seed=42, test_size=0.3)
