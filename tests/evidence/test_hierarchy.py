"""The hierarchy claim: its decision rules on hand-made tables, and the claim end to end."""

import json

import numpy as np
import pytest

from whydl.cli import main
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.hierarchy import (
    DEEP_DEPTH,
    MIN_SEEDS,
    REQUIRED,
    SHALLOW_DEPTH,
    comparison_rule,
    depth_test,
    n_parameters,
    probe_rule,
    width_for_budget,
)


def table(means, spread=0.01, n=5):
    """Per-seed accuracies (n, layers) around `means`, with a fixed small spread."""
    offsets = np.linspace(-spread, spread, n)[:, None]
    values = np.asarray(means, dtype=float)[None, :] + offsets
    values[:, 0] = means[0]  # the input's probe does not vary with the seed
    return values


RISING = table([0.6, 0.7, 0.8, 0.9, 0.95])
FLAT = table([0.6, 0.6, 0.61, 0.6, 0.59])


@pytest.mark.parametrize(
    "trained,init,expected",
    [
        (RISING, FLAT, SUPPORTED),
        (FLAT, FLAT, NOT_SUPPORTED),  # no gain over the input
        (table([0.6, 0.95, 0.9, 0.8, 0.7]), FLAT, NOT_SUPPORTED),  # gain, but falls with depth
        (table([0.6, 0.5, 0.55, 0.52, 0.55]), FLAT, NOT_SUPPORTED),  # below the input
        (RISING, table([0.6, 0.7, 0.75, 0.78, 0.8]), INCONCLUSIVE),  # the control passes too
        (RISING[: MIN_SEEDS - 1], FLAT[: MIN_SEEDS - 1], INCONCLUSIVE),  # too few seeds
    ],
)
def test_probe_rule_gives_each_outcome(trained, init, expected):
    verdict = probe_rule("probes_test", trained, init)
    assert verdict.verdict == expected
    assert "GAIN_MARGIN" in verdict.rule and "MIN_SEEDS" in verdict.rule


def test_probe_rule_reports_the_numbers_it_compared():
    verdict = probe_rule("probes_test", RISING, FLAT)
    trained = verdict.numbers["trained"]
    assert trained["passes"] and not verdict.numbers["at initialisation"]["passes"]
    assert trained["mean"][0] == 0.6 and trained["mean"][-1] == pytest.approx(0.95)
    assert trained["gain"] == pytest.approx(0.35) and trained["half_width"][0] == 0.0


def test_a_fall_within_ci_noise_is_not_a_fall():
    noisy = table([0.6, 0.9, 0.88, 0.9, 0.89], spread=0.05)
    assert depth_test(noisy)["passes"] and not depth_test(noisy)["falls"]
    steep = table([0.6, 0.95, 0.8, 0.9, 0.9], spread=0.01)
    assert depth_test(steep)["falls"] == [
        "layer 2 trails layer 1 by 0.150",
        "layer 3 trails layer 1 by 0.050",
        "layer 4 trails layer 1 by 0.050",
    ]


@pytest.mark.parametrize(
    "a,b,expected",
    [
        ([0.9, 0.91, 0.92], [0.8, 0.81, 0.8], SUPPORTED),
        ([0.8, 0.81, 0.8], [0.9, 0.91, 0.92], NOT_SUPPORTED),
        ([0.9, 0.7, 0.85], [0.8, 0.9, 0.75], INCONCLUSIVE),
        ([0.9, 0.91], [0.8, 0.81], INCONCLUSIVE),  # fewer than MIN_SEEDS seeds
    ],
)
def test_comparison_rule_gives_each_outcome(a, b, expected):
    verdict = comparison_rule("depth", "deep wins", a, b, "deep", "wide")
    assert verdict.verdict == expected
    assert set(verdict.numbers) == {"n_seeds", "deep", "wide", "difference"}


def test_equal_budget_architectures():
    assert n_parameters(2, 1, (10, 10)) == 151  # the article's 2-10-10-1 network
    budget = n_parameters(2, 1, (16,) * 4)
    for depth in (1, 2, 4, 8):
        width = width_for_budget(budget, depth)
        others = [n_parameters(2, 1, (w,) * depth) for w in (width - 1, width + 1)]
        mine = n_parameters(2, 1, (width,) * depth)
        assert all(abs(mine - budget) <= abs(o - budget) for o in others)
    assert width_for_budget(budget, DEEP_DEPTH) == 16 and SHALLOW_DEPTH < DEEP_DEPTH


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hierarchy")
    return main(["claim", "hierarchy", "--preset", "quick", "--out", str(out)]), out


def test_claim_runs_end_to_end_and_writes_its_verdict(quick_run):
    code, out = quick_run
    assert code == 0
    verdict = json.loads((out / "verdict.json").read_text())
    assert set(verdict) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert verdict["claim"] == "hierarchy" and verdict["seeds"] == 3
    parts = {p["claim"] for p in verdict["parts"]}
    assert set(REQUIRED) <= parts and {"regions_depth", "probes_digits_cnn"} <= parts
    assert all(name in verdict["rule"] for name in REQUIRED)


def test_claim_writes_every_figure_and_a_tidy_table(quick_run):
    _, out = quick_run
    figures = json.loads((out / "claim.json").read_text())["figures"]
    assert len(figures) == 7
    for stem in figures:
        assert (out / f"{stem}.svg").is_file() and (out / f"{stem}.png").is_file(), stem
    rows = json.loads((out / "results.json").read_text())
    assert {r["experiment"] for r in rows} == {"probes", "regions", "depth_vs_width"}
    probes = [r for r in rows if r["experiment"] == "probes" and r["dataset"] == "spiral"]
    assert {r["depth"] for r in probes} == {0, 1, 2, 3, 4}
    assert all(0.0 <= r["value"] <= 1.0 for r in probes)
