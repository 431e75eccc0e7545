"""The report page from records: meta (preset, seeds, environment, the command), then the
page written atomically. Rendering never trains: `whydl.make_report` runs the claims first.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from whydl.evidence import CLAIM_NAMES
from whydl.report.page import render_page


def report_command(preset: str, seeds, out, store, train: bool) -> str:
    """The `whydl report` command line that makes this page, as it runs when printed."""
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


def write_report(records, demo, *, preset, seeds, demo_seeds, out, store, store_path, train,
                 environment, started) -> Path:  # fmt: skip
    """Write `<out>/report/index.html` from the claims' records and the demo's record."""
    names = [r["name"] for r in records]
    meta = {
        "preset": preset,
        "seeds": {r["name"]: r.get("params", {}).get("n_seeds") for r in records if "params" in r}
        | {"demo": demo_seeds},
        "environment": environment,
        "generated": time.strftime("%Y-%m-%d %H:%M"),
        "store": str(store_path),
        "unavailable": [n for n in CLAIM_NAMES if n not in names],
        "command": report_command(preset, seeds, out, store, train),
    }
    meta["total_seconds"] = time.perf_counter() - started
    if not train:  # rendering takes no time; show how long the stored results took
        meta["total_seconds"] = sum(r.get("seconds", 0) for r in [*records, demo])
        meta["time_note"] = "of the stored runs (this page was rendered with --no-train)"
    html = render_page(records, demo, meta)
    path = Path(out) / "report" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # a reader never sees half a page
    return path
