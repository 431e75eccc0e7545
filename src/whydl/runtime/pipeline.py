"""Runs a claim (or the article's demo) through the runtime and records it: the one path
that the CLI, `whydl report` and the API share.

Running means training through the cache (members already stored are reused) on an
executor, analysing, saving the claim's files and storing its record, a JSON-ready dict
that the report renders without training (`whydl report --no-train`).
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt

from whydl.config import article_config
from whydl.engine import fit as engine_fit
from whydl.environment import environment
from whydl.evidence import ClaimResult, get_claim
from whydl.evidence.record import claim_command, claim_record
from whydl.jsonio import plain
from whydl.plots.demo import seed_figure
from whydl.plots.svg import figure_svg
from whydl.result import TrainResult, load_data
from whydl.runtime.cache import CachedContext
from whydl.runtime.jobs import SweepFailed
from whydl.runtime.local import LocalExecutor
from whydl.store import MissingResults, Store

DEMO_SEEDS = 10  # the report's demo: the article's network on this many seeds


@dataclass
class ClaimRun:
    """A claim that ran: its result, its record, and what trained and what was reused."""

    result: ClaimResult
    record: dict
    trained: int
    cached: int


def run_claim(claim, preset, seeds, store: Store, out, executor=None, verbose=False) -> ClaimRun:
    """Run `claim` (a Claim or its name) through the store; save its files in `out`, store
    its record, and return both."""
    claim = get_claim(claim) if isinstance(claim, str) else claim
    ctx = CachedContext(store, claim=claim.name, verbose=verbose, executor=executor)
    result = claim.run(preset, seeds, ctx)
    saved = result.save(out)
    record = claim_record(result, claim, ctx.n_members, ctx.n_cached, saved)
    record["environment"] = environment()
    for fig, _caption in result.figures.values():
        plt.close(fig)  # long sweeps would otherwise keep every figure alive
    n_seeds = result.params.get("n_seeds", result.verdict.seeds)
    store.put_result(claim.name, preset, n_seeds, record)
    return ClaimRun(result, record, ctx.n_members, ctx.n_cached)


def run_claims(
    claims, preset, seeds, store: Store, out, executor=None, verbose=False, jobs: int = 1
):
    """Run every claim; return (records, names of those that failed), in the claims' order.
    One broken claim does not hide the others' evidence: its record says what went wrong.

    With `jobs` > 1 and training here (no executor, or the plain local one), registered
    claims run side by side, each in its own process on one core, writing to the one store
    (SQLite in WAL mode takes their writes in turn): most claims train on one thread, so on
    N cores N claims take about the time of one. A claim that times this machine
    (`Claim.times_this_machine`) and any claim a worker could not import (not its module's
    `CLAIM`) run here, one after the other, before the others start, so nothing competes
    with a timing."""
    claims = list(claims)
    apart = [c for c in claims if jobs > 1 and _trains_here(executor) and _runs_apart(c)]
    outcome = {}
    for claim in claims:
        if claim not in apart:
            outcome[claim.name] = _claim_here(claim, preset, seeds, store, out, executor, verbose)
    if apart:
        outcome |= _claims_apart(apart, preset, seeds, store.path, out, verbose, jobs)
    records = [outcome[c.name][0] for c in claims]
    return records, [c.name for c in claims if outcome[c.name][1]]


def _trains_here(executor) -> bool:
    return executor is None or (type(executor) is LocalExecutor and executor.fit is engine_fit)


def _runs_apart(claim) -> bool:
    """A claim that a worker process can import (its module's CLAIM) and that times nothing."""
    module = sys.modules.get(type(claim).__module__)
    return getattr(module, "CLAIM", None) is claim and not claim.times_this_machine


def _claim_here(claim, preset, seeds, store, out, executor, verbose) -> tuple[dict, bool]:
    """(record, failed?) of one claim run in this process."""
    if verbose:
        print(f"claim {claim.name} ({preset} preset)", flush=True)
    try:
        run = run_claim(claim, preset, seeds, store, Path(out) / claim.name, executor, verbose)
    except (KeyboardInterrupt, MissingResults):
        raise
    except Exception as e:
        if isinstance(e, SweepFailed):  # its message names every failed job
            print(f"claim {claim.name}: {e}", file=sys.stderr)
        else:
            traceback.print_exc(file=sys.stderr)
        return _error_record(claim, preset, seeds, f"{type(e).__name__}: {e}"), True
    return run.record, False


def _error_record(claim, preset, seeds, error: str) -> dict:
    """The record of a claim that failed: the report's error card, with the command to rerun."""
    n_seeds = claim.params(preset, seeds)["n_seeds"]
    return {
        "name": claim.name,
        "title": claim.title,
        "error": error,
        "command": claim_command(claim.name, preset, n_seeds),
    }


def _claim_in_worker(module, preset, seeds, store_path, out, verbose) -> tuple[dict, bool]:
    """A worker process's job: one claim (its module's CLAIM), through its own connection to
    the store."""
    claim = importlib.import_module(module).CLAIM
    with Store(store_path) as store:
        return _claim_here(claim, preset, seeds, store, out, None, verbose)


def _claims_apart(claims, preset, seeds, store_path, out, verbose, jobs) -> dict:
    """name -> (record, failed?) of claims run side by side in `jobs` worker processes
    (spawned: a fork would copy this process's torch threads and open store)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(jobs, len(claims)), mp_context=context) as pool:
        futures = {
            c.name: pool.submit(
                _claim_in_worker,
                type(c).__module__,
                preset,
                seeds,
                str(store_path),
                str(out),
                verbose,
            )
            for c in claims
        }
        try:
            return {c.name: _outcome(c, futures[c.name], preset, seeds) for c in claims}
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _outcome(claim, future, preset, seeds) -> tuple[dict, bool]:
    """A worker's (record, failed?). A worker that dies (killed, out of memory) breaks the
    pool: the claims that had not finished get an error record (the report still renders
    those that had), saying to run them one after the other; what they trained is stored."""
    try:
        return future.result()
    except BrokenProcessPool as e:
        print(f"claim {claim.name}: its worker process died ({e})", file=sys.stderr)
        error = f"a worker process died ({e}); rerun with --jobs 1 to run the claims one by one"
        return _error_record(claim, preset, seeds, error), True


def stored_claims(claims, preset, seeds, store: Store):
    """The stored records of `claims` at (preset, seeds); and what is missing, by name."""
    records, missing = [], []
    for claim in claims:
        n_seeds = claim.params(preset, seeds)["n_seeds"]
        record = store.get_result(claim.name, preset, n_seeds)
        if record is None:
            missing.append(f"{claim.name} ({preset}, {n_seeds} seeds)")
        else:
            records.append(record)
    return records, missing


def run_demo(n_seeds: int, store: Store, executor=None, verbose=False) -> dict:
    """The article's experiment on `n_seeds` seeds through the store, as a stored record.
    Its config is fixed, so a stored record is reused as it is."""
    stored = store.get_result("demo", "", n_seeds)
    if stored is not None:
        return stored
    if verbose:
        print(f"demo ({n_seeds} seeds)", flush=True)
    config = article_config().replace(train={"n_seeds": n_seeds})  # as `whydl demo` runs it
    started = time.perf_counter()
    dataset = load_data(config.data)
    ctx = CachedContext(store, claim="demo", verbose=verbose, executor=executor)
    fit = ctx.fit(dataset, config.model, config.train, tag="demo")
    result = TrainResult(config, dataset, fit)
    record = demo_record(result, time.perf_counter() - started, ctx.n_members, ctx.n_cached)
    record["environment"] = environment()
    store.put_result("demo", "", n_seeds, record)
    return record


def demo_record(result, seconds: float, trained: int | None = None, cached: int | None = None):
    """The demo as a JSON-ready record: headline, per-seed table and two figures."""
    m = result.metrics
    name = m["metric"]
    per_seed = m[f"test_{name}_per_seed"]
    seeds = result.seeds
    figures = []
    for fig, caption in (
        (
            result.plot(),
            "Left: the members' mean predicted probability over the plane, with the 0.5 "
            "decision boundary; train points ●, test points ▲, misclassified test points "
            "ringed. Right: training and test loss per epoch, median over seeds with a "
            "10–90% band.",
        ),
        (
            seed_figure(seeds, per_seed, m[f"test_{name}_summary"]),
            "Test accuracy of each seed (dots) against the mean over seeds and its 95% "
            "confidence interval (band): the article's single number is one dot.",
        ),
    ):
        figures.append({"caption": caption, "svg": figure_svg(fig)})
        plt.close(fig)
    return plain(
        {
            "kind": "demo",
            "name": "demo",
            "title": "The article's experiment",
            "headline": result.headline(),
            "summary": result.summary(),
            "n_seeds": len(seeds),
            "table": [
                {"seed": s, f"test_{name}": a, "test_loss": loss}
                for s, a, loss in zip(seeds, per_seed, m["test_loss_per_seed"])
            ],
            "figures": figures,
            "seconds": seconds,
            "command": f"whydl demo --seeds {len(seeds)}",
            "config": result.config.to_dict(),
            "trained_members": trained,
            "cached_members": cached,
        }
    )
