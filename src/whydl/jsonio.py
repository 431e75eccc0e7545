"""The one JSON encoder: numpy scalars and arrays, tuples and sets, and anything with a
`to_dict` become plain JSON, the same way for every file whydl writes and every record the
store keeps.

Example
-------
>>> import numpy as np
>>> plain({"a": np.float32(0.5), "b": (1, 2)})
{'a': 0.5, 'b': [1, 2]}
"""

from __future__ import annotations

import json
from pathlib import Path


def default(o):
    """`json.dumps(default=...)`: what JSON cannot say by itself."""
    if hasattr(o, "tolist"):  # numpy scalars and arrays
        return o.tolist()
    if isinstance(o, tuple | set):
        return list(o)
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"cannot serialise {type(o).__name__}")


def dumps(obj, indent: int | None = 2) -> str:
    return json.dumps(obj, indent=indent, default=default)


def plain(obj):
    """`obj` as JSON would give it back, so a live record and a stored one are equal."""
    return json.loads(dumps(obj, indent=None))


def write_json(path, obj) -> None:
    Path(path).write_text(dumps(obj) + "\n")
