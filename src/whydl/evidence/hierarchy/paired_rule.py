"""One arm against another on the same evaluation seeds: the rule of the region counts and
of depth against width.

Both arms share every seed's data draw (and, for trained against initial, its network), so
the effect is the mean of per-seed differences with its 95% CI (`paired_difference`). Counts
of linear regions span orders of magnitude across architectures, so they are compared as
log ratios (`log=True`: the effect is the mean per-seed log(a / b)).

Example
-------
>>> rule = PairedRule("deep_wins", "deep wins", {"depth": 4}, {"depth": 1}, "4x16", "1x220",
...                   minimum=0.02, reason="two points")
>>> rows = [{"seed": s, "depth": d, "value": v + 0.001 * s}
...         for s in range(5) for d, v in ((4, 0.9), (1, 0.8))]
>>> rule.decide(rows).verdict
'supported'
"""

from __future__ import annotations

import math

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import MIN_SEEDS, paired_difference, three_way
from whydl.evidence.experiment import Rule
from whydl.evidence.hierarchy.common import CONFIG_SHARE
from whydl.evidence.rows import by_seed


class PairedRule(Rule):
    """Supported when mean(a - b) per seed (or of log(a / b)) has its 95% CI above 0 (and
    not wholly below `minimum`); not supported when the CI lies below `minimum`.

    `a` and `b` select each arm's rows (one per seed); `clear` is the simulator's clear
    effect, `seed_sd` and `shared_sd` its per-seed noise and each seed's data draw shared
    by both arms, `base` the b arm's simulated value (in log units when `log`)."""

    def __init__(
        self,
        name: str,
        hypothesis: str,
        a: dict,
        b: dict,
        a_label: str,
        b_label: str,
        minimum: float,
        reason: str,
        log: bool = False,
        clear: float | None = None,
        seed_sd: float = 0.02,
        shared_sd: float = 0.01,
        base: float = 0.8,
    ):
        self.name, self.hypothesis = name, hypothesis
        self.a, self.b, self.a_label, self.b_label = dict(a), dict(b), a_label, b_label
        self.minimum_effect, self.minimum_effect_reason = float(minimum), reason
        self.log = bool(log)
        self.clear = float(clear if clear is not None else 3 * minimum)
        self.seed_sd, self.shared_sd, self.base = float(seed_sd), float(shared_sd), float(base)

    def _units(self) -> str:
        if self.log:
            return f"log({self.a_label} / {self.b_label})"
        return f"{self.a_label} minus {self.b_label}"

    def text(self) -> str:
        minimum = (
            f"{self.minimum_effect:.4g} (a ratio of {math.exp(self.minimum_effect):.3g})"
            if self.log
            else f"{self.minimum_effect:g}"
        )
        return (
            f"paired by seed: the mean of {self._units()} per evaluation seed, with its 95% "
            f"CI. Supported when the CI lies above 0 and not wholly below the minimum effect "
            f"{minimum}; not supported when it lies wholly below the minimum effect; otherwise "
            f"inconclusive (also with fewer than MIN_SEEDS={MIN_SEEDS} seeds)."
        )

    def decide(self, rows):
        a, b = by_seed(rows, "value", **self.a), by_seed(rows, "value", **self.b)
        if self.log:
            a = {s: math.log(v) if v > 0 else float("nan") for s, v in a.items()}
            b = {s: math.log(v) if v > 0 else float("nan") for s, v in b.items()}
        effect = paired_difference(a, b)
        seeds = sorted(set(a) & set(b))
        mean = {
            label: float(np.mean([arm[s] for s in seeds])) if seeds else float("nan")
            for label, arm in ((self.a_label, a), (self.b_label, b))
        }
        numbers = {"n_seeds": effect.n, **effect.numbers("difference")}
        for label, m in mean.items():
            numbers[f"mean {label}"] = math.exp(m) if self.log else m  # geometric when log
        if self.log:
            numbers["ratio"] = math.exp(effect.estimate) if effect.n else float("nan")
        return self.verdict(three_way(effect, self.minimum_effect), numbers, effect.n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """Rows of both arms: b at `base`, a at `base` plus the condition's effect (0, the
        minimum, `clear`); noise per seed, per configuration (CONFIG_SHARE x seed_sd, shared
        by all its seeds) and per seed's data draw (shared by both arms)."""
        effect = {NULL: 0.0, MINIMUM: self.minimum_effect, CLEAR: self.clear}[condition]
        values = noisy_grid(
            rng,
            [self.base + effect, self.base],
            n_evaluation,
            self.seed_sd,
            CONFIG_SHARE * self.seed_sd,
            self.shared_sd,
        )
        if self.log:
            values = np.exp(values)
        return [
            {**where, "seed": s, "value": float(values[s, j])}
            for s in range(n_evaluation)
            for j, where in enumerate((self.a, self.b))
        ]
