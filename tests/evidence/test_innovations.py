"""The innovations claim: its parts and presets, the helpers its experiments share, its
headline and notes, and the claim end to end. Each part's rule is tested in its own file
(test_innovations_<part>.py)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Verdict
from whydl.evidence.decide import MIN_SEEDS, mean_effect, three_way
from whydl.evidence.innovations import (
    CLAIM,
    PARTS,
    REQUIRED,
    SEEDS,
    merged_presets,
)
from whydl.evidence.innovations.common import MONITOR_ROWS, decide_every, digits, probe
from whydl.evidence.innovations.vanishing import NAIVE

PART_NAMES = [
    "init_activation_factorial",
    "vanishing_gradients",
    "dropout",
    "batch_norm",
    "optimizers",
    "residual",
]


# the claim's shape -----------------------------------------------------------------------


def test_parts_come_in_the_articles_order_and_the_named_innovations_decide():
    experiments = CLAIM.experiments(CLAIM.params("full"))
    assert [e.name for e in experiments] == PART_NAMES
    assert [e.rule.name for e in experiments] == PART_NAMES
    assert {e.name for e in experiments if e.deciding} == set(REQUIRED)
    assert set(REQUIRED) == {"init_activation_factorial", "dropout", "batch_norm", "optimizers"}


def test_presets_hold_the_seed_counts_and_every_parts_keys():
    for name, counts in SEEDS.items():
        params = CLAIM.params(name)
        assert {k: params[k] for k in counts} == counts
        for part in PARTS:
            assert part.PRESETS[name].items() <= params.items()
    assert CLAIM.params("full")["n_seeds"] == 10 and CLAIM.params("full")["n_selection_seeds"] == 5
    assert CLAIM.params("quick")["n_seeds"] == 3


def test_a_key_two_parts_define_is_refused():
    one = {"quick": {"lr": 0.1}}
    with pytest.raises(ValueError, match="defined twice"):
        merged_presets({"quick": {"n_seeds": 3}}, [one, one])


# shared helpers --------------------------------------------------------------------------


def test_digits_give_each_seed_its_own_nested_subset_and_a_small_monitor():
    small, large = digits((0, 1), 50), digits((0, 1), 200)
    assert small.train_rows.shape == (2, 50) and small.test_rows.shape == (2, MONITOR_ROWS)
    np.testing.assert_array_equal(small.train_rows, large.train_rows[:, :50])
    X0, _ = probe(small, 0, 20)
    X1, _ = probe(small, 1, 20)
    assert X0.shape == (20, 64) and not np.allclose(X0, X1)  # each seed its own split


def effect(mean, spread=0.1, n=6):
    return mean_effect(mean + np.linspace(-spread, spread, n))


@pytest.mark.parametrize(
    "effects,expected",
    [
        ({"a": (effect(3.0), 1.0), "b": (effect(2.0), 0.5)}, SUPPORTED),
        ({"a": (effect(3.0), 1.0), "b": (effect(0.1), 0.5)}, NOT_SUPPORTED),
        ({"a": (effect(3.0), 1.0), "b": (effect(0.3, 1.0), 0.5)}, INCONCLUSIVE),
        ({"a": (effect(3.0, n=MIN_SEEDS - 1), 1.0), "b": (effect(2.0), 0.5)}, INCONCLUSIVE),
    ],
)
def test_decide_every_names_the_frames_verdict(effects, expected):
    verdict, numbers = decide_every(effects)
    assert verdict == expected
    assert list(numbers) == list(effects)
    assert numbers["a"]["minimum"] == 1.0 and numbers["b"]["minimum"] == 0.5


def test_decide_every_corrects_only_the_not_supported_side():
    """Its own 95% CI below the minimum, but not shown below it by Holm over the two:
    inconclusive; and a real but negligible effect never counts as supported."""
    small = mean_effect([0.34, 0.38, 0.42, 0.46])
    assert three_way(small, 0.5) == NOT_SUPPORTED
    verdict, numbers = decide_every({"a": (effect(3.0), 1.0), "b": (small, 0.5)})
    assert numbers["b"]["verdict"] == NOT_SUPPORTED and not numbers["b"]["holm_below_minimum"]
    assert verdict == INCONCLUSIVE


# headline and notes ----------------------------------------------------------------------


def run(name, numbers):
    verdict = Verdict(name, INCONCLUSIVE, "", "", numbers, 10)
    return SimpleNamespace(name=name, verdict=verdict)


def test_headline_shows_the_ratio_and_survives_missing_numbers():
    ratio = {"mean": -36.6, "ci_low": -36.8, "ci_high": -36.4}
    relu = {"mean": 0.27, "ci_low": 0.2, "ci_high": 0.34}
    numbers = {"depth": 20, "log10_ratio_at_init": {NAIVE: ratio, "ReLU + He": relu}}
    line = CLAIM.headline([run("vanishing_gradients", numbers)])
    assert "10^-36.6" in line and "10^0.3" in line and "depth 20" in line
    assert CLAIM.headline([run("vanishing_gradients", {})]) == ""
    assert CLAIM.headline([]) == ""


def test_notes_read_the_other_parts_numbers_defensively():
    grads = run("vanishing_gradients", {"log10_ratio_at_init": {"ReLU + He + BN": {"mean": 1.5}}})
    assert len(CLAIM.notes([grads, run("batch_norm", {})])) == 1  # no speed-up: no note
    notes = CLAIM.notes([grads, run("batch_norm", {"speedup": 12.8})])
    assert any("12.8x fewer steps" in n for n in notes)
    level = run("vanishing_gradients", {"log10_ratio_at_init": {"ReLU + He + BN": {"mean": 0.5}}})
    assert len(CLAIM.notes([level, run("batch_norm", {"speedup": 12.8})])) == 1


# end to end ------------------------------------------------------------------------------

FIGURES = (
    "gradient_norms",
    "activation_stats",
    "training_loss",
    "dropout",
    "batch_norm",
    "optimizers",
    "residual",
)


def test_quick_preset_end_to_end(claim_cli):
    tmp_path = claim_cli("innovations")[0] / "c"  # the installed `whydl claim` (conftest)
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert verdict["claim"] == "innovations"
    assert [p["claim"] for p in verdict["parts"]] == PART_NAMES
    for part in verdict["parts"]:
        assert part["calibration"]["n_evaluation_seeds"] == 3
        assert part["protocol"]["evaluation_seeds"] == [0, 1, 2]
        assert part["protocol"]["deciding"] == (part["claim"] in REQUIRED)
    for name in FIGURES:
        assert (tmp_path / f"{name}.svg").is_file() and (tmp_path / f"{name}.png").is_file()
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {row["experiment"] for row in rows} == set(PART_NAMES)
    assert {row["seed"] for row in rows if "seed" in row} == {0, 1, 2}


@pytest.mark.slow
def test_full_preset_runs_and_shows_vanishing_gradients():
    result = CLAIM.run("full")
    parts = {p.claim: p for p in result.verdict.parts}
    assert set(parts) == set(PART_NAMES)
    assert result.params["n_seeds"] >= 10
    # sigmoid + small init at 20 layers: the first layer's gradient is ~1e-36 of the last's
    ratio = parts["vanishing_gradients"].numbers["log10_ratio_at_init"][NAIVE]
    assert ratio["ci_high"] < -10
