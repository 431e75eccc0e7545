"""On a terminal, `whydl train` names each slow step after training (the bar covers training);
through a pipe it prints what it always has: the timing line only.

The terminal is a pseudo-terminal (`pty`) given to the installed script as its stderr.
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import time

import pytest

from tests.commands import WHYDL, assert_ok, minimal_env, whydl
from whydl.engine.progress import Progress, phase

ARGS = ("train", "--seeds", 2, "--epochs", 3, "--out", "d")
PHASES = ("summarising...", "drawing figures...", "writing files...")


def _run_on_a_tty(args, cwd) -> tuple[int, str, str]:
    """Run `whydl ARGS` with stderr on a pseudo-terminal; (exit code, stdout, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(WHYDL), *map(str, args)],
        cwd=cwd,
        env=minimal_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)  # the child holds its copy: reading ends (EIO) once it exits
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # Linux: EIO when the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=600), out, b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.parametrize("args", [ARGS, ("demo", "--seeds", 2, "--out", "d")])
def test_a_terminal_sees_every_phase_after_training(tmp_path, args):
    code, out, err = _run_on_a_tty(args, tmp_path)
    assert code == 0, err
    assert "Traceback" not in err, err
    for label in PHASES:
        assert re.search(rf"^{re.escape(label)} [\d.]+ s$", err, re.M), err
    assert err.rstrip().splitlines()[-1].startswith("done in "), err
    assert out.splitlines()[-1].startswith("wrote d/"), out


def test_a_pipe_sees_only_the_timing_line_as_before(tmp_path):
    ran = assert_ok(whydl(*ARGS, cwd=tmp_path))
    assert re.fullmatch(r"done in [\d.]+ s\n", ran.err), ran.err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_phase_prints_on_a_terminal_only():
    tty, pipe = _Terminal(), io.StringIO()
    with phase("drawing figures", stream=tty), phase("drawing figures", stream=pipe):
        pass
    assert re.fullmatch(r"drawing figures\.\.\. [\d.]+ s\n", tty.getvalue())
    assert pipe.getvalue() == ""


def test_the_bar_shows_after_2_s_and_keeps_its_clock_moving_in_a_slow_epoch():
    tty = _Terminal()
    bar = Progress(100, stream=tty)
    time.sleep(3.6)  # the heartbeat draws at 2 s and each second after: nothing called update()
    bar.close()
    draws = tty.getvalue().split("\r")[1:]
    assert len(draws) >= 2 and all(" 0/100 " in d for d in draws)
    seconds = [float(re.search(r" ([\d.]+)s ", d).group(1)) for d in draws]
    assert seconds == sorted(seconds) and seconds[-1] - seconds[0] >= 0.9
    assert tty.getvalue().endswith("\n")
    bar.timer.join(timeout=5)
    assert not bar.timer.is_alive()  # close() stops the heartbeat


def test_a_closed_bar_draws_nothing_later():
    tty = _Terminal()
    bar = Progress(100, stream=tty)
    bar.close()
    bar._draw()  # as a heartbeat that fired just as close() ran
    assert tty.getvalue() == ""
