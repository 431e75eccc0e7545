"""`whydl train --features`: hand-made input features, as the installed script runs them."""

import json

from tests.commands import assert_ok, whydl


def test_squared_features_let_a_network_without_hidden_layers_separate_circles(tmp_path):
    """x1² + x2² is what separates the circles: with those two inputs a logistic regression
    (no hidden layer) learns them; on x1, x2 alone it cannot beat a coin by much."""
    common = ("train", "--dataset", "circles", "--hidden", "", "--epochs", "40")
    made = assert_ok(whydl(*common, "--features", "x1sq,x2sq", "--out", "made", cwd=tmp_path))
    assert_ok(whydl(*common, "--out", "plain", cwd=tmp_path))
    assert "test accuracy" in made.out
    accuracy = {
        name: json.loads((tmp_path / name / "metrics.json").read_text())["test_accuracy"]
        for name in ("made", "plain")
    }
    assert accuracy["made"] > 0.95 and accuracy["plain"] < 0.7, accuracy
    config = json.loads((tmp_path / "made" / "config.json").read_text())
    assert config["data"]["features"] == ["x1sq", "x2sq"]
    assert (tmp_path / "made" / "result.png").is_file()


def test_features_are_refused_where_they_cannot_apply_before_any_work(tmp_path):
    digits = whydl("train", "--dataset", "digits", "--features", "x1", cwd=tmp_path)
    assert digits.code == 2 and "Traceback" not in digits.err
    assert "--features only applies to 2-D data" in digits.err and "Remove --features" in digits.err
    unknown = whydl("train", "--features", "x1,cos_x1", cwd=tmp_path)
    assert unknown.code == 2 and "expected one or more of x1, x2, x1sq" in unknown.err
    assert not (tmp_path / "runs").exists()  # nothing written
