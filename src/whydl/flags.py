"""The options of `whydl train` and `whydl demo` as argparse flags, and the config they build.

Help texts take their defaults from the config dataclasses, so help and behaviour cannot
disagree. `config_from_args` merges flags over a config file over the defaults, and refuses
an option the run would ignore (noise on digits, momentum with Adam).
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from whydl.config import (
    ACTIVATION_NAMES,
    ARCHITECTURES,
    DEVICE_NAMES,
    INIT_NAMES,
    OPTIMIZER_NAMES,
    TASK_NAMES,
    DataConfig,
    ModelConfig,
    TrainConfig,
)
from whydl.data import DATASETS

_CONFIGS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


class UsageError(Exception):
    """A command line that cannot run: one line, exit 2."""


def _default(section: str, name: str) -> str:
    """'(default X)' from the config dataclass, so help and behaviour cannot disagree."""
    value = next(f.default for f in fields(_CONFIGS[section]) if f.name == name)
    if isinstance(value, tuple):
        value = ",".join(map(str, value))
    return f"(default {value})"


def parse_widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip() != "")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 10,10, got {text!r}"
        ) from None
    return widths


def parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"expected a port number 0..65535 (0 = any free port), got {text!r}"
        )
    return port


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Flags shared by `train` (all) and `demo` (seeds, device, out)."""
    d = p.add_argument_group("data")
    # validated by `load_dataset` (with a did-you-mean), so its message is the API's too
    d.add_argument(
        "--dataset",
        metavar="NAME",
        help=f"a generated or bundled dataset: {', '.join(DATASETS)} "
        + _default("data", "dataset"),
    )
    d.add_argument("--data", metavar="FILE.csv", help="your own CSV file (use with --target)")
    d.add_argument("--target", metavar="COLUMN", help="the CSV column to predict")
    d.add_argument(
        "--n",
        "--n-samples",
        dest="n_samples",
        type=int,
        metavar="N",
        help="points of a generated dataset " + _default("data", "n_samples"),
    )
    d.add_argument(
        "--noise", type=float, help="noise level of a generated dataset (default 0.1; teacher 0)"
    )
    d.add_argument(
        "--data-seed",
        type=int,
        metavar="SEED",
        help="seed of data generation and split " + _default("data", "data_seed"),
    )
    d.add_argument(
        "--test-size",
        type=float,
        metavar="FRACTION",
        help="fraction held out for testing " + _default("data", "test_size"),
    )
    d.add_argument(
        "--n-classes",
        type=int,
        metavar="K",
        help="classes of gaussians / arms of spiral (default 3 / 2)",
    )
    m = p.add_argument_group("model")
    m.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        help="an MLP, or the small CNN for 8x8 images " + _default("model", "architecture"),
    )
    m.add_argument(
        "--hidden",
        type=parse_widths,
        metavar="W1,W2,...",
        help="hidden layer widths " + _default("model", "hidden"),
    )
    m.add_argument("--activation", choices=ACTIVATION_NAMES, help=_default("model", "activation"))
    m.add_argument(
        "--dropout",
        type=float,
        metavar="P",
        help="dropout probability " + _default("model", "dropout"),
    )
    m.add_argument(
        "--batch-norm",
        action="store_true",
        default=None,
        help="batch norm after each hidden layer (default off)",
    )
    m.add_argument(
        "--residual",
        action="store_true",
        default=None,
        help="skip connections between equal-width layers (default off)",
    )
    m.add_argument("--init", choices=INIT_NAMES, help=_default("model", "init"))
    t = p.add_argument_group("training")
    t.add_argument(
        "--task",
        choices=TASK_NAMES,
        help="override the task inferred from the data (default inferred)",
    )
    t.add_argument("--optimizer", choices=OPTIMIZER_NAMES, help=_default("train", "optimizer"))
    t.add_argument("--lr", type=float, help="learning rate " + _default("train", "lr"))
    t.add_argument(
        "--momentum",
        type=float,
        help="for optimizer momentum/nesterov only " + _default("train", "momentum"),
    )
    t.add_argument(
        "--weight-decay",
        type=float,
        metavar="L2",
        help="L2 penalty; decoupled for adamw " + _default("train", "weight_decay"),
    )
    t.add_argument(
        "--batch-size",
        type=int,
        metavar="N",
        help="minibatch size, 0 = full batch " + _default("train", "batch_size"),
    )
    t.add_argument(
        "--epochs", type=int, help="passes over the training data " + _default("train", "epochs")
    )
    t.add_argument(
        "--early-stopping",
        action="store_true",
        default=None,
        help="stop on validation loss (10%% of the training split held out; default off)",
    )
    t.add_argument(
        "--patience",
        type=int,
        help="with --early-stopping: epochs without improvement " + _default("train", "patience"),
    )
    add_common(p)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seeds",
        type=int,
        dest="n_seeds",
        metavar="N",
        help="members trained at once " + _default("train", "n_seeds"),
    )
    p.add_argument("--seed", type=int, help="seed of the first member " + _default("train", "seed"))
    p.add_argument(
        "--device", choices=DEVICE_NAMES, help="where to train " + _default("train", "device")
    )
    p.add_argument("--out", metavar="DIR", help="output directory")


# flag name -> (config section, field)
_FIELDS = {
    "dataset": ("data", "dataset"),
    "n_samples": ("data", "n_samples"),
    "noise": ("data", "noise"),
    "data_seed": ("data", "data_seed"),
    "test_size": ("data", "test_size"),
    "n_classes": ("data", "n_classes"),
    "data": ("data", "csv"),
    "target": ("data", "target"),
    "architecture": ("model", "architecture"),
    "hidden": ("model", "hidden"),
    "activation": ("model", "activation"),
    "dropout": ("model", "dropout"),
    "batch_norm": ("model", "batch_norm"),
    "residual": ("model", "residual"),
    "init": ("model", "init"),
    "task": ("train", "task"),
    "optimizer": ("train", "optimizer"),
    "lr": ("train", "lr"),
    "momentum": ("train", "momentum"),
    "weight_decay": ("train", "weight_decay"),
    "batch_size": ("train", "batch_size"),
    "epochs": ("train", "epochs"),
    "early_stopping": ("train", "early_stopping"),
    "patience": ("train", "patience"),
    "n_seeds": ("train", "n_seeds"),
    "seed": ("train", "seed"),
    "device": ("train", "device"),
}


def _flag(field: str) -> str:
    """The flag a config field is set by: ("data", "csv") -> --data."""
    name = next(f for f, (_, key) in _FIELDS.items() if key == field)
    return {"n_samples": "--n", "n_seeds": "--seeds", "data": "--data"}.get(
        name, "--" + name.replace("_", "-")
    )


def config_from_args(args, base=None, file_keys=frozenset(), source: str = ""):
    """Flags override the config file, which overrides the defaults. An option the run would
    ignore (noise on digits, momentum with Adam) is refused, whichever of the two set it."""
    from whydl.config import RunConfig

    config = base if base is not None else RunConfig()
    changes: dict[str, dict] = {"data": {}, "model": {}, "train": {}}
    flags = set()
    for flag, (section, field) in _FIELDS.items():
        value = getattr(args, flag, None)
        if value is not None:
            changes[section][field] = value
            flags.add(f"{section}.{field}")
    if getattr(args, "data", None) and getattr(args, "dataset", None):
        raise UsageError("whydl train: use either --dataset NAME or --data FILE.csv, not both.")
    if getattr(args, "data", None):
        changes["data"]["dataset"] = "csv"
    elif getattr(args, "dataset", None):
        changes["data"]["csv"] = changes["data"]["target"] = None  # a flag beats the file's CSV
    if getattr(args, "target", None) and not getattr(args, "data", None) and not config.data.csv:
        raise UsageError("whydl train: --target needs --data FILE.csv (your own CSV file).")
    config = config.replace(**changes)

    def name_of(key: str) -> str:
        section, field = key.split(".")
        return _flag(field) if key in flags else f"{source}: [{section}] {field}"

    config.check_used(flags | set(file_keys), name_of)
    return config
