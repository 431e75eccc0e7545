"""Claims on the local executor against the Dask executor, timed side by side in one run.

    python benchmarks/bench_executor.py [--claims data,flexibility] [--preset full]
                                        [--workers N] [--json FILE]

For each claim: its whole experiment (sweep, analysis, figures, verdict) through a fresh
in-memory results store, first in this process (`--executor local`), then on a Dask
LocalCluster of --workers single-threaded workers (default: one per core), once with one job
per call and once with `--split`; cluster start-up timed apart. Prints seconds, the speed-up
and whether the results tables equal the local one (without --split they must, bit for
bit; with it, the largest difference is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from whydl.evidence import get_claim
from whydl.runtime import CachedContext
from whydl.runtime.dask import DaskExecutor, machine_cores
from whydl.store import Store


def run_claim(name: str, preset: str, executor=None):
    claim = get_claim(name)
    ctx = CachedContext(Store(":memory:"), claim=name, executor=executor)
    started = time.perf_counter()
    result = claim.run(preset, None, ctx)
    return result, time.perf_counter() - started, ctx.n_fits


def tables_equal(a, b) -> bool:
    return json.dumps(a.table, sort_keys=True, default=str) == json.dumps(
        b.table, sort_keys=True, default=str
    )


def max_difference(a: list[dict], b: list[dict]) -> float:
    """The largest absolute difference between numeric cells of two same-shaped tables."""
    worst = 0.0
    for ra, rb in zip(a, b):
        for k, v in ra.items():
            w = rb.get(k)
            if isinstance(v, int | float) and isinstance(w, int | float) and v == v and w == w:
                worst = max(worst, abs(float(v) - float(w)))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="data,flexibility")
    parser.add_argument("--preset", default="full", choices=["quick", "full"])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    workers = args.workers or machine_cores()
    print(
        f"machine: {platform.processor() or platform.machine()}, {machine_cores()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads); dask workers: {workers}",
        flush=True,
    )
    rows = []
    for name in args.claims.split(","):
        local, t_local, n_fits = run_claim(name, args.preset)
        print(f"{name:12s} {'local':12s} {t_local:7.1f} s  ({n_fits} training calls)", flush=True)
        row = {"claim": name, "preset": args.preset, "training_calls": n_fits}
        row |= {"workers": workers, "local_s": round(t_local, 2)}
        row["verdict_local"] = local.verdict.verdict
        for label, split in (("dask", False), ("dask --split", True)):
            started = time.perf_counter()
            with DaskExecutor(n_workers=workers, split=split) as ex:
                t_start = time.perf_counter() - started
                remote, t_dask, _ = run_claim(name, args.preset, ex)
            same = tables_equal(local, remote)
            key = label.replace(" --", "_")
            row |= {
                f"{key}_s": round(t_dask, 2),
                f"{key}_cluster_start_s": round(t_start, 2),
                f"{key}_speedup": round(t_local / t_dask, 2),
                f"{key}_tables_equal": same,
                f"{key}_verdict": remote.verdict.verdict,
            }
            if not same:  # --split: the same members to float32 rounding; how far apart?
                row[f"{key}_max_abs_diff"] = max_difference(local.table, remote.table)
            print(
                f"{name:12s} {label:12s} {t_dask:7.1f} s  (+{t_start:.1f} s cluster start)  "
                f"speed-up {t_local / t_dask:.2f}x  tables equal: {same}"
                + (f" (max |diff| {row[f'{key}_max_abs_diff']:.2g})" if not same else "")
                + f"  verdict {remote.verdict.verdict}",
                flush=True,
            )
        rows.append(row)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cores": os.cpu_count(), "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
