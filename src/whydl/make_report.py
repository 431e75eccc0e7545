"""`whydl report`: run every claim and the demo through the results store (the runtime's
pipeline), then render one self-contained page (the report). A rerun reuses what is
stored; `train=False` renders from the store alone.

Example
-------
>>> from whydl.make_report import build_report
>>> path, failed = build_report(preset="quick", out="runs")  # doctest: +SKIP
>>> path
PosixPath('runs/report/index.html')
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from whydl.environment import environment
from whydl.evidence import available_claims, get_claim
from whydl.report.build import report_command, write_report
from whydl.runtime import DEMO_SEEDS, run_claims, run_demo, stored_claims
from whydl.store import MissingResults, Store


def build_report(
    preset: str = "full",
    seeds: int | None = None,
    out="runs",
    store=None,
    train: bool = True,
    claims=None,
    verbose: bool = False,
    executor=None,
    jobs: int | None = None,
) -> tuple[Path, list[str]]:
    """Write `<out>/report/index.html`; return its path and the names of claims that failed.

    `claims` (names or Claim objects; default: every claim) run through the store at `store`
    (default `<out>/whydl.db`); their outputs go to `<out>/claims/NAME/`. With `train=False`
    nothing runs: the records stored by an earlier report (same preset and seeds) are
    rendered, and `MissingResults` names whatever is missing. `executor` (see
    `whydl.runtime`; default this process) trains the claims' jobs. `jobs` claims run side by
    side, each in its own process (default: one per core; see `runtime.run_claims`).
    """
    started = time.perf_counter()
    out = Path(out)
    store_path = Path(store) if store is not None else out / "whydl.db"
    chosen = list(claims) if claims is not None else available_claims()
    chosen = [get_claim(c) if isinstance(c, str) else c for c in chosen]
    demo_seeds = seeds or DEMO_SEEDS
    rerun = report_command(preset, seeds, out, store, True)
    if not train and not store_path.is_file():
        raise MissingResults(
            f"--no-train renders stored results only, but there is no results store at "
            f"{str(store_path)!r}. Run '{rerun}' first."
        )
    with Store(store_path, create=train) as db:
        if train:
            jobs = jobs if jobs is not None else os.cpu_count() or 1
            records, failed = run_claims(
                chosen, preset, seeds, db, out / "claims", executor, verbose, jobs
            )
            demo = run_demo(demo_seeds, db, executor, verbose)
        else:
            (records, missing), failed = stored_claims(chosen, preset, seeds, db), []
            demo = db.get_result("demo", "", demo_seeds)
            if demo is None:
                missing.append(f"demo ({demo_seeds} seeds)")
            if missing:
                raise MissingResults(
                    f"--no-train renders stored results only, but the store "
                    f"{str(store_path)!r} has none for: {', '.join(missing)}. Run '{rerun}' "
                    "first."
                )
    path = write_report(
        records,
        demo,
        preset=preset,
        seeds=seeds,
        demo_seeds=demo_seeds,
        out=out,
        store=store,
        store_path=store_path,
        train=train,
        # this machine; with --no-train, the one that computed the stored results
        environment=environment() if train else demo.get("environment") or {},
        started=started,
    )
    return path, failed
