import numpy as np
import pytest

from whydl.analysis.feature_health import dead_fraction, effective_rank


def test_dead_units_are_the_columns_zero_on_every_input():
    H = np.ones((10, 4))
    H[:, 1] = 0
    H[3, 2] = 0  # zero on one input only: alive
    assert dead_fraction(H) == 0.25


def test_effective_rank_counts_equally_used_directions():
    rng = np.random.default_rng(0)
    isotropic = rng.normal(size=(20000, 5))
    assert effective_rank(isotropic) == pytest.approx(5, abs=0.05)
    collapsed = np.outer(rng.normal(size=200), np.ones(5))  # one direction
    assert effective_rank(collapsed) == pytest.approx(1, abs=1e-6)
    assert effective_rank(np.ones((5, 3))) == 0.0


def test_a_vector_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="Flatten"):
        dead_fraction(np.ones(5))
