"""Frozen configs, one per concern, with best-practice defaults and validation.

Each field owns its `Option` (help, bounds, choices, flag): the checks here, the flags of
`whydl train`, the keywords of `whydl.train()` and the playground's limits derive from it.

Every output directory stores `config.json` (from `RunConfig.to_dict`); `RunConfig.hash`
gives a stable key for caching. Invalid values raise `WhydlError` saying how to fix them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

# the option machinery, re-exported: `from whydl.config import Bounds, option_of` as before
from whydl.config.option import (  # noqa: F401
    SEED,
    Bounds,
    Option,
    _check,
    _check_type,
    _validate,
    option,
    option_of,
    show_value,
)
from whydl.data import DATASETS, MAX_SAMPLES
from whydl.data.bundled import BUNDLED
from whydl.data.features import FEATURE_NAMES
from whydl.data.synthetic import GENERATORS
from whydl.errors import WhydlError, did_you_mean

ARCHITECTURES = ("mlp", "cnn")
ACTIVATION_NAMES = ("relu", "tanh", "sigmoid", "gelu", "linear")
INIT_NAMES = ("default", "xavier", "he", "small")
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
TASK_NAMES = ("binary", "multiclass", "regression")
DEVICE_NAMES = ("auto", "cpu", "cuda")
MAX_SEEDS = 10_000
MAX_WEIGHT_DECAY = 10.0  # a larger L2 penalty only zeroes the weights (and 1e38 overflows)
MAX_LAYERS, MAX_WIDTH = 100, 100_000
MOMENTUM_OPTIMIZERS = ("momentum", "nesterov")
N_CLASSES_DATASETS = ("gaussians", "spiral")
ONE_D_OR_HIGH = ("sine", "teacher")  # generated, but not the two inputs features are made of


def article_config() -> RunConfig:
    """The article's experiment, defined once: sklearn's two moons (1,000 points, noise 0.1,
    seed 42, 70/30 split), a 2-10-10-1 ReLU network, Adam at lr 0.01, binary cross-entropy,
    100 epochs at batch 32. Every default of the configs is the article's value.

    Example
    -------
    >>> article_config().model.hidden
    (10, 10)
    """
    return RunConfig(data=DataConfig(dataset="moons", n_samples=1000, noise=0.1))


def read_toml(path) -> dict:
    """A config file's tables, or a `WhydlError` saying what is wrong with the file."""
    path = Path(path)
    _check(path.is_file(), f"Config file {str(path)!r} not found. Pass an existing .toml file.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise WhydlError(f"{path}: not valid TOML ({e}). Fix the syntax and retry.") from None
    except OSError as e:
        raise WhydlError(f"Config file {str(path)!r} cannot be read ({e.strerror}).") from None


def given_keys(d: dict) -> set[str]:
    """The "section.field" keys a config file sets (to refuse those a run would ignore)."""
    return {
        f"{section}.{key}"
        for section, table in d.items()
        if isinstance(table, dict)
        for key, value in table.items()
        if value is not None
    }


@dataclass(frozen=True)
class DataConfig:
    """Which data: a named dataset, or a CSV file with a target column."""

    # fmt: off
    # a free name rather than choices: `load_dataset` checks it, with a did-you-mean
    dataset: str = option("moons", f"a generated or bundled dataset: {', '.join(DATASETS)}",
                          metavar="NAME")
    n_samples: int = option(1000, "points of a generated dataset", Bounds(4, MAX_SAMPLES),
                            flags=("--n", "--n-samples"), metavar="N")
    noise: float | None = option(None, "noise level of a generated dataset", Bounds(0.0, 10.0),
                                 example=0.1, default_text="0.1; teacher 0")
    data_seed: int = option(42, "seed of data generation and split", SEED, metavar="SEED")
    test_size: float = option(0.3, "fraction held out for testing", Bounds(0.0, 1.0, True, True),
                              metavar="FRACTION")
    n_classes: int | None = option(None, "classes of gaussians / arms of spiral", Bounds(2, 10),
                                   example=3, default_text="3 / 2", metavar="K")
    csv: str | None = option(None, "your own CSV file (use with --target)", flags=("--data",),
                             metavar="FILE.csv")
    target: str | None = option(None, "the CSV column to predict", metavar="COLUMN")
    features: tuple[str, ...] | None = option(
        None, f"the network's inputs, made from 2-D data's x1, x2: {', '.join(FEATURE_NAMES)}",
        choices=FEATURE_NAMES, example="x1,x2,x1sq,x2sq", default_text="x1,x2, the inputs",
        metavar="F1,F2,...")
    # fmt: on

    def __post_init__(self):
        if isinstance(self.features, str):  # "x1,x2" from the API, as on the command line
            object.__setattr__(self, "features", tuple(self.features.split(",")))
        if isinstance(self.features, list):
            object.__setattr__(self, "features", tuple(self.features))
        _validate(self)
        if self.features is not None:
            bad = [f for f in self.features if f not in FEATURE_NAMES]
            repeated = sorted({f for f in self.features if self.features.count(f) > 1})
            _check(
                bool(self.features) and not bad and not repeated,
                f"features={','.join(map(str, self.features)) or '(none)'} is not valid: expected "
                f"one or more of {', '.join(FEATURE_NAMES)}, each once, e.g. --features "
                f"x1,x2,x1sq,x2sq.{did_you_mean(bad[0], FEATURE_NAMES) if bad else ''}",
            )
        missing = f"csv={self.csv!r} needs a target column: add --target COLUMN."
        _check(self.csv is None or bool(self.target), missing)


@dataclass(frozen=True)
class ModelConfig:
    """The network: an MLP with its options, or the small CNN for 8x8 images."""

    # fmt: off
    architecture: str = option("mlp", "an MLP, or the small CNN for 8x8 images",
                               choices=ARCHITECTURES)
    hidden: tuple[int, ...] = option((10, 10), "hidden layer widths", Bounds(1, MAX_WIDTH),
                                     metavar="W1,W2,...")
    activation: str = option("relu", "activation of the hidden layers", choices=ACTIVATION_NAMES)
    dropout: float = option(0.0, "dropout probability", Bounds(0.0, 1.0, high_open=True),
                            example=0.2, metavar="P")
    batch_norm: bool = option(False, "batch norm after each hidden layer")
    residual: bool = option(False, "skip connections between equal-width layers")
    init: str = option("default", "weight initialisation", choices=INIT_NAMES)
    # fmt: on

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        _validate(self)
        widths = option_of(next(f for f in fields(self) if f.name == "hidden")).bounds
        _check(
            all(h in widths for h in self.hidden) and len(self.hidden) <= MAX_LAYERS,
            f"hidden={self.hidden} is not valid. Expected up to {MAX_LAYERS} layer widths, each "
            f"{widths.describe()}, e.g. --hidden 10,10.",
        )


@dataclass(frozen=True)
class TrainConfig:
    """How to train: task, optimiser, schedule, seeds and device."""

    # fmt: off
    task: str | None = option(None, "override the task inferred from the data",
                              choices=TASK_NAMES, default_text="inferred")
    optimizer: str = option("adam", "the optimiser", choices=OPTIMIZER_NAMES)
    lr: float = option(0.01, "learning rate", Bounds(0.0, 100.0, low_open=True))
    momentum: float = option(0.9, "for optimizer momentum/nesterov only",
                             Bounds(0.0, 1.0, high_open=True))
    weight_decay: float = option(0.0, "L2 penalty; decoupled for adamw",
                                 Bounds(0.0, MAX_WEIGHT_DECAY), example=1e-4, metavar="L2")
    batch_size: int = option(32, "minibatch size, 0 = full batch", Bounds(0),
                             expected=">= 1 (0 = full batch)", metavar="N")
    epochs: int = option(100, "passes over the training data", Bounds(1, 100_000))
    early_stopping: bool = option(False, "stop on validation loss, holding out "
                                  "--validation-fraction of the training split")
    patience: int = option(10, "with --early-stopping: epochs without improvement", Bounds(1))
    validation_fraction: float = option(0.1, "with --early-stopping: the share of the training "
                                        "split held out", Bounds(0.0, 0.5, True, True),
                                        metavar="FRACTION")
    seed: int = option(0, "seed of the first member; the others count up from it", SEED)
    n_seeds: int = option(1, "members trained at once", Bounds(1, MAX_SEEDS), example=30,
                          flags=("--seeds",), metavar="N")
    device: str = option("cpu", "where to train", choices=DEVICE_NAMES)
    # fmt: on

    def __post_init__(self):
        _validate(self)

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed, self.seed + self.n_seeds))


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
ADDED_FIELDS = (("data", "features"),)  # (section, field) added after keys were first made
# a config key spelt like its CLI flag (--seeds, --n, --data) means the field the flag sets
FLAG_SPELLINGS = {
    option_of(f).flags[0][2:].replace("-", "_"): f.name
    for klass in SECTIONS.values()
    for f in fields(klass)
    if option_of(f).flags
}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's numbers."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def hash(self) -> str:
        """A stable 16-hex-digit key over every field (seeds included). A field added later
        is left out while it holds its default, so the configs of before keep their keys."""
        d = self.to_dict()
        for section, name in ADDED_FIELDS:
            if d[section][name] is None:
                del d[section][name]
        blob = json.dumps(d, sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict, source: str = "config") -> RunConfig:
        if not isinstance(d, dict):
            raise WhydlError(f"{source}: expected a table with [data], [model], [train] sections.")
        unknown = set(d) - set(SECTIONS)
        hint = did_you_mean(sorted(unknown)[0], SECTIONS) if unknown else ""
        _check(
            not unknown,
            f"{source}: unknown section(s) {sorted(unknown)}.{hint} Expected: data, model, train.",
        )
        built = {}
        for key, klass in SECTIONS.items():
            section = d.get(key, {}) or {}
            _check(isinstance(section, dict), f"{source}: [{key}] must be a table.")
            types = {f.name: str(f.type) for f in fields(klass)}
            bad = set(section) - set(types)
            first = sorted(bad)[0] if bad else ""
            alias = FLAG_SPELLINGS.get(first)
            hint = f" Did you mean {alias!r}?" if alias in types else did_you_mean(first, types)
            _check(
                not bad,
                f"{source}: unknown key(s) {sorted(bad)} in [{key}].{hint} "
                f"Valid keys: {', '.join(sorted(types))}.",
            )
            # None means "not used" in a saved config.json: read it back as the default
            section = {k: v for k, v in section.items() if v is not None or "None" in types[k]}
            for name, value in section.items():
                _check_type(f"{source}: [{key}] {name}", value, types[name])
            try:
                built[key] = klass(**section)
            except TypeError as e:
                raise WhydlError(f"{source}: [{key}] {e}") from None
        return cls(**built)

    @classmethod
    def from_toml(cls, path) -> RunConfig:
        return cls.from_dict(read_toml(path), source=str(path))

    def unused(self) -> dict[str, str]:
        """The options this run does not use, as {"section.field": why}: noise on a bundled
        dataset, momentum with Adam, the CNN's MLP options, patience without early stopping.

        Example
        -------
        >>> RunConfig(train=TrainConfig(optimizer="adam")).unused()["train.momentum"]
        "only applies to optimizer 'momentum' or 'nesterov', not 'adam'"
        """
        d, m, t = self.data, self.model, self.train
        why = {}
        if d.csv is not None or d.dataset in BUNDLED:
            source = "your CSV file" if d.csv is not None else f"the bundled dataset {d.dataset!r}"
            for name in ("n_samples", "noise"):
                why[f"data.{name}"] = f"only applies to generated datasets, not {source}"
        if d.dataset not in N_CLASSES_DATASETS or d.csv is not None:
            why["data.n_classes"] = (
                f"only applies to {' and '.join(N_CLASSES_DATASETS)}, not "
                f"{'a CSV file' if d.csv is not None else repr(d.dataset)}"
            )
        if d.csv is None and (d.dataset in BUNDLED or d.dataset in ONE_D_OR_HIGH):
            why["data.features"] = (
                f"only applies to 2-D data (two inputs x1, x2), not {d.dataset!r}"
            )
        if m.architecture == "cnn":
            for name in ("hidden", "activation", "dropout", "batch_norm", "residual"):
                why[f"model.{name}"] = (
                    "only applies to architecture 'mlp' (the CNN's layers are fixed)"
                )
        if t.optimizer not in MOMENTUM_OPTIMIZERS:
            why["train.momentum"] = (
                f"only applies to optimizer 'momentum' or 'nesterov', not {t.optimizer!r}"
            )
        if not t.early_stopping:
            for name in ("patience", "validation_fraction"):
                why[f"train.{name}"] = "only applies with early stopping"
        return why

    def check_used(self, given, name_of=lambda key: key) -> None:
        """Refuse options the user gave (`given`: "section.field" keys) that this run would
        ignore, so nothing is recorded that did not happen. `name_of` spells a key the way
        the user gave it (a flag, or a config-file key)."""
        unused = self.unused()
        ignored = [(name_of(key), unused[key]) for key in sorted(given) if key in unused]
        if len(ignored) == 1:
            ((name, why),) = ignored
            raise WhydlError(f"{name} {why}, so this run would ignore it. Remove {name}.")
        if ignored:
            names = ", ".join(name for name, _ in ignored)
            reasons = "; ".join(f"{name} {why}" for name, why in ignored)
            raise WhydlError(f"this run would ignore {names}: {reasons}. Remove them.")

    def used(self) -> dict:
        """`to_dict()` as the run used it, for config.json: options it ignores are None and a
        generated dataset's default noise is filled in."""
        d = self.to_dict()
        for key in self.unused():
            section, name = key.split(".")
            d[section][name] = None
        data = d["data"]
        if data["noise"] is None and self.data.dataset in GENERATORS and self.data.csv is None:
            data["noise"] = GENERATORS[self.data.dataset][2]
        return d

    def replace(self, **sections) -> RunConfig:
        """New config with some sections' fields replaced: replace(train={"epochs": 5})."""
        parts = {k: getattr(self, k) for k in SECTIONS}
        for key, changes in sections.items():
            parts[key] = dataclasses.replace(parts[key], **changes)
        return RunConfig(**parts)
