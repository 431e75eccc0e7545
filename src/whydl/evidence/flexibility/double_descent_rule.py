"""The rule of "double descent": with noisy labels, does test error peak at the
interpolation threshold and fall again for larger models (Nakkiran et al. 2019)?

The peak's place is chosen in advance of the test error, as Nakkiran et al. predict it: the
interpolation threshold, the smallest width whose mean TRAINING error on the selection
seeds is below INTERPOLATION_ERROR (`interpolation_width`). The rows mark it
(`at_threshold`). Choosing the peak where the test error is highest would pick, among K
widths, the one whose own luck (shared by all its seeds, so the evaluation seeds inherit
it) is largest, and see a peak in flat noise.

Then, on the evaluation seeds, paired per seed, two sides of pre-registered comparisons:
- rise: test error at the threshold minus that of each smaller width;
- fall: test error at the threshold minus that of each larger width.
A side is supported when Holm's correction over its widths rejects "no higher" for at least
one (family-wise 2.5%), and shown below its minimum when every one of its comparisons is
(its p-value: the largest of theirs). The part needs both sides (`compare.every_unit`).
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import (
    INCONCLUSIVE,
    MIN_SEEDS,
    every_unit,
    holm,
    p_below,
    paired_difference,
)
from whydl.evidence.experiment import Rule
from whydl.evidence.flexibility.labels import LABEL_NOISE, NOISY

DESCENT_MINIMUM = 0.01  # minimum bump in test error, on each side of the threshold
DESCENT_MINIMUM_REASON = (
    "a peak less than 1 point of test error (about 5 of digits' 540 test images) above the "
    "best model on either side is within what a different number of epochs or width grid "
    "moves; too small to call a second descent"
)
INTERPOLATION_ERROR = 0.01  # a width "interpolates" when its mean training error is below this

# the simulator (calibration), measured on the full preset's run (600 images, 2,400 steps):
# noise of test error on digits' 540 test images, per seed
SIM_SEED_SD = 0.019  # each seed's own, from the classical optimum up (measured: 0.019)
SIM_UNDERFIT_SD = 0.06  # each seed's own below the optimum (measured: 0.06 to 0.19)
SIM_SHARED_SD = 0.02  # a seed's split and labels, shared by its widths (measured: 0.021)
SIM_CONFIG_SD = 0.002  # one width, shared by all its seeds (each seed draws its own data)
SIM_PEAK = 0.29  # test error at the threshold (measured: 0.290)
SIM_CLEAR_RISE = SIM_CLEAR_FALL = 0.06  # a clear double descent (measured: 0.074 and 0.087)
SIM_THRESHOLD_AT = 0.6  # the true threshold's place along the sweep (measured: 7th of 11)
SIM_OPTIMUM_BEFORE = 3  # widths from the classical optimum to the threshold (measured: 8 to 24)
SIM_UNDERFIT = 0.08  # how much worse each width below the classical optimum is (measured: >= 0.06)
# training error: its mean at the true threshold, how many times it falls per width, and a
# seed's spread about it (log-normal: it is never below 0 and exactly 0 once a width fits)
SIM_TRAIN_AT_THRESHOLD = 0.012  # (measured: 0.005 on the selection, 0.020 on the evaluation seeds)
SIM_TRAIN_FALL = 8.0  # (measured: 0.08, 0.012 and 0.0005 at widths 16, 24 and 32)
SIM_TRAIN_SPREAD = 1.0  # log sd (measured: a seed's sd about as large as the mean near it)


def interpolation_width(widths, train_error) -> int | None:
    """The smallest width whose mean training error over seeds (rows of `train_error`,
    (seeds, widths)) is below INTERPOLATION_ERROR; None when none is."""
    means = np.nanmean(np.atleast_2d(np.asarray(train_error, dtype=float)), axis=0)
    return next((int(w) for w, e in zip(widths, means) if e < INTERPOLATION_ERROR), None)


class DoubleDescentRule(Rule):
    """`widths`: the sweep, for the simulator; `decide` reads widths and threshold from rows.

    Example
    -------
    >>> errors = {1: 0.3, 2: 0.2, 4: 0.25, 8: 0.15}
    >>> rows = [{"width": w, "seed": s, "test_error": e + s / 1000, "at_threshold": w == 4}
    ...         for w, e in errors.items() for s in range(3)]
    >>> DoubleDescentRule(list(errors)).decide(rows).verdict
    'supported'
    """

    name = "double descent"
    hypothesis = (
        f"With {LABEL_NOISE:.0%} label noise, test error peaks at the interpolation threshold "
        "and falls again for larger models (Nakkiran et al. 2019)."
    )
    minimum_effect = DESCENT_MINIMUM
    minimum_effect_reason = DESCENT_MINIMUM_REASON

    def __init__(self, widths):
        self.widths = tuple(int(w) for w in widths)

    def text(self) -> str:
        return (
            "the interpolation threshold is chosen on the selection seeds: the smallest width "
            "whose mean training error (noisy labels) is below "
            f"INTERPOLATION_ERROR={INTERPOLATION_ERROR:g}. On the evaluation seeds, paired per "
            "seed: rise = test error at the threshold minus that of each smaller width; fall "
            "= test error at the threshold minus that of each larger width. A side is "
            "supported when Holm over its widths (family-wise 2.5%) shows at least one above "
            "0. Not supported when Holm over the two sides shows one side below "
            f"DESCENT_MINIMUM={DESCENT_MINIMUM:g} at every width (its p-value: the largest of "
            "its widths'); supported when both sides are; otherwise inconclusive (also with "
            "no threshold inside the sweep, or fewer than MIN_SEEDS seeds)."
        )

    def decide(self, rows):
        widths, seeds, errors = _grid(rows)
        chosen = sorted({r["width"] for r in rows if r.get("at_threshold")})
        numbers = {
            "widths": widths,
            "test_error_mean": [round(float(m), 5) for m in np.nanmean(errors, axis=0)],
            "interpolation_width": chosen[0] if chosen else None,
        }
        p = widths.index(chosen[0]) if chosen else None
        if p is None or p in (0, len(widths) - 1):
            return self.verdict(INCONCLUSIVE, numbers, len(seeds))
        sides = {"rise": range(p), "fall": range(p + 1, len(widths))}
        supported, below, n = [], [], len(seeds)
        for side, columns in sides.items():
            effects = [paired_difference(errors[:, p], errors[:, j]) for j in columns]
            rejected = holm([e.p_value() for e in effects])
            supported.append(any(rejected))
            below.append(max(p_below(e, DESCENT_MINIMUM) for e in effects))
            n = min([n, *(e.n for e in effects)])
            best = int(np.argmax([e.estimate for e in effects]))
            numbers |= {
                f"{side}_best_width": widths[columns[best]],
                **{
                    k: round(v, 5) if isinstance(v, float) else v
                    for k, v in effects[best].numbers(side).items()
                },
                f"{side}_supported": bool(supported[-1]),
                f"{side}_p_below_minimum": round(below[-1], 5),
            }
        verdict, shown_below = every_unit(supported, below, n >= MIN_SEEDS)
        numbers["shown_below_minimum"] = [s for s, b in zip(sides, shown_below) if b]
        return self.verdict(verdict, numbers, n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """Rows around a true threshold SIM_THRESHOLD_AT along the sweep: the threshold the
        rule tests is chosen from simulated selection seeds' training error, so it can miss
        the true one by a width (as the real choice can). Test error: CLEAR a rise and a
        fall about the true threshold, MINIMUM both exactly DESCENT_MINIMUM, NULL one side
        (drawn) flat at the threshold's error."""
        k = len(self.widths)
        q = round(SIM_THRESHOLD_AT * (k - 1))
        true_train = np.minimum(0.5, SIM_TRAIN_AT_THRESHOLD * SIM_TRAIN_FALL ** (q - np.arange(k)))
        spread = rng.normal(-(SIM_TRAIN_SPREAD**2) / 2, SIM_TRAIN_SPREAD, (max(n_selection, 1), k))
        chosen = interpolation_width(self.widths, true_train * np.exp(spread))
        rise, fall = {
            CLEAR: (SIM_CLEAR_RISE, SIM_CLEAR_FALL),
            MINIMUM: (DESCENT_MINIMUM, DESCENT_MINIMUM),
            NULL: (0.0, SIM_CLEAR_FALL) if rng.random() < 0.5 else (SIM_CLEAR_RISE, 0.0),
        }[condition]
        optimum = max(q - SIM_OPTIMUM_BEFORE, 0)  # the classical optimum, below the threshold
        true = np.full(k, SIM_PEAK)
        for j in range(q):
            true[j] -= rise * (q - j) / (q - optimum) if j > optimum else rise
            true[j] += SIM_UNDERFIT * max(optimum - j, 0)
        for j in range(q + 1, k):
            true[j] -= fall * (j - q) / (k - 1 - q)
        seed_sd = np.where(np.arange(k) < optimum, SIM_UNDERFIT_SD, SIM_SEED_SD)
        errors = noisy_grid(rng, true, n_evaluation, seed_sd, SIM_CONFIG_SD, SIM_SHARED_SD)
        return [
            {"labels": NOISY, "width": w, "n_parameters": 0, "seed": s}
            | {"test_loss": float("nan"), "test_error": float(errors[s, j])}
            | {"train_error": float(true_train[j]), "at_threshold": w == chosen}
            for j, w in enumerate(self.widths)
            for s in range(n_evaluation)
        ]


def _grid(rows) -> tuple[list, list, np.ndarray]:
    """(widths, seeds, test error (seeds, widths)) in one pass (`decide` runs thousands of
    times in a calibration)."""
    widths = sorted({r["width"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    out = np.full((len(seeds), len(widths)), np.nan)
    wi = {w: i for i, w in enumerate(widths)}
    si = {s: i for i, s in enumerate(seeds)}
    for r in rows:
        out[si[r["seed"]], wi[r["width"]]] = r["test_error"]
    return widths, seeds, out
