"""What a claim produced, and how it is saved: tidy rows, figures, verdict, settings."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import ClassVar

from whydl.evidence.verdict import Verdict
from whydl.jsonio import write_json
from whydl.paths import written_together


@dataclass
class ClaimResult:
    """Everything a claim produced: its table, figures, verdict, timing and settings."""

    claim: str
    title: str
    hypothesis: str
    preset: str
    params: dict
    table: list[dict]
    verdict: Verdict
    figures: dict = field(default_factory=dict)  # name -> (matplotlib Figure, caption)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what differs from the literature, and why
    headline: str = ""  # the one number the summary table shows, with its CI
    plan: dict = field(default_factory=dict)  # the selection and evaluation seeds

    def summary(self, hypothesis: bool = True) -> str:
        """The verdict in a few lines; `hypothesis=False` leaves out the first line, for a
        command that printed the hypothesis when it started."""
        lines = [f"claim {self.claim}: {self.hypothesis}"] if hypothesis else []
        lines += [f"  {p.claim}: {p.verdict}" for p in self.verdict.parts]
        if self.headline:
            lines.append(f"  headline: {self.headline}")
        lines.append(f"  rule: {self.verdict.rule}")
        lines.append(f"verdict: {self.verdict.verdict.upper()} ({self.seconds:.1f} s)")
        return "\n".join(lines)

    def save(self, out) -> Path:
        """Write results.csv/json, verdict.json, config.json, environment.json and figures.

        Files are written to a temporary folder inside `out` and moved in at the end, so an
        error never leaves a half-written set; `saved_files_` lists what was written."""
        # lazily: environment and plots import torch and matplotlib, which the frame's
        # users (rules, verdicts) do not need
        from whydl.environment import environment
        from whydl.plots.style import save_figure

        out = Path(out)
        with written_together(out) as tmp:
            names = [
                p.name
                for name, (fig, _) in self.figures.items()
                for p in save_figure(fig, tmp / name)
            ]
            columns = list(dict.fromkeys(k for row in self.table for k in row))
            with open(tmp / "results.csv", "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns)
                writer.writeheader()
                writer.writerows(self.table)
            write_json(tmp / "results.json", self.table)
            write_json(tmp / "verdict.json", self.verdict.to_dict())
            write_json(
                tmp / "config.json",
                {"claim": self.claim, "preset": self.preset, **self.params, "seeds": self.plan},
            )
            write_json(tmp / "environment.json", environment())
            meta = {
                "claim": self.claim,
                "title": self.title,
                "hypothesis": self.hypothesis,
                "seconds": self.seconds,
                "headline": self.headline,
                "notes": self.notes,
                "figures": {name: caption for name, (_fig, caption) in self.figures.items()},
            }
            write_json(tmp / "claim.json", meta)
        names += ["verdict.json", "results.csv", "results.json", "claim.json"]
        self.saved_files_ = [*names, "config.json", "environment.json"]
        return out

    # How a notebook shows a result: `whydl.report` installs the report's card here when it
    # is imported (evidence sits below the report and cannot import it). Without it, the
    # summary and the figures.
    html_renderer: ClassVar[Callable[[ClaimResult], str] | None] = None

    def _repr_html_(self) -> str:
        if ClaimResult.html_renderer is not None:
            return ClaimResult.html_renderer(self)
        from whydl.plots.svg import figure_svg  # drawn only when a notebook asks

        figures = "".join(
            f"<figure>{figure_svg(fig)}<figcaption>{escape(caption)}</figcaption></figure>"
            for fig, caption in self.figures.values()
        )
        return f"<div><pre>{escape(self.summary())}</pre>{figures}</div>"
