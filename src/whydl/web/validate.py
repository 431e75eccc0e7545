"""The playground's settings: one frozen dataclass, its bounds, and the checks on user input.

Everything a browser sends goes through `parse_settings` before it reaches the engine, and
every refusal is one `WhydlError` saying what was passed, what is allowed and an example,
so the page can show it as it is. Values are only compared and stored: none is ever run,
formatted into HTML or used as a path.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from whydl.config import SECTIONS, Bounds, DataConfig, ModelConfig, TrainConfig, option_of
from whydl.config import show_value as _show
from whydl.data.features import FEATURE_NAMES, FEATURES, RAW
from whydl.data.synthetic import GENERATORS
from whydl.errors import WhydlError, did_you_mean
from whydl.links import (
    MAX_LAYERS,
    MAX_NEURONS,
    MAX_PLAYGROUND_SEEDS,
    MAX_POINTS,
    MAX_WORK,  # seeds x points x hidden neurons a tab may take
    MIN_POINTS,
    PLAYGROUND_DATASETS,
    PLAYGROUND_REGRESSION,
    SHARED,  # what A and B share: data, split and member seeds (member i of each: a pair)
)

DATASETS = PLAYGROUND_DATASETS + PLAYGROUND_REGRESSION  # 2-D: drawable
CSV = "csv"  # the dataset name of an uploaded file
MAX_CSV_BYTES, MAX_CSV_ROWS = 2_000_000, 10_000
MAX_CLASSES = 8  # the page has eight colour-blind-safe class colours
MAX_SEEDS = MAX_PLAYGROUND_SEEDS  # members trained at once in one tab
# many seeds may cost a tab at most what its largest single network already may: seeds x
# points x hidden neurons (the largest one-seed setup: 10,000 points x 8 layers x 64)
RENAMED = {"n_points": "n_samples", "train_ratio": "test_size"}  # in links before the rename
_DATA, _MODEL, _TRAIN = DataConfig(), ModelConfig(), TrainConfig()


@dataclass(frozen=True)
class Settings:
    """Everything that determines a playground run, named and defaulted as in the configs
    (the article's experiment)."""

    dataset: str = _DATA.dataset
    noise: float = GENERATORS[_DATA.dataset][2]  # the config's None: the slider needs a number
    n_samples: int = _DATA.n_samples
    test_size: float = _DATA.test_size
    data_seed: int = _DATA.data_seed
    features: tuple[str, ...] = RAW  # the network's inputs (the config's None: x1, x2)
    hidden: tuple[int, ...] = _MODEL.hidden
    activation: str = _MODEL.activation
    dropout: float = _MODEL.dropout
    batch_norm: bool = _MODEL.batch_norm
    optimizer: str = _TRAIN.optimizer
    lr: float = _TRAIN.lr
    batch_size: int = _TRAIN.batch_size
    weight_decay: float = _TRAIN.weight_decay
    seed: int = _TRAIN.seed
    n_seeds: int = _TRAIN.n_seeds  # members trained at once, as one stack

    @property
    def data_key(self) -> tuple:
        """The fields that determine the data: the dataset is rebuilt only when they change."""
        return (self.dataset, self.noise, self.n_samples, self.test_size, self.data_seed)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"], d["features"] = list(self.hidden), list(self.features)
        return d


# each setting's option, from the config field of the same name
OPTIONS = {
    f.name: option_of(f)
    for klass in SECTIONS.values()
    for f in fields(klass)
    if f.name in {s.name for s in fields(Settings)}
}
BOUNDS = {name: o.bounds for name, o in OPTIONS.items() if o.bounds is not None}  # shared
CHOICES = {name: o.choices for name, o in OPTIONS.items() if o.choices}
CHOICES["dataset"] = (*DATASETS, CSV)  # the config takes any name: the page offers these

# the playground's own limits, narrower, checked on top of the shared BOUNDS
LIMITS = {
    "n_samples": Bounds(MIN_POINTS, MAX_POINTS),  # every point is drawn and sent to the page
    "test_size": Bounds(0.1, 0.9),  # keeps both splits non-empty at MIN_POINTS points
    "batch_size": Bounds(0, MAX_POINTS),
    "hidden": Bounds(1, MAX_NEURONS),  # each layer's width
    "n_seeds": Bounds(1, MAX_SEEDS),
}
# the page's slider only; the playground validates noise against the shared BOUNDS["noise"]
SLIDERS = {"noise": Bounds(0.0, 1.0), "test_size": LIMITS["test_size"]}


def _ends(b: Bounds) -> list:
    return [b.low, b.high]


def options() -> dict:
    """What the page needs to build its controls: defaults, bounds and choices."""
    return {
        "defaults": Settings().to_dict(),
        "bounds": {k: _ends(LIMITS.get(k, b)) for k, b in BOUNDS.items()},
        "sliders": {k: _ends(b) for k, b in SLIDERS.items()},
        "choices": {k: list(v) for k, v in CHOICES.items()},
        "max_layers": MAX_LAYERS,
        "max_neurons": MAX_NEURONS,
        "max_csv_bytes": MAX_CSV_BYTES,
        "max_csv_rows": MAX_CSV_ROWS,
        "max_classes": MAX_CLASSES,
        "max_seeds": MAX_SEEDS,
        "feature_labels": {n: FEATURES[n][0].format("", "X1", "X2") for n in FEATURE_NAMES},
    }


def parse_settings(raw) -> Settings:
    """Check a dict from the page field by field; missing fields take their defaults.

    Example
    -------
    >>> parse_settings({"hidden": [4, 4], "lr": 0.03}).hidden
    (4, 4)
    >>> parse_settings({"lr": 500})
    Traceback (most recent call last):
    ...
    whydl.errors.WhydlError: lr=500 must be in (0, 100], e.g. 0.01.
    """
    if not isinstance(raw, dict):
        raise WhydlError(f"settings must be an object of name: value pairs, got {_show(raw)}.")
    known = [f.name for f in fields(Settings)]
    unknown = sorted(_show(k) for k in raw if k not in known)[:5]
    if unknown:
        first = next(k for k in raw if k not in known)
        hint = f" {first!r} is now {RENAMED[first]!r}." if first in RENAMED else ""
        raise WhydlError(
            f"unknown setting(s) [{', '.join(unknown)}].{hint or did_you_mean(first, known)} "
            f"Known settings: {', '.join(known)}."
        )
    defaults = Settings()
    values = {}
    for f in fields(Settings):
        if f.name not in raw:
            continue
        value, default = raw[f.name], getattr(defaults, f.name)
        if f.name == "features":
            values[f.name] = _features(value)
        elif f.name in CHOICES:
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
    if _work(settings) > MAX_WORK:
        most = MAX_WORK // (settings.n_samples * max(sum(settings.hidden), 1))
        raise WhydlError(
            f"n_seeds={settings.n_seeds} with {settings.n_samples:,} points and "
            f"{sum(settings.hidden)} hidden neurons is more work than one tab may take "
            f"(seeds x points x neurons at most {MAX_WORK:,}). Use n_seeds <= {max(most, 1)}, "
            "or fewer points or neurons."
        )
    if settings.batch_norm and settings.batch_size == 1:
        raise WhydlError(
            "batch_norm with batch_size=1 cannot work: batch norm normalises over a batch and "
            "needs at least 2 samples. Use batch_size >= 2 or turn batch norm off."
        )
    return settings


def _work(s: Settings) -> int:
    """What a setup costs a tab: seeds x points x hidden neurons."""
    return s.n_seeds * s.n_samples * max(sum(s.hidden), 1)


def paired(compared: Settings, own: Settings) -> Settings:
    """`compared` on `own`'s data and seeds: the second setup of an A/B comparison."""
    return replace(compared, **{name: getattr(own, name) for name in SHARED})


def check_pair(own: Settings, compared: Settings | None) -> None:
    """Two setups compared in one tab share its work limit."""
    if compared is None:
        return
    work = _work(own) + _work(compared)
    if work > MAX_WORK:
        raise WhydlError(
            f"comparing these two setups is {work:,} units of work (seeds x points x hidden "
            f"neurons, both together), more than one tab may take ({MAX_WORK:,}). Use fewer "
            "seeds, points or neurons, or stop comparing."
        )


def parse_member(value, n_members: int) -> int:
    """The member a `select` command names: an integer from 0 to n_members - 1."""
    if not _is_int(value) or not 0 <= int(value) < n_members:
        raise WhydlError(
            f"member={_show(value)} is not a member of this run: expected an integer from 0 "
            f"to {n_members - 1} (the run trains {n_members} seed(s))."
        )
    return int(value)


def parse_view(command: dict, n_hidden: int) -> dict:
    """What a `view` command changes of what frames show (not of the run): `neurons` (bool:
    are the neuron maps on screen?) and `warp` (0 = off, else the hidden layer 1..n_hidden
    whose warp of the plane is drawn). Only the keys given."""
    unknown = sorted(set(command) - {"type", "neurons", "warp"})
    if unknown:
        raise WhydlError(f"view takes neurons and warp, not {', '.join(map(_show, unknown))}.")
    view = {}
    if "neurons" in command:
        if not isinstance(command["neurons"], bool):
            raise WhydlError(f"neurons={_show(command['neurons'])} must be true or false.")
        view["neurons"] = command["neurons"]
    if "warp" in command:
        warp = command["warp"]
        if not _is_int(warp) or not 0 <= int(warp) <= n_hidden:
            raise WhydlError(
                f"warp={_show(warp)} is not a hidden layer of this network: expected 0 (off) "
                f"to {n_hidden}."
            )
        view["warp"] = int(warp)
    return view


MAX_WEIGHT = 100.0  # an edited weight's largest magnitude


def parse_weight_edit(command: dict, widths: list[int]) -> tuple[int, int, int, float]:
    """(layer, out, in, value) of a `set_weight` command, checked against the network's
    `widths` (inputs, hidden layers, outputs): layer 0 is the inputs' links."""
    layer = command.get("layer")
    if not _is_int(layer) or not 0 <= int(layer) < len(widths) - 1:
        raise WhydlError(
            f"layer={_show(layer)} is not a layer of links: expected 0 to {len(widths) - 2}."
        )
    layer = int(layer)
    for key, size in (("out", widths[layer + 1]), ("in", widths[layer])):
        v = command.get(key)
        if not _is_int(v) or not 0 <= int(v) < size:
            raise WhydlError(
                f"{key}={_show(v)} is not a neuron of layer {layer}'s links: expected 0 to "
                f"{size - 1}."
            )
    value = command.get("value")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if not numeric or not math.isfinite(value) or abs(value) > MAX_WEIGHT:
        raise WhydlError(
            f"value={_show(value)} is not a weight the playground sets: expected a number "
            f"from -{MAX_WEIGHT:g} to {MAX_WEIGHT:g}, e.g. 0.5."
        )
    return layer, int(command["out"]), int(command["in"]), float(value)


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


def _choice(name: str, value) -> str:
    """One of CHOICES[name], checked by the config's option (so with its message)."""
    replace(OPTIONS[name], choices=CHOICES[name]).check(name, value)
    return value


def _features(value) -> tuple[str, ...]:
    """The network's inputs: one or more of FEATURE_NAMES, each once (in the page's order)."""
    names = ", ".join(FEATURE_NAMES)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise WhydlError(f"features={_show(value)} must be a list of feature names from {names}.")
    bad = [v for v in value if v not in FEATURE_NAMES]
    if bad:
        raise WhydlError(
            f"features: {_show(bad[0])} is not an input feature. Expected some of {names}."
            f"{did_you_mean(bad[0], FEATURE_NAMES)}"
        )
    if not value or len(set(value)) != len(value):
        raise WhydlError(
            f"features={_show(list(value))} must name at least one feature, each once, from "
            f'{names}, e.g. ["x1", "x2", "x1sq"].'
        )
    return tuple(value)  # in the order given: it is the order of the first layer's inputs


def _hidden(value) -> tuple[int, ...]:
    example = "e.g. [10, 10]"
    if not isinstance(value, list | tuple) or not all(_is_int(v) for v in value):
        raise WhydlError(f"hidden={_show(value)} must be a list of layer widths, {example}.")
    if len(value) > MAX_LAYERS:
        raise WhydlError(
            f"hidden has {len(value)} layers; the playground allows at most {MAX_LAYERS}. "
            "Remove a layer."
        )
    widths = LIMITS["hidden"]  # narrower than the config's: each neuron is drawn
    for i, width in enumerate(value, start=1):
        if width not in widths:
            raise WhydlError(
                f"hidden layer {i} has {int(width)} neurons; expected {widths.low} to "
                f"{widths.high}, {example}."
            )
    return tuple(int(v) for v in value)


def _is_int(v) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer()
    )


def _number(name: str, value, default):
    """A number from JSON: its type, then the config's bounds, then the playground's."""
    integer = isinstance(default, int)
    kind = "an integer" if integer else "a number"
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if not numeric or not math.isfinite(value) or (integer and not _is_int(value)):
        raise WhydlError(f"{name}={_show(value)} is not {kind}. Expected e.g. {default}.")
    value = int(value) if integer else value
    OPTIONS[name].check(name, value)  # the same check, and message, as the CLI's and API's
    limit = LIMITS.get(name)
    if limit is not None and value not in limit:
        raise WhydlError(
            f"{name}={value} is outside the playground's range: it takes {name} "
            f"{limit.describe()}, e.g. {default}."
        )
    return value if integer else float(value)
