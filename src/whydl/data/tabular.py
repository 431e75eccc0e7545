"""Load a user's own CSV file into a `Dataset`.

The file is read with the stdlib `csv` module (no pandas dependency) and checked cell by
cell, so that every problem is reported as one `WhydlError` naming the file, the line
(1-based, the header is line 1) and the column, with a hint on how to fix it.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from whydl.data.dataset import TASKS, Dataset, standardize
from whydl.errors import WhydlError

MIN_ROWS = 10
# An integer target with at most this many distinct values is taken as class labels.
MAX_INT_CLASSES = 20
# Spellings of "no value" written by spreadsheets, pandas and R; compared lower-cased.
_MISSING = {"", "na", "n/a", "nan", "null", "none"}
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def load_csv(
    path, target: str, *, test_size: float = 0.3, data_seed: int = 42, task: str | None = None
) -> Dataset:
    """Load a comma-separated file with a header row, numeric features and a target column.

    Features are standardised with statistics of the training split only. The task is
    inferred when `task` is None: a non-numeric target, or an integer one with at most 20
    distinct values, is classification ("binary" for 2 classes, else "multiclass");
    anything else is regression. Class labels map to 0..k-1 in sorted order.

    Example
    -------
    >>> ds = load_csv("iris.csv", target="species")  # doctest: +SKIP
    >>> ds.task, ds.class_names
    ('multiclass', ('setosa', 'versicolor', 'virginica'))
    """
    path = Path(path)
    name = path.name
    if task is not None and task not in TASKS:
        raise WhydlError(
            f"task={task!r} is not one of {TASKS}. Pass one of them, or None to infer."
        )
    if not 0 < test_size < 1:
        raise WhydlError(f"test_size={test_size!r} must be a fraction between 0 and 1, e.g. 0.3.")
    header, rows = _read_rows(path)
    if target not in header:
        raise WhydlError(
            f"{name}: no column {target!r}. Available columns: {', '.join(header)}. "
            "Pass one of them as the target."
        )
    features = [i for i, col in enumerate(header) if col != target]
    if not features:
        raise WhydlError(
            f"{name}: the only column is the target {target!r}, so there are no feature columns. "
            "Add at least one numeric feature column."
        )
    n = len(rows)
    n_test = math.ceil(test_size * n)  # the same rounding train_test_split uses
    if n < MIN_ROWS:
        only = " (header only)" if n == 0 else ""
        raise WhydlError(f"{name}: {n} data rows{only}; need at least {MIN_ROWS}. Add rows.")
    if n_test < 2 or n - n_test < 2:
        raise WhydlError(
            f"{name}: test_size={test_size} splits {n} rows into {n - n_test} training and "
            f"{n_test} test rows; need at least 2 rows in each split. Change test_size or add rows."
        )

    t = header.index(target)
    X = np.empty((n, len(features)), dtype=np.float64)
    labels = []
    for r, (line, cells) in enumerate(rows):
        for i, cell in enumerate(cells):
            if cell.strip().lower() in _MISSING:
                raise WhydlError(
                    f"{name} line {line}, column {header[i]!r}: missing value. Every feature and "
                    "target cell must be filled; drop or impute the row."
                )
        for j, i in enumerate(features):
            X[r, j] = _feature_value(cells[i], f"{name} line {line}, column {header[i]!r}")
        labels.append(cells[t].strip())

    y, task, class_names = _encode_target(labels, [line for line, _ in rows], name, target, task)
    k = len(class_names)
    from sklearn.model_selection import train_test_split  # lazily: ~2 s to import

    # sklearn can only stratify with 2+ rows per class and room for every class in both splits.
    strat = k > 0 and np.bincount(y).min() >= 2 and min(n_test, n - n_test) >= k
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=data_seed, stratify=y if strat else None
    )
    X_train, X_test, mean, scale = standardize(X_train, X_test)
    return Dataset(
        name=path.stem,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        task=task,
        n_classes=k,
        feature_names=tuple(header[i] for i in features),
        target_name=target,
        class_names=class_names,
        input_mean=mean,
        input_scale=scale,
    )


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header names and (line number, cells) for each data row; blank lines are skipped."""
    name = path.name
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise WhydlError(f"CSV file {str(path)!r} {what}. Pass the path to an existing .csv file.")
    try:
        text = path.read_text(encoding="utf-8-sig")  # utf-8-sig drops an Excel BOM
    except UnicodeDecodeError as e:
        raise WhydlError(
            f"{name} is not UTF-8 text ({e.reason} at byte {e.start}). Save it as UTF-8 CSV."
        ) from None
    if not text.strip():
        raise WhydlError(f"{name} is empty. Expected a header row and at least {MIN_ROWS} rows.")
    reader = csv.reader(io.StringIO(text, newline=""))
    header, rows = None, []
    try:
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                _check_header(header, name)
            elif len(cells) != len(header):
                raise WhydlError(
                    f"{name} line {reader.line_num}: {len(cells)} fields, but the header has "
                    f"{len(header)} columns. Every row needs one value per column; check for "
                    "missing or extra commas and unmatched quotes (quote values with commas)."
                )
            else:
                rows.append((reader.line_num, cells))
    except csv.Error as e:
        raise WhydlError(f"{name} line {reader.line_num}: not valid CSV ({e}).") from None
    return header, rows


def _check_header(header: list[str], name: str) -> None:
    if len(header) == 1:
        for sep, sep_name in _OTHER_DELIMITERS.items():
            if sep in header[0]:
                raise WhydlError(
                    f"{name}: wrong delimiter. The header {header[0]!r} reads as one column and "
                    f"contains a {sep_name} ({sep!r}); the file must be comma-separated. "
                    "Re-save it as CSV with commas."
                )
    for i, col in enumerate(header, start=1):
        if not col:
            raise WhydlError(
                f"{name} line 1: column {i} has no name (often a saved pandas index). "
                "Name it in the header row or drop the column."
            )
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise WhydlError(f"{name} line 1: duplicate column names {dupes}. Make them unique.")


def _feature_value(cell: str, where: str) -> float:
    value = _to_float(cell)
    if value is None:
        raise WhydlError(
            f"{where}: non-numeric value {cell.strip()!r}. Feature columns must hold numbers; "
            "drop the column or encode it as numbers (e.g. one-hot) before loading."
        )
    if not math.isfinite(value):
        raise WhydlError(f"{where}: infinite value {cell.strip()!r}. Replace or drop the row.")
    return value


def _encode_target(labels, lines, name, target, task):
    """Target array, the (possibly inferred) task and the class names (empty for regression)."""
    where = f"{name}, target column {target!r}"
    parsed = [_to_float(v) for v in labels]
    values = None if None in parsed else np.array(parsed)
    finite = values is not None and bool(np.isfinite(values).all())
    is_int = finite and bool((values == np.round(values)).all())
    if task is None:
        small = is_int and len(np.unique(values)) <= MAX_INT_CLASSES
        task = "regression" if values is not None and not small else "classification"

    if task == "regression":
        if values is None:
            i = parsed.index(None)
            raise WhydlError(
                f"{where}: task='regression' needs a numeric target, but line {lines[i]} has "
                f"{labels[i]!r}. Use task='binary'/'multiclass' or a numeric target."
            )
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise WhydlError(
                f"{where}: non-finite value {labels[bad[0]]!r} on line {lines[bad[0]]}. "
                "A regression target must be finite numbers; replace or drop the row."
            )
        return values.astype(np.float32), task, ()

    if values is not None and not is_int:
        i = int(np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))[0])
        raise WhydlError(
            f"{where}: task={task!r} needs class labels, but line {lines[i]} has the non-integer "
            f"number {labels[i]!r}. Use task='regression' or a class column."
        )
    if values is not None:  # numeric labels sort as numbers, so "10" comes after "2"
        classes, y = np.unique(values, return_inverse=True)
        class_names = tuple(str(int(c)) for c in classes)
    else:
        classes, y = np.unique(np.array(labels, dtype=str), return_inverse=True)
        class_names = tuple(str(c) for c in classes)
    if len(class_names) < 2:
        raise WhydlError(
            f"{where}: every row has the same class {class_names[0]!r}. Classification needs "
            "at least 2 classes; check the target column or add rows of other classes."
        )
    if task == "binary" and len(class_names) != 2:
        raise WhydlError(
            f"{where}: task='binary' needs 2 classes, but the target has {len(class_names)} "
            f"({', '.join(class_names)}). Use task='multiclass'."
        )
    if task == "classification":
        task = "binary" if len(class_names) == 2 else "multiclass"
    return y.astype(np.int64), task, class_names


def _to_float(text: str) -> float | None:
    try:
        return float(text)  # accepts surrounding whitespace and "1e-3"
    except ValueError:
        return None
