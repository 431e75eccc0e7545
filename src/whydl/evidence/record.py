"""A `ClaimResult` as a record: a JSON-ready dict (figures as SVG text) that the results
store keeps and the report renders, so the same card comes from a live result or from the
store (`whydl report --no-train`).
"""

from __future__ import annotations

from pathlib import Path

from whydl.errors import WhydlError
from whydl.evidence import get_claim
from whydl.jsonio import plain
from whydl.plots.svg import clean_svg, figure_svg


def claim_command(name: str, preset: str, n_seeds) -> str:
    """The command that reproduces a claim's card, as it runs when printed."""
    return f"whydl claim {name} --preset {preset or 'quick'} --seeds {n_seeds}"


def claim_record(result, claim=None, trained=None, cached=None, saved=None) -> dict:
    """A ClaimResult as a JSON-ready record (figures become SVG text). `claim` supplies the
    literature; without it the registered claim of that name is looked up, if any. `saved`
    is the folder `result.save` wrote: its SVG files are reused rather than drawn again."""

    def svg(name, fig):
        path = Path(saved) / f"{name}.svg" if saved is not None else None
        return clean_svg(path.read_text()) if path and path.is_file() else figure_svg(fig)

    if claim is None:
        try:
            claim = get_claim(result.claim)
        except WhydlError:  # an unregistered claim (e.g. made in a notebook) has no literature
            claim = None
    n_seeds = result.params.get("n_seeds", result.verdict.seeds)
    return plain(
        {
            "kind": "claim",
            "name": result.claim,
            "title": result.title,
            "hypothesis": result.hypothesis,
            "preset": result.preset,
            "params": result.params,
            "plan": getattr(result, "plan", {}),
            "table": result.table,
            "verdict": result.verdict.to_dict(),
            "headline": result.headline,
            "notes": list(result.notes),
            "seconds": result.seconds,
            "literature": list(getattr(claim, "literature", ()) or ()),
            "figures": [
                {"name": name, "caption": caption, "svg": svg(name, fig)}
                for name, (fig, caption) in result.figures.items()
            ],
            "command": claim_command(result.claim, result.preset, n_seeds),
            "trained_members": trained,
            "cached_members": cached,
        }
    )
