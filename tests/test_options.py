"""One source of truth for every training option: the config fields' `Option`s.

The flags of `whydl train`, the keywords of `whydl.train()`, the playground's bounds and its
exported command are all generated from them; these tests fail if any of them is written
by hand again.
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import subprocess
import sys
from dataclasses import dataclass, fields

import pytest

import whydl
from whydl import api, config
from whydl.config import (
    SECTIONS,
    Bounds,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    article_config,
    option,
    option_of,
)
from whydl.errors import WhydlError
from whydl.flags import add_common, add_run_options, config_from_args, train_args

ALL_FIELDS = [(section, f) for section, klass in SECTIONS.items() for f in fields(klass)]
IDS = [f"{section}.{f.name}" for section, f in ALL_FIELDS]


def _kind(f) -> str:
    return str(f.type).split("|")[0].strip()


def _flag(f) -> str:
    return option_of(f).flags[0] if option_of(f).flags else "--" + f.name.replace("_", "-")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="whydl train")
    add_run_options(parser)
    return parser


def _help_of(parser, dest: str) -> str:
    return next(a.help for a in parser._actions if a.dest == dest)


# -- the configs keep their keys ---------------------------------------------------------------
def test_the_fields_and_their_defaults_are_the_store_keys_of_before():
    """Results are stored under hashes of these fields: renaming one or changing a default
    would orphan every stored result."""
    assert [(f.name, f.type, f.default) for f in fields(DataConfig)] == [
        ("dataset", "str", "moons"), ("n_samples", "int", 1000), ("noise", "float | None", None),
        ("data_seed", "int", 42), ("test_size", "float", 0.3), ("n_classes", "int | None", None),
        ("csv", "str | None", None), ("target", "str | None", None),
        ("features", "tuple[str, ...] | None", None),  # new: the data's bytes are keyed, not it
    ]  # fmt: skip
    assert [(f.name, f.default) for f in fields(ModelConfig)] == [
        ("architecture", "mlp"), ("hidden", (10, 10)), ("activation", "relu"), ("dropout", 0.0),
        ("batch_norm", False), ("residual", False), ("init", "default"),
    ]  # fmt: skip
    assert [(f.name, f.default) for f in fields(TrainConfig)] == [
        ("task", None), ("optimizer", "adam"), ("lr", 0.01), ("momentum", 0.9),
        ("weight_decay", 0.0), ("batch_size", 32), ("epochs", 100), ("early_stopping", False),
        ("patience", 10), ("validation_fraction", 0.1), ("seed", 0), ("n_seeds", 1),
        ("device", "cpu"),
    ]  # fmt: skip
    assert RunConfig().hash == "4677ac0cc9784c72" and article_config().hash == "585d914fdc707c5e"


# -- every option is described ----------------------------------------------------------------
@pytest.mark.parametrize("section, f", ALL_FIELDS, ids=IDS)
def test_every_option_has_help_and_numbers_have_bounds(section, f):
    spec = option_of(f)
    assert spec.help.strip(), f"{section}.{f.name} has no help text"
    kind = _kind(f)
    if kind in ("int", "float", "tuple[int, ...]"):
        b = spec.bounds
        assert isinstance(b, Bounds), f"{section}.{f.name} is a number without bounds"
        integer = kind != "float"  # a tuple's bounds are its elements'
        ends = [e for e in (b.low, b.high) if e is not None]
        assert all(isinstance(e, int) == integer for e in ends), "ends must match the type"
        values = f.default if isinstance(f.default, tuple) else (f.default, spec.example)
        assert all(v in b for v in values if v is not None), "default and example in bounds"
    if spec.choices:
        assert f.default is None or f.default in spec.choices
        assert all(isinstance(c, str) for c in spec.choices)


@pytest.mark.parametrize("section, f", ALL_FIELDS, ids=IDS)
def test_the_cli_help_shows_each_default(section, f):
    text = _help_of(_parser(), f.name)
    if isinstance(f.default, bool):
        assert text.endswith(f"(default {'on' if f.default else 'off'})")
    elif isinstance(f.default, tuple):
        assert text.endswith(f"(default {','.join(map(str, f.default))})")
    elif f.default is not None:
        assert text.endswith(f"(default {f.default})"), text
    elif option_of(f).default_text:
        assert text.endswith(f"(default {option_of(f).default_text})")


def test_the_real_cli_help_lists_defaults_choices_and_datasets(capsys):
    from whydl.cli import main
    from whydl.data import DATASETS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    flat = " ".join(capsys.readouterr().out.split())
    for text in ("learning rate (default 0.01)", "(default 100)", "(default 10,10)"):
        assert text in flat
    assert "{sgd,momentum,nesterov,rmsprop,adam,adamw}" in flat
    assert all(name in flat for name in DATASETS)  # --dataset stays free text, listed
    for _, f in ALL_FIELDS:
        assert _flag(f) in flat


def test_demo_takes_only_the_common_flags():
    parser = argparse.ArgumentParser()
    add_common(parser)
    flags = {s for a in parser._actions for s in a.option_strings} - {"-h", "--help"}
    assert flags == {"--seeds", "--seed", "--device", "--out"}


# -- one bound, one object, everywhere --------------------------------------------------------
def test_the_playground_bounds_and_choices_are_the_config_objects():
    pytest.importorskip("fastapi")
    from whydl.web import validate

    by_name = {f.name: option_of(f) for _, f in ALL_FIELDS}
    assert validate.BOUNDS, "the playground validates no bound"
    for name, bounds in validate.BOUNDS.items():
        assert bounds is by_name[name].bounds, name
    for name in ("activation", "optimizer"):
        assert validate.CHOICES[name] is by_name[name].choices, name
    for name in ("noise", "n_samples", "test_size", "lr", "dropout", "seed", "data_seed"):
        assert validate.BOUNDS[name] is by_name[name].bounds, name
    noise = next(f for f in fields(DataConfig) if f.name == "noise")
    assert validate.BOUNDS["noise"] is option_of(noise).bounds
    assert option_of(noise).bounds == Bounds(0.0, 10.0)  # as `whydl.data.load_dataset` takes


@pytest.mark.parametrize(
    "section, name, value",
    [("data", "noise", 11), ("data", "test_size", 1), ("train", "lr", 0), ("model", "dropout", 1)],
)
def test_the_cli_and_the_playground_refuse_with_the_same_message(section, name, value):
    pytest.importorskip("fastapi")
    from whydl.web.validate import parse_settings

    with pytest.raises(WhydlError) as from_config:
        SECTIONS[section](**{name: value})
    with pytest.raises(WhydlError) as from_web:
        parse_settings({name: value})
    assert str(from_config.value) == str(from_web.value)
    assert f"{name}={value} must be in" in str(from_web.value)


def test_the_playground_takes_what_the_cli_takes():
    pytest.importorskip("fastapi")
    from whydl.web.validate import parse_settings

    s = parse_settings({"noise": 5, "lr": 100, "dropout": 0.95})  # were web-only limits
    assert (s.noise, s.lr, s.dropout) == (5.0, 100.0, 0.95)
    DataConfig(noise=5)  # the same values, through the config


# -- an option added to a config reaches every front end ---------------------------------------
@dataclass(frozen=True)
class JitteredData(DataConfig):
    """DataConfig plus two options nobody wrote a flag, keyword or export for."""

    jitter: float = option(0.0, "jitter added to every point", Bounds(0.0, 1.0), metavar="J")
    mirrored: bool = option(False, "mirror the points")


@pytest.fixture
def jittered(monkeypatch):
    """The configs with JitteredData as the data section, as if DataConfig had grown."""
    monkeypatch.setitem(config.SECTIONS, "data", JitteredData)
    return RunConfig(data=JitteredData())


def test_a_new_option_is_a_flag_of_whydl_train(jittered, capsys):
    from whydl.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    flat = " ".join(capsys.readouterr().out.split())
    assert "--jitter J jitter added to every point (default 0.0)" in flat
    assert "--mirrored mirror the points (default off)" in flat
    args = build_parser().parse_args(["train", "--jitter", "0.5", "--mirrored"])
    built = config_from_args(args, base=jittered)
    assert built.data.jitter == 0.5 and built.data.mirrored is True
    with pytest.raises(WhydlError, match=r"jitter=2.0 must be in \[0, 1\], e.g. 0.0"):
        config_from_args(build_parser().parse_args(["train", "--jitter", "2"]), base=jittered)


def test_a_new_option_is_a_keyword_of_whydl_train(jittered, monkeypatch):
    monkeypatch.setattr(api, "run", lambda config, dataset, progress: config)
    built = api.train("moons", jitter=0.25, mirrored=True, epochs=3)
    assert built.data.jitter == 0.25 and built.data.mirrored and built.train.epochs == 3
    assert api.train("moons", jitter=None).data.jitter == 0.0  # None: the default
    with pytest.raises(WhydlError, match="unknown option 'jiter'. Did you mean 'jitter'?"):
        api.train("moons", jiter=0.1)
    parameter = api._signature().parameters["jitter"]
    assert parameter.default == 0.0 and parameter.kind is inspect.Parameter.KEYWORD_ONLY


def test_a_new_option_is_in_the_exported_command(jittered):
    pytest.importorskip("fastapi")
    from whydl.cli import build_parser
    from whydl.web.export import train_command

    run = jittered.replace(data={"jitter": 0.5, "mirrored": True}, train={"epochs": 7})
    command = train_command(run)
    assert "--jitter 0.5" in command and "--mirrored" in command
    argv = shlex.split(command)[1:]
    assert config_from_args(build_parser().parse_args(argv), base=jittered) == run


# -- the API -----------------------------------------------------------------------------------
def test_train_has_a_real_signature_with_every_config_field():
    parameters = inspect.signature(whydl.train).parameters
    assert list(parameters)[0] == "data"
    for _, f in ALL_FIELDS:
        assert parameters[f.name].default == f.default, f.name
    assert {"seeds", "progress"} <= set(parameters)
    assert ">>>" in whydl.train.__doc__


def test_train_keywords_mean_the_config_fields(monkeypatch):
    monkeypatch.setattr(api, "run", lambda config, dataset, progress: config)
    built = api.train("spiral", n_classes=3, hidden=[4], seeds=5, early_stopping=True, patience=3)
    assert built.data.dataset == "spiral" and built.data.n_classes == 3
    assert built.model.hidden == (4,) and built.train.n_seeds == 5 and built.train.patience == 3
    assert api.train(n_seeds=2).train.n_seeds == 2  # the config's name works too
    assert api.train("points.csv", target="y").data.csv == "points.csv"
    assert api.train(lr=None, momentum=None) == RunConfig()  # None: "the default"
    with pytest.raises(WhydlError, match="got n_seeds twice, as seeds= and n_seeds="):
        api.train(seeds=2, n_seeds=3)
    with pytest.raises(WhydlError, match="momentum only applies to optimizer 'momentum'"):
        api.train(momentum=0.5)  # Adam would ignore it
    with pytest.raises(WhydlError, match="lr=-1 must be in"):
        api.train(lr=-1)


# -- the exported command ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "run",
    [
        RunConfig(),
        RunConfig(data=DataConfig(dataset="digits"), model=ModelConfig(architecture="cnn")),
        RunConfig(
            data=DataConfig(dataset="gaussians", n_classes=4, noise=0.3),
            model=ModelConfig(hidden=(), residual=True),
            train=TrainConfig(optimizer="nesterov", momentum=0.8, early_stopping=True),
        ),
        RunConfig(data=DataConfig(dataset="csv", csv="my data.csv", target="y")),
    ],
    ids=["defaults", "cnn on digits", "many options", "csv"],
)
def test_train_args_rebuild_the_config_without_a_refusal(run):
    from whydl.cli import build_parser

    argv = ["train", *train_args(run)]
    assert config_from_args(build_parser().parse_args(argv)) == run
    unused = {key.split(".")[1] for key in run.unused()}
    given = {a for a in argv if a.startswith("--")}
    flags = {_flag(f): f.name for _, f in ALL_FIELDS}
    assert not {flags[g] for g in given} & unused  # only what the run uses


# -- start-up time -----------------------------------------------------------------------------
def test_the_config_and_flags_import_no_heavy_library():
    code = (
        "import sys, whydl.config, whydl.flags\n"
        "print(sorted({'torch', 'matplotlib', 'sklearn'} & {m.split('.')[0] for m in sys.modules}))"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]"
