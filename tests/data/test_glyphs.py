"""The procedurally generated glyphs: shape, balance, intensities, determinism."""

import numpy as np
import pytest

from whydl.data.glyphs import CLASS_NAMES, glyphs, render, template_points


def test_glyphs_are_8x8_standardised_and_balanced():
    ds = glyphs(n_samples=2400, data_seed=1)
    assert len(CLASS_NAMES) >= 20 and ds.n_classes == len(CLASS_NAMES)
    assert ds.X_train.shape == (1680, 64) and ds.X_test.shape == (720, 64)
    assert ds.image_shape == (8, 8) and ds.task == "multiclass"
    assert np.bincount(np.concatenate([ds.y_train, ds.y_test])).tolist() == [100] * 24
    assert np.allclose(ds.X_train.mean(axis=0), 0, atol=1e-4)


def test_render_counts_like_digits_and_is_seeded():
    labels = np.arange(len(CLASS_NAMES))
    a = render(labels, np.random.default_rng(0))
    b = render(labels, np.random.default_rng(0))
    assert np.array_equal(a, b)
    assert a.min() >= 0 and a.max() <= 16 and np.all(a == np.round(a))
    assert np.all(a.sum(axis=1) > 0)  # every glyph leaves ink on the canvas
    assert len({row.tobytes() for row in a}) == len(labels)  # the classes differ


def test_template_points_lie_on_the_strokes():
    pts = template_points([np.array([[-1.0, 0.0], [1.0, 0.0]])], n=10)
    assert pts.shape == (10, 2) and np.allclose(pts[:, 1], 0)
    assert np.all(np.diff(pts[:, 0]) > 0)


def test_too_few_samples_is_a_clear_error():
    with pytest.raises(ValueError, match="at least"):
        glyphs(n_samples=10)
