import numpy as np
import pytest

from whydl.analysis.powerlaw import (
    bootstrap_exponent,
    curve_regions,
    fit_per_seed,
    fit_power_law,
)

N = 2.0 ** np.arange(4, 14)  # 16 ... 8192


def noisy_curves(a=2.0, b=0.35, c=0.02, seeds=12, noise=0.05, seed=0):
    """(seeds, k) errors a·n^-b + c with multiplicative noise, as seeds scatter in practice."""
    rng = np.random.default_rng(seed)
    return (a * N**-b + c) * rng.lognormal(0.0, noise, (seeds, len(N)))


def test_exact_power_law_with_floor_is_recovered():
    fit = fit_power_law(N, 3.0 * N**-0.6 + 0.05)
    assert fit.method == "a*n^-b+c"
    assert fit.b == pytest.approx(0.6, abs=1e-3)
    assert fit.c == pytest.approx(0.05, abs=1e-4)
    assert fit.a == pytest.approx(3.0, rel=1e-2)
    assert fit.r2_log == pytest.approx(1.0, abs=1e-6)
    assert (fit.n_min, fit.n_max) == (16, 8192)


def test_known_exponent_from_noisy_seeds_lies_in_the_bootstrap_ci():
    out = bootstrap_exponent(N, noisy_curves(b=0.35), n_boot=100)
    assert out["ci_low"] < 0.35 < out["ci_high"]
    assert out["b"] == pytest.approx(0.35, abs=0.05)
    assert out["ci_high"] - out["ci_low"] < 0.2  # 12 seeds pin it down
    assert out["fit"].r2_log > 0.95


def test_per_seed_fits_scatter_around_the_exponent():
    fits = fit_per_seed(N, noisy_curves(b=0.5, noise=0.02, seeds=5))
    assert len(fits) == 5
    assert np.median([f.b for f in fits]) == pytest.approx(0.5, abs=0.05)


def test_a_rising_curve_gives_a_poor_fit_not_a_crash():
    fit = fit_power_law(N, 0.01 * N**0.3)
    assert fit.b == pytest.approx(0.0, abs=1e-3)  # the model cannot rise: b hits its bound
    assert fit.r2_log < 0.5


def test_fit_needs_three_points():
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_power_law([16, 32], [0.3, 0.2])
    with pytest.raises(ValueError, match="one error per training-set size"):
        fit_power_law([16, 32, 64], [0.3, 0.2])


def test_regions_find_the_plateau_the_power_law_and_the_floor():
    # chance level for n = 16, 32; then a power law; then a floor from n = 1024 on
    mean = np.concatenate([[0.5, 0.5], 0.5 * (N[2:7] / N[1]) ** -0.7, [0.04] * 3])
    mean[7:] = np.maximum(mean[6], 0.04)
    rng = np.random.default_rng(1)
    errors = mean * rng.lognormal(0, 0.01, (10, len(N)))
    r = curve_regions(N, errors)
    assert N[r["start"]] == 32  # the plateau ends where the first doubling falls
    assert N[r["floor"]] == N[6] and r["end"] == r["floor"]
    assert r["floor_error"] == pytest.approx(mean[6:].mean(), rel=0.02)


def test_a_curve_still_falling_at_the_largest_n_has_no_floor():
    r = curve_regions(N, noisy_curves(c=0.0, noise=0.01))
    assert (r["start"], r["end"], r["floor"]) == (0, len(N) - 1, None)


def test_noise_within_the_cis_is_not_a_fall():
    rng = np.random.default_rng(2)
    flat = 0.2 + rng.normal(0, 0.02, (10, len(N)))
    r = curve_regions(N, flat)
    assert r["start"] is None and r["floor"] is None
