"""The claim's rule on one probe table: is the trained network's last hidden layer more
linearly separable than its input, without falling with depth, and is that learned?

Rows (one per evaluation seed, state and depth): `state` TRAINED or INIT, `depth` 0 for
the input and l for hidden layer l, `metric` "probe_accuracy", `value` the held-out
accuracy of a logistic regression fitted on that representation of the seed's own data.
Every comparison is paired by seed: the trained network, the same network at
initialisation and the input share the seed's data draw and initialisation.

Example
-------
>>> rule = ProbeRule("probes_toy", "toy", n_layers=2)
>>> rows = [{"seed": s, "state": st, "depth": d, "value": v}
...         for s in range(5) for st, vals in ((TRAINED, (0.6, 0.8, 0.9)), (INIT, (0.6,) * 3))
...         for d, v in enumerate(vals)]
>>> rule.decide([dict(r, value=r["value"] + 0.01 * r["seed"]) for r in rows]).verdict
'supported'
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import (
    INCONCLUSIVE,
    MIN_SEEDS,
    NOT_SUPPORTED,
    SUPPORTED,
    holm,
    paired_difference,
    three_way,
)
from whydl.evidence.experiment import Rule
from whydl.evidence.hierarchy.common import CONFIG_SHARE, INIT, TRAINED

PROBE_GAIN = 0.02  # minimum effect of interest: probe accuracy, last hidden layer over input
PROBE_GAIN_REASON = (
    "two points of held-out probe accuracy: a smaller gain of the last layer over the "
    "input is within what the probe's own fit moves by between nearby representations, "
    "and is not the untangling the claim describes"
)
DROP_TOLERANCE = 0.02  # a deeper hidden layer may trail a shallower one by less than this
CLEAR_GAIN = 0.10  # calibration: a clear effect (spiral's measured gain is about 0.36)
SHARED_SHARE = 1.0  # calibration: a seed's data draw, shared by all its layers and states
BASE = 0.7  # calibration: the input's simulated probe accuracy


def _lift(e, by: float):
    """The effect minus `by`: its p-value then tests "effect > by"."""
    return replace(e, estimate=e.estimate - by, ci_low=e.ci_low - by, ci_high=e.ci_high - by)


class ProbeRule(Rule):
    """The probe rule on one dataset's table; `n_layers` hidden layers, `seed_sd` the
    simulator's seed-to-seed noise of one probe accuracy (measured on this data)."""

    minimum_effect = PROBE_GAIN
    minimum_effect_reason = PROBE_GAIN_REASON

    def __init__(self, name: str, dataset: str, n_layers: int, seed_sd: float = 0.02):
        self.name, self.dataset = name, dataset
        self.n_layers, self.seed_sd = int(n_layers), float(seed_sd)
        self.hypothesis = (
            f"On {dataset}, after training, the last hidden layer is more linearly separable "
            "than the input and separability does not fall with depth; at initialisation "
            "it is not."
        )

    def text(self) -> str:
        pairs = self._n_pairs()
        return (
            "all effects are means of per-seed differences (paired: each seed's own data "
            "draw and initialisation), with 95% CIs. Gain = trained last-layer probe accuracy "
            "minus the input's; control = the same gain at initialisation; falls = for every "
            "pair of hidden layers k < l, trained accuracy of k minus that of l. Supported "
            "when the gain's CI lies above 0 and not wholly below the minimum effect "
            f"PROBE_GAIN={PROBE_GAIN}, no fall is shown (Holm's correction over the {pairs} "
            "pairs at one-sided 2.5%: a shown fall blocks support), and the control does not "
            "pass the same gain test (otherwise the gain is not shown to be learned: "
            "inconclusive). Not supported when the gain's CI lies wholly below PROBE_GAIN, or "
            "when Holm's correction shows a fall larger than DROP_TOLERANCE="
            f"{DROP_TOLERANCE}. Inconclusive otherwise, and with fewer than MIN_SEEDS="
            f"{MIN_SEEDS} seeds."
        )

    def _n_pairs(self) -> int:
        return self.n_layers * (self.n_layers - 1) // 2

    # the decision -------------------------------------------------------------------------

    def tables(self, rows) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(trained, init) accuracies (seeds, 1 + n_layers), column 0 the input, over the
        seeds that have every value; and those seeds."""
        L = self.n_layers
        cells: dict = {}
        for r in rows:
            if r.get("metric", "probe_accuracy") == "probe_accuracy":
                cells[r["seed"], r["state"], int(r["depth"])] = float(r["value"])
        seeds = sorted({s for s, _, _ in cells})
        out = np.full((2, len(seeds), L + 1), np.nan)
        for (s, state, d), v in cells.items():
            if d <= L and state in (TRAINED, INIT):
                out[0 if state == TRAINED else 1, seeds.index(s), d] = v
        ok = np.isfinite(out).all(axis=(0, 2))
        return out[0, ok], out[1, ok], [s for s, k in zip(seeds, ok) if k]

    def decide(self, rows):
        trained, init, seeds = self.tables(rows)
        L, n = self.n_layers, len(seeds)
        gain = paired_difference(trained[:, L], trained[:, 0])
        control = paired_difference(init[:, L], init[:, 0])
        learned = paired_difference(trained[:, L], init[:, L])  # reported, not decided on
        pairs = [(k, lay) for lay in range(2, L + 1) for k in range(1, lay)]
        falls = [paired_difference(trained[:, k], trained[:, lay]) for k, lay in pairs]
        shown = holm([f.p_value() for f in falls]) if falls else []  # a fall at all
        beyond = holm([_lift(f, DROP_TOLERANCE).p_value() for f in falls]) if falls else []
        gain_verdict, control_verdict = three_way(gain, PROBE_GAIN), three_way(control, PROBE_GAIN)
        if n < MIN_SEEDS:
            verdict = INCONCLUSIVE
        elif gain_verdict == NOT_SUPPORTED or any(beyond):
            verdict = NOT_SUPPORTED
        elif gain_verdict == SUPPORTED and not any(shown) and control_verdict != SUPPORTED:
            verdict = SUPPORTED
        else:
            verdict = INCONCLUSIVE
        numbers = {
            "n_seeds": n,
            "mean_trained": [round(float(v), 4) for v in trained.mean(axis=0)] if n else [],
            "mean_init": [round(float(v), 4) for v in init.mean(axis=0)] if n else [],
            **gain.numbers("gain"),
            "gain_verdict": gain_verdict,
            **control.numbers("control_gain"),
            "control_verdict": control_verdict,
            **learned.numbers("learned"),
            "largest_fall": max((f.estimate for f in falls), default=float("nan")),
            "largest_fall_ci_high": max((f.ci_high for f in falls), default=float("nan")),
            "falls_shown": [
                f"layer {lay} trails layer {k} by {f.estimate:.3f}"
                for (k, lay), f, s in zip(pairs, falls, shown)
                if s
            ],
            "falls_beyond_tolerance": [
                f"layer {lay} trails layer {k} by {f.estimate:.3f}"
                for (k, lay), f, s in zip(pairs, falls, beyond)
                if s
            ],
        }
        return self.verdict(verdict, numbers, n)

    # calibration --------------------------------------------------------------------------

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """Rows of a probe table: the input at BASE; trained layers rising linearly to the
        input plus the condition's gain at the last layer (0, PROBE_GAIN or CLEAR_GAIN);
        layers at initialisation flat at the input. Noise: each seed's own (seed_sd), each
        configuration's own (CONFIG_SHARE x seed_sd, shared by all its seeds) and each
        seed's data draw (SHARED_SHARE x seed_sd, shared by all its layers and states)."""
        L = self.n_layers
        gain = {NULL: 0.0, MINIMUM: PROBE_GAIN, CLEAR: CLEAR_GAIN}[condition]
        depth = np.arange(1, L + 1)
        means = np.concatenate([[BASE], BASE + gain * depth / L, np.full(L, BASE)])
        sd = self.seed_sd
        values = noisy_grid(rng, means, n_evaluation, sd, CONFIG_SHARE * sd, SHARED_SHARE * sd)
        rows = []
        for s in range(n_evaluation):
            for state, offset in ((TRAINED, 0), (INIT, L)):
                rows.append({"seed": s, "state": state, "depth": 0, "value": values[s, 0]})
                rows += [
                    {"seed": s, "state": state, "depth": d, "value": values[s, offset + d]}
                    for d in range(1, L + 1)
                ]
        return rows
