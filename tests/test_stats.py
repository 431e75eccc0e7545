import math

import pytest

from whydl.stats import format_summary, summarize


def test_summary_matches_a_hand_computation():
    s = summarize([0.8, 0.9, 1.0])
    assert s["mean"] == pytest.approx(0.9) and s["std"] == pytest.approx(0.1)
    half = 4.302652729911275 * 0.1 / math.sqrt(3)  # t(0.975, df=2)
    assert s["ci_low"] == pytest.approx(0.9 - half) and s["ci_high"] == pytest.approx(0.9 + half)
    assert (s["min"], s["max"], s["n"]) == (0.8, 1.0, 3)


def test_summary_ci_is_clipped_to_the_metric_range():
    s = summarize([1.0, 1.0, 1.0, 0.9], bounds=(0.0, 1.0))
    assert s["ci_high"] == 1.0 and s["ci_low"] < s["mean"] < 1.0
    assert summarize([1.0, 1.0, 1.0, 0.9])["ci_high"] > 1.0


def test_summary_ignores_nan_and_handles_one_value():
    s = summarize([0.5, float("nan")])
    assert s["n"] == 1 and s["mean"] == 0.5 and s["ci_low"] == s["ci_high"] == 0.5
    assert "n=1" in format_summary(s)
    assert "95% CI" in format_summary(summarize([0.1, 0.2, 0.3]))
