"""The local executor: a sweep's jobs train in this process, one after the other."""

from __future__ import annotations

from dataclasses import dataclass, field

from whydl.engine import fit as engine_fit
from whydl.runtime.jobs import Job, JobFailed, train_job


@dataclass
class LocalExecutor:
    """Trains jobs here with `fit` (the engine's, or a stand-in for tests), on the engine's own
    thread choice. A job that raises stops the sweep (here, unlike on a cluster, nothing else
    is running that its failure could spare); Ctrl-C stops it between transactions.

    Example
    -------
    >>> LocalExecutor().description
    'local (this process)'
    """

    fit: object = engine_fit
    split: bool = False  # the local executor never splits: parts would only run in turn
    workers: int = 1
    retried: list[str] = field(default_factory=list)
    failed: list[JobFailed] = field(default_factory=list)

    @property
    def description(self) -> str:
        return "local (this process)"

    def run(self, jobs: list[Job], on_result, log=print) -> list[JobFailed]:
        """Train `jobs` in order, calling `on_result(index, JobResult or Diverged)` after each."""
        for i, job in enumerate(jobs):
            log(f"training {job.name}: {job.train.n_seeds} member(s)")
            on_result(i, train_job(job, fit=self.fit or engine_fit))
        return []

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
