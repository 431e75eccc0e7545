"""A playground setup as the equivalent `whydl train` command and as a RunConfig.

The command trains the same member the playground shows: the same data, split, seed and
settings go through the same engine, so its numbers match epoch for epoch.
"""

from __future__ import annotations

import shlex

from whydl.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from whydl.web.validate import CSV, Settings

DEFAULT_EPOCHS = 100  # exported before any training: the CLI's default


def run_config(settings: Settings, epochs: int, upload=None) -> RunConfig:
    """The RunConfig of `settings` trained for `epochs` (an `Upload` for CSV data)."""
    if settings.dataset == CSV:
        data = DataConfig(
            dataset=CSV,
            csv=upload.name,
            target=upload.target,
            data_seed=settings.data_seed,
            test_size=settings.test_size,
        )
    else:
        data = DataConfig(
            dataset=settings.dataset,
            n_samples=settings.n_points,
            noise=settings.noise,
            data_seed=settings.data_seed,
            test_size=settings.test_size,
        )
    model = ModelConfig(
        hidden=settings.hidden,
        activation=settings.activation,
        dropout=settings.dropout,
        batch_norm=settings.batch_norm,
    )
    train = TrainConfig(
        optimizer=settings.optimizer,
        lr=settings.lr,
        weight_decay=settings.weight_decay,
        batch_size=settings.batch_size,
        epochs=epochs if epochs > 0 else DEFAULT_EPOCHS,
        seed=settings.seed,
    )
    return RunConfig(data=data, model=model, train=train)


def train_command(config: RunConfig) -> str:
    """`whydl train ...` with every flag that `config` sets, shell-quoted."""
    d, m, t = config.data, config.model, config.train
    if d.csv is not None:
        args = ["--data", d.csv, "--target", d.target]
    else:
        args = ["--dataset", d.dataset, "--n", d.n_samples, "--noise", d.noise]
    args += ["--data-seed", d.data_seed, "--test-size", d.test_size]
    args += ["--hidden", ",".join(str(h) for h in m.hidden), "--activation", m.activation]
    args += ["--dropout", m.dropout] + (["--batch-norm"] if m.batch_norm else [])
    args += ["--optimizer", t.optimizer, "--lr", t.lr, "--weight-decay", t.weight_decay]
    args += ["--batch-size", t.batch_size, "--epochs", t.epochs, "--seed", t.seed]
    return shlex.join(["whydl", "train", *(str(a) for a in args)])
