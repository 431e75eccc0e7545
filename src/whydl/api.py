"""The Python API, mirroring the CLI: `train(...)` returns a `TrainResult`.

Example
-------
>>> import whydl
>>> result = whydl.train("moons", hidden=(10, 10), optimizer="adam", lr=0.01, epochs=5, seeds=3)
>>> round(result.metrics["test_accuracy"], 2) > 0.5
True
"""

from __future__ import annotations

import dataclasses
import os

from whydl.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from whydl.data import Dataset
from whydl.engine import fit as engine_fit
from whydl.result import TrainResult, load_data

__all__ = ["TrainResult", "load_data", "run", "train"]


def run(config: RunConfig, dataset: Dataset | None = None, progress=None) -> TrainResult:
    """Train the members a `RunConfig` describes (the data is loaded unless given)."""
    dataset = load_data(config.data) if dataset is None else dataset
    return TrainResult(config, dataset, engine_fit(dataset, config.model, config.train, progress))


def train(
    data="moons",
    *,
    target: str | None = None,
    n_samples: int | None = None,
    noise: float | None = None,
    data_seed: int = 42,
    test_size: float = 0.3,
    n_classes: int | None = None,
    architecture: str = "mlp",
    hidden=None,
    activation: str | None = None,
    dropout: float | None = None,
    batch_norm: bool | None = None,
    residual: bool | None = None,
    init: str = "default",
    task: str | None = None,
    optimizer: str = "adam",
    lr: float = 0.01,
    momentum: float | None = None,
    weight_decay: float = 0.0,
    batch_size: int = 32,
    epochs: int = 100,
    early_stopping: bool = False,
    patience: int | None = None,
    seed: int = 0,
    seeds: int = 1,
    device: str = "cpu",
    progress=None,
) -> TrainResult:
    """Train `seeds` members at once and return a `TrainResult`.

    `data` is a dataset name ("moons", "spiral", "digits", ...), a path to a CSV file (with
    `target=`), or a `Dataset`. The defaults are the article's experiment. An option left
    at None takes its default where it applies (n_samples 1000, momentum 0.9, patience 10,
    hidden (10, 10), ...); one given where it does not apply (noise on digits, momentum
    with Adam) raises a `WhydlError`.

    Example
    -------
    >>> import torch
    >>> r = train("moons", hidden=(10, 10), optimizer="adam", lr=0.01, epochs=3, seeds=2)
    >>> r.member(0)(torch.zeros(1, 2)).shape
    torch.Size([1, 1])
    """
    given = {k: v for k, v in locals().items() if v is not None and k not in ("data", "progress")}
    dataset = data if isinstance(data, Dataset) else None
    is_csv = isinstance(data, str | os.PathLike) and str(data).lower().endswith(".csv")
    sections = {
        "data": {
            "dataset": dataset.name if dataset is not None else ("csv" if is_csv else str(data)),
            "csv": str(data) if is_csv else None,
        },
        "model": {},
        "train": {"n_seeds": seeds},
    }
    owner = {
        **dict.fromkeys(_field_names(DataConfig), "data"),
        **dict.fromkeys(_field_names(ModelConfig), "model"),
        **dict.fromkeys(_field_names(TrainConfig), "train"),
    }
    for key, value in given.items():
        if key in owner:
            sections[owner[key]][key] = tuple(value) if key == "hidden" else value
    config = RunConfig().replace(**sections)
    config.check_used(
        {f"{owner[k]}.{k}" for k in given if k in owner}, name_of=lambda k: k.split(".")[1]
    )
    return run(config, dataset, progress)


def _field_names(klass) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(klass))
