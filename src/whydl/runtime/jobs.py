"""What travels to an executor and back: a `Job` (one training call's missing members) and
its result, the store rows of those members (or `Diverged`).

A job is members that share shapes, so wherever it runs they train as one vectorised
computation. Workers return rows and never touch the results store: the client writes them,
so a crash or Ctrl-C keeps the store's guarantee (every finished call, nothing of an
unfinished one) and a rerun resumes.
"""

from __future__ import annotations

from dataclasses import dataclass

from whydl.engine import fit as engine_fit
from whydl.engine.device import torch_threads
from whydl.errors import DivergedError
from whydl.runtime.codec import fit_rows
from whydl.store import CACHE_VERSION


@dataclass(frozen=True)
class Job:
    """One training call's missing members, with what the client needs to store them."""

    name: str  # the call's tag: how progress and failures name it
    dataset: object
    model: object
    train: object
    hooks: dict  # members, frozen, train_rows (never a callback: it cannot cross processes)
    specs: list  # one store spec per member (see whydl.store.member_specs)
    claim: str = ""
    cache_version: int = 0
    part: bool = False  # one part of a call split across workers (see `split_spans`)
    recorders: tuple = ()  # what the engine measures while it trains (whydl.engine.recorders)

    @property
    def local_only(self) -> bool:
        """True when a recorder measures the machine (wall-clock time): train it here."""
        return any(r.local_only for r in self.recorders)


@dataclass(frozen=True)
class Diverged:
    """Every member of a job diverged: the engine's `DivergedError` message."""

    message: str


@dataclass(frozen=True)
class JobFailed:
    name: str
    error: str
    attempts: int


class SweepFailed(RuntimeError):
    """Jobs failed twice; everything else finished and was stored."""

    def __init__(self, failures: list[JobFailed], done: int):
        self.failures = failures
        lines = [f"  {f.name}: {f.error} (failed {f.attempts} times)" for f in failures]
        super().__init__(
            f"{len(failures)} training job(s) failed twice; the other {done} finished and are "
            "stored, so running the same command again retries only these:\n" + "\n".join(lines)
        )


@dataclass
class JobResult:
    """A finished job: its store rows and, when it trained in this process, the engine's own
    `Fit` (so a call trained whole here is not rebuilt from its rows)."""

    rows: list
    fit: object = None


def train_job(job: Job, fit=engine_fit, one_thread: bool = False):
    """Train `job` with `fit` (the engine's, or a test's stand-in); return a `JobResult`, or
    `Diverged` when every member diverged. `one_thread` pins torch to one thread, as a Dask
    worker must (a worker per core beats threads fighting over cores)."""
    if job.cache_version != CACHE_VERSION:
        # another whydl on the worker would train other numbers under the same keys
        raise RuntimeError(
            f"this worker's whydl has cache version {CACHE_VERSION}, the client's "
            f"{job.cache_version}: install the same whydl version on the client and workers."
        )
    hooks = dict(job.hooks)
    if job.recorders:  # only then: a stand-in `fit` need not know the argument
        hooks["recorders"] = job.recorders
    if job.part:  # a part's members all diverging says nothing of the call: the client decides
        hooks["keep_diverged"] = True
    try:
        if one_thread:
            with torch_threads(1):
                trained = fit(job.dataset, job.model, job.train, **hooks)
        else:
            trained = fit(job.dataset, job.model, job.train, **hooks)
    except DivergedError as e:
        return Diverged(str(e))
    return JobResult(fit_rows(trained, job.specs, job.claim, job.name, job.dataset.name), trained)


def run_job(job: Job):
    """On a Dask worker: train on one torch thread; only the rows travel back."""
    if job.local_only:  # the client's `CachedContext` never sends one; refuse it if sent
        raise RuntimeError(
            f"{job.name!r} records wall-clock time, which measures the machine that trains "
            "it: train it in the client (CachedContext does), not on a worker."
        )
    result = train_job(job, one_thread=True)
    return result if isinstance(result, Diverged) else JobResult(result.rows)
