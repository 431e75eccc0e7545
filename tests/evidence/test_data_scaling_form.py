import numpy as np

from whydl.evidence import NOT_SUPPORTED, SUPPORTED
from whydl.evidence.data_scaling.form import FormRule, form_rows, split

N = [16, 32, 64, 128, 256, 512, 1024, 2048]


def rows_of(curve, seeds=8, noise=0.02):
    rng = np.random.default_rng(0)
    errors = np.array([curve * np.exp(rng.normal(0, noise, len(N))) for _ in range(seeds)])
    return [r for d in ("spiral", "teacher") for r in form_rows(d, N, errors, range(seeds))]


def test_split_holds_out_the_largest_sizes():
    assert split(N) == (N[:-3], N[-3:])
    assert split([16, 32, 64, 128]) == ([16, 32, 64], [128])
    assert split([16, 32, 64]) == ([16, 32, 64], [])


def test_a_true_power_law_beats_the_exponential():
    v = FormRule().decide(rows_of(2.0 * np.array(N, float) ** -0.5))
    assert v.verdict == SUPPORTED and v.numbers["advantage_ci_low"] > 0


def test_a_true_exponential_is_not_a_power_law():
    v = FormRule().decide(rows_of(0.5 * np.exp(-np.array(N, float) / 800)))
    assert v.verdict == NOT_SUPPORTED
