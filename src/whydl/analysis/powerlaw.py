"""Power laws in learning curves: fit ε(n) = a·n^(−b) + c, find where one holds, say how sure.

A learning curve (test error ε against training-set size n) has, in Hestness et al. 2017's
words, three regions: a small-data region where the model does little better than guessing,
a power-law region where every doubling of n cuts the error by a roughly constant factor,
and an irreducible region where the curve flattens onto a floor (label noise, model
capacity, or the optimiser's budget). Here:

- `curve_regions` finds the power-law region and the floor from the mean curve with one
  comparison: a larger n is "clearly lower" when its mean error is lower by more than both
  95% CIs AND by more than `FLAT_DROP` (5%) per doubling. The region starts where the next
  doubling is clearly lower; the floor starts at the first n that no larger n is clearly
  lower than.
- `fit_power_law` fits ε(n) = a·n^(−b) + c by least squares on log ε (so every decade
  weighs the same), with R² in log space as the fit quality.
- `bootstrap_exponent` resamples seeds with replacement and refits the mean curve: its
  percentiles give the CI of b; `fit_per_seed` fits every seed's own curve.

Example
-------
>>> import numpy as np
>>> n = 2.0 ** np.arange(4, 12)
>>> fit = fit_power_law(n, 3 * n**-0.5 + 0.01)
>>> round(fit.b, 2), round(fit.c, 3)
(0.5, 0.01)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from whydl.stats import ci_half_width

FLAT_DROP = 0.05  # a doubling of n that lowers the mean error by less than 5% is flat
MAX_EXPONENT = 4.0  # upper bound on b: steeper than n^-4 is not a learning curve
MIN_ERROR = 1e-6  # errors are clipped here before taking logs (a perfect score is finite)
MIN_POINTS = 3  # three parameters need at least three points


@dataclass(frozen=True)
class PowerLawFit:
    """ε(n) ≈ a·n^(−b) + c on n_min..n_max; `r2_log` is R² of log ε; `method` says how.

    `method` is "a*n^-b+c" for the full fit, or "a*n^-b" when the full fit failed and a
    straight line in log-log space (c = 0) was used instead.
    """

    a: float
    b: float
    c: float
    r2_log: float
    n_min: float
    n_max: float
    method: str

    def predict(self, n) -> np.ndarray:
        n = np.asarray(n, dtype=float)
        return self.a * n ** (-self.b) + self.c


def _check_curve(n, error) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(n, dtype=float)
    error = np.asarray(error, dtype=float)
    if n.ndim != 1 or error.shape[-1] != len(n):
        raise ValueError(
            f"Expected n of shape (k,) and errors of shape (k,) or (seeds, k), got "
            f"{n.shape} and {error.shape}. Pass one error per training-set size."
        )
    if np.any(n <= 0):
        raise ValueError(f"n must be positive training-set sizes, got {n.tolist()}.")
    return n, error


def _log_model(log_n, log_a, b, c):
    return np.log(np.exp(log_a - b * log_n) + c)


def _r2(y, y_hat) -> float:
    total = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - y_hat) ** 2).sum()) / total if total > 0 else 1.0


def _loglinear(log_n, log_e) -> tuple[float, float]:
    slope, intercept = np.polyfit(log_n, log_e, 1)
    return float(intercept), float(-slope)


def fit_power_law(n, error, start: PowerLawFit | None = None) -> PowerLawFit:
    """Fit ε(n) = a·n^(−b) + c to one curve (k >= 3 points) by least squares on log ε.

    Bounds: a > 0, 0 <= b <= MAX_EXPONENT, 0 <= c <= min(ε). Starts from `start` (e.g. the
    fit of the mean curve, when refitting bootstrap resamples), else from a guess of the
    floor c at half the smallest error with b and a from a straight line through
    log(ε − c); if scipy's curve_fit fails from there, it tries c = 0 and 90% of the
    smallest error. If all fail, it falls back to the straight line in log-log space
    (c = 0, `method` "a*n^-b").

    Example
    -------
    >>> round(fit_power_law([16, 32, 64, 128], [0.4, 0.2, 0.1, 0.05]).b, 3)
    1.0
    """
    from scipy.optimize import curve_fit  # imported lazily: scipy.optimize takes ~0.3 s

    n, error = _check_curve(n, error)
    if error.ndim != 1 or len(n) < MIN_POINTS:
        raise ValueError(
            f"fit_power_law needs one curve of at least {MIN_POINTS} points, got errors of "
            f"shape {error.shape}. Average over seeds first, or use fit_per_seed."
        )
    log_n = np.log(n)
    log_e = np.log(np.clip(error, MIN_ERROR, None))
    floor_max = float(np.exp(log_e.min()))
    guesses = []
    if start is not None:
        guesses.append([np.log(start.a), start.b, min(start.c, floor_max * (1 - 1e-9))])
    for fraction in (0.5, 0.0, 0.9):
        c0 = fraction * floor_max
        log_a0, b0 = _loglinear(log_n, np.log(np.exp(log_e) - c0 + MIN_ERROR))
        guesses.append([log_a0, float(np.clip(b0, 1e-3, MAX_EXPONENT - 1e-3)), c0])
    best = None
    for p0 in guesses:  # the first that converges wins; the others are fallbacks
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # covariance warnings: we do not use it
                params, _ = curve_fit(
                    _log_model,
                    log_n,
                    log_e,
                    p0=p0,
                    bounds=([-50.0, 0.0, 0.0], [50.0, MAX_EXPONENT, floor_max]),
                    maxfev=2000,
                )
        except (RuntimeError, ValueError):
            continue
        if np.all(np.isfinite(params)):
            best = params
            break
    if best is None:  # fall back to the straight line: a pure power law, no floor
        log_a, b = _loglinear(log_n, log_e)
        return PowerLawFit(
            float(np.exp(log_a)),
            b,
            0.0,
            _r2(log_e, log_a - b * log_n),
            float(n.min()),
            float(n.max()),
            "a*n^-b",
        )
    log_a, b, c = (float(p) for p in best)
    r2 = _r2(log_e, _log_model(log_n, log_a, b, c))
    return PowerLawFit(float(np.exp(log_a)), b, c, r2, float(n.min()), float(n.max()), "a*n^-b+c")


def fit_per_seed(n, errors) -> list[PowerLawFit]:
    """One `fit_power_law` per seed (rows of `errors`, shape (seeds, k))."""
    n, errors = _check_curve(n, errors)
    return [fit_power_law(n, row) for row in np.atleast_2d(errors)]


def bootstrap_exponent(n, errors, n_boot: int = 200, level: float = 0.95, seed: int = 0):
    """b of the mean curve, with a bootstrap CI over seeds.

    Each of `n_boot` resamples draws the seeds (rows of `errors`) with replacement,
    averages them and refits; the CI is the resampled b's (1 ± level)/2 percentiles.
    Returns {"fit": PowerLawFit of the mean curve, "b", "ci_low", "ci_high", "n_boot"}.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> n = 2.0 ** np.arange(4, 11)
    >>> errors = 2 * n**-0.4 * rng.lognormal(0, 0.05, (10, len(n)))
    >>> out = bootstrap_exponent(n, errors, n_boot=50)
    >>> out["ci_low"] < 0.4 < out["ci_high"]
    True
    """
    n, errors = _check_curve(n, errors)
    errors = np.atleast_2d(errors)
    fit = fit_power_law(n, errors.mean(0))
    rng = np.random.default_rng(seed)
    draws = [
        fit_power_law(n, errors[rng.integers(0, len(errors), len(errors))].mean(0), fit).b
        for _ in range(n_boot if len(errors) > 1 else 0)
    ]
    low, high = np.percentile(draws, [50 * (1 - level), 50 * (1 + level)]) if draws else [fit.b] * 2
    return {"fit": fit, "b": fit.b, "ci_low": float(low), "ci_high": float(high), "n_boot": n_boot}


def curve_regions(n, errors, flat_drop: float = FLAT_DROP) -> dict:
    """Where the learning curve is a power law, and where it flattens onto its floor.

    Size j is "clearly lower" than an earlier size i when its mean error is lower by more
    than the sum of both 95% CI half-widths over seeds (rows of `errors`) AND by more than
    `flat_drop` of the error per doubling of n (averaged over the doublings from i to j).
    The power-law region starts at the first size whose next size is clearly lower (before
    it: the small-data plateau). The floor starts at the first later size that no larger
    size is clearly lower than, provided at least one full doubling of n follows it (a
    shorter stretch cannot show flattening); the region ends there, or at the largest n
    when the curve still falls. The floor's level is the mean error from there on.

    Returns indices into n: "start" and "end" (None when no step falls), "floor" (None when
    the curve still falls at the largest n), "floor_error", and for each consecutive step
    "drop_per_doubling" and whether it "counts" (the next size is clearly lower).

    Example
    -------
    >>> r = curve_regions([16, 32, 64, 128, 256], [0.5, 0.25, 0.12, 0.118, 0.117])
    >>> r["start"], r["end"], r["floor"]
    (0, 2, 2)
    """
    n, errors = _check_curve(n, errors)
    errors = np.atleast_2d(errors)
    mean = np.clip(np.nanmean(errors, axis=0), MIN_ERROR, None)
    half = np.array([ci_half_width(col) if len(col) > 1 else 0.0 for col in errors.T])
    half = np.nan_to_num(half)

    def drop(i, j):  # relative fall of the mean error per doubling of n, from size i to j
        return 1.0 - (mean[j] / mean[i]) ** (1.0 / np.log2(n[j] / n[i]))

    def clearly_lower(i, j):
        return drop(i, j) > flat_drop and mean[i] - mean[j] > half[i] + half[j]

    k = len(n)
    counts = [bool(clearly_lower(i, i + 1)) for i in range(k - 1)]
    start = next((i for i in range(k - 1) if counts[i]), None)
    end = floor = None
    if start is not None:
        falling = [any(clearly_lower(i, j) for j in range(i + 1, k)) for i in range(k)]
        floor = next((i for i in range(start + 1, k) if not falling[i]), None)
        if floor is not None and n[-1] < 2 * n[floor]:
            floor = None
        end = floor if floor is not None else k - 1
    return {
        "start": start,
        "end": end,
        "floor": floor,
        "floor_error": float(mean[floor:].mean()) if floor is not None else None,
        "drop_per_doubling": [float(drop(i, i + 1)) for i in range(k - 1)],
        "counts": counts,
    }
