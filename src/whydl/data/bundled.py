"""Real datasets that ship inside scikit-learn: nothing is downloaded."""

from __future__ import annotations

import numpy as np

# name -> (sklearn loader, how to scale the inputs); digits are 8x8 grey images with values
# 0..16, and a fixed /16 keeps them images.
BUNDLED = {
    "digits": ("load_digits", "pixels"),
    "breast_cancer": ("load_breast_cancer", "standardize"),
    "wine": ("load_wine", "standardize"),
    "iris": ("load_iris", "standardize"),
}


def load_bundled(name: str):
    """Return (X, y, feature_names, class_names, image_shape) for a bundled dataset."""
    from sklearn import datasets as skd  # imported lazily: sklearn takes ~2 s to import

    bunch = getattr(skd, BUNDLED[name][0])()
    X = np.asarray(bunch.data, dtype=np.float64)
    if name == "digits":
        X = X / 16.0
    feature_names = tuple(str(f) for f in getattr(bunch, "feature_names", ()))
    class_names = tuple(str(c) for c in bunch.target_names)
    image_shape = (8, 8) if name == "digits" else None
    return X, np.asarray(bunch.target, dtype=np.int64), feature_names, class_names, image_shape
