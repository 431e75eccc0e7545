"""One experiment of a claim, in one shape: calls as data, tidy per-seed rows, a rule,
figures; and `run_experiments`, the protocol that drives them.

An `Experiment` declares
1. `selection_calls(params, seeds)` and `choose(params, fits)`: the training it needs to
   make its choices (a learning rate per arm, a power-law region, ...) and the choices,
   made on selection seeds only (none by default);
2. `calls(params, seeds, chosen)`: its training calls on the evaluation seeds, as
   `TrainCall`s (data, not closures: the runtime caches each and can send it to a worker);
   `train(ctx, ...)` makes them, and an experiment with stages (pretrain, then fine-tune)
   or with measurements of this machine overrides it;
3. `rows(run)`: tidy rows, one per evaluation seed and configuration, each with `seed`;
4. `rule`: a `Rule`, a pure function from rows to a `Verdict` with named thresholds and a
   minimum effect of interest, and a simulator of rows for its calibration;
5. `figures(run)` and `notes(run)`, drawn from the rows and the verdict.

`run_experiments` trains every experiment's selection calls at once, then every
evaluation call at once (so an executor trains them side by side), checks that no rule
reads a selection seed, decides, and attaches each rule's calibration and protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whydl.evidence.calibration import rates
from whydl.evidence.calls import Context
from whydl.evidence.protocol import SeedPlan, check_calls, check_rows
from whydl.evidence.verdict import Verdict


class Rule:
    """A decision rule. Subclasses set `name`, `hypothesis`, `minimum_effect` (> 0, in the
    effect's units) and `minimum_effect_reason`, and implement:

    - `decide(rows) -> Verdict`: pure; reads only the rows;
    - `simulate(condition, rng, n_evaluation, n_selection) -> rows`: rows like the real
      experiment's under `calibration.NULL`, `MINIMUM` or `CLEAR`, with seed-to-seed noise
      and noise shared by all seeds of a configuration;
    - `text()`: the rule in words, with its thresholds.
    """

    name: str = ""
    hypothesis: str = ""
    minimum_effect: float = 0.0
    minimum_effect_reason: str = ""
    unit: str = "evaluation seeds"  # what its sample counts: a timing rule counts "repeats"

    def calibration_counts(self, n_evaluation: int, n_selection: int) -> tuple[int, int]:
        """The sample sizes its rates are measured at: the run's seeds, unless the rule's
        rows count something else (a timing rule: its repeats)."""
        return n_evaluation, n_selection

    def decide(self, rows: list[dict]) -> Verdict:
        raise NotImplementedError

    def simulate(self, condition: str, rng, n_evaluation: int, n_selection: int) -> list[dict]:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    def minimum_text(self) -> str:
        return f"{self.minimum_effect:g}: {self.minimum_effect_reason}"

    def verdict(self, verdict: str, numbers: dict, seeds: int) -> Verdict:
        """A Verdict of this rule: its name, hypothesis, text and minimum effect."""
        return Verdict(
            self.name,
            verdict,
            self.hypothesis,
            self.text(),
            numbers,
            seeds,
            minimum_effect=self.minimum_text(),
        )


@dataclass
class ExperimentRun:
    """What one experiment produced in a claim run."""

    experiment: Experiment
    params: dict
    plan: SeedPlan
    chosen: dict = field(default_factory=dict)
    selection_fits: dict = field(default_factory=dict)
    fits: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    verdict: Verdict | None = None  # None for a descriptive experiment (no rule)
    others: dict = field(default_factory=dict)  # name -> the claim's other ExperimentRuns

    @property
    def name(self) -> str:
        return self.experiment.name


class Experiment:
    """Base class of an experiment; see the module docstring for what subclasses declare.

    `deciding` says whether its verdict carries the claim; `selects` whether it makes
    choices on selection seeds; `per_seed = False` marks an experiment whose rows are not
    per seed (a timing of this machine, per repeat)."""

    name: str = ""
    rule: Rule | None = None  # None: descriptive (rows and figures), no verdict
    deciding: bool = True
    selects: bool = False
    per_seed: bool = True

    def selection_calls(self, params: dict, seeds) -> dict:
        return {}

    def choose(self, params: dict, fits: dict) -> dict:
        return {}

    def select(self, ctx: Context, params: dict, seeds) -> dict | None:
        """None: the frame trains `selection_calls(...)` with other experiments' and calls
        `choose`. Override for staged selection, returning the choices yourself (train
        only on `seeds`, the selection seeds)."""
        return None

    def calls(self, params: dict, seeds, chosen: dict) -> dict:
        return {}

    def train(self, ctx: Context, params: dict, seeds, chosen: dict) -> dict | None:
        """None: the frame trains `calls(...)` together with other experiments' calls.
        Override for staged training or timings, returning the fits yourself."""
        return None

    def rows(self, run: ExperimentRun) -> list[dict]:
        raise NotImplementedError

    def figures(self, run: ExperimentRun) -> dict:
        return {}

    def notes(self, run: ExperimentRun) -> list[str]:
        return []


class Description(Experiment):
    """An experiment that decides nothing: it draws figures (or writes rows) from the
    others' fits and rows (`run.others`); subclasses set `name` and `figures`."""

    rule = None
    deciding = False

    def rows(self, run: ExperimentRun) -> list[dict]:
        return []


def _together(ctx: Context, calls_by_experiment: dict) -> dict:
    """Train several experiments' calls in one `fit_many`; returns name -> {key: fit}."""
    flat = {
        (name, key): call
        for name, calls in calls_by_experiment.items()
        for key, call in calls.items()
    }
    fits = ctx.fit_many(flat, errors="return") if flat else {}
    out: dict = {name: {} for name in calls_by_experiment}
    for (name, key), fit in fits.items():
        out[name][key] = fit
    return out


def run_experiments(ctx: Context, experiments, params: dict, plan: SeedPlan) -> list[ExperimentRun]:
    """The protocol: select on selection seeds, train and decide on evaluation seeds.
    Descriptive experiments (no rule) may read the others' fits (`run.others`)."""
    runs = [ExperimentRun(e, params, plan) for e in experiments]
    for run in runs:
        run.others = {r.name: r for r in runs if r is not run}
    selection, staged = {}, {}
    for run in runs:
        if run.experiment.selects:
            chosen = run.experiment.select(ctx, params, plan.selection)
            if chosen is not None:
                staged[run.name] = chosen
                continue
        calls = run.experiment.selection_calls(params, plan.selection)
        if calls and not run.experiment.selects:
            raise TypeError(f"experiment {run.name!r} has selection calls but selects=False.")
        check_calls(run.name, calls, plan.selection, "selection")
        selection[run.name] = calls
    chosen_fits = _together(ctx, selection)
    evaluation = {}
    for run in runs:
        if run.name in staged:
            run.chosen = staged[run.name]
        else:
            run.selection_fits = chosen_fits[run.name]
            run.chosen = run.experiment.choose(params, run.selection_fits)
        own = run.experiment.train(ctx, params, plan.evaluation, run.chosen)
        if own is not None:
            run.fits = own
            continue
        calls = run.experiment.calls(params, plan.evaluation, run.chosen)
        check_calls(run.name, calls, plan.evaluation, "evaluation")
        evaluation[run.name] = calls
    for name, fits in _together(ctx, evaluation).items():
        next(r for r in runs if r.name == name).fits = fits
    for run in runs:
        run.rows = run.experiment.rows(run)
        if run.experiment.per_seed:
            check_rows(run.name, run.rows, plan)
        run.verdict = decide(run) if run.experiment.rule is not None else None
    return runs


def decide(run: ExperimentRun) -> Verdict:
    """The rule's verdict on the run's rows, with its calibration (at this run's seed
    counts) and the protocol: seeds, choices, whether it decides."""
    experiment, plan = run.experiment, run.plan
    verdict = experiment.rule.decide(run.rows)
    n_selection = len(plan.selection) if experiment.selects else 0
    calibration = rates(experiment.rule, len(plan.evaluation), n_selection)
    protocol = {
        "deciding": experiment.deciding,
        "evaluation_seeds": list(plan.evaluation) if experiment.per_seed else [],
        "selection_seeds": list(plan.selection) if n_selection else [],
        "chosen": run.chosen,
    }
    return verdict.with_(calibration=calibration.to_dict(), protocol=protocol)
