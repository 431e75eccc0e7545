"""The transfer claim's decision rules, pure functions of its tidy rows, and their simulators.

`FineTuningRule` (one per domain, deciding): fine-tuning beats scratch at every small k, and
the advantage narrows as k grows. Its components, each an `Effect` paired by seed:
- the gain at every k <= SMALL_K: fine-tuned minus scratch test accuracy;
- the narrowing: per seed, NARROWING_RATIO * gain at the smallest k minus gain at the
  largest k (positive: the gap at the largest k is below that fraction of the first; read
  beside a positive gain only, since a negative first gain makes it meaningless).
Supported when EVERY component's 95% CI lies above 0 (an intersection: each must pass, so
no correction is due). Not supported when Holm's correction over the components' one-sided
tests of "at least the minimum effect" rejects one of them (a union: one failure refutes,
so the chances are corrected). Otherwise inconclusive, and always below MIN_SEEDS seeds.

`FeaturesRule` (one per domain, reported): Yosinski et al.'s control, frozen pretrained
features against frozen random ones (each with a new linear head) at the smallest k.

The simulators draw rows like the sweep's with `noisy_grid`: a seed's own noise, a seed's
data draw shared by its arms (what pairing cancels), and noise of each (method, k)
configuration shared by all its seeds (what more seeds never average away).

Example
-------
>>> import numpy as np
>>> rule = FineTuningRule("toy", n_layers=2, ks=(1, 5, "all"))
>>> rows = rule.simulate(CLEAR, np.random.default_rng(0), 10, 0)
>>> rule.decide(rows).verdict
'supported'
"""

from __future__ import annotations

import math

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import MIN_SEEDS, every, mean_effect, three_way
from whydl.evidence.experiment import Rule
from whydl.evidence.transfer.table import ALL, FINE_TUNED, FROZEN, RANDOM, SCRATCH, accuracies, row

SMALL_K = 5  # "few labels": every k <= SMALL_K labels per class
NARROWING_RATIO = 0.5  # the gap at the largest k should be at most this fraction of the first
MIN_GAIN = 0.02  # accuracy (fraction): fine-tuning gains at least 2 points at each k <= SMALL_K
MIN_GAIN_REASON = (
    "fine-tuning gains at least 2 points of test accuracy at every k <= 5 labels per class; "
    "a smaller gain is within what re-tuning scratch's learning rate or epochs recovers, "
    "too small to be the reason to pretrain"
)
MIN_NARROWING = NARROWING_RATIO * MIN_GAIN
MIN_NARROWING_REASON = (
    "a gain of the smallest size worth having (2 points) that vanishes entirely at the "
    "largest k ends exactly 1 point below half of itself; a gap that shrinks less than that "
    "has not narrowed"
)
MIN_FEATURES_GAIN = 0.02  # accuracy (fraction), frozen pretrained minus frozen random
MIN_FEATURES_GAIN_REASON = (
    "frozen pretrained features beat frozen random ones by at least 2 points of test "
    "accuracy at the smallest k; less means pretraining carried over nothing a linear head "
    "could use"
)
HYPOTHESIS = (
    "A network pretrained on a related task and fine-tuned on k labels per class beats the "
    "same network trained from scratch when k is small, and the advantage shrinks as k grows."
)
FEATURES_HYPOTHESIS = "Pretrained features carry over: frozen, they beat frozen random features."

# the simulators' noise, sized on the full run before the port (10 seeds): the paired gap's
# seed-to-seed sd was 0.06 at k = 1 on both domains, 0.02-0.05 at k = 10, 0.006 with every
# label; frozen pretrained minus random features varied by 0.10-0.18 between seeds
GAP_SD_AT_K1 = 0.07  # sd of a seed's paired gap at k = 1, falling as k ** -GAP_SD_EXPONENT
GAP_SD_EXPONENT = 0.3
FEATURES_SD = 0.15  # sd of a seed's frozen-pretrained minus frozen-random gap
# each (method, k) configuration's own luck, shared by all its seeds: every seed draws its own
# split and sample, so what is left is the one recipe (lr, epochs) meeting the one digits
# collection (1,797 images) a little better in one arm; 0.3 points of accuracy
CONFIG_SD = 0.003
SHARED_SD = 0.05  # a seed's labels and data draw, shared by its arms
SIM_ACCURACY = 0.7  # scratch's mean accuracy in a simulation (its level does not matter)
SIM_ALL_K = 100  # the k a simulation gives "all" labels per class
CLEAR_GAIN = 0.10  # a clear effect: +10 points at k = 1, shrinking to 0 at the largest k
CLEAR_FEATURES_GAIN = 0.20  # a clear effect: Yosinski's random features far behind


def every_or_holm(components: dict) -> tuple[str, dict]:
    """A claim that needs EVERY component (name -> (Effect, minimum)), by `decide.every`:
    supported when every component is; not supported when Holm shows one below its minimum;
    otherwise inconclusive. Returns the verdict and, per component, its numbers, its own
    three-way verdict and Holm's decision."""
    names = list(components)
    verdict, details = every([components[c][0] for c in names], [components[c][1] for c in names])
    detail = {
        c: {
            **components[c][0].numbers("effect"),
            "minimum": components[c][1],
            "verdict": d["verdict"],
            "p_below_minimum": d["p_below_minimum"],
            "holm_rejects_minimum": d["holm_below_minimum"],
        }
        for c, d in zip(names, details)
    }
    return verdict, detail


def catch_up_k(ks, ci_low):
    """The smallest k from which the gap's CI no longer lies above 0 at any larger k (None
    when fine-tuning stays ahead up to the largest k)."""
    k = None
    for value, low in zip(reversed(list(ks)), reversed(list(ci_low))):
        if low > 0:
            break
        k = value
    return k


def paired(a: dict, b: dict) -> dict:
    """seed -> a - b over the seeds both have."""
    return {s: a[s] - b[s] for s in a.keys() & b.keys()}


def _k_numbers(ks) -> list[tuple[int, str]]:
    """(k, label) of a simulated sweep: "all" becomes SIM_ALL_K."""
    return [(SIM_ALL_K, ALL) if k == ALL else (int(k), str(k)) for k in ks]


class FineTuningRule(Rule):
    """Fine-tuned against scratch on one domain; see the module docstring."""

    hypothesis = HYPOTHESIS
    minimum_effect = MIN_GAIN
    minimum_effect_reason = MIN_GAIN_REASON

    def __init__(self, name: str, n_layers: int, ks):
        self.name, self.n_layers, self.ks = name, int(n_layers), tuple(ks)

    def text(self) -> str:
        return (
            "paired by seed, gain = fine-tuned minus scratch test accuracy. Components: the "
            f"gain at every k <= SMALL_K={SMALL_K} labels per class (minimum effect "
            f"MIN_GAIN={MIN_GAIN:g}), and the narrowing, NARROWING_RATIO={NARROWING_RATIO:g} "
            "times the gain at the smallest k minus the gain at the largest k (minimum "
            f"MIN_NARROWING={MIN_NARROWING:g}; it means something only beside a positive "
            "gain, which support requires anyway). Supported when every component's 95% CI lies "
            "above 0 (all must pass: no correction). Not supported when Holm's correction "
            "(family-wise 2.5%, one-sided) over the components' tests of 'at least its "
            "minimum effect' rejects one of them. Otherwise inconclusive (also with fewer "
            f"than MIN_SEEDS={MIN_SEEDS} seeds)."
        )

    def minimum_text(self) -> str:
        return (
            f"gain {MIN_GAIN:g}: {MIN_GAIN_REASON}; narrowing {MIN_NARROWING:g}: "
            f"{MIN_NARROWING_REASON}"
        )

    def decide(self, rows):
        acc = accuracies(rows)
        ks = sorted({k for method, _, k in acc if method == SCRATCH})
        gains = {
            k: paired(acc.get((FINE_TUNED, self.n_layers, k), {}), acc.get((SCRATCH, 0, k), {}))
            for k in ks
        }
        effects = {k: mean_effect(gains[k]) for k in ks}
        components = {f"gain at k={k}": (effects[k], MIN_GAIN) for k in ks if k <= SMALL_K}
        if not components and ks:
            components[f"gain at k={ks[0]}"] = (effects[ks[0]], MIN_GAIN)
        if len(ks) > 1:
            first, last = gains[ks[0]], gains[ks[-1]]
            narrowing = {s: NARROWING_RATIO * first[s] - last[s] for s in first.keys() & last}
            components["narrowing"] = (mean_effect(narrowing), MIN_NARROWING)
        else:  # one k: nothing to narrow, so the claim cannot be decided
            components["narrowing"] = (mean_effect([]), MIN_NARROWING)
        verdict, detail = every_or_holm(components)
        n = min((e.n for e, _ in components.values()), default=0)
        ci_low = [effects[k].ci_low for k in ks]
        numbers = {
            "k": ks,
            "fine_tuned_mean": [_mean(acc.get((FINE_TUNED, self.n_layers, k), {})) for k in ks],
            "scratch_mean": [_mean(acc.get((SCRATCH, 0, k), {})) for k in ks],
            "gap_mean": [effects[k].estimate for k in ks],
            "gap_ci_low": ci_low,
            "gap_ci_high": [effects[k].ci_high for k in ks],
            "components": detail,
            "catch_up_k": catch_up_k(ks, ci_low),
            "scratch_leads_at_k": [k for k in ks if effects[k].ci_high < 0],
        }
        return self.verdict(verdict, numbers, n)

    def true_gains(self, condition: str, ks) -> list[float]:
        """The simulated gain at each k: none (NULL); MIN_GAIN at every small k, falling to 0
        at the largest (MINIMUM: both components exactly at their minimum); CLEAR_GAIN at
        k = 1 falling to 0 at the largest k (CLEAR)."""
        k_max = max(ks)
        if condition == NULL:
            return [0.0] * len(ks)
        if condition == MINIMUM:
            span = math.log(k_max / SMALL_K) if k_max > SMALL_K else 1.0
            return [MIN_GAIN if k <= SMALL_K else MIN_GAIN * math.log(k_max / k) / span for k in ks]
        if condition == CLEAR:
            return [CLEAR_GAIN * (1 - math.log(k) / max(math.log(k_max), 1e-9)) for k in ks]
        raise ValueError(f"condition={condition!r}; expected one of {NULL}, {MINIMUM}, {CLEAR}.")

    def simulate(self, condition, rng, n_evaluation, n_selection):
        ks = _k_numbers(self.ks)
        rows = []
        for (k, label), gain in zip(ks, self.true_gains(condition, [k for k, _ in ks])):
            seed_sd = GAP_SD_AT_K1 * k**-GAP_SD_EXPONENT / math.sqrt(2)  # per arm
            means = [SIM_ACCURACY, SIM_ACCURACY + gain]
            values = noisy_grid(rng, means, n_evaluation, seed_sd, CONFIG_SD, SHARED_SD)
            for s in range(n_evaluation):
                rows.append(row(self.name, s, SCRATCH, 0, k, label, values[s, 0]))
                rows.append(row(self.name, s, FINE_TUNED, self.n_layers, k, label, values[s, 1]))
        return rows


class FeaturesRule(Rule):
    """Frozen pretrained against frozen random features at the smallest k, paired by seed."""

    hypothesis = FEATURES_HYPOTHESIS
    minimum_effect = MIN_FEATURES_GAIN
    minimum_effect_reason = MIN_FEATURES_GAIN_REASON

    def __init__(self, name: str, n_layers: int, k=1):
        self.name, self.n_layers, self.k = name, int(n_layers), k

    def text(self) -> str:
        return (
            "paired by seed, gap = frozen pretrained minus frozen random features (each with "
            "a new linear head) at the smallest k. Supported when the gap's 95% CI lies above "
            f"0; not supported when it lies below MIN_FEATURES_GAIN={MIN_FEATURES_GAIN:g}; "
            f"otherwise inconclusive (also with fewer than MIN_SEEDS={MIN_SEEDS} seeds)."
        )

    def decide(self, rows):
        acc = accuracies(rows)
        ks = sorted({k for method, n, k in acc if method == FROZEN and n == self.n_layers})
        k = ks[0] if ks else None
        frozen = acc.get((FROZEN, self.n_layers, k), {})
        random = acc.get((RANDOM, self.n_layers, k), {})
        effect = mean_effect(paired(frozen, random))
        numbers = {
            "k": k,
            "frozen_mean": _mean(frozen),
            "random_mean": _mean(random),
            **effect.numbers("gap"),
        }
        return self.verdict(three_way(effect, MIN_FEATURES_GAIN), numbers, effect.n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        gain = {NULL: 0.0, MINIMUM: MIN_FEATURES_GAIN, CLEAR: CLEAR_FEATURES_GAIN}[condition]
        means = [SIM_ACCURACY, SIM_ACCURACY + gain]
        sd = FEATURES_SD / math.sqrt(2)
        values = noisy_grid(rng, means, n_evaluation, sd, CONFIG_SD, SHARED_SD)
        (k, label), n = _k_numbers([self.k])[0], self.n_layers
        return [
            row(self.name, s, method, n, k, label, values[s, i])
            for s in range(n_evaluation)
            for i, method in enumerate((RANDOM, FROZEN))
        ]


def _mean(values: dict) -> float:
    v = np.array([x for x in values.values() if math.isfinite(x)])
    return float(v.mean()) if len(v) else float("nan")
