"""One claim as a card: hypothesis, method, figures, numbers, rule, verdict, literature.

A card is rendered from a *record*, a JSON-ready dict (figures as SVG text), so the same
card comes from a live `ClaimResult` (Jupyter, `whydl report`) or from the results store
(`whydl report --no-train`). Records are made in `whydl.evidence.record`; importing this
package gives `ClaimResult` its card as its notebook view (`ClaimResult.html_renderer`).

Example
-------
>>> record = {"name": "toy", "title": "Toy", "hypothesis": "h", "preset": "quick",
...           "params": {"n_seeds": 3}, "table": [], "figures": [], "notes": [],
...           "literature": [], "headline": "", "seconds": 1.0, "command": "whydl claim toy",
...           "verdict": {"claim": "toy", "verdict": "supported", "hypothesis": "h",
...                       "rule": "r", "numbers": {}, "seeds": 3, "parts": []}}
>>> "supported" in card_html(record)
True
"""

from __future__ import annotations

from html import escape

from whydl.report.playground import claim_links_html
from whydl.stats import summarize

VERDICT_LOOK = {  # verdict -> (css class, symbol): the badge says it in words, too
    "supported": ("supported", "✓"),
    "not supported": ("not-supported", "✗"),
    "inconclusive": ("inconclusive", "?"),
}

# Scoped under .whydl so a card can sit inside a notebook without restyling it.
CSS = """
.whydl { --ink:#1d1d1f; --muted:#555; --line:#d9d9de; --soft:#f6f6f8;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--ink); }
.whydl h2, .whydl h3 { line-height: 1.25; }
.whydl h3 { font-size: 1.02em; margin: 1.2em 0 .35em; }
.whydl .card { border: 1px solid var(--line); border-radius: 10px; padding: 1.1em 1.4em;
  margin: 1.6em 0; background: #fff; }
.whydl .card > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .6em; }
.whydl .card > header h2 { margin: 0; font-size: 1.35em; }
.whydl .badge { display: inline-block; padding: .12em .6em; border-radius: 999px;
  border: 2px solid; font-weight: 650; font-size: .85em; white-space: nowrap; }
.whydl .badge.supported { background: #d7f2e8; border-color: #009E73; color: #00553d; }
.whydl .badge.not-supported { background: #fbe1d2; border-color: #D55E00; color: #7a2f00; }
.whydl .badge.inconclusive { background: #fdf0d2; border-color: #E69F00; color: #6b4700; }
.whydl .badge.failed { background: #eee; border-color: #555; color: #222; }
.whydl .hypothesis { font-size: 1.05em; border-left: 4px solid var(--line);
  margin: .8em 0; padding: .1em .9em; }
.whydl .headline { background: var(--soft); padding: .5em .8em; border-radius: 6px; }
.whydl figure { margin: 1em 0; padding-left: 1.2em; }
/* overflow: labels that a figure's margins cut off still show */
.whydl figure svg { overflow: visible; }
.whydl figure svg, .whydl figure img { max-width: 100%; height: auto; display: block; }
.whydl figcaption { color: var(--muted); font-size: .92em; margin-top: .3em; }
.whydl table { border-collapse: collapse; font-size: .88em; font-variant-numeric: tabular-nums; }
.whydl th, .whydl td { border-bottom: 1px solid var(--line); padding: .25em .6em;
  text-align: left; vertical-align: top; }
.whydl th { background: var(--soft); }
.whydl .scroll { max-height: 26em; overflow: auto; border: 1px solid var(--line); }
.whydl dl.params { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em;
  margin: .4em 0; font-size: .92em; }
.whydl dl.params dt { color: var(--muted); }
.whydl dl.params dd { margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; }
.whydl .rule { font-style: italic; }
.whydl .numbers { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; }
.whydl pre { background: var(--soft); padding: .5em .8em; border-radius: 6px;
  overflow-x: auto; }
.whydl .muted { color: var(--muted); }
.whydl ul.protocol { font-size: .85em; margin: .3em 0; padding-left: 1.2em; }
@media print {
  .whydl .card { break-inside: avoid-page; border: none; padding: 0; }
  .whydl .scroll { max-height: none; overflow: visible; border: none; }
  .whydl .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


# -- small pieces ----------------------------------------------------------------------------
def badge(verdict: str) -> str:
    """The verdict as a coloured pill that also says it in words (never colour alone)."""
    css, symbol = VERDICT_LOOK.get(verdict, ("failed", "!"))
    return f'<span class="badge {css}">{symbol} {escape(verdict)}</span>'


def fmt(value) -> str:
    """A table cell: floats to 4 significant digits, lists joined, dicts as k=v."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={fmt(v)}" for k, v in value.items())
    return str(value)


def figures_html(figures: list[dict]) -> str:
    """Figures inline, each numbered with its caption (what to see)."""
    return "".join(
        f"<figure>{f['svg']}<figcaption><b>Figure {i}.</b> {escape(f['caption'])}"
        "</figcaption></figure>"
        for i, f in enumerate(figures, 1)
    )


def table_html(columns: list[str], rows: list[list], scroll: bool = True) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>' if scroll else table


def compact_table(rows: list[dict]) -> tuple[list[str], list[list], str]:
    """The results table, shortened: per-seed rows become one row per configuration with
    each float column as mean ± 95% CI half-width over seeds. Tables without a `seed`
    column, or that would not shrink, are shown as they are."""

    columns = list(dict.fromkeys(k for row in rows for k in row))
    raw = (columns, [[row.get(c) for c in columns] for row in rows], "")
    if "seed" not in columns:
        return raw
    measures = [c for c in columns if any(isinstance(r.get(c), float) for r in rows)]
    factors = [c for c in columns if c not in measures and c != "seed"]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(fmt(row.get(c)) for c in factors), []).append(row)
    if len(groups) > len(rows) / 2:
        return raw
    out = []
    for key, members in groups.items():
        cells: list = list(key) + [len(members)]
        for c in measures:
            s = summarize([r[c] for r in members if isinstance(r.get(c), int | float)])
            half = (s["ci_high"] - s["ci_low"]) / 2
            cells.append(f"{fmt(s['mean'])} ± {fmt(half)}" if s["n"] > 1 else fmt(s["mean"]))
        out.append(cells)
    count = "seeds" if "seeds" not in factors else "n_seeds_in_row"
    note = f"Mean ± 95% CI half-width over seeds ({count}: how many per row)."
    return factors + [count] + measures, out, note


def _numbers(numbers: dict) -> str:
    if not numbers:
        return ""
    items = "".join(f"<li>{escape(str(k))} = {escape(fmt(v))}</li>" for k, v in numbers.items())
    return f'<ul class="numbers">{items}</ul>'


def calibration_text(calibration: dict | None) -> str:
    """'false-positive rate 3.1%, false negatives at the minimum effect 0.4%, power 91% at 10
    evaluation seeds (1,000 simulations)': a rule's measured rates, in words."""
    if not calibration:
        return "not calibrated"
    c = calibration
    return (
        f"false-positive rate {c['false_positive_rate']:.1%}, false negatives at the minimum "
        f"effect {c['false_negative_rate_at_minimum_effect']:.1%}, power {c['power']:.0%} at "
        f"{c['n_evaluation_seeds']} {c.get('unit', 'evaluation seeds')} "
        f"({c['n_simulations']:,} simulations "
        "per condition)"
    )


def _seeds_text(seeds) -> str:
    seeds = list(seeds or [])
    if not seeds:
        return "none"
    if len(seeds) > 3 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{len(seeds)} ({seeds[0]}–{seeds[-1]})"
    return f"{len(seeds)} ({', '.join(map(str, seeds))})"


def protocol_html(part: dict) -> str:
    """What the rule saw and what was chosen before it looked: seeds, choices, minimum
    effect and measured rates, for any part of any claim."""
    protocol = part.get("protocol") or {}
    items = []
    if part.get("minimum_effect"):
        items.append(f"<b>minimum effect of interest</b>: {escape(part['minimum_effect'])}")
    items.append(f"<b>calibration</b>: {escape(calibration_text(part.get('calibration')))}")
    if protocol.get("evaluation_seeds"):
        items.append(f"<b>evaluation seeds</b>: {_seeds_text(protocol['evaluation_seeds'])}")
    if protocol.get("selection_seeds"):
        items.append(
            f"<b>selection seeds</b> (choices only, never tested): "
            f"{_seeds_text(protocol['selection_seeds'])}"
        )
    if protocol.get("chosen"):
        items.append(f"<b>chosen on selection seeds</b>: {escape(fmt(protocol['chosen']))}")
    if protocol and not protocol.get("deciding", True):
        items.append("reported; does not decide the claim")
    return '<ul class="protocol">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def decision_html(verdict: dict) -> str:
    """The overall rule and verdict, then each sub-experiment's rule, numbers, protocol and
    verdict."""
    html = (
        f"<p><b>Verdict:</b> {badge(verdict['verdict'])} "
        f"<span class='muted'>({verdict['seeds']} evaluation seeds)</span></p>"
        f'<p class="rule">{escape(verdict["rule"])}</p>'
    )
    parts = verdict.get("parts") or []
    if parts:
        rows = "".join(
            f"<tr><td>{escape(p['claim'])}</td><td>{badge(p['verdict'])}</td>"
            f'<td><span class="rule">{escape(p["rule"])}</span>{protocol_html(p)}'
            f"{_numbers(p['numbers'])}</td></tr>"
            for p in parts
        )
        html += (
            "<table><thead><tr><th>sub-experiment</th><th>verdict</th>"
            "<th>rule (thresholds), its calibration, seeds and the numbers it compared</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        html += protocol_html(verdict) + _numbers(verdict.get("numbers", {}))
    return html


def _list(items, empty: str) -> str:
    if not items:
        return f'<p class="muted">{escape(empty)}</p>'
    return "<ul>" + "".join(f"<li>{escape(str(x))}</li>" for x in items) + "</ul>"


def _method(record: dict) -> str:
    params = dict(record.get("params") or {})
    n = params.get("n_seeds", record["verdict"].get("seeds"))
    n_selection = params.get("n_selection_seeds", 0)
    selection = (
        f" Choices made from data (learning rates, regions, configs) use <b>{n_selection}</b> "
        "other selection seeds, with their own initialisations and data draws, which no "
        "rule sees."
        if n_selection
        else ""
    )
    lead = (
        f"<p>Preset <b>{escape(record.get('preset') or '?')}</b>. Every configuration trains "
        f"<b>{escape(fmt(n))}</b> evaluation seeds (members) as one vectorised run; each seed "
        "draws its own data sample or split, and confidence intervals are over seeds."
        f"{selection} The sweep's settings:</p>"
    )
    items = "".join(
        f"<dt>{escape(str(k))}</dt><dd>{escape(fmt(v))}</dd>" for k, v in params.items()
    )
    return lead + (f'<dl class="params">{items}</dl>' if items else "")


def card_html(record: dict, number: int | None = None, standalone: bool = False) -> str:
    """A claim's card. `standalone` wraps it with its CSS (for Jupyter)."""
    name = record["name"]
    title = f"{number}. {record['title']}" if number is not None else record["title"]
    verdict = record["verdict"]
    columns, rows, note = compact_table(record.get("table") or [])
    numbers = (
        table_html(columns, rows) + (f'<p class="muted">{escape(note)}</p>' if note else "")
        if rows
        else '<p class="muted">No table.</p>'
    )
    headline = (
        f'<p class="headline"><b>Headline:</b> {escape(record["headline"])}</p>'
        if record.get("headline")
        else ""
    )
    reuse = ""
    if record.get("trained_members") is not None:
        reuse = (
            f" ({record['trained_members']} members trained, "
            f"{record['cached_members']} reused from the store)"
        )
    card = (
        f'<section class="card" id="claim-{escape(name)}">'
        f"<header><h2>{escape(title)}</h2>{badge(verdict['verdict'])}</header>"
        f'<p class="hypothesis"><b>Hypothesis.</b> {escape(record["hypothesis"])}</p>'
        f"{headline}"
        f"<h3>Method: data, models, seeds</h3>{_method(record)}"
        f"<h3>Figures</h3>"
        + (figures_html(record["figures"]) or '<p class="muted">No figures.</p>')
        + f"<h3>The numbers, with 95% confidence intervals</h3>{numbers}"
        f"<h3>Decision rule and verdict</h3>{decision_html(verdict)}"
        f"<h3>What the literature found</h3>"
        + _list(record.get("literature"), "No citations given for this claim.")
        + "<h3>Where our small-scale result differs, and why</h3>"
        + _list(record.get("notes"), "No differences noted.")
        + "<h3>Reproduce this card</h3>"
        f"<pre><code>{escape(record['command'])}</code></pre>"
        f'<p class="muted">This run took {record.get("seconds", 0):.1f} s{reuse}.</p>'
        + claim_links_html(record)
        + "</section>"
    )
    if standalone:
        return f'<div class="whydl"><style>{CSS}</style>{card}</div>'
    return card
