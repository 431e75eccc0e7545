"""Checks that an output path can be written, made before any work so that a bad `--out`,
`--store` or `--output` costs the user nothing: no training, and nothing half-written.

Nothing is created here. Writability is probed with a temporary file in the nearest
existing folder, since permission bits alone mislead (root passes `os.access` even where
the kernel refuses, as in /proc).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whydl.errors import WhydlError


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _probe(folder: Path, flag: str, path: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".whydl-probe-"):
            pass
    except OSError as e:
        raise WhydlError(
            f"{flag} {path}: cannot write in {str(folder)!r} ({e.strerror or e}). Pass a path "
            "in a folder you can write to."
        ) from None


def check_output_dir(path, flag: str = "--out") -> Path:
    """`path` as a Path, if it is (or can become) a folder this process can write in.

    Example
    -------
    >>> check_output_dir("runs/demo").name
    'demo'
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise WhydlError(
            f"{flag} {path}: {str(path)!r} is a file, not a folder. Pass a folder path (a new "
            f"or an existing folder), e.g. {flag} {path}.d."
        )
    _check_folder(path, flag, path)
    return path


def _check_folder(folder: Path, flag: str, shown: Path) -> None:
    found = _nearest_existing(folder)
    if not found.is_dir():
        raise WhydlError(
            f"{flag} {shown}: {str(found)!r} is a file, so no folder can be made below it. "
            "Pass a path whose parents are folders."
        )
    _probe(found, flag, shown)


def check_output_file(path, flag: str = "--output") -> Path:
    """`path` as a Path, if a file can be written there (its parents may not exist yet)."""
    path = Path(path)
    if path.is_dir():
        raise WhydlError(
            f"{flag} {path}: {str(path)!r} is a folder, not a file. Pass a file path, e.g. "
            f"{flag} {path / 'out'}."
        )
    _check_folder(path.parent, flag, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise WhydlError(f"{flag} {path}: the file is read-only. Pass another path.")
    return path


@contextmanager
def written_together(out) -> Iterator[Path]:
    """A temporary folder inside `out` for the block to write its files in; they are all
    moved into `out` when the block ends, or none of them when it raises, so a reader never
    sees half a result.

    Example
    -------
    >>> import tempfile
    >>> with written_together(tempfile.mkdtemp()) as tmp:
    ...     _ = (tmp / "a.txt").write_text("a")
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whydl-", dir=out))
    try:
        yield tmp
        for path in tmp.iterdir():
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
