"""A playground setup as the equivalent `whydl train` command and as a RunConfig.

The command trains the same member the playground shows: the same data, split, seed and
settings go through the same engine, so its numbers match epoch for epoch. Both are
generated: the settings carry the config's own names, and the command the flags that
`whydl.flags` builds from the config's options.
"""

from __future__ import annotations

import dataclasses
import shlex

from whydl.config import SECTIONS, RunConfig, TrainConfig
from whydl.data.features import RAW
from whydl.flags import train_args
from whydl.web.validate import CSV, Settings

DEFAULT_EPOCHS = TrainConfig().epochs  # exported before any training: the CLI's default


def run_config(settings: Settings, epochs: int, upload=None) -> RunConfig:
    """The RunConfig of `settings` trained for `epochs` (an `Upload` for CSV data). Options
    the run ignores (noise on a CSV file) keep their defaults, so equal runs are equal."""
    values = settings.to_dict() | {"epochs": epochs if epochs > 0 else DEFAULT_EPOCHS}
    # the inputs themselves are the config's default (None), so a plain setup exports no flag
    values["features"] = None if settings.features == RAW else settings.features
    if settings.dataset == CSV:
        values |= {"csv": upload.name, "target": upload.target}
    config = RunConfig(**{name: _section(klass, values) for name, klass in SECTIONS.items()})
    return _defaults_where_unused(config)


def train_command(config: RunConfig) -> str:
    """`whydl train ...` with every flag of an option `config` uses, shell-quoted."""
    return shlex.join(["whydl", "train", *train_args(config)])


def _section(klass, values: dict):
    """One config section from the settings that share its field names."""
    return klass(**{f.name: values[f.name] for f in dataclasses.fields(klass) if f.name in values})


def _defaults_where_unused(config: RunConfig) -> RunConfig:
    """`config` with every option its run ignores back at the section's default."""
    changes: dict[str, dict] = {}
    for key in config.unused():
        section, name = key.split(".")
        default = type(getattr(config, section))()
        changes.setdefault(section, {})[name] = getattr(default, name)
    return config.replace(**changes)
