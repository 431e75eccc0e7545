"""The playground's data: a named 2-D generator, or the CSV file a user uploaded."""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from whydl.config import show_value
from whydl.data import Dataset, load_csv
from whydl.errors import WhydlError
from whydl.result import load_data
from whydl.web.export import run_config
from whydl.web.validate import CSV, MAX_CLASSES, Settings, check_upload, safe_file_name

LABEL_NAMES = ("label", "class", "target", "y")  # else the last column is the label


@dataclass(frozen=True)
class Upload:
    """An uploaded CSV file, checked against the size and row bounds."""

    name: str  # reduced to a safe file name
    text: str

    @classmethod
    def from_message(cls, raw) -> Upload:
        if not isinstance(raw, dict):
            raise WhydlError("csv must be an object with the file's name and text.")
        check_upload(raw.get("name"), raw.get("text"))
        return cls(safe_file_name(raw["name"]), raw["text"])

    @property
    def target(self) -> str:
        """The label column: one named label/class/target/y, else the last column."""
        header = _header(self)
        named = [c for c in header if c.strip().lower() in LABEL_NAMES]
        return (named[0] if named else header[-1]).strip()


def make_dataset(settings: Settings, upload: Upload | None) -> Dataset:
    """The dataset `settings` describe; an uploaded file when `settings.dataset` is 'csv'."""
    if settings.dataset != CSV:  # the data exactly as `whydl train` loads the same config
        # the inputs themselves: the session computes the features, after any clicked points
        return load_data(replace(run_config(settings, 0).data, features=None))
    if upload is None:
        raise WhydlError(
            "dataset 'csv' needs an uploaded file, and this tab has none (a shared link cannot "
            "carry the file). Upload the CSV file again, or pick a dataset."
        )
    header = _header(upload)
    if len(header) != 3:
        raise WhydlError(
            f"{upload.name} has {len(header)} columns ({', '.join(header)}); the playground "
            "needs exactly 3: two numeric feature columns and the label column."
        )
    with tempfile.TemporaryDirectory(prefix="whydl-upload-") as folder:
        path = Path(folder) / upload.name
        path.write_text(upload.text, encoding="utf-8")
        dataset = load_csv(
            path, upload.target, test_size=settings.test_size, data_seed=settings.data_seed
        )
    if dataset.n_classes > MAX_CLASSES:
        raise WhydlError(
            f"{upload.name}: the label column {upload.target!r} has {dataset.n_classes} classes; "
            f"the playground shows at most {MAX_CLASSES}. Merge or drop classes."
        )
    return dataset


MAX_ADDED = 500  # points a tab may add by clicking


def with_points(dataset: Dataset, points: list[tuple[float, float, int]]) -> Dataset:
    """`dataset` with `points` (x1, x2, label) appended to its training split."""
    if not points:
        return dataset
    X = np.array([p[:2] for p in points], dtype=dataset.X_train.dtype)
    y = np.array([p[2] for p in points], dtype=dataset.y_train.dtype)
    return replace(
        dataset,
        X_train=np.concatenate([dataset.X_train, X]),
        y_train=np.concatenate([dataset.y_train, y]),
    )


def parse_point(command: dict, dataset: Dataset, box: list[float], n_added: int):
    """(x1, x2, label) of an `add_point` command: inside the drawn plane, a known class, a
    generated dataset (an uploaded file's points are its own), under MAX_ADDED a tab."""
    if dataset.input_mean is not None:
        raise WhydlError(
            "points can be added to a generated dataset only: an uploaded file's points are "
            "its own. Edit the file and upload it again."
        )
    if n_added >= MAX_ADDED:
        raise WhydlError(f"this tab has added {MAX_ADDED} points, the most it may; reset the data.")
    x, label = command.get("x"), command.get("label")
    ok = (
        isinstance(x, list)
        and len(x) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in x)
    )
    if not ok or not (box[0] <= x[0] <= box[1] and box[2] <= x[1] <= box[3]):
        raise WhydlError(
            f"x={show_value(x)} is not a point of the plane: expected [x1, x2] with x1 in "
            f"{box[0]:.3g}..{box[1]:.3g} and x2 in {box[2]:.3g}..{box[3]:.3g}."
        )
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < dataset.n_classes:
        raise WhydlError(
            f"label={show_value(label)} is not a class of {dataset.name}: expected 0 to "
            f"{dataset.n_classes - 1}."
        )
    return float(x[0]), float(x[1]), int(label)


def _header(upload: Upload) -> list[str]:
    """The first non-blank row's cells (load_csv checks the rest)."""
    try:
        for cells in csv.reader(io.StringIO(upload.text.lstrip("\ufeff"), newline="")):
            if any(c.strip() for c in cells):
                return [c.strip() for c in cells]
    except csv.Error as e:
        raise WhydlError(f"{upload.name}: not valid CSV ({e}).") from None
    raise WhydlError(f"{upload.name} is empty. Expected a header row, then one row per point.")
