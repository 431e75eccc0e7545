"""Run the installed `whydl` console script as a user does: a subprocess, a temporary working
directory and a minimal environment (no PYTHONPATH, nothing that pytest imported).

The point is what pytest cannot see from inside: an import that only works because the test
runner made it first (as `importlib.util` once did for `whydl claims`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
WHYDL = BIN / "whydl"
PRESET = "quick"  # every claim in seconds (3-5 s each here): enough to check the product


def minimal_env(**extra) -> dict:
    """PATH (this venv first), HOME and a UTF-8 locale; no PYTHONPATH, no coverage hooks."""
    env = {
        "PATH": f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
    }
    return env | extra


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def whydl(*args, cwd, module: bool = False, timeout: float = 600, env=None) -> Ran:
    """`whydl ARGS` (or `python -m whydl ARGS` with `module=True`) in `cwd`."""
    command = [sys.executable, "-m", "whydl"] if module else [str(WHYDL)]
    proc = subprocess.run(
        [*command, *map(str, args)],
        cwd=cwd,
        env=env or minimal_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def assert_ok(ran: Ran) -> Ran:
    assert ran.code == 0, f"exit {ran.code}\nstdout:\n{ran.out}\nstderr:\n{ran.err}"
    assert "Traceback" not in ran.err, ran.err
    return ran


def assert_refused(ran: Ran, *expected: str) -> Ran:
    """Exit 2, one line on stderr (no traceback) that contains every `expected` text."""
    assert ran.code == 2, f"exit {ran.code}\nstdout:\n{ran.out}\nstderr:\n{ran.err}"
    assert "Traceback" not in ran.err, ran.err
    assert len(ran.err.strip().splitlines()) == 1, ran.err
    for text in expected:
        assert text in ran.err, f"{text!r} not in {ran.err!r}"
    return ran


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()
