"""What each config field knows about itself: its `Option` (help, bounds, choices, flag)
and the checks that go with it.

`option(...)` makes a dataclass field that carries its `Option`; the flags of `whydl train`,
the keywords of `whydl.train()` and the playground's limits are all generated from those.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field, fields

from whydl.errors import WhydlError, did_you_mean


@dataclass(frozen=True)
class Bounds:
    """The numbers an option takes: low..high, each end closed unless open; high None for no
    end. Integer ends mean an integer option ("1..100000"), float ends a real one ("[0, 1)")."""

    low: float
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value) -> bool:
        if not isinstance(value, numbers.Real) or value != value:  # a non-number, or NaN
            return False
        high, above = self.high, value > self.low if self.low_open else value >= self.low
        return above and (high is None or (value < high if self.high_open else value <= high))

    def describe(self) -> str:
        """The bounds for a message: 'in 1..100000', 'in (0, 100]', '>= 0'."""
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if isinstance(self.low, int) and not (self.low_open or self.high_open):
            return f"in {self.low}..{self.high}"
        left, right = "(["[not self.low_open], ")]"[not self.high_open]
        return f"in {left}{self.low:g}, {self.high:g}{right}"


SEED = Bounds(0, 2**31 - 1)  # numpy seeds take 32 bits; the headroom keeps seed + i valid


@dataclass(frozen=True)
class Option:
    """What the flags, the API and the playground need to know about a config field."""

    help: str
    bounds: Bounds | None = None  # for a tuple field: each element's
    choices: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # the CLI flags when they are not --field-name
    metavar: str | None = None
    example: object = None  # for messages: "e.g. 0.01"
    default_text: str = ""  # what a default of None means, for help: "inferred"
    expected: str = ""  # for messages, when the bounds alone say it badly

    def check(self, name: str, value) -> None:
        """A `WhydlError` unless `value` is one of the choices and inside the bounds."""
        if self.choices and value not in self.choices:
            raise WhydlError(
                f"{name}={show_value(value)} is not valid. "
                f"Expected one of: {', '.join(self.choices)}.{did_you_mean(value, self.choices)}"
            )
        if self.bounds is not None and value not in self.bounds:
            expected = self.expected or self.bounds.describe()
            raise WhydlError(
                f"{name}={show_value(value, str)} must be {expected}, e.g. {self.example}."
            )


def option(default, help: str, bounds: Bounds | None = None, example=None, **spec):
    """A dataclass field holding its `Option` (whose example for messages is the default)."""
    spec = Option(help, bounds, example=default if example is None else example, **spec)
    return field(default=default, metadata={"option": spec})


def option_of(f: dataclasses.Field) -> Option:
    return f.metadata["option"]


def show_value(value, spell=repr) -> str:
    """A user's value for a message, cut short so a huge one cannot flood it."""
    text = spell(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _validate(config) -> None:
    """Check each field against its option (None is a default; a tuple is its owner's job)."""
    for f in fields(config):
        value = getattr(config, f.name)
        if not ((value is None and f.default is None) or isinstance(value, tuple)):
            option_of(f).check(f.name, value)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise WhydlError(message)


def _check_type(where: str, value, annotation: str) -> None:
    """Config files are user input: check each value's type against the field's annotation."""
    if value is None and "None" in annotation:
        return
    base = annotation.split("|")[0].strip()
    if base == "tuple[int, ...]":
        ok = isinstance(value, list | tuple) and all(_is(x, int) for x in value)
    elif base == "tuple[str, ...]":
        ok = isinstance(value, list | tuple) and all(isinstance(x, str) for x in value)
    else:
        ok = _is(value, {"bool": bool, "int": int, "float": int | float, "str": str}[base])
    names = {
        "tuple[int, ...]": "a list of integers, e.g. [10, 10]",
        "tuple[str, ...]": 'a list of names, e.g. ["x1", "x2"]',
        "str": "a string",
    }
    expected = names.get(base, f"a value of type {base}")
    _check(ok, f"{where} = {value!r}: expected {expected}. Fix the value in the config file.")


def _is(value, kind) -> bool:  # isinstance, but a bool is no number (TOML tells them apart)
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
