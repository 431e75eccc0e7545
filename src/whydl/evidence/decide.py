"""The statistics every rule decides with: effects with CIs, and the three-way verdict.

A rule reduces its tidy per-seed rows to an `Effect` (an estimate with a 95% CI, in the
claimed direction: positive means the claim's side is ahead) and hands it to `three_way`
with its *minimum effect of interest*, a named constant with its reason:

- not supported: the CI excludes every effect at least as large as the minimum effect of
  interest (ci_high < minimum): evidence against the claim, not merely missing evidence.
  This comes first: an effect shown to be real but below the minimum (CI 0.002 to 0.008
  against a minimum of 0.02) is too small to carry the claim;
- supported: otherwise, when the CI excludes no effect, on the claimed side (ci_low > 0);
- inconclusive: everything else, including fewer than MIN_SEEDS seeds.

Arms that share evaluation seeds are compared paired (`paired_difference`, the CI of the
per-seed difference); arms that do not, unpaired (`unpaired_difference`, Welch). A part that
passes when any of K comparisons passes uses `holm` on their one-sided p-values.

Example
-------
>>> e = paired_difference({0: 0.9, 1: 0.92, 2: 0.91}, {0: 0.8, 1: 0.83, 2: 0.8})
>>> three_way(e, minimum=0.02)
'supported'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from whydl.stats import summarize, t_quantile

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
MIN_SEEDS = 3  # fewer seeds give no confidence interval worth comparing: inconclusive
LEVEL = 0.95  # every CI; "supported" is then a one-sided test at 2.5%


@dataclass(frozen=True)
class Effect:
    """An effect in the claimed direction (positive: as claimed) with its CI over `n` seeds.

    `paired` says whether it is the mean of per-seed differences (True) or a difference of
    means of independent groups (False)."""

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    paired: bool = True
    std_error: float = float("nan")
    df: float = float("nan")

    def numbers(self, prefix: str = "effect") -> dict:
        """The effect as a rule's `numbers`: estimate, CI, seeds, paired."""
        return {
            prefix: self.estimate,
            f"{prefix}_ci_low": self.ci_low,
            f"{prefix}_ci_high": self.ci_high,
            f"{prefix}_n": self.n,
            f"{prefix}_paired": self.paired,
        }

    def p_value(self) -> float:
        """One-sided p-value of "no effect or the other way" (small: the claim's side)."""
        if self.n < 2 or not math.isfinite(self.std_error):
            return 1.0
        if self.std_error == 0:  # every seed the same: the sign decides
            return 0.0 if self.estimate > 0 else 1.0
        from scipy.special import stdtr  # shipped with scikit-learn; imports in milliseconds

        return float(1.0 - stdtr(self.df, self.estimate / self.std_error))

    def to_dict(self) -> dict:
        return asdict(self)


def _aligned(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Two per-seed sets as aligned arrays over the seeds both have (dicts seed -> value),
    or as given (equal-length sequences, already in seed order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        seeds = sorted(set(a) & set(b))
        return np.array([a[s] for s in seeds], float), np.array([b[s] for s in seeds], float)
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(
            f"paired values need one per seed on both sides; got {a.shape}, {b.shape}."
        )
    return a, b


def mean_effect(values, sign: float = 1.0) -> Effect:
    """The mean of per-seed values (e.g. per-seed differences or slopes) with its t-CI;
    `sign=-1` turns "lower is the claim's side" into a positive effect."""
    v = sign * np.asarray(list(values.values()) if isinstance(values, dict) else values, float)
    v = v[np.isfinite(v)]
    s = summarize(v, LEVEL)
    n = s["n"]
    se = s["std"] / math.sqrt(n) if n > 1 else float("nan")
    return Effect(s["mean"], s["ci_low"], s["ci_high"], n, True, se, n - 1)


def paired_difference(a, b, sign: float = 1.0) -> Effect:
    """Mean of a - b per seed (dicts seed -> value, or aligned sequences), with the CI of
    the per-seed difference: the seeds' shared luck cancels."""
    a, b = _aligned(a, b)
    return mean_effect(a - b, sign)


def unpaired_difference(a, b, sign: float = 1.0) -> Effect:
    """mean(a) - mean(b) with Welch's CI, for groups that do not share seeds."""
    a = np.asarray(list(a.values()) if isinstance(a, dict) else a, float)
    b = np.asarray(list(b.values()) if isinstance(b, dict) else b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    n = min(len(a), len(b))
    if n < 2:
        nan = float("nan")
        return Effect(nan, nan, nan, n, False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else n - 1
    estimate = sign * float(a.mean() - b.mean())
    half = t_quantile(df, LEVEL) * se
    return Effect(estimate, estimate - half, estimate + half, n, False, se, df)


def three_way(effect: Effect, minimum: float) -> str:
    """supported / not supported / inconclusive for an effect in the claimed direction and
    the rule's minimum effect of interest (> 0), as the module docstring defines them."""
    if minimum <= 0:
        raise ValueError(f"minimum={minimum}: the minimum effect of interest must be > 0.")
    if not (effect.n >= MIN_SEEDS and math.isfinite(effect.ci_low)):
        return INCONCLUSIVE
    if effect.ci_high < minimum:
        return NOT_SUPPORTED
    if effect.ci_low > 0:
        return SUPPORTED
    return INCONCLUSIVE


def holm(p_values, alpha: float = (1 - LEVEL) / 2) -> list[bool]:
    """Holm's step-down correction: which of K one-sided tests reject at family-wise `alpha`
    (default 2.5%, the one-sided level of a 95% CI)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    reject = np.zeros(len(p), dtype=bool)
    for rank, i in enumerate(order):
        if p[i] > alpha / (len(p) - rank):
            break
        reject[i] = True
    return reject.tolist()


def any_of(effects: dict, minimum: float) -> tuple[str, dict]:
    """A part that passes when ANY of K comparisons passes, corrected by Holm: supported
    when Holm rejects at least one; not supported when every comparison is not supported;
    otherwise inconclusive. Returns the verdict and, per key, its p-value and whether Holm
    rejected it."""
    keys = list(effects)
    p_values = [effects[k].p_value() for k in keys]
    rejected = holm(p_values)
    enough = all(effects[k].n >= MIN_SEEDS for k in keys)
    if enough and any(rejected):
        verdict = SUPPORTED
    elif enough and all(three_way(effects[k], minimum) == NOT_SUPPORTED for k in keys):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return verdict, {
        k: {"p_value": p, "holm_rejects": r} for k, p, r in zip(keys, p_values, rejected)
    }


def all_of(verdicts) -> str:
    """Finished verdicts combined: supported when all are, not supported when any is not,
    otherwise inconclusive. For a part that needs every one of K *effects*, use `every`:
    this gives K chances to say "not supported" at the minimum effect."""
    verdicts = list(verdicts)
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    if any(v == NOT_SUPPORTED for v in verdicts):
        return NOT_SUPPORTED
    return INCONCLUSIVE


def slopes(x, y_per_seed) -> np.ndarray:
    """The least-squares slope of y against x for each seed (rows of `y_per_seed`); use log
    values for power-law exponents."""
    x = np.asarray(x, dtype=float)
    y = np.atleast_2d(np.asarray(y_per_seed, dtype=float))
    xc = x - x.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)


def mean_ci(values, level: float = LEVEL) -> tuple[float, float]:
    """(mean, CI half-width) over finite values: for summaries and figures, not rules."""
    s = summarize(values, level)
    return s["mean"], (s["ci_high"] - s["ci_low"]) / 2


# -- a part that needs EVERY one of several comparisons ---------------------------------------
# `all_of` on finished verdicts says "not supported" as soon as any one is: K chances at the
# minimum effect (1 - 0.975^9 = 20% for nine tasks). `every` tests the two sides apart:
# - not supported: Holm over the comparisons' one-sided p-values of "the effect is at least
#   its minimum" rejects at least one (one comparison is shown below its minimum,
#   family-wise at 2.5%);
# - supported: every comparison is supported by `three_way`. An intersection of tests needs
#   no correction: to pass, even the weakest one must pass at 2.5% on its own;
# - inconclusive: everything else, and whenever a comparison has fewer than MIN_SEEDS seeds.


def shifted(effect: Effect, by: float) -> Effect:
    """The effect plus a constant (estimate and CI): e.g. a non-inferiority margin."""
    return replace(
        effect,
        estimate=effect.estimate + by,
        ci_low=effect.ci_low + by,
        ci_high=effect.ci_high + by,
    )


def p_below(effect: Effect, minimum: float) -> float:
    """One-sided p-value of "the effect is at least `minimum`" (small: shown below it)."""
    return replace(effect, estimate=minimum - effect.estimate).p_value()


def every(effects, minimums) -> tuple[str, list[dict]]:
    """The verdict of a part that needs every comparison (see the module docstring), and per
    comparison its own three-way verdict, its p-value below the minimum and whether Holm
    showed it below."""
    effects, minimums = list(effects), list(minimums)
    own = [three_way(e, m) for e, m in zip(effects, minimums)]
    below = [p_below(e, m) for e, m in zip(effects, minimums)]
    enough = bool(effects) and all(e.n >= MIN_SEEDS for e in effects)
    verdict, shown_below = every_unit([v == SUPPORTED for v in own], below, enough)
    details = [
        {"verdict": v, "p_below_minimum": p, "holm_below_minimum": b}
        for v, p, b in zip(own, below, shown_below)
    ]
    return verdict, details


def every_unit(supported, below, enough: bool) -> tuple[str, list[bool]]:
    """`every` for units that are not single effects (e.g. a side of a curve, itself an
    any-of): `supported` per unit, `below` its p-value of "at least the minimum". Returns
    the verdict and which units Holm showed below their minimum."""
    shown_below = holm(below) if below else []
    if enough and any(shown_below):
        return NOT_SUPPORTED, shown_below
    if enough and supported and all(supported):
        return SUPPORTED, shown_below
    return INCONCLUSIVE, shown_below
