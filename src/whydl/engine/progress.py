"""A minimal progress bar: drawn only on a terminal, and only once a run looks longer than
about 2 s, so short runs and piped output stay silent."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str = "training", stream=None, enabled=None):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        is_tty = getattr(self.stream, "isatty", lambda: False)()
        self.enabled = is_tty if enabled is None else enabled
        self.start = time.perf_counter()
        self.drawn = False

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        expected = elapsed / max(done, 1) * self.total
        if not self.drawn and (elapsed < 0.3 or expected < 2.0):
            return
        width = 30
        filled = int(width * done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total} {elapsed:4.1f}s {note}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
