"""Rules tested like instruments: each rule's false-positive rate, its false-negative rate
at the minimum effect of interest, and its power, measured on simulated experiments.

A `Rule` (see `whydl.evidence.experiment`) has a `simulate(condition, rng, n_evaluation,
n_selection)` that returns tidy per-seed rows like the real experiment's, with realistic
noise: seed-to-seed noise and noise that belongs to each configuration and is shared by all
its seeds. Conditions:

- NULL: no effect; "supported" here is a false positive (required: <= 5%);
- MINIMUM: an effect exactly at the rule's minimum effect of interest; "not supported" here
  is a false negative (required: <= 5%);
- CLEAR: a clear effect; "supported" here is the power (required: >= 80%).

`calibrate` runs N_SIMULATIONS experiments per condition with a fixed RNG seed (numpy
only: seconds). Rates are memoised per process; `stored_rates` reads those shipped with the
package (`calibration.json`, written by `python -m whydl.evidence.calibration`) while the
rule's module is unchanged, so a report shows them without simulating again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from whydl.evidence import decide
from whydl.evidence.decide import NOT_SUPPORTED, SUPPORTED

NULL, MINIMUM, CLEAR = "null", "minimum", "clear"
CONDITIONS = (NULL, MINIMUM, CLEAR)
N_SIMULATIONS = 1000  # per condition
MAX_FALSE_POSITIVE = 0.05  # required: "supported" under the null at most this often
MAX_FALSE_NEGATIVE = 0.05  # required: "not supported" at the minimum effect at most this often
MIN_POWER = 0.80  # required: "supported" for a clear effect at least this often
STORED = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    """A rule's measured rates, as `verdict.json` carries them."""

    false_positive_rate: float
    false_negative_rate_at_minimum_effect: float
    power: float
    n_simulations: int
    n_evaluation_seeds: int
    n_selection_seeds: int = 0
    unit: str = "evaluation seeds"  # what the rule's sample counts ("repeats" for timings)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def passes(self) -> bool:
        return (
            self.false_positive_rate <= MAX_FALSE_POSITIVE
            and self.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE
            and self.power >= MIN_POWER
        )

    def line(self) -> str:
        """'false-positive rate 3.1%, false negatives at the minimum effect 0.4%, power 91%
        at 10 evaluation seeds (1,000 simulations each)'."""
        return (
            f"false-positive rate {self.false_positive_rate:.1%}, false negatives at the "
            f"minimum effect {self.false_negative_rate_at_minimum_effect:.1%}, power "
            f"{self.power:.0%} at {self.n_evaluation_seeds} {self.unit} "
            f"({self.n_simulations:,} simulations per condition)"
        )


def verdict_rates(rule, condition: str, n_evaluation: int, n_selection: int, n: int, seed: int):
    """The share of `n` simulated experiments under `condition` that end in each verdict."""
    rng = np.random.default_rng([seed, CONDITIONS.index(condition)])
    counts = {SUPPORTED: 0, NOT_SUPPORTED: 0}
    for _ in range(n):
        verdict = rule.decide(rule.simulate(condition, rng, n_evaluation, n_selection)).verdict
        if verdict in counts:
            counts[verdict] += 1
    return {k: v / n for k, v in counts.items()}


def calibrate(
    rule, n_evaluation: int, n_selection: int = 0, n_simulations: int = N_SIMULATIONS, seed=0
) -> Calibration:
    """Run `n_simulations` simulated experiments per condition through `rule.decide`."""
    n_evaluation, n_selection = rule.calibration_counts(n_evaluation, n_selection)
    args = (n_evaluation, n_selection, n_simulations, seed)
    null = verdict_rates(rule, NULL, *args)
    minimum = verdict_rates(rule, MINIMUM, *args)
    clear = verdict_rates(rule, CLEAR, *args)
    return Calibration(
        false_positive_rate=null[SUPPORTED],
        false_negative_rate_at_minimum_effect=minimum[NOT_SUPPORTED],
        power=clear[SUPPORTED],
        n_simulations=n_simulations,
        n_evaluation_seeds=n_evaluation,
        n_selection_seeds=n_selection,
        unit=rule.unit,
    )


def rule_key(rule, n_evaluation: int, n_selection: int) -> str:
    n_evaluation, n_selection = rule.calibration_counts(n_evaluation, n_selection)
    return f"{type(rule).__module__}.{rule.name}|{n_evaluation}|{n_selection}"


def rule_version(rule) -> str:
    """A hash of what a rate depends on: the rule's claim package (every module of it: its
    simulator and helpers may live beside the rule), the shared statistics and this module,
    and the rule's own settings."""
    h = hashlib.sha256()
    folder = Path(inspect.getfile(type(rule))).parent
    own = sorted(folder.glob("*.py")) if folder.name != "evidence" else []
    for path in (*own, Path(inspect.getfile(type(rule))), Path(__file__), Path(decide.__file__)):
        h.update(path.read_bytes())
    h.update(repr(sorted(vars(rule).items())).encode())
    return h.hexdigest()[:16]


def stored_rates() -> dict:
    return json.loads(STORED.read_text()) if STORED.is_file() else {}


_MEMO: dict[str, Calibration] = {}


def rates(rule, n_evaluation: int, n_selection: int = 0) -> Calibration:
    """The rule's calibration at these seed counts: shipped when current, else simulated
    now (and kept for this process)."""
    key = rule_key(rule, n_evaluation, n_selection)
    if key not in _MEMO:
        entry = stored_rates().get(key)
        if entry is not None and entry.get("version") == rule_version(rule):
            _MEMO[key] = Calibration(**entry["calibration"])
        else:
            _MEMO[key] = calibrate(rule, n_evaluation, n_selection)
    return _MEMO[key]


def write_stored(rules_and_counts, claims=None) -> dict:
    """Simulate every (rule, n_evaluation, n_selection) whose stored rates are missing or
    stale and write `calibration.json` (current entries are kept as they are). `claims`
    limits the run to rules of those claims' modules; the others' entries stay."""
    stored, out = stored_rates(), {}
    for rule, n_evaluation, n_selection in rules_and_counts:
        key = rule_key(rule, n_evaluation, n_selection)
        entry = stored.get(key)
        if entry is None or entry.get("version") != rule_version(rule):
            c = calibrate(rule, n_evaluation, n_selection)
            entry = {"version": rule_version(rule), "calibration": c.to_dict()}
            print(f"  {key}: {c.line()}", flush=True)
        out[key] = entry
    if claims is not None:  # keep what this run did not look at
        out = {**{k: v for k, v in stored.items() if k not in out}, **out}
    STORED.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return out


def noisy_grid(rng, true_means, n_seeds: int, seed_sd: float, config_sd: float, shared_sd=0.0):
    """Simulated per-seed values of several configurations: (n_seeds, configs).

    value[s, c] = true_means[c] + config[c] + shared[s] + noise[s, c], where `config`
    (sd `config_sd`) belongs to a configuration and is shared by all its seeds (the luck of a
    choice or of a fixed dataset, which more seeds do not average away); `shared` (sd
    `shared_sd`) belongs to a seed and is shared by its configurations (its data draw: what
    pairing cancels); `noise` (sd `seed_sd`) is each seed's own."""
    true_means = np.asarray(true_means, dtype=float)
    k = true_means.shape[-1]
    config = rng.normal(0.0, config_sd, k)
    shared = rng.normal(0.0, shared_sd, (n_seeds, 1))
    noise = rng.normal(0.0, seed_sd, (n_seeds, k))
    return true_means + config + shared + noise
