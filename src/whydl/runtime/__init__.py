"""Where and how training calls run: the cache in front of the results store, the executors
(this process, or Dask), and the pipeline that runs a claim or the demo and records it.

Layers: this package sits above the evidence (claims call its `CachedContext` through the
`Context` interface) and below the report, the web and the front ends.

Example
-------
>>> from whydl.runtime import CachedContext, make_executor
>>> from whydl.store import Store
>>> ctx = CachedContext(Store(":memory:"), executor=make_executor("local"))
>>> ctx.executor.description
'local (this process)'
"""

from whydl.runtime.cache import CachedContext
from whydl.runtime.codec import fit_rows, rebuild_fit
from whydl.runtime.executors import EXECUTORS, check_options, make_executor, require_dask
from whydl.runtime.jobs import Diverged, Job, JobFailed, JobResult, SweepFailed, run_job
from whydl.runtime.local import LocalExecutor
from whydl.runtime.pipeline import (
    DEMO_SEEDS,
    ClaimRun,
    run_claim,
    run_claims,
    run_demo,
    stored_claims,
)
from whydl.runtime.split import join_parts, member_cost, split_spans

__all__ = [
    "DEMO_SEEDS",
    "EXECUTORS",
    "CachedContext",
    "ClaimRun",
    "Diverged",
    "Job",
    "JobFailed",
    "JobResult",
    "LocalExecutor",
    "SweepFailed",
    "check_options",
    "fit_rows",
    "join_parts",
    "make_executor",
    "member_cost",
    "rebuild_fit",
    "require_dask",
    "run_claim",
    "run_claims",
    "run_demo",
    "run_job",
    "split_spans",
    "stored_claims",
]
