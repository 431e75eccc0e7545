"""A minimal progress bar: drawn only on a terminal, and only once a run looks longer than
about 2 s, so short runs and piped output stay silent. `phase` names the slow steps after
training (drawing figures, writing files) on a terminal, so no step is silent for long."""

from __future__ import annotations

import contextlib
import sys
import threading
import time

HEARTBEAT_S = 1.0  # how often a drawn bar is redrawn while nothing else draws it


class Progress:
    def __init__(self, total: int, label: str = "training", stream=None, enabled=None):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self.start = time.perf_counter()
        self.drawn, self.done, self.note = False, 0, ""
        self.lock = threading.Lock()  # the timer's thread and update() both draw
        # a slow epoch (10,000 members: about 2 s each) would leave the terminal silent until
        # it ends: from 2 s on, a heartbeat redraws the bar each second, its clock moving
        self.stopped = threading.Event()
        self.timer = threading.Thread(target=self._heartbeat, daemon=True)  # never keeps
        if self.enabled:  # the interpreter alive
            self.timer.start()

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        self.done, self.note = done, note
        elapsed = time.perf_counter() - self.start
        expected = elapsed / max(done, 1) * self.total
        if not self.drawn and (elapsed < 0.3 or expected < 2.0):
            return
        self._draw()

    def _heartbeat(self) -> None:
        if self.stopped.wait(2.0):
            return
        while True:
            self._draw()
            if self.stopped.wait(HEARTBEAT_S):
                return

    def _draw(self) -> None:
        with self.lock:
            if not self.enabled:
                return  # closed meanwhile
            width = 30
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            elapsed = time.perf_counter() - self.start
            line = f"\r{self.label} [{bar}] {self.done}/{self.total} {elapsed:4.1f}s {self.note}"
            self.stream.write(line)
            self.stream.flush()
            self.drawn = True

    def close(self) -> None:
        self.stopped.set()
        with self.lock:
            self.enabled = False  # a timer already running draws nothing now
            if self.drawn:
                self.stream.write("\n")
                self.stream.flush()


def _is_tty(stream) -> bool:
    return getattr(stream, "isatty", lambda: False)()


@contextlib.contextmanager
def phase(label: str, stream=None, enabled=None):
    """Print `label...` while the block runs and its seconds when it ends, on a terminal
    only (`enabled=None`): pipes and tests see nothing, as they did before.

    Example
    -------
    >>> with phase("drawing figures", enabled=False):
    ...     pass
    """
    stream = stream or sys.stderr
    if not (_is_tty(stream) if enabled is None else enabled):
        yield
        return
    start = time.perf_counter()
    stream.write(f"{label}...")
    stream.flush()
    try:
        yield
    finally:  # on an error too: the error's own line then starts on a fresh line
        stream.write(f" {time.perf_counter() - start:.1f} s\n")
        stream.flush()
