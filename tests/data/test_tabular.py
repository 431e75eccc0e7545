"""Tests for `whydl.data.tabular.load_csv` on small CSV files written to tmp_path."""

import numpy as np
import pytest

from whydl.data.tabular import load_csv
from whydl.errors import WhydlError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def table(header, rows):
    return "\n".join([header, *(",".join(str(v) for v in row) for row in rows)]) + "\n"


def binary_csv(tmp_path, n=20):
    rng = np.random.default_rng(0)
    rows = [(f"{a:.3f}", f"{b:.3f}", i % 2) for i, (a, b) in enumerate(rng.normal(size=(n, 2)))]
    return write(tmp_path, table("x1,x2,label", rows))


def test_binary(tmp_path):
    ds = load_csv(binary_csv(tmp_path), target="label")
    assert ds.name == "data" and ds.task == "binary" and ds.n_classes == 2
    assert ds.X_train.shape == (14, 2) and ds.X_test.shape == (6, 2)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.feature_names == ("x1", "x2") and ds.target_name == "label"
    assert ds.class_names == ("0", "1")
    assert np.bincount(ds.y_test).tolist() == [3, 3]  # stratified
    # Standardisation is fitted on the training split only.
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-5)
    assert np.all(ds.X_test.mean(axis=0) != 0)
    assert ds.input_mean.shape == (2,) and ds.input_scale.shape == (2,)


def test_multiclass_string_labels_bom_and_whitespace(tmp_path):
    rows = [(f" {i}.5 ", f"{i}e-3", ["b", "a", "c"][i % 3]) for i in range(30)]
    path = tmp_path / "flowers.csv"
    path.write_text(table("f1,f2,species", rows), encoding="utf-8-sig")
    ds = load_csv(path, target="species")
    assert ds.name == "flowers" and ds.task == "multiclass" and ds.n_classes == 3
    assert ds.class_names == ("a", "b", "c")
    y = np.concatenate([ds.y_train, ds.y_test])
    assert sorted(np.bincount(y).tolist()) == [10, 10, 10]


def test_regression(tmp_path):
    rows = [(i, i * 0.5 + 0.25) for i in range(20)]
    ds = load_csv(write(tmp_path, table("x,y", rows)), target="y", test_size=0.25, data_seed=1)
    assert ds.task == "regression" and ds.n_classes == 0 and ds.class_names == ()
    assert ds.y_train.dtype == np.float32 and ds.y_test.shape == (5,)


def test_task_override(tmp_path):
    ds = load_csv(binary_csv(tmp_path), target="label", task="regression")
    assert ds.task == "regression" and ds.y_train.dtype == np.float32
    ds = load_csv(binary_csv(tmp_path), target="label", task="multiclass")
    assert ds.task == "multiclass" and ds.n_classes == 2


def test_integer_target_with_many_values_is_regression(tmp_path):
    rows = [(i, i * 3) for i in range(25)]
    assert load_csv(write(tmp_path, table("x,y", rows)), target="y").task == "regression"


def test_file_not_found(tmp_path):
    with pytest.raises(WhydlError, match="does not exist"):
        load_csv(tmp_path / "nope.csv", target="y")


@pytest.mark.parametrize("text", ["", "  \n\n"])
def test_empty_file(tmp_path, text):
    with pytest.raises(WhydlError, match="data.csv is empty"):
        load_csv(write(tmp_path, text), target="y")


def test_header_only(tmp_path):
    with pytest.raises(WhydlError, match=r"0 data rows \(header only\); need at least 10"):
        load_csv(write(tmp_path, "x,y\n"), target="y")


def test_too_few_rows(tmp_path):
    rows = [(i, i % 2) for i in range(5)]
    with pytest.raises(WhydlError, match="5 data rows; need at least 10"):
        load_csv(write(tmp_path, table("x,y", rows)), target="y")


def test_too_few_test_rows(tmp_path):
    rows = [(i, i % 2) for i in range(10)]
    with pytest.raises(
        WhydlError, match="9 training and 1 test rows; need at least 2 rows in each split"
    ):
        load_csv(write(tmp_path, table("x,y", rows)), target="y", test_size=0.1)


def test_missing_target_column(tmp_path):
    with pytest.raises(WhydlError, match="no column 'target'. Available columns: x1, x2, label"):
        load_csv(binary_csv(tmp_path), target="target")


@pytest.mark.parametrize("sep, word", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_wrong_delimiter(tmp_path, sep, word):
    rows = "\n".join(f"{i}{sep}{i % 2}" for i in range(12))
    with pytest.raises(WhydlError, match=f"wrong delimiter.*{word}.*comma-separated"):
        load_csv(write(tmp_path, f"x{sep}y\n{rows}\n"), target="y")


def test_wrong_number_of_fields(tmp_path):
    rows = [(i, i, i % 2) for i in range(12)]
    rows[5] = (5, 5)  # line 7: header is line 1
    with pytest.raises(WhydlError, match="data.csv line 7: 2 fields, but the header has 3"):
        load_csv(write(tmp_path, table("x1,x2,y", rows)), target="y")


@pytest.mark.parametrize("value", ["", "NA", "NaN", "null"])
def test_missing_value(tmp_path, value):
    rows = [(i, i, i % 2) for i in range(12)]
    rows[5] = (5, value, 1)
    with pytest.raises(WhydlError, match="data.csv line 7, column 'x2': missing value"):
        load_csv(write(tmp_path, table("x1,x2,y", rows)), target="y")


def test_non_numeric_feature(tmp_path):
    rows = [(i, "red" if i == 3 else i, i % 2) for i in range(12)]
    with pytest.raises(WhydlError, match="line 5, column 'color': non-numeric value 'red'.*drop"):
        load_csv(write(tmp_path, table("x,color,y", rows)), target="y")


def test_infinite_feature(tmp_path):
    rows = [(i, "inf" if i == 2 else i, i % 2) for i in range(12)]
    with pytest.raises(WhydlError, match="line 4, column 'x2': infinite value 'inf'"):
        load_csv(write(tmp_path, table("x1,x2,y", rows)), target="y")


def test_single_class(tmp_path):
    rows = [(i, "cat") for i in range(12)]
    with pytest.raises(WhydlError, match="same class 'cat'.*at least 2 classes"):
        load_csv(write(tmp_path, table("x,y", rows)), target="y")


def test_non_finite_regression_target(tmp_path):
    rows = [(i, "-inf" if i == 4 else i + 0.5) for i in range(12)]
    with pytest.raises(WhydlError, match="non-finite value '-inf' on line 6"):
        load_csv(write(tmp_path, table("x,y", rows)), target="y")


def test_regression_with_text_target(tmp_path):
    rows = [(i, "ab"[i % 2]) for i in range(12)]
    with pytest.raises(WhydlError, match="task='regression' needs a numeric target.*line 2"):
        load_csv(write(tmp_path, table("x,y", rows)), target="y", task="regression")


def test_binary_with_three_classes(tmp_path):
    rows = [(i, "abc"[i % 3]) for i in range(12)]
    with pytest.raises(WhydlError, match="task='binary' needs 2 classes.*3.*multiclass"):
        load_csv(write(tmp_path, table("x,y", rows)), target="y", task="binary")


def test_no_feature_columns(tmp_path):
    rows = "\n".join(str(i % 2) for i in range(12))
    with pytest.raises(WhydlError, match="no feature columns"):
        load_csv(write(tmp_path, f"y\n{rows}\n"), target="y")


def test_blank_lines_are_skipped_but_counted(tmp_path):
    rows = "".join(f"{i},{i % 2}\n" for i in range(12))
    with pytest.raises(WhydlError, match="line 6, column 'y': missing value"):
        load_csv(write(tmp_path, f"x,y\n\n{rows[:8]}\n4,\n{rows[8:]}"), target="y")


def test_directory(tmp_path):
    with pytest.raises(WhydlError, match="is a directory"):
        load_csv(tmp_path, target="y")


def test_not_utf8(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"x,y\n\xff,1\n")
    with pytest.raises(WhydlError, match="not UTF-8 text.*Save it as UTF-8"):
        load_csv(path, target="y")


@pytest.mark.parametrize(
    "header, match",
    [(",x,y", "column 1 has no name"), ("x,x,y", r"duplicate column names \['x'\]")],
)
def test_bad_header(tmp_path, header, match):
    rows = [(i, i, i % 2) for i in range(12)]
    with pytest.raises(WhydlError, match=match):
        load_csv(write(tmp_path, table(header, rows)), target="y")


def test_classification_with_non_integer_target(tmp_path):
    rows = [(i, i + 0.5) for i in range(12)]
    with pytest.raises(WhydlError, match="task='binary' needs class labels.*line 2.*'0.5'"):
        load_csv(write(tmp_path, table("x,y", rows)), target="y", task="binary")


@pytest.mark.parametrize(
    "kwargs, match",
    [({"task": "ranking"}, "task='ranking' is not one of"), ({"test_size": 1.5}, "test_size=1.5")],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(WhydlError, match=match):
        load_csv(binary_csv(tmp_path), target="label", **kwargs)
