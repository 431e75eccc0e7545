import json

import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Verdict, combine
from whydl.evidence.frame import ClaimResult
from whydl.evidence.rules import beats, slope_ci


def v(name, verdict):
    return Verdict(name, verdict, "h", "r", {}, 10)


@pytest.mark.parametrize(
    "parts,expected",
    [
        ([SUPPORTED, SUPPORTED], SUPPORTED),
        ([SUPPORTED, NOT_SUPPORTED], NOT_SUPPORTED),
        ([SUPPORTED, INCONCLUSIVE], INCONCLUSIVE),
        ([INCONCLUSIVE, NOT_SUPPORTED], NOT_SUPPORTED),
    ],
)
def test_combine_gives_each_outcome(parts, expected):
    verdicts = [v(f"p{i}", x) for i, x in enumerate(parts)]
    assert combine("c", "h", verdicts, 10).verdict == expected


def test_combine_only_counts_required_parts():
    parts = [v("a", SUPPORTED), v("b", NOT_SUPPORTED)]
    assert combine("c", "h", parts, 10, required=["a"]).verdict == SUPPORTED
    assert combine("c", "h", parts, 10, required=["a"]).numbers == {
        "a": SUPPORTED,
        "b": NOT_SUPPORTED,
    }


def test_verdict_rejects_unknown_outcomes():
    with pytest.raises(ValueError, match="not one of"):
        Verdict("c", "probably", "h", "r", {}, 1)


def test_beats_needs_a_gap_beyond_both_confidence_intervals():
    clear = beats([0.9, 0.91, 0.92, 0.9], [0.7, 0.71, 0.7, 0.72])
    assert clear["better"] and not clear["worse"]
    noisy = beats([0.9, 0.5, 0.95, 0.6], [0.7, 0.8, 0.6, 0.75])
    assert not noisy["better"] and not noisy["worse"]
    assert beats([0.1, 0.11, 0.1], [0.5, 0.52, 0.51])["worse"]


def test_slope_ci_recovers_a_known_slope():
    import numpy as np

    x = np.log([16, 32, 64, 128])
    rng = np.random.default_rng(0)
    rows = [-0.3 * x + 0.01 * i + rng.normal(0, 0.01, len(x)) for i in range(8)]
    s = slope_ci(x, rows)
    assert s["slope"] == pytest.approx(-0.3, abs=0.02) and s["ci_low"] <= -0.3 <= s["ci_high"]


def test_claim_result_saves_everything(tmp_path):
    from whydl.plots.style import new_figure

    fig, ax = new_figure()
    ax.plot([1, 2], [3, 4])
    verdict = combine("demo", "h", [v("a", SUPPORTED)], 3)
    result = ClaimResult(
        "demo",
        "Demo",
        "h",
        "quick",
        {"n_seeds": 3},
        [{"x": 1, "y": 2.0}, {"x": 2, "y": 3.0}],
        verdict,
        {"fig_one": (fig, "what to see")},
        1.5,
    )
    result.save(tmp_path)
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert set(saved) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert saved["verdict"] == SUPPORTED and saved["parts"][0]["claim"] == "a"
    assert (tmp_path / "results.csv").read_text().splitlines()[0] == "x,y"
    assert (tmp_path / "fig_one.svg").exists() and (tmp_path / "fig_one.png").exists()
    assert "verdict: SUPPORTED" in result.summary()
    assert "<svg" in result._repr_html_() or "svg+xml" in result._repr_html_()
