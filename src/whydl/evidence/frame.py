"""The evidence frame every claim shares.

A claim states a hypothesis, runs a sweep of configs x seeds on the engine, reduces it to a
tidy table, draws figures and decides a verdict with a rule fixed in code before any data is
seen. `Claim.run` drives that; `ClaimResult` holds and saves what came out.

Training goes through `Context.fit` and `Context.fit_many` (several independent calls at
once), the single door where the results store (caching and resuming) and executors (Dask)
plug in.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import Path
from typing import ClassVar

from whydl.errors import DivergedError, WhydlError
from whydl.jsonio import write_json
from whydl.paths import written_together

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
PRESETS = ("quick", "full")


@dataclass(frozen=True)
class Verdict:
    """A decision and everything needed to audit it.

    `rule` states the rule in words with its thresholds; `numbers` holds the values the rule
    compared. `parts` are the sub-experiments' verdicts when this is a claim's overall one.
    """

    claim: str
    verdict: str
    hypothesis: str
    rule: str
    numbers: dict
    seeds: int
    parts: tuple[Verdict, ...] = ()

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict={self.verdict!r} is not one of {VERDICTS}.")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["parts"] = [p.to_dict() for p in self.parts]
        return d

    def line(self) -> str:
        return f"{self.claim}: {self.verdict.upper()}"


def combine(claim: str, hypothesis: str, parts, seeds: int, required=None) -> Verdict:
    """The overall verdict of a claim from its sub-experiments' verdicts.

    Rule: `supported` when every required part is supported; `not supported` when any
    required part is not supported; otherwise `inconclusive`. `required` names the parts
    that carry the claim (default: all); the others are reported but do not decide.
    """
    parts = tuple(parts)
    names = set(required) if required is not None else {p.claim for p in parts}
    deciding = [p for p in parts if p.claim in names]
    if deciding and all(p.verdict == SUPPORTED for p in deciding):
        verdict = SUPPORTED
    elif any(p.verdict == NOT_SUPPORTED for p in deciding):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    rule = (
        "supported when every deciding sub-experiment is supported; not supported when any "
        f"deciding one is not; otherwise inconclusive. Deciding: {', '.join(sorted(names))}."
    )
    numbers = {p.claim: p.verdict for p in parts}
    return Verdict(claim, verdict, hypothesis, rule, numbers, seeds, parts)


@dataclass(frozen=True)
class TrainCall:
    """One `Context.fit` call, described rather than made, so a sweep can hand many to
    `Context.fit_many` at once (and an executor can train them side by side).

    `hooks` pass through to `whydl.engine.fit` (members, frozen, train_rows, callback);
    `recorders` (see `whydl.engine.recorders`) say what the engine measures while it trains:
    plain data, so a results store caches such a call and a worker can train it.
    """

    dataset: object
    model: object
    train: object
    tag: str = ""
    hooks: dict = field(default_factory=dict)
    recorders: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "recorders", tuple(self.recorders))

    @property
    def name(self) -> str:
        """How progress lines and failure reports name this call."""
        return self.tag or getattr(self.dataset, "name", "fit")


class Context:
    """What a sweep may use: `fit` (the engine, or a cache in front of it) and progress.

    Example
    -------
    >>> ctx = Context()
    >>> from whydl.data import article_moons
    >>> from whydl.config import ModelConfig, TrainConfig
    >>> ctx.fit(article_moons(), ModelConfig(), TrainConfig(epochs=1)).history.n_epochs
    1
    """

    def __init__(self, verbose: bool = False, fit=None):
        self.verbose = verbose
        self._fit = fit
        self.n_fits = 0
        self.n_members = 0

    def fit(self, dataset, model, train, tag: str = "", recorders=(), **hooks):
        """Train `train.n_seeds` members (one vectorised run). `tag` names the sweep cell;
        `recorders` and `hooks` (members, frozen, callback) pass through to
        `whydl.engine.fit`."""
        return self._train(TrainCall(dataset, model, train, tag, hooks, recorders))

    def fit_many(self, calls, errors: str = "raise"):
        """The fits of several independent `TrainCall`s: a list in the calls' order, or a dict
        with the same keys when `calls` is a dict. Here they train one after the other; an
        executor (see `whydl.runtime.CachedContext`) trains them side by side.

        `errors="return"` puts a call's `DivergedError` (every member diverged) in its place
        instead of raising it, so one unstable setting does not stop a sweep.
        """
        if errors not in ("raise", "return"):
            raise ValueError(f"errors={errors!r}; expected 'raise' or 'return'.")
        if isinstance(calls, dict):
            return dict(zip(calls, self._fit_list(list(calls.values()), errors)))
        return self._fit_list(list(calls), errors)

    def _fit_list(self, calls: list, errors: str) -> list:
        out = []
        for call in calls:
            try:
                out.append(
                    self.fit(
                        call.dataset,
                        call.model,
                        call.train,
                        call.tag,
                        recorders=call.recorders,
                        **call.hooks,
                    )
                )
            except DivergedError as e:
                if errors == "raise":
                    raise
                out.append(e)
        return out

    def _train(self, call: TrainCall):
        """Train one call in this process: the engine, or the `fit` given at construction."""
        from whydl.engine import fit as engine_fit  # lazily: the rules need no torch

        self.n_fits += 1
        self.n_members += call.train.n_seeds
        if self.verbose:
            print(f"  training {call.name}: {call.train.n_seeds} member(s)", flush=True)
        hooks = dict(call.hooks)
        if call.recorders:  # only then: a stand-in `fit` need not know the argument
            hooks["recorders"] = call.recorders
        return (self._fit or engine_fit)(call.dataset, call.model, call.train, **hooks)

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"  {message}", flush=True)


@dataclass
class ClaimResult:
    """Everything a claim produced: its table, figures, verdict, timing and settings."""

    claim: str
    title: str
    hypothesis: str
    preset: str
    params: dict
    table: list[dict]
    verdict: Verdict
    figures: dict = field(default_factory=dict)  # name -> (matplotlib Figure, caption)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what differs from the literature, and why
    headline: str = ""  # the one number the summary table shows, with its CI

    def summary(self, hypothesis: bool = True) -> str:
        """The verdict in a few lines; `hypothesis=False` leaves out the first line, for a
        command that printed the hypothesis when it started."""
        lines = [f"claim {self.claim}: {self.hypothesis}"] if hypothesis else []
        lines += [f"  {p.claim}: {p.verdict}" for p in self.verdict.parts]
        if self.headline:
            lines.append(f"  headline: {self.headline}")
        lines.append(f"  rule: {self.verdict.rule}")
        lines.append(f"verdict: {self.verdict.verdict.upper()} ({self.seconds:.1f} s)")
        return "\n".join(lines)

    def save(self, out) -> Path:
        """Write results.csv/json, verdict.json, config.json, environment.json and figures.

        Files are written to a temporary folder inside `out` and moved in at the end, so an
        error never leaves a half-written set; `saved_files_` lists what was written."""
        # lazily: environment and plots import torch and matplotlib, which the frame's
        # users (rules, verdicts) do not need
        from whydl.environment import environment
        from whydl.plots.style import save_figure

        out = Path(out)
        with written_together(out) as tmp:
            names = [
                p.name
                for name, (fig, _) in self.figures.items()
                for p in save_figure(fig, tmp / name)
            ]
            columns = list(dict.fromkeys(k for row in self.table for k in row))
            with open(tmp / "results.csv", "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns)
                writer.writeheader()
                writer.writerows(self.table)
            write_json(tmp / "results.json", self.table)
            write_json(tmp / "verdict.json", self.verdict.to_dict())
            write_json(
                tmp / "config.json", {"claim": self.claim, "preset": self.preset, **self.params}
            )
            write_json(tmp / "environment.json", environment())
            meta = {
                "claim": self.claim,
                "title": self.title,
                "hypothesis": self.hypothesis,
                "seconds": self.seconds,
                "headline": self.headline,
                "notes": self.notes,
                "figures": {name: caption for name, (_fig, caption) in self.figures.items()},
            }
            write_json(tmp / "claim.json", meta)
        names += ["verdict.json", "results.csv", "results.json", "claim.json"]
        self.saved_files_ = [*names, "config.json", "environment.json"]
        return out

    # How a notebook shows a result: `whydl.report` installs the report's card here when it
    # is imported (evidence sits below the report and cannot import it). Without it, the
    # summary and the figures.
    html_renderer: ClassVar[Callable[[ClaimResult], str] | None] = None

    def _repr_html_(self) -> str:
        if ClaimResult.html_renderer is not None:
            return ClaimResult.html_renderer(self)
        from whydl.plots.svg import figure_svg  # drawn only when a notebook asks

        figures = "".join(
            f"<figure>{figure_svg(fig)}<figcaption>{escape(caption)}</figcaption></figure>"
            for fig, caption in self.figures.values()
        )
        return f"<div><pre>{escape(self.summary())}</pre>{figures}</div>"


class Claim:
    """Base class: subclasses set the class attributes and implement `experiment`.

    `presets[name]` is a flat dict of sweep sizes; `quick` runs in seconds (tests), `full`
    within 2.5 minutes on a 2-core CPU with >= 10 seeds wherever CIs are shown.
    """

    name: str = ""
    title: str = ""
    hypothesis: str = ""
    literature: tuple[str, ...] = ()  # "Author et al. YEAR: finding"
    presets: dict[str, dict] = {}

    def experiment(self, ctx: Context, params: dict) -> ClaimResult:
        raise NotImplementedError

    def params(self, preset: str = "quick", seeds: int | None = None) -> dict:
        if preset not in self.presets:
            raise WhydlError(
                f"preset={preset!r} is not valid for claim {self.name!r}. "
                f"Expected one of: {', '.join(self.presets)}."
            )
        params = dict(self.presets[preset])
        if seeds is not None:
            if not 2 <= seeds <= 1000:
                raise WhydlError(f"--seeds {seeds} is out of range. Expected 2..1000, e.g. 10.")
            params["n_seeds"] = seeds
        return params

    def run(self, preset: str = "quick", seeds: int | None = None, ctx: Context | None = None):
        """Run the claim's sweep and return its `ClaimResult`.

        Example
        -------
        >>> from whydl.evidence import get_claim
        >>> result = get_claim("hierarchy").run("quick")  # doctest: +SKIP
        >>> print(result.verdict.verdict)  # doctest: +SKIP
        supported
        """
        params = self.params(preset, seeds)
        ctx = ctx or Context()
        started = time.perf_counter()
        result = self.experiment(ctx, params)
        result.seconds = time.perf_counter() - started
        result.preset = preset
        return result

    def result(self, params, table, verdict, figures, notes=(), headline="") -> ClaimResult:
        """Helper for subclasses: a ClaimResult with this claim's name and texts."""
        return ClaimResult(
            claim=self.name,
            title=self.title,
            hypothesis=self.hypothesis,
            preset="",
            params=params,
            table=table,
            verdict=verdict,
            figures=figures,
            notes=list(notes),
            headline=headline,
        )
