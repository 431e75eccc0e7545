"""The activation x init factorial: its rule's outcomes on simulated rows, its calibration at
the full preset's seeds, and the batch-norm grid extension."""

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.calibration import MAX_FALSE_NEGATIVE, MAX_FALSE_POSITIVE, MIN_POWER, calibrate
from whydl.evidence.innovations.batch_norm import _extend
from whydl.evidence.innovations.factorial import ACTIVATIONS, INITS, FactorialRule, main_effects

RULE = FactorialRule()


def table(activation=3.0, init=3.0, n=6, spread=0.1):
    """Ratio rows with the given main effects (sigmoid and standard carry them)."""
    rows = []
    for a in ACTIVATIONS:
        for i in INITS:
            mean = 0.5 + activation * (a == "sigmoid") + 0.5 * activation * (a == "tanh")
            mean += init * (i == "standard")
            for s, v in enumerate(mean + np.linspace(-spread, spread, n)):
                rows.append(
                    {"measure": "ratio", "seed": s, "activation": a, "init": i, "depth": 20}
                    | {"log10_ratio": -float(v)}
                )
    return rows


@pytest.mark.parametrize(
    "rows,expected",
    [
        (table(), SUPPORTED),
        (table(init=0.0), NOT_SUPPORTED),
        (table(activation=0.2), NOT_SUPPORTED),
        (table(n=2), INCONCLUSIVE),
    ],
)
def test_rule_gives_each_outcome(rows, expected):
    assert RULE.decide(rows).verdict == expected


def test_main_effects_are_the_contrasts():
    effects, _ = main_effects(table(activation=2.0, init=1.5))
    assert np.allclose(list(effects["activation"].values()), 2.0)
    assert np.allclose(list(effects["init"].values()), 1.5)


def test_calibration_at_full_preset():
    c = calibrate(RULE, 10, 0)
    assert c.false_positive_rate <= MAX_FALSE_POSITIVE
    assert c.false_negative_rate_at_minimum_effect <= MAX_FALSE_NEGATIVE
    assert c.power >= MIN_POWER


def test_grid_extends_beyond_the_edge_only():
    assert _extend((0.1, 0.3, 1.0), 1.0) == (0.1, 0.3, 1.0, 3.33)
    assert _extend((0.1, 0.3, 1.0), 0.1)[0] == pytest.approx(0.0333)
    assert _extend((0.1, 0.3, 1.0), 0.3) == (0.1, 0.3, 1.0)
