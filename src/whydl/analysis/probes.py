"""Linear probes: how linearly separable is each layer's representation? (Alain & Bengio 2016)

A probe is a logistic regression fitted on one layer's activations of the training split
and scored on the held-out split. Features are standardised with the training split's
statistics; features that are constant on the training split (dead ReLUs) carry nothing and
are dropped.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2))
>>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> probe_accuracy(X[:150], y[:150], X[150:], y[150:]) > 0.95
True
"""

from __future__ import annotations

import warnings

import numpy as np

from whydl.analysis.layers import activations


def probe_accuracy(X_train, y_train, X_test, y_test, C: float = 1.0) -> float:
    """Held-out accuracy of a logistic regression fitted on (X_train, y_train).

    `C` is the inverse L2 strength (sklearn's); on standardised features the default 1.0
    keeps wide layers from overfitting the probe's training split.
    """
    # lazily: sklearn takes ~2 s to import, and only the probes need it here
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1]:
        raise ValueError(
            f"Expected 2D arrays with the same number of columns, got shapes {X_train.shape} "
            f"and {X_test.shape}. Reshape your data with X.reshape(len(X), -1)."
        )
    if len(X_train) != len(y_train) or len(X_test) != len(y_test):
        raise ValueError(
            f"X and y lengths differ: train {len(X_train)} vs {len(y_train)}, test "
            f"{len(X_test)} vs {len(y_test)}. Pass one label per row."
        )
    classes, counts = np.unique(y_train, return_counts=True)
    mean, std = X_train.mean(0), X_train.std(0)
    keep = std > 1e-12 * np.maximum(1.0, np.abs(mean))
    if len(classes) < 2 or not keep.any():
        # nothing to separate, or nothing to separate with: the probe predicts the majority
        return float(np.mean(y_test == classes[np.argmax(counts)]))
    scale = lambda X: (X[:, keep] - mean[keep]) / std[keep]  # noqa: E731
    probe = LogisticRegression(C=C, max_iter=1000)
    # one BLAS thread: these fits are tiny, and extra threads cost more than they give
    # (on a loaded 2-core machine, many times more)
    with threadpool_limits(1), warnings.catch_warnings():
        # if lbfgs stops early the probe is slightly under-fitted: still a valid score
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe.fit(scale(X_train), y_train)
        return float(probe.score(scale(X_test), y_test))


def probe_accuracies(
    module, X_train, y_train, X_test, y_test, C: float = 1.0, with_input: bool = True
) -> list[float]:
    """Probe accuracy on [input, layer 1, ..., layer L] of `module` (which has `.features`).

    With `with_input=False` the input is skipped ([layer 1, ..., layer L]): its probe does
    not depend on the network, so a sweep over many networks computes it once.

    Example
    -------
    >>> import numpy as np
    >>> from whydl.models import MLP
    >>> X = np.random.default_rng(0).normal(size=(80, 2)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> accs = probe_accuracies(MLP(2, 1, hidden=(8, 8)), X[:60], y[:60], X[60:], y[60:])
    >>> len(accs), accs[0] > 0.9
    (3, True)
    """
    start = 0 if with_input else 1
    train = activations(module, X_train)[start:]
    test = activations(module, X_test)[start:]
    return [probe_accuracy(a, y_train, b, y_test, C) for a, b in zip(train, test)]
