"""The options of `whydl train` and `whydl demo` as argparse flags, and the config they build.

Every flag is generated from a config field's `Option` (help, bounds, choices, flag name),
so a field added to a config is a flag at once, and help and behaviour cannot disagree.
`config_from_args` merges flags over a config file over the defaults, and refuses an option
the run would ignore (noise on digits, momentum with Adam); `train_args` goes the other way,
from a config to the flags that rebuild it.
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import Field, fields

from whydl.config import SECTIONS, RunConfig, option_of

COMMON = ("n_seeds", "seed", "device")  # what `whydl demo` takes too (with --out)
GROUPS = {"data": "data", "model": "model", "train": "training"}  # --help's headings


class UsageError(Exception):
    """A command line that cannot run: one line, exit 2."""


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


def parse_jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number of processes >= 1 (1 runs the claims one after the other; "
            f"leave --jobs out for one per core), got {text!r}"
        )
    return jobs


def parse_names(text: str) -> tuple[str, ...]:
    """'x1,x2,x1sq' -> ('x1', 'x2', 'x1sq'); the config checks each name."""
    return tuple(name.strip() for name in text.split(",") if name.strip() != "")


# a field's annotation -> how argparse reads its value ("float | None" reads as float)
PARSERS = {
    "int": int,
    "float": float,
    "str": str,
    "tuple[int, ...]": parse_widths,
    "tuple[str, ...]": parse_names,
}


def _fields(sections=None) -> dict[str, tuple[str, Field]]:
    """Every option as {dest: (section, field)}; a field's dest is its name (args.csv)."""
    sections = SECTIONS if sections is None else sections
    return {f.name: (name, f) for name, klass in sections.items() for f in fields(klass)}


def _fields_of(config: RunConfig) -> dict[str, tuple[str, Field]]:
    """The options of `config`'s own sections (whichever config classes it was built from)."""
    return _fields({name: type(getattr(config, name)) for name in SECTIONS})


def _flags(f: Field) -> tuple[str, ...]:
    """A field's flags: its option's (--n, --n-samples), else --field-name."""
    return option_of(f).flags or ("--" + f.name.replace("_", "-"),)


def _help(f: Field) -> str:
    """The option's help with its default, taken from the field: '(default 10,10)'."""
    spec, value = option_of(f), f.default
    if isinstance(value, bool):
        shown = "on" if value else "off"
    elif isinstance(value, tuple):
        shown = ",".join(map(str, value))
    else:
        shown = spec.default_text if value is None else value
    default = f" (default {shown})" if shown != "" else ""
    return (spec.help + default).replace("%", "%%")  # argparse formats help with %


def _add(parser, f: Field) -> None:
    spec, kind = option_of(f), str(f.type).split("|")[0].strip()
    if kind == "bool":  # a switch; one that is on by default also gets --no-...
        action = argparse.BooleanOptionalAction if f.default else "store_true"
        parser.add_argument(*_flags(f), dest=f.name, action=action, default=None, help=_help(f))
        return
    parser.add_argument(
        *_flags(f),
        dest=f.name,
        type=PARSERS[kind],
        # a list's choices are its elements', which the config checks one by one
        choices=None if kind.startswith("tuple") else spec.choices or None,
        metavar=spec.metavar if kind.startswith("tuple") or not spec.choices else None,
        help=_help(f),
    )


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Every config field as a flag of `train`, grouped by section; then `add_common`."""
    for section, klass in SECTIONS.items():
        group = p.add_argument_group(GROUPS.get(section, section))
        for f in fields(klass):
            if f.name not in COMMON:
                _add(group, f)
    add_common(p)


def add_common(p: argparse.ArgumentParser) -> None:
    """The flags of `demo` and `seed` (and `train`): seeds, seed, device, out."""
    options = _fields()
    for name in COMMON:
        _add(p, options[name][1])
    p.add_argument("--out", metavar="DIR", help="output directory")


# flag dest -> (config section, field), generated like the flags (`config_from_args` reads
# the fields of the config it is given, which may carry more)
_FIELDS = {dest: (section, f.name) for dest, (section, f) in _fields().items()}


def config_from_args(args, base=None, file_keys=frozenset(), source: str = ""):
    """Flags override the config file, which overrides the defaults. An option the run would
    ignore (noise on digits, momentum with Adam) is refused, whichever of the two set it."""
    config = base if base is not None else RunConfig()
    options = _fields_of(config)
    changes: dict[str, dict] = {name: {} for name in SECTIONS}
    flags = set()
    for dest, (section, f) in options.items():
        value = getattr(args, dest, None)
        if value is not None:
            changes[section][f.name] = value
            flags.add(f"{section}.{f.name}")
    dataset, csv, target = (_flags(options[name][1])[0] for name in ("dataset", "csv", "target"))
    csv_file = getattr(args, "csv", None)
    if csv_file and getattr(args, "dataset", None):
        raise UsageError(f"whydl train: use either {dataset} NAME or {csv} FILE.csv, not both.")
    if csv_file:
        changes["data"]["dataset"] = "csv"
    elif getattr(args, "dataset", None):
        changes["data"]["csv"] = changes["data"]["target"] = None  # a flag beats the file's CSV
    if getattr(args, "target", None) and not csv_file and not config.data.csv:
        raise UsageError(f"whydl train: {target} needs {csv} FILE.csv (your own CSV file).")
    config = config.replace(**changes)

    def name_of(key: str) -> str:
        section, name = key.split(".")
        return _flags(options[name][1])[0] if key in flags else f"{source}: [{section}] {name}"

    config.check_used(flags | set(file_keys), name_of)
    return config


def train_args(config: RunConfig) -> list[str]:
    """The `whydl train` arguments that rebuild `config` through `config_from_args`: every
    option the run uses (`RunConfig.unused` names the others), by its flag."""
    unused, args = config.unused(), []
    options = _fields_of(config)
    for section, f in options.values():
        value = getattr(getattr(config, section), f.name)
        if value is None or f"{section}.{f.name}" in unused:
            continue
        if f.name == "dataset" and config.data.csv is not None:
            continue  # the CSV flag sets it, and refuses a dataset name beside it
        flag = _flags(f)[0]
        if isinstance(value, bool):
            if value != f.default:  # a switch: on, or --no-... for one on by default
                args.append(flag if value else "--no-" + flag[2:])
        else:
            args += [flag, ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return args


def without(command_line: str, *flags: str) -> str:
    """The user's command line without `flags` (and the value each takes, if any)."""
    words, kept, skip = shlex.split(command_line), [], False
    for word in words:
        if skip:
            skip = False
            continue
        name = word.split("=")[0]
        if name in flags:
            skip = "=" not in word and name != "--split"
            continue
        kept.append(word)
    return shlex.join(kept)


def given_flags(command_line: str, *flags: str) -> list[str]:
    """Which of `flags` the user's command line gives (as `--flag value` or `--flag=value`)."""
    words = shlex.split(command_line)
    return [f for f in flags if any(w == f or w.startswith(f + "=") for w in words)]
