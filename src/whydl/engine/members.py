"""The members a run trains: one plain module per seed, whether they fit in memory, and the
per-member hooks that set them up (their seeds, dropout probabilities, initial scales)."""

from __future__ import annotations

import numpy as np
import torch

from whydl.config import ModelConfig, TrainConfig
from whydl.data import Dataset
from whydl.engine.memory import CNN_ACTIVATIONS_PER_ROW, check_fits, mlp_n_parameters
from whydl.engine.optim import member_values
from whydl.errors import WhydlError
from whydl.models import MLP, SmallCNN


def build_members(dataset: Dataset, model: ModelConfig, seeds) -> list[torch.nn.Module]:
    """One plain nn.Module per seed, initialised from that seed."""
    if model.architecture == "cnn":
        if dataset.image_shape is None:
            raise WhydlError(
                f"architecture='cnn' needs image data, but dataset {dataset.name!r} has no "
                "image shape. Use --dataset digits, or --architecture mlp."
            )
        return [
            SmallCNN(dataset.n_outputs, image_shape=dataset.image_shape, init=model.init, seed=s)
            for s in seeds
        ]
    return [
        MLP(
            dataset.n_features,
            dataset.n_outputs,
            hidden=model.hidden,
            activation=model.activation,
            dropout=model.dropout,
            batch_norm=model.batch_norm,
            residual=model.residual,
            init=model.init,
            seed=s,
        )
        for s in seeds
    ]


def check_memory(
    dataset: Dataset, model: ModelConfig, train: TrainConfig, members=None, rows=(None, None)
) -> None:
    """Refuse a run over the memory budget before any of it is allocated (see
    `engine.memory`). An MLP is sized from its config; other models from one instance.
    `rows` are the `train_rows` and `test_rows` hooks: each member evaluates only its own."""
    train_rows, test_rows = rows
    n_train = len(dataset.X_train) if train_rows is None else np.shape(train_rows)[1]
    n_rows = n_train + (len(dataset.X_test) if test_rows is None else np.shape(test_rows)[1])
    if members is None and model.architecture == "mlp":
        n_params = mlp_n_parameters(
            dataset.n_features, dataset.n_outputs, model.hidden, model.batch_norm
        )
        per_row = sum(model.hidden) + dataset.n_outputs
    else:
        probe = members[0] if members else build_members(dataset, model, [0])[0]
        n_params = sum(p.numel() for p in probe.parameters())
        # an MLP's activations per row: one value per unit of each layer
        linear = [m.out_features for m in probe.modules() if isinstance(m, torch.nn.Linear)]
        per_row = CNN_ACTIVATIONS_PER_ROW if model.architecture == "cnn" else sum(linear)
    check_fits(
        n_params,
        train.n_seeds,
        n_rows=n_rows,
        activations_per_row=per_row,
        optimizer=train.optimizer,
        early_stopping=train.early_stopping,
    )


def member_dropouts(model: ModelConfig, n_members: int, values) -> list[float]:
    """`member_dropout` checked: M probabilities within ModelConfig.dropout's bounds, for an
    MLP (a CNN has no dropout)."""
    if model.architecture != "mlp":
        raise ValueError(f"member_dropout needs architecture='mlp', not {model.architecture!r}.")
    return member_values(model, "dropout", values, n_members, "dropout probability")


def scale_initial_weights(net, scales) -> None:
    """Multiply member m's weight matrices and filters by scales[m] (M positive values)."""
    scales = np.asarray(scales, dtype=float)
    if scales.shape != (net.M,) or not (np.isfinite(scales) & (scales > 0)).all():
        raise ValueError(
            f"member_init_scale has shape {scales.shape}; expected ({net.M},) positive "
            "factors, one per member."
        )
    factor = torch.as_tensor(scales, dtype=torch.float32, device=net.device)
    for name, t in net.tensors.items():
        if name.endswith("weight") and t.dim() >= 3:  # (M, out, in, ...): not BN's (M, H)
            t.mul_(factor.view(-1, *[1] * (t.dim() - 1)))


def seeds_of(train: TrainConfig, member_seeds) -> list[int]:
    """The members' seeds: the config's, or the `member_seeds` hook's (checked here)."""
    if member_seeds is None:
        return train.seeds
    seeds = np.asarray(member_seeds)
    if seeds.shape != (train.n_seeds,) or seeds.dtype.kind not in "iu" or (seeds < 0).any():
        raise ValueError(
            f"member_seeds has shape {seeds.shape} and dtype {seeds.dtype}; expected "
            f"({train.n_seeds},) non-negative integers, one seed per member."
        )
    return [int(s) for s in seeds]
