"""The `Dataset` every other layer consumes: arrays plus what the task is."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from whydl.data.features import expand as expand_features

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split and its task.

    X arrays are float32 of shape (n, d). For classification y is int64 of shape (n,) with
    labels 0..n_classes-1; for regression y is float32 of shape (n,).
    `input_mean`/`input_scale` hold the standardisation fitted on the training split (None
    when none was applied); `transform` applies it, then any `input_features`, to new raw
    inputs.

    Example
    -------
    >>> from whydl.data import load_dataset
    >>> ds = load_dataset("moons")
    >>> ds.X_train.shape, ds.task
    ((700, 2), 'binary')
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    n_classes: int = 0
    feature_names: tuple[str, ...] = ()
    target_name: str = "y"
    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int] | None = None
    input_mean: np.ndarray | None = field(default=None, repr=False)
    input_scale: np.ndarray | None = field(default=None, repr=False)
    # hand-made features the network sees instead of the two inputs (`whydl.data.features`);
    # the inputs themselves stay in raw_train / raw_test, the plane the data is drawn on
    input_features: tuple[str, ...] = ()
    raw_train: np.ndarray | None = field(default=None, repr=False)
    raw_test: np.ndarray | None = field(default=None, repr=False)
    raw_names: tuple[str, ...] = ()

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def plane_train(self) -> np.ndarray:
        """The training points as drawn: the inputs before any hand-made features."""
        return self.X_train if self.raw_train is None else self.raw_train

    @property
    def plane_test(self) -> np.ndarray:
        return self.X_test if self.raw_test is None else self.raw_test

    @property
    def plane_names(self) -> tuple[str, ...]:
        """The names of the inputs the points are drawn by (x1, x2 before features)."""
        return self.raw_names or self.feature_names

    @property
    def n_inputs(self) -> int:
        """Columns of the raw inputs `transform` takes (`n_features` once features apply)."""
        return int(self.plane_train.shape[1])

    def expand(self, X) -> np.ndarray:
        """Standardised 2-D inputs as the network's features (unchanged without features)."""
        if not self.input_features:
            return np.asarray(X, dtype=np.float32)
        return expand_features(X, self.input_features)

    @property
    def n_outputs(self) -> int:
        """Width of the network's output layer for this task."""
        return self.n_classes if self.task == "multiclass" else 1

    def transform(self, X) -> np.ndarray:
        """Apply the training split's standardisation to raw inputs of shape (n, d)."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.shape[1] != self.n_inputs:
            raise ValueError(
                f"Expected inputs with {self.n_inputs} features, got {X.shape[1]}. "
                f"Pass an array of shape (n, {self.n_inputs})."
            )
        if self.input_mean is not None:
            X = ((X - self.input_mean) / self.input_scale).astype(np.float32)
        return self.expand(X)

    def with_task(self, task: str) -> Dataset:
        """The same data with the task overridden (e.g. a 0/1 target treated as regression)."""
        if task == self.task:
            return self
        if task not in TASKS:
            raise ValueError(f"task={task!r} is not one of {TASKS}.")

        if task == "regression":
            return replace(
                self,
                task=task,
                n_classes=0,
                y_train=self.y_train.astype(np.float32),
                y_test=self.y_test.astype(np.float32),
            )
        y_all = np.concatenate([self.y_train, self.y_test])
        if not np.allclose(y_all, np.round(y_all)):
            raise ValueError(
                f"task={task!r} needs integer class labels, but the target has non-integer "
                "values. Use task='regression' or a class column."
            )
        y_train = self.y_train.astype(np.int64)
        y_test = self.y_test.astype(np.int64)
        n_classes = int(max(y_train.max(), y_test.max())) + 1
        if task == "binary" and n_classes > 2:
            raise ValueError(
                f"task='binary' needs 2 classes, but the target has {n_classes}. "
                "Use task='multiclass'."
            )
        return replace(self, task=task, n_classes=n_classes, y_train=y_train, y_test=y_test)


def standardize(X_train: np.ndarray, X_test: np.ndarray):
    """Fit mean/scale on the training split only (no test leakage) and apply to both."""
    mean = X_train.mean(axis=0)
    scale = X_train.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    f = lambda X: ((X - mean) / scale).astype(np.float32)  # noqa: E731
    return f(X_train), f(X_test), mean.astype(np.float32), scale.astype(np.float32)
