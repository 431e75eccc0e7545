"""Fixtures shared across test modules.

`claim_cli(name)` runs `whydl claim NAME --preset quick --out c` as the installed script
(a subprocess in a temporary folder, see tests/commands.py) once per session, checks that
it exits 0 without a traceback, and returns the folder with what it printed. Running a
claim is the suite's most expensive step, and every test that checks what a claim's command
prints and writes can read the one run: tests/test_commands.py checks the command's output
and listing, each claim's tests in tests/evidence check its files. Those tests only read
the folder.
"""

from __future__ import annotations

import pytest

from tests.commands import PRESET, Ran, assert_ok, whydl


@pytest.fixture(scope="session")
def claim_cli(tmp_path_factory):
    """A function: claim name -> (folder, Ran) of `whydl claim NAME --preset quick --out c`
    run in `folder`; the claim's files are in folder / "c"."""
    runs: dict[str, tuple] = {}

    def run(name: str) -> tuple:
        if name not in runs:
            folder = tmp_path_factory.mktemp(f"claim-{name}")
            ran: Ran = whydl("claim", name, "--preset", PRESET, "--out", "c", cwd=folder)
            runs[name] = (folder, assert_ok(ran))
        return runs[name]

    return run
