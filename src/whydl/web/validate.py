"""The playground's settings: one frozen dataclass, its bounds, and the checks on user input.

Everything a browser sends goes through `parse_settings` before it reaches the engine, and
every refusal is one `WhydlError` saying what was passed, what is allowed and an example,
so the page can show it as it is. Values are only compared and stored: none is ever run,
formatted into HTML or used as a path.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from whydl.config import ACTIVATION_NAMES, OPTIMIZER_NAMES
from whydl.errors import WhydlError

DATASETS = ("moons", "circles", "xor", "gaussians", "spiral", "checkerboard")
CSV = "csv"  # the dataset name of an uploaded file
MAX_LAYERS, MAX_NEURONS = 8, 64
MIN_POINTS, MAX_POINTS = 20, 10_000
MAX_CSV_BYTES, MAX_CSV_ROWS = 2_000_000, 10_000
MAX_CLASSES = 8  # the page has eight colour-blind-safe class colours
MAX_SEED = 2**31 - 1

# name -> (low, high), both inclusive
BOUNDS = {
    "noise": (0.0, 1.0),
    "n_points": (MIN_POINTS, MAX_POINTS),
    "train_ratio": (0.1, 0.9),
    "data_seed": (0, MAX_SEED),
    "dropout": (0.0, 0.9),
    "lr": (1e-5, 10.0),
    "batch_size": (0, MAX_POINTS),  # 0: the whole training split in one batch
    "weight_decay": (0.0, 10.0),
    "seed": (0, MAX_SEED),
}
CHOICES = {
    "dataset": (*DATASETS, CSV),
    "activation": ACTIVATION_NAMES,
    "optimizer": OPTIMIZER_NAMES,
}


@dataclass(frozen=True)
class Settings:
    """Everything that determines a playground run. Defaults: the article's experiment."""

    dataset: str = "moons"
    noise: float = 0.1
    n_points: int = 1000
    train_ratio: float = 0.7
    data_seed: int = 42
    hidden: tuple[int, ...] = (10, 10)
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    optimizer: str = "adam"
    lr: float = 0.01
    batch_size: int = 32
    weight_decay: float = 0.0
    seed: int = 0

    @property
    def data_key(self) -> tuple:
        """The fields that determine the data: the dataset is rebuilt only when they change."""
        return (self.dataset, self.noise, self.n_points, self.train_ratio, self.data_seed)

    @property
    def test_size(self) -> float:
        """The held-out fraction, rounded so 1 - 0.7 reads 0.3 in exports."""
        return round(1.0 - self.train_ratio, 6)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def options() -> dict:
    """What the page needs to build its controls: defaults, bounds and choices."""
    return {
        "defaults": Settings().to_dict(),
        "bounds": {k: list(v) for k, v in BOUNDS.items()},
        "choices": {k: list(v) for k, v in CHOICES.items()},
        "max_layers": MAX_LAYERS,
        "max_neurons": MAX_NEURONS,
        "max_csv_bytes": MAX_CSV_BYTES,
        "max_csv_rows": MAX_CSV_ROWS,
        "max_classes": MAX_CLASSES,
    }


def parse_settings(raw) -> Settings:
    """Check a dict from the page field by field; missing fields take their defaults.

    Example
    -------
    >>> parse_settings({"hidden": [4, 4], "lr": 0.03}).hidden
    (4, 4)
    >>> parse_settings({"lr": 50})
    Traceback (most recent call last):
    ...
    whydl.errors.WhydlError: lr=50 is out of range: expected a number from 1e-05 to 10, e.g. 0.01.
    """
    if not isinstance(raw, dict):
        raise WhydlError(f"settings must be an object of name: value pairs, got {_show(raw)}.")
    known = [f.name for f in fields(Settings)]
    unknown = sorted(_show(k) for k in raw if k not in known)[:5]
    if unknown:
        raise WhydlError(
            f"unknown setting(s) [{', '.join(unknown)}]. Known settings: {', '.join(known)}."
        )
    defaults = Settings()
    values = {}
    for f in fields(Settings):
        if f.name not in raw:
            continue
        value, default = raw[f.name], getattr(defaults, f.name)
        if f.name in CHOICES:
            values[f.name] = _choice(f.name, value)
        elif f.name == "hidden":
            values[f.name] = _hidden(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise WhydlError(f"{f.name}={_show(value)} must be true or false.")
            values[f.name] = value
        else:
            values[f.name] = _number(f.name, value, default)
    settings = Settings(**values)
    if settings.batch_norm and settings.batch_size == 1:
        raise WhydlError(
            "batch_norm with batch_size=1 cannot work: batch norm normalises over a batch and "
            "needs at least 2 samples. Use batch_size >= 2 or turn batch norm off."
        )
    return settings


def check_upload(name, text) -> None:
    """Bounds on an uploaded CSV before it is parsed: type, size and row count."""
    if not isinstance(name, str) or not isinstance(text, str):
        raise WhydlError("the upload must carry a file name and the file's text.")
    size = len(text.encode("utf-8"))
    if size > MAX_CSV_BYTES:
        raise WhydlError(
            f"{safe_file_name(name)} is {size / 1e6:.1f} MB; the playground takes CSV files up to "
            f"{MAX_CSV_BYTES / 1e6:g} MB. Sample fewer rows (at most {MAX_CSV_ROWS:,})."
        )
    rows = sum(1 for line in text.splitlines() if line.strip()) - 1  # minus the header
    if rows > MAX_CSV_ROWS:
        raise WhydlError(
            f"{safe_file_name(name)} has {rows:,} rows; the playground takes at most "
            f"{MAX_CSV_ROWS:,}. Sample fewer rows."
        )


def safe_file_name(name) -> str:
    """The uploaded file's name reduced to letters, digits, '-', '_' and '.', ending in .csv:
    it names a file in a private temporary folder and appears in messages."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    stem = base[:-4] if base.lower().endswith(".csv") else base
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip(".")[:60]
    return (stem or "upload") + ".csv"


def _show(value) -> str:
    """A user value for a message: repr, cut short so a huge value cannot flood the page."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _choice(name: str, value) -> str:
    if not isinstance(value, str) or value not in CHOICES[name]:
        raise WhydlError(
            f"{name}={_show(value)} is not valid. Expected one of: {', '.join(CHOICES[name])}."
        )
    return value


def _hidden(value) -> tuple[int, ...]:
    example = "e.g. [10, 10]"
    if not isinstance(value, list | tuple) or not all(_is_int(v) for v in value):
        raise WhydlError(f"hidden={_show(value)} must be a list of layer widths, {example}.")
    if len(value) > MAX_LAYERS:
        raise WhydlError(
            f"hidden has {len(value)} layers; the playground allows at most {MAX_LAYERS}. "
            "Remove a layer."
        )
    for i, width in enumerate(value, start=1):
        if not 1 <= width <= MAX_NEURONS:
            raise WhydlError(
                f"hidden layer {i} has {int(width)} neurons; expected 1 to {MAX_NEURONS}, "
                f"{example}."
            )
    return tuple(int(v) for v in value)


def _is_int(v) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer()
    )


def _number(name: str, value, default):
    lo, hi = BOUNDS[name]
    integer = isinstance(default, int)
    kind = "an integer" if integer else "a number"
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if not numeric or not math.isfinite(value) or (integer and not _is_int(value)):
        raise WhydlError(f"{name}={_show(value)} is not {kind}. Expected e.g. {default}.")
    if not lo <= value <= hi:
        show = (lambda v: str(int(v))) if integer else "{:g}".format
        raise WhydlError(
            f"{name}={show(value)} is out of range: expected {kind} from {show(lo)} to "
            f"{show(hi)}, e.g. {show(default)}."
        )
    return int(value) if integer else float(value)
