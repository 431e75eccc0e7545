"""A claim: a hypothesis, its literature, presets, and a list of experiments that the
frame runs under the protocol (`whydl.evidence.experiment.run_experiments`)."""

from __future__ import annotations

import contextlib
import time

from whydl.errors import WhydlError
from whydl.evidence.calibration import rates
from whydl.evidence.calls import Context
from whydl.evidence.experiment import ExperimentRun, run_experiments
from whydl.evidence.outcome import ClaimResult
from whydl.evidence.protocol import seed_plan
from whydl.evidence.verdict import combine

MAX_SEEDS = 1000


class Claim:
    """Base class: subclasses set the class attributes and implement `experiments`.

    `presets[name]` is a flat dict of sweep sizes, with `n_seeds` (evaluation seeds) and
    `n_selection_seeds`; `quick` is a smoke run in seconds (tests: too few seeds to decide,
    so its verdicts are mostly inconclusive), `full` the report's run.
    """

    name: str = ""
    title: str = ""
    hypothesis: str = ""
    literature: tuple[str, ...] = ()  # "Author et al. YEAR: finding"
    presets: dict[str, dict] = {}
    # torch threads while this claim trains here (None: the engine's choice per call);
    # executors' workers set their own
    threads: int | None = None
    # its experiments time this machine (wall-clock seconds): `whydl report` runs it alone,
    # with no other claim beside it competing for the cores
    times_this_machine: bool = False

    def experiments(self, params: dict) -> list:
        """The claim's experiments for these settings (`whydl.evidence.experiment`)."""
        raise NotImplementedError

    def headline(self, runs: list[ExperimentRun]) -> str:
        """The one number the summary table shows, with its CI."""
        return ""

    def notes(self, runs: list[ExperimentRun]) -> list[str]:
        """What differs from the literature, and why (besides each experiment's notes)."""
        return []

    def params(self, preset: str = "quick", seeds: int | None = None) -> dict:
        if preset not in self.presets:
            raise WhydlError(
                f"preset={preset!r} is not valid for claim {self.name!r}. "
                f"Expected one of: {', '.join(self.presets)}."
            )
        params = dict(self.presets[preset])
        if seeds is not None:
            if not 2 <= seeds <= MAX_SEEDS:
                raise WhydlError(
                    f"--seeds {seeds} is out of range. Expected 2..{MAX_SEEDS}, e.g. 10."
                )
            params["n_seeds"] = seeds
        return params

    def rules(self, params: dict) -> list:
        """Every experiment's rule, with the seed counts it is calibrated at."""
        n_selection = params.get("n_selection_seeds", 0)
        return [
            (e.rule, params["n_seeds"], n_selection if e.selects else 0)
            for e in self.experiments(params)
            if e.rule is not None
        ]

    def calibration(self, params: dict) -> list[str]:
        """Each rule's measured rates at these settings' seed counts, a line each."""
        return [
            f"{rule.name}: {rates(rule, n_evaluation, n_selection).line()}"
            f"\n  minimum effect of interest {rule.minimum_text()}"
            for rule, n_evaluation, n_selection in self.rules(params)
        ]

    def run(self, preset: str = "quick", seeds: int | None = None, ctx: Context | None = None):
        """Run the claim's experiments and return its `ClaimResult`.

        Example
        -------
        >>> from whydl.evidence import get_claim
        >>> result = get_claim("hierarchy").run("quick")  # doctest: +SKIP
        >>> print(result.verdict.verdict)  # doctest: +SKIP
        inconclusive
        """
        params = self.params(preset, seeds)
        ctx = ctx or Context()
        started = time.perf_counter()
        result = self.experiment(ctx, params)
        result.seconds = time.perf_counter() - started
        result.preset = preset
        return result

    def experiment(self, ctx: Context, params: dict) -> ClaimResult:
        """Run every experiment under the protocol and gather one result."""
        plan = seed_plan(params["n_seeds"], params.get("n_selection_seeds", 0))
        # lazily: what reads claims without training (the report's listing) needs no torch
        from whydl.engine.device import torch_threads

        pinned = torch_threads(self.threads) if self.threads else contextlib.nullcontext()
        with pinned:
            runs = run_experiments(ctx, self.experiments(params), params, plan)
        table = [{"experiment": run.name, **row} for run in runs for row in run.rows]
        parts = [run.verdict for run in runs if run.verdict is not None]
        required = [run.name for run in runs if run.verdict and run.experiment.deciding]
        verdict = combine(self.name, self.hypothesis, parts, params["n_seeds"], required)
        figures = {}
        for run in runs:
            figures.update(run.experiment.figures(run))
        notes = [n for run in runs for n in run.experiment.notes(run)] + self.notes(runs)
        result = self.result(params, table, verdict, figures, notes, self.headline(runs))
        result.plan = plan.to_dict()
        result.runs_ = runs  # the experiments' fits and choices, for a notebook
        return result

    def result(self, params, table, verdict, figures, notes=(), headline="") -> ClaimResult:
        """A ClaimResult with this claim's name and texts."""
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
