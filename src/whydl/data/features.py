"""Hand-made input features of 2-D data: TensorFlow Playground's X1², X2², X1·X2, sin X1, sin X2.

A network given x1² and x2² separates circles with one layer; given only x1 and x2 it needs a
hidden layer to build them. Toggling features shows that depth can replace feature
engineering. The features are computed from the two inputs the network would otherwise see
(after standardisation, for a CSV file), so the plane a boundary is drawn on stays 2-D.

Example
-------
>>> import numpy as np
>>> expand(np.array([[2.0, 3.0]]), ("x1", "x1x2", "x2sq")).tolist()
[[2.0, 6.0, 9.0]]
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from whydl.errors import WhydlError

# name -> (its label, from the inputs' names {1} and {2}; the feature of the columns x1, x2)
FEATURES = {
    "x1": ("{1}", lambda x1, x2: x1),
    "x2": ("{2}", lambda x1, x2: x2),
    "x1sq": ("{1}²", lambda x1, x2: x1 * x1),
    "x2sq": ("{2}²", lambda x1, x2: x2 * x2),
    "x1x2": ("{1}·{2}", lambda x1, x2: x1 * x2),
    "sin_x1": ("sin {1}", lambda x1, x2: np.sin(x1)),
    "sin_x2": ("sin {2}", lambda x1, x2: np.sin(x2)),
}
FEATURE_NAMES = tuple(FEATURES)
RAW = ("x1", "x2")  # the features that are the inputs themselves


def expand(X: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The features `names` of 2-D inputs X (n, 2), as float32 columns (n, len(names))."""
    X = np.asarray(X, dtype=np.float32)
    x1, x2 = X[:, 0], X[:, 1]
    return np.stack([FEATURES[n][1](x1, x2) for n in names], axis=1).astype(np.float32)


def with_features(dataset, names: tuple[str, ...] | None):
    """`dataset` whose network inputs are the features `names` of its 2-D inputs (None: the
    inputs themselves, unchanged). The 2-D inputs stay as `raw_train` / `raw_test`, for the
    plane that boundaries and points are drawn on."""
    if names is None:
        return dataset
    if dataset.n_features != 2:
        raise WhydlError(
            f"features={','.join(names)}: input features are computed from two inputs (x1, x2), "
            f"but {dataset.name} has {dataset.n_features}. Use a 2-D dataset, or drop --features."
        )
    first, second = dataset.feature_names or RAW
    return replace(
        dataset,
        X_train=expand(dataset.X_train, names),
        X_test=expand(dataset.X_test, names),
        feature_names=tuple(FEATURES[n][0].format("", first, second) for n in names),
        input_features=tuple(names),
        raw_train=dataset.X_train,
        raw_test=dataset.X_test,
        raw_names=(first, second),
    )
