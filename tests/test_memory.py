"""The figure phase of a many-seed run reduces over members a slice of rows at a time, and
history.csv is streamed: same pictures and files, without a (members, grid, width) array."""

import csv

import numpy as np
import pytest

import whydl
from whydl.analysis.boundary import plane_grid, stacked_outputs
from whydl.plots import demo


@pytest.fixture(scope="module")
def result():
    return whydl.train("moons", hidden=(10, 10), epochs=2, seeds=5)


def test_member_mean_in_slices_equals_the_whole_mean(result, monkeypatch):
    stack, ok = result.fit_.stack, result.fit_.ok
    _, _, grid = plane_grid(result.dataset.X_test, resolution=30)
    whole = demo._sigmoid(stacked_outputs(stack, grid)[ok][..., 0]).mean(0)
    monkeypatch.setattr(demo, "ROW_SLICE_FLOATS", stack.M * 10 * 7)  # 7 rows a slice
    seen = []

    def sigmoid(out):
        seen.append(out.shape)
        return demo._sigmoid(out[..., 0])

    sliced = demo.member_mean(stack, grid, ok, sigmoid)
    assert {shape[1] for shape in seen[:-1]} == {7}  # every slice but the last: 7 rows
    assert sliced.shape == (len(grid),)
    np.testing.assert_allclose(sliced, whole, rtol=1e-6, atol=1e-7)


def test_history_csv_is_every_member_epoch(result, tmp_path):
    result.save(tmp_path / "run")
    with open(tmp_path / "run/history.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = list(result.history.rows("test"))
    assert len(rows) == len(expected) == 5 * 2
    assert [int(r["seed"]) for r in rows] == [r["seed"] for r in expected]
    assert float(rows[-1]["train_loss"]) == pytest.approx(expected[-1]["train_loss"])
