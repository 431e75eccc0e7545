"""Frozen configs, one per concern, with best-practice defaults and validation.

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

from whydl.data.bundled import BUNDLED
from whydl.data.synthetic import GENERATORS
from whydl.errors import WhydlError, did_you_mean

ARCHITECTURES = ("mlp", "cnn")
ACTIVATION_NAMES = ("relu", "tanh", "sigmoid", "gelu", "linear")
INIT_NAMES = ("default", "xavier", "he", "small")
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
TASK_NAMES = ("binary", "multiclass", "regression")
DEVICE_NAMES = ("auto", "cpu", "cuda")
MAX_SEEDS = 1000
MAX_WEIGHT_DECAY = 10.0  # a larger L2 penalty only zeroes the weights (and 1e38 overflows)
MOMENTUM_OPTIMIZERS = ("momentum", "nesterov")
N_CLASSES_DATASETS = ("gaussians", "spiral")
# a config key spelt like its CLI flag (--seeds, --n) means the field the flag sets
FLAG_SPELLINGS = {"seeds": "n_seeds", "n": "n_samples", "data": "csv"}


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise WhydlError(message)


def _choice(name: str, value, choices) -> None:
    _check(
        value in choices, f"{name}={value!r} is not valid. Expected one of: {', '.join(choices)}."
    )


def _check_type(where: str, value, annotation: str) -> None:
    """Config files are user input: check each value's type against the field's annotation."""
    if value is None and "None" in annotation:
        return
    base = annotation.split("|")[0].strip()
    ok = {
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "tuple[int, ...]": lambda v: (
            isinstance(v, list | tuple)
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
        ),
    }[base](value)
    names = {"tuple[int, ...]": "a list of integers, e.g. [10, 10]", "str": "a string"}
    expected = names.get(base, f"a value of type {base}")
    _check(ok, f"{where} = {value!r}: expected {expected}. Fix the value in the config file.")


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


def _type_of(klass, name: str) -> str:
    return next((str(f.type) for f in fields(klass) if f.name == name), "")


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

    dataset: str = "moons"
    n_samples: int = 1000
    noise: float | None = None  # None: the dataset's default (0.1 for the 2-D sets)
    data_seed: int = 42  # seeds generation and the train/test split (the article's 42)
    test_size: float = 0.3
    n_classes: int | None = None  # gaussians and spiral only
    csv: str | None = None
    target: str | None = None

    def __post_init__(self):
        if self.csv is not None:
            _check(
                bool(self.target), f"csv={self.csv!r} needs a target column: add --target COLUMN."
            )
        _check(
            0.0 < self.test_size < 1.0, f"test_size={self.test_size} must be in (0, 1), e.g. 0.3."
        )


@dataclass(frozen=True)
class ModelConfig:
    """The network: an MLP with its options, or the small CNN for 8x8 images."""

    architecture: str = "mlp"
    hidden: tuple[int, ...] = (10, 10)
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    residual: bool = False
    init: str = "default"

    def __post_init__(self):
        _choice("architecture", self.architecture, ARCHITECTURES)
        _choice("activation", self.activation, ACTIVATION_NAMES)
        _choice("init", self.init, INIT_NAMES)
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        _check(
            all(1 <= h <= 100_000 for h in self.hidden) and len(self.hidden) <= 100,
            f"hidden={self.hidden} is not valid. Expected up to 100 layer widths, each 1..100000, "
            "e.g. --hidden 10,10.",
        )
        _check(0.0 <= self.dropout < 1.0, f"dropout={self.dropout} must be in [0, 1), e.g. 0.2.")


@dataclass(frozen=True)
class TrainConfig:
    """How to train: task, optimiser, schedule, seeds and device."""

    task: str | None = None  # None: inferred from the data
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 32  # 0: full batch
    epochs: int = 100
    early_stopping: bool = False
    patience: int = 10
    validation_fraction: float = 0.1  # carved from the training split when early stopping
    seed: int = 0  # first member's seed; members use seed, seed+1, ...
    n_seeds: int = 1
    device: str = "cpu"

    def __post_init__(self):
        if self.task is not None:
            _choice("task", self.task, TASK_NAMES)
        _choice("optimizer", self.optimizer, OPTIMIZER_NAMES)
        _choice("device", self.device, DEVICE_NAMES)
        _check(0 < self.lr <= 100, f"lr={self.lr} must be in (0, 100], e.g. 0.01.")
        _check(0 <= self.momentum < 1, f"momentum={self.momentum} must be in [0, 1), e.g. 0.9.")
        _check(
            0 <= self.weight_decay <= MAX_WEIGHT_DECAY,
            f"weight_decay={self.weight_decay} must be in [0, {MAX_WEIGHT_DECAY:g}], e.g. 1e-4.",
        )
        _check(self.batch_size >= 0, f"batch_size={self.batch_size} must be >= 1 (0 = full batch).")
        _check(1 <= self.epochs <= 100_000, f"epochs={self.epochs} must be in 1..100000.")
        _check(self.patience >= 1, f"patience={self.patience} must be >= 1, e.g. 10.")
        _check(
            0 < self.validation_fraction < 0.5,
            f"validation_fraction={self.validation_fraction} must be in (0, 0.5), e.g. 0.1.",
        )
        _check(
            1 <= self.n_seeds <= MAX_SEEDS,
            f"n_seeds={self.n_seeds} must be in 1..{MAX_SEEDS}, e.g. --seeds 30.",
        )
        _check(self.seed >= 0, f"seed={self.seed} must be >= 0.")

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed, self.seed + self.n_seeds))


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
        """A stable 16-hex-digit key over every field (seeds included)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict, source: str = "config") -> RunConfig:
        if not isinstance(d, dict):
            raise WhydlError(f"{source}: expected a table with [data], [model], [train] sections.")
        parts = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
        unknown = set(d) - set(parts)
        hint = did_you_mean(sorted(unknown)[0], parts) if unknown else ""
        _check(
            not unknown,
            f"{source}: unknown section(s) {sorted(unknown)}.{hint} Expected: data, model, train.",
        )
        built = {}
        for key, klass in parts.items():
            section = d.get(key, {}) or {}
            _check(isinstance(section, dict), f"{source}: [{key}] must be a table.")
            valid = {f.name for f in fields(klass)}
            bad = set(section) - valid
            first = sorted(bad)[0] if bad else ""
            alias = FLAG_SPELLINGS.get(first)
            hint = f" Did you mean {alias!r}?" if alias in valid else did_you_mean(first, valid)
            _check(
                not bad,
                f"{source}: unknown key(s) {sorted(bad)} in [{key}].{hint} "
                f"Valid keys: {', '.join(sorted(valid))}.",
            )
            # None means "not used" in a saved config.json: read it back as the default
            section = {
                k: v
                for k, v in section.items()
                if not (v is None and "None" not in _type_of(klass, k))
            }
            for f in fields(klass):
                if f.name in section:
                    _check_type(f"{source}: [{key}] {f.name}", section[f.name], f.type)
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
        parts = {k: getattr(self, k) for k in ("data", "model", "train")}
        for key, changes in sections.items():
            parts[key] = dataclasses.replace(parts[key], **changes)
        return RunConfig(**parts)
