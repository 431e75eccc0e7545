"""The rows each member trains and is scored on, as tensors on the device.

By default every member trains on the training split and is scored on the test split. The
hooks give members their own: `train_rows` (each its own training rows, e.g. a subsample of
one pool), `test_rows` (its own test draw, with `train_rows`), `member_label_noise` (its own
corrupted labels, `whydl.engine.label_noise`). Early stopping carves a validation split,
the same for all, out of the training rows. A member axis appears only where members differ.
"""

from __future__ import annotations

import numpy as np
import torch

from whydl.config import TrainConfig
from whydl.data import Dataset
from whydl.engine import label_noise, tasks
from whydl.engine.device import derive_seed

VALIDATION_STREAM = 2


def member_data(
    dataset: Dataset,
    train: TrainConfig,
    seeds: list[int],
    device,
    train_rows=None,
    test_rows=None,
    member_label_noise=None,
):
    """(X_fit, y_fit, X_eval, y_eval): the training rows, (n, D) or (M, n, D) with a member
    axis, and the evaluation rows, the training rows followed by the held-out ones, so that
    one forward pass scores both splits."""
    M, task = len(seeds), dataset.task
    X_fit, y_fit = dataset.X_train, dataset.y_train
    X_val, y_val = dataset.X_test, dataset.y_test
    if train_rows is not None:  # each member its own training rows: a member axis
        train_rows = np.asarray(train_rows, dtype=np.int64)
        if train_rows.ndim != 2 or len(train_rows) != M or train.early_stopping:
            raise ValueError(
                f"train_rows has shape {train_rows.shape}; expected ({M}, n), one row of "
                "training-row indices per member, and early_stopping=False."
            )
        X_fit, y_fit = X_fit[train_rows], y_fit[train_rows]  # (M, n, D), (M, n)
    if test_rows is not None:  # each member its own test rows, too
        test_rows = np.asarray(test_rows, dtype=np.int64)
        if train_rows is None or test_rows.ndim != 2 or len(test_rows) != M:
            raise ValueError(
                f"test_rows has shape {test_rows.shape}; expected ({M}, n_test), one row "
                "of test-row indices per member, given together with train_rows."
            )
        X_val, y_val = X_val[test_rows], y_val[test_rows]  # (M, n_test, D), (M, n_test)
    if member_label_noise is not None:  # each member its own labels: a member axis
        rates = label_noise.check_rates(member_label_noise, M, task, train.early_stopping)
        if train_rows is None:
            train_rows = np.tile(np.arange(len(X_fit)), (M, 1))
            X_fit, y_fit = X_fit[train_rows], y_fit[train_rows]
        k = dataset.n_classes or 2
        y_fit = np.stack(
            [
                label_noise.noisy_labels(y_fit[m], r, s, k)
                for m, (r, s) in enumerate(zip(rates, seeds))
            ]
        )
    if train.early_stopping:
        rng = np.random.default_rng(derive_seed(0, VALIDATION_STREAM))  # same split for all
        order = rng.permutation(len(X_fit))
        n_val = max(1, int(round(train.validation_fraction * len(X_fit))))
        X_val, y_val = X_fit[order[:n_val]], y_fit[order[:n_val]]
        X_fit, y_fit = X_fit[order[n_val:]], y_fit[order[n_val:]]
    X_fit_t = torch.as_tensor(X_fit, device=device)
    y_fit = tasks.prepare_targets(y_fit.reshape(-1), task, device)
    y_fit_t = y_fit.view(*X_fit_t.shape[:-1], *y_fit.shape[1:])
    X_val = torch.as_tensor(X_val, device=device)
    y_val_flat = tasks.prepare_targets(y_val.reshape(-1), task, device)
    y_val = y_val_flat.view(*X_val.shape[:-1], *y_val_flat.shape[1:])
    if train_rows is not None and test_rows is None:
        X_val, y_val = X_val.expand(M, *X_val.shape), y_val.expand(M, *y_val.shape)
    # one forward pass evaluates both splits
    X_eval = torch.cat([X_fit_t, X_val], dim=X_fit_t.dim() - 2)
    y_eval = torch.cat([y_fit_t, y_val], dim=X_fit_t.dim() - 2)
    return X_fit_t, y_fit_t, X_eval, y_eval
