"""The Python API, mirroring the CLI: `train(...)` returns a `TrainResult`.

Example
-------
>>> import whydl
>>> result = whydl.train("moons", hidden=(10, 10), optimizer="adam", lr=0.01, epochs=5, seeds=3)
>>> round(result.metrics["test_accuracy"], 2) > 0.5
True
"""

from __future__ import annotations

import inspect
import os
import typing
from dataclasses import fields
from pathlib import Path

from whydl.config import SECTIONS, RunConfig
from whydl.data import Dataset
from whydl.engine import fit as engine_fit
from whydl.engine.progress import phase
from whydl.errors import WhydlError, did_you_mean
from whydl.report import card_html  # noqa: F401  (importing it makes the card the notebook view)
from whydl.result import TrainResult, load_data

__all__ = ["TrainResult", "claim", "load_data", "run", "train"]
ALIASES = {"seeds": "n_seeds"}  # the CLI's --seeds, as the API has always spelt it


def run(config: RunConfig, dataset: Dataset | None = None, progress=None) -> TrainResult:
    """Train the members a `RunConfig` describes (the data is loaded unless given)."""
    dataset = load_data(config.data) if dataset is None else dataset
    fit = engine_fit(dataset, config.model, config.train, progress)
    with phase("summarising", enabled=progress):  # every member's test metrics: seconds at 1000
        return TrainResult(config, dataset, fit)


def claim(
    name: str,
    preset: str = "quick",
    seeds: int | None = None,
    out=None,
    store=None,
    executor: str = "local",
    verbose: bool = False,
):
    """Run one claim as `whydl claim NAME` does: through the results store at `store`
    (default `out`/whydl.db; members already there are reused) on `executor` ("local" or
    "dask"), with its files in `out` (default runs/claims/NAME). Returns its `ClaimResult`.

    Example
    -------
    >>> import whydl
    >>> result = whydl.claim("data", preset="quick")  # doctest: +SKIP
    >>> result.verdict.verdict  # doctest: +SKIP
    'supported'
    """
    from whydl.runtime import make_executor, run_claim  # lazily: dask only when asked
    from whydl.store import Store

    out = Path(out) if out is not None else Path("runs/claims") / name
    with make_executor(executor) as ex, Store(store or out / "whydl.db") as db:
        return run_claim(name, preset, seeds, db, out, ex, verbose).result


def train(data=None, *, progress=None, **options) -> TrainResult:
    """Train `seeds` members at once and return a `TrainResult`.

    `data` is a dataset name ("moons", "spiral", "digits", ...), a path to a CSV file (with
    `target=`), or a `Dataset`. Every other keyword is a config field by its name, with its
    default (the signature lists them; `whydl train --help` explains each); `seeds` is
    `n_seeds`. The defaults are the article's experiment. An option left at None takes its
    default where it applies; one given where it does not apply (noise on digits, momentum
    with Adam) raises a `WhydlError`, and so does an unknown one.

    Example
    -------
    >>> import torch
    >>> r = train("moons", hidden=(10, 10), optimizer="adam", lr=0.01, epochs=3, seeds=2)
    >>> r.member(0)(torch.zeros(1, 2)).shape
    torch.Size([1, 1])
    """
    owner = {name: section for section, names in _field_names().items() for name in names}
    given = _given(options, owner) | _data_options(data, options)
    sections = {section: {} for section in SECTIONS}
    for name, value in given.items():
        sections[owner[name]][name] = value
    config = RunConfig(**{s: SECTIONS[s](**values) for s, values in sections.items()})
    chosen = {f"{owner[name]}.{name}" for name in given if name not in ("dataset", "csv")}
    config.check_used(chosen, name_of=lambda key: key.split(".")[1])
    return run(config, data if isinstance(data, Dataset) else None, progress)


def _given(options: dict, owner: dict) -> dict:
    """The options a caller set (None: not set), by their config names; an unknown name or
    one given twice (seeds and n_seeds) is refused."""
    given, spelt = {}, {}
    for key, value in options.items():
        name = ALIASES.get(key, key)
        if name not in owner:
            known = [*owner, *ALIASES]
            raise WhydlError(
                f"train() got an unknown option {key!r}.{did_you_mean(key, known)} "
                f"Options: {', '.join(known)}."
            )
        if value is not None:
            if name in given:
                twice = f"{spelt[name]}= and {key}="
                raise WhydlError(f"train() got {name} twice, as {twice}: pass one of them.")
            given[name], spelt[name] = value, key
    return given


def _data_options(data, options: dict) -> dict:
    """The DataConfig fields `data` stands for: a `Dataset`'s name, a CSV file or a name."""
    if data is None:
        return {"dataset": "csv"} if options.get("csv") is not None else {}
    if options.get("dataset") is not None or options.get("csv") is not None:
        raise WhydlError("train() got the data twice: pass `data`, or dataset=/csv=, not both.")
    if isinstance(data, Dataset):
        return {"dataset": data.name}
    if isinstance(data, str | os.PathLike) and str(data).lower().endswith(".csv"):
        return {"dataset": "csv", "csv": str(data)}
    return {"dataset": str(data)}


def _field_names() -> dict[str, tuple[str, ...]]:
    """Each section's field names, read from the configs when called."""
    return {section: tuple(f.name for f in fields(klass)) for section, klass in SECTIONS.items()}


def _signature() -> inspect.Signature:
    """train(data=None, *, <every config field with its default>, seeds, progress), for
    help() and editors: the keywords are the config fields, so they are listed from them."""
    keyword, positional = inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
    data = str | os.PathLike | Dataset | None
    params = [inspect.Parameter("data", positional, default=None, annotation=data)]
    for klass in SECTIONS.values():
        hints = typing.get_type_hints(klass)
        params += [
            inspect.Parameter(f.name, keyword, default=f.default, annotation=hints[f.name])
            for f in fields(klass)
        ]
    params += [
        inspect.Parameter(alias, keyword, default=None, annotation=int | None) for alias in ALIASES
    ]
    params.append(inspect.Parameter("progress", keyword, default=None))
    return inspect.Signature(params, return_annotation=TrainResult)


train.__signature__ = _signature()
