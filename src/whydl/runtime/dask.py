"""The Dask executor: a sweep's jobs on a `LocalCluster` sized to this machine, or on an
existing cluster (`scheduler=tcp://HOST:8786`). whydl grows no scheduler of its own.

Failures: a job whose worker dies, or that raises, is retried once; a job that fails twice
is reported by name with its error while the rest of the sweep finishes (`SweepFailed`).
A run whose members all diverge is a result, not a failure: it comes back as `Diverged` and
is not retried (the same numbers would diverge again).
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from dataclasses import dataclass, field

import dask
from distributed import Client, LocalCluster, as_completed

from whydl.errors import WhydlError
from whydl.runtime.jobs import Job, JobFailed, run_job

ATTEMPTS = 2  # a failed job is retried once
CONNECT_TIMEOUT_S = 10


def machine_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class DaskExecutor:
    """Runs jobs on Dask: a new `LocalCluster` (one single-threaded worker process per core,
    or `n_workers`) or the existing cluster at `scheduler`.

    A job is one call's missing members, bit for bit what the local executor trains. With
    `split`, a call that would hold up the sweep is cut into parts that train side by side:
    faster on many workers, but the stacked arithmetic then runs on fewer members at once,
    and vectorised math kernels round the last bit differently for different sizes: each
    step differs by float32 rounding (about 1e-7), which long training can grow until a
    final metric moves by a test point (measured: 0.0019 accuracy on flexibility's full
    preset, verdict unchanged).

    `retried` and `failed` name the jobs that needed a second attempt and those that failed
    twice (for reports and tests).
    """

    scheduler: str | None = None
    n_workers: int | None = None
    split: bool = False  # cut calls that would hold up the sweep into parts (`split_spans`)
    retried: list[str] = field(default_factory=list)
    failed: list[JobFailed] = field(default_factory=list)

    def __post_init__(self):

        self.cluster = None
        if self.scheduler is None:
            # a worker death counts as a failed attempt at once: our retry is the one retry
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self.cluster = LocalCluster(
                    n_workers=self.n_workers or machine_cores(),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: never clash with a running cluster
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as e:
                raise WhydlError(
                    f"could not connect to the Dask scheduler at {self.scheduler} ({e}). "
                    "Check the address and that 'dask scheduler' runs there, or drop "
                    "--scheduler to start a local cluster."
                ) from None

    def _threads(self) -> list[int]:
        workers = self.client.scheduler_info().get("workers", {})
        return [w.get("nthreads", 1) for w in workers.values()]

    @property
    def workers(self) -> int:
        """Worker threads now in the cluster (the jobs that can run at once)."""
        return sum(self._threads()) or 1

    @property
    def description(self) -> str:
        where = self.scheduler or "a local cluster"
        split = ", long calls split across workers" if self.split else ""
        text = f"dask on {where} ({self.workers} worker(s), one torch thread each{split})"
        if any(n > 1 for n in self._threads()):  # torch's thread setting is per process
            text += (
                "; warning: some workers run several threads, whose jobs then share one "
                "torch thread setting: start workers with 'dask worker ADDRESS --nthreads 1'"
            )
        return text

    def run(self, jobs: list[Job], on_result, log=print) -> list[JobFailed]:
        """Run `jobs`; call `on_result(index, rows_or_Diverged)` here, on the client, as each
        one finishes. Returns the jobs that failed twice (the others all finished)."""

        attempts = [0] * len(jobs)
        index = {}

        def submit(i):
            attempts[i] += 1
            slug = re.sub(r"[^A-Za-z0-9_.=-]+", "-", jobs[i].name)[:60]
            future = self.client.submit(run_job, jobs[i], key=f"whydl-{slug}-{uuid.uuid4().hex}")
            index[future.key] = i
            return future

        pending = as_completed([submit(i) for i in range(len(jobs))])
        failures, done = [], 0
        for future in pending:
            i = index.pop(future.key)
            if future.status == "finished":
                result = future.result()
                future.release()  # the rows live on the client now
                on_result(i, result)
                done += 1
                log(f"finished {jobs[i].name} ({done}/{len(jobs)})")
                continue
            error = _describe(future)
            future.release()
            if attempts[i] < ATTEMPTS:
                log(f"retrying {jobs[i].name}: {error}")
                self.retried.append(jobs[i].name)
                pending.add(submit(i))
            else:
                failures.append(JobFailed(jobs[i].name, error, attempts[i]))
                log(f"FAILED {jobs[i].name}: {error}")
        self.failed.extend(failures)
        return failures

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _describe(future) -> str:
    try:
        error = future.exception()
    except Exception as e:  # the future itself was lost (e.g. cancelled)
        error = e
    name = type(error).__name__
    if name == "KilledWorker":
        return "KilledWorker: the worker running it died"
    return f"{name}: {error}"
