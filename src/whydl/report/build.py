"""`whydl report`: run every available claim through the results store, then render.

Training happens only here, through a `CachedContext` (members already in the store are
reused, so a rerun is quick and an interrupted report resumes). Claims always rerun their
analysis on the stored members, so a changed claim shows up at once; the demo, whose config
is fixed, is reused as stored. Each record is stored too; with `train=False` the page is
rendered from the store alone.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from whydl.report.demo import DEMO_SEEDS


def _render_claim(claim, preset, seeds, store, out: Path, verbose: bool, executor=None) -> dict:
    """Run one claim with the store in front of its training; save and record it."""
    import matplotlib.pyplot as plt

    from whydl.report.card import claim_record
    from whydl.store import CachedContext

    ctx = CachedContext(store, claim=claim.name, verbose=verbose, executor=executor)
    result = claim.run(preset, seeds, ctx)
    saved = result.save(out / "claims" / claim.name)
    record = claim_record(result, claim, ctx.n_members, ctx.n_cached, saved)
    for fig, _caption in result.figures.values():
        plt.close(fig)
    return record


def _render_demo(n_seeds: int, store, verbose: bool, executor=None) -> dict:
    from whydl.api import TrainResult, load_data
    from whydl.config import article_config
    from whydl.report.demo import demo_record
    from whydl.store import CachedContext

    config = article_config().replace(train={"n_seeds": n_seeds})  # as `whydl demo` runs it
    started = time.perf_counter()
    dataset = load_data(config.data)
    ctx = CachedContext(store, claim="demo", verbose=verbose, executor=executor)
    fit = ctx.fit(dataset, config.model, config.train, tag="demo")
    result = TrainResult(config, dataset, fit)
    seconds = time.perf_counter() - started
    return demo_record(result, seconds, trained=ctx.n_members, cached=ctx.n_cached)


def _command(preset: str, seeds, out, store, train: bool) -> str:
    parts = ["whydl report", f"--preset {preset}"]
    if seeds is not None:
        parts.append(f"--seeds {seeds}")
    if str(out) != "runs":
        parts.append(f"--out {out}")
    if store is not None:
        parts.append(f"--store {store}")
    if not train:
        parts.append("--no-train")
    return " ".join(parts)


def build_report(
    preset: str = "quick",
    seeds: int | None = None,
    out="runs",
    store=None,
    train: bool = True,
    claims=None,
    verbose: bool = False,
    executor=None,
) -> tuple[Path, list[str]]:
    """Write `<out>/report/index.html`; return its path and the names of claims that failed.

    `claims` (names or Claim objects; default: every available claim) are run through the
    store at `store` (default `<out>/whydl.db`); their outputs go to `<out>/claims/NAME/`. With
    `train=False` nothing runs: the records stored by an earlier report (same preset and
    seeds) are rendered, and `MissingResults` names whatever is missing. `executor` (see
    `whydl.executor`; None: this process) trains the claims' jobs.
    """
    from whydl.environment import environment
    from whydl.evidence import CLAIM_NAMES, available_claims, get_claim
    from whydl.report.card import claim_command
    from whydl.report.page import render_page
    from whydl.store import MissingResults, Store

    started = time.perf_counter()
    out = Path(out)
    store_path = Path(store) if store is not None else out / "whydl.db"
    chosen = list(claims) if claims is not None else available_claims()
    chosen = [get_claim(c) if isinstance(c, str) else c for c in chosen]
    names = [c.name for c in chosen]
    demo_seeds = seeds or DEMO_SEEDS
    if not train and not store_path.is_file():
        raise MissingResults(
            f"--no-train renders stored results only, but there is no results store at "
            f"{str(store_path)!r}. Run '{_command(preset, seeds, out, store, True)}' first."
        )
    records, failed, missing = [], [], []
    with Store(store_path, create=train) as db:
        for claim in chosen:
            name = claim.name
            n_seeds = claim.params(preset, seeds)["n_seeds"]
            if not train:
                record = db.get_result(name, preset, n_seeds)
                if record is None:
                    missing.append(f"{name} ({preset}, {n_seeds} seeds)")
                else:
                    records.append(record)
                continue
            if verbose:
                print(f"claim {name} ({preset} preset)", flush=True)
            try:
                record = _render_claim(claim, preset, seeds, db, out, verbose, executor)
            except (KeyboardInterrupt, MissingResults):
                raise
            except Exception as e:  # one broken claim must not hide the others' evidence
                import traceback

                from whydl.executor import SweepFailed

                if isinstance(e, SweepFailed):  # its message names every failed job
                    print(f"claim {name}: {e}", file=sys.stderr)
                else:
                    traceback.print_exc(file=sys.stderr)
                failed.append(name)
                records.append(
                    {
                        "name": name,
                        "title": claim.title,
                        "error": f"{type(e).__name__}: {e}",
                        "command": claim_command(name, preset, n_seeds),
                    }
                )
                continue
            record["environment"] = environment()
            db.put_result(name, preset, n_seeds, record)
            records.append(record)
        # the demo's config is fixed, so a stored record is reused as it is
        demo = db.get_result("demo", "", demo_seeds)
        if demo is None and train:
            if verbose:
                print(f"demo ({demo_seeds} seeds)", flush=True)
            demo = _render_demo(demo_seeds, db, verbose, executor)
            demo["environment"] = environment()
            db.put_result("demo", "", demo_seeds, demo)
        elif demo is None:
            missing.append(f"demo ({demo_seeds} seeds)")
    if missing:
        raise MissingResults(
            f"--no-train renders stored results only, but the store {str(store_path)!r} has "
            f"none for: {', '.join(missing)}. Run "
            f"'{_command(preset, seeds, out, store, True)}' first."
        )
    meta = {
        "preset": preset,
        "seeds": {r["name"]: r.get("params", {}).get("n_seeds") for r in records if "params" in r}
        | {"demo": demo_seeds},
        # this machine; with --no-train, the one that computed the stored results
        "environment": environment() if train else demo.get("environment") or {},
        "generated": time.strftime("%Y-%m-%d %H:%M"),
        "store": str(store_path),
        "unavailable": [n for n in CLAIM_NAMES if n not in names],
        "command": _command(preset, seeds, out, store, train),
    }
    meta["total_seconds"] = time.perf_counter() - started
    if not train:  # rendering takes no time; show how long the stored results took
        meta["total_seconds"] = sum(r.get("seconds", 0) for r in [*records, demo])
        meta["time_note"] = "of the stored runs (this page was rendered with --no-train)"
    html = render_page(records, demo, meta)
    path = out / "report" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # a reader never sees half a page
    return path, failed
