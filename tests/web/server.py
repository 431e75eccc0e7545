"""A real `whydl serve` for the tests that need one (a subprocess on a free port)."""

import re
import subprocess
import sys
import tempfile


def start_server(*args):
    """`whydl serve --port 0` in a subprocess; returns (process, URL) once it listens.

    Its stderr goes to a file rather than a pipe nobody reads, which could fill and stall
    the server."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [sys.executable, "-m", "whydl", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    line = proc.stdout.readline()  # printed once the socket listens
    match = re.search(r"http://\S+", line)
    if not match:
        proc.kill()
        log.seek(0)
        raise AssertionError(f"no URL from whydl serve: {line!r} {log.read()}")
    return proc, match.group(0)
