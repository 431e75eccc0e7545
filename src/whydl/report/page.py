"""The report page: one self-contained HTML file from records (no training here).

Figures are inline SVG, CSS is inline, and nothing is fetched: the page opens offline and
can be mailed as one file. No JavaScript.
"""

from __future__ import annotations

from html import escape

from whydl.report.card import CSS, badge, card_html, fmt
from whydl.report.demo import demo_html

PAGE_CSS = """
body { margin: 0; background: #fafafa; }
.page { max-width: 64em; margin: 0 auto; padding: 1.5em 1.5em 4em; }
.page > header h1 { font-size: 1.8em; margin: .2em 0; }
nav.toc { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: .6em 1.4em; margin: 1em 0; }
nav.toc h2 { font-size: 1em; margin: .3em 0; }
nav.toc ol { margin: .2em 0 .4em; padding-left: 1.4em; columns: 2; }
section#summary table, section#environment table { width: 100%; }
.failed-card pre { white-space: pre-wrap; }
.smoke { background: #fdf0d2; border: 2px solid #E69F00; border-radius: 8px;
  padding: .5em .9em; }
@media print {
  body { background: #fff; }
  nav.toc { display: none; }
  .page { max-width: none; padding: 0; }
  section#summary, section#demo, section#environment { break-inside: avoid-page; }
}
"""


def _summary(records: list[dict], unavailable: list[str]) -> str:
    rows = []
    for i, r in enumerate(records, 1):
        verdict = r["verdict"]["verdict"] if "verdict" in r else "failed"
        reused = ""
        if r.get("cached_members"):  # a quick rerun: say why it was quick
            reused = f"<br><span class='muted'>{r['cached_members']} members reused</span>"
        rows.append(
            f'<tr><td><a href="#claim-{escape(r["name"])}">{i}. {escape(r["title"])}</a></td>'
            f"<td>{badge(verdict)}</td><td>{escape(r.get('headline') or '—')}</td>"
            f"<td>{r.get('seconds', 0):.1f} s{reused}</td></tr>"
        )
    for name in unavailable:
        rows.append(
            f"<tr><td>{escape(name)}</td><td class='muted'>not in this installation</td>"
            "<td>—</td><td>—</td></tr>"
        )
    return (
        '<section id="summary"><h2>Summary: which claims hold on this machine</h2>'
        "<table><thead><tr><th>claim</th><th>verdict</th>"
        "<th>headline number (95% CI)</th><th>run time</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        "<p class='muted'>Each verdict comes from a rule fixed in code before the data is "
        "seen; each card below states the rule with its thresholds.</p></section>"
    )


def _failed_card(record: dict, number: int) -> str:
    return (
        f'<section class="card failed-card" id="claim-{escape(record["name"])}">'
        f"<header><h2>{number}. {escape(record['title'])}</h2>{badge('failed')}</header>"
        f"<p>This claim's experiment raised an error, so it has no verdict:</p>"
        f"<pre>{escape(record['error'])}</pre>"
        f"<pre><code>{escape(record['command'])}</code></pre></section>"
    )


def _environment(meta: dict) -> str:
    env = dict(meta.get("environment") or {})
    rows = [[k, v] for k, v in env.items()]
    rows += [
        ["preset", meta.get("preset")],
        ["seeds", meta.get("seeds")],
        ["total time", f"{meta.get('total_seconds', 0):.1f} s {meta.get('time_note', '')}"],
        ["generated", meta.get("generated")],
        ["results store", meta.get("store")],
    ]
    body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(fmt(v))}</td></tr>" for k, v in rows)
    return (
        '<section id="environment"><h2>Environment</h2>'
        f"<table><tbody>{body}</tbody></table>"
        f"<p>Rebuild this page: <code>{escape(meta.get('command', 'whydl report'))}</code></p>"
        "</section>"
    )


SMOKE_PRESETS = ("quick",)  # presets too small to decide most rules: a smoke run


def smoke_banner(preset) -> str:
    """A quick run says at its top what it is: a check that everything runs, whose seeds
    are too few to decide most rules (so most verdicts are inconclusive)."""
    if preset not in SMOKE_PRESETS:
        return ""
    return (
        '<p class="smoke"><b>Smoke run.</b> The quick preset trains too few seeds to decide '
        "most rules: its verdicts are mostly <i>inconclusive</i>, and that is what they "
        "should be. Each card shows its rule's measured power at this run's seeds. For "
        "verdicts, run <code>whydl report --preset full</code>.</p>"
    )


def render_page(records: list[dict], demo: dict | None, meta: dict) -> str:
    """The whole report as one HTML string. `records` are claim records (or failed ones with
    an `error`), `meta` holds preset, seeds, environment, total time and the command."""
    unavailable = list(meta.get("unavailable") or [])
    toc = ['<li><a href="#summary">Summary</a></li>']
    if demo is not None:
        toc.append('<li><a href="#demo">The article\'s experiment</a></li>')
    toc += [
        f'<li><a href="#claim-{escape(r["name"])}">{escape(r["title"])}</a></li>' for r in records
    ]
    toc.append('<li><a href="#environment">Environment</a></li>')
    cards = "".join(
        _failed_card(r, i) if "error" in r else card_html(r, number=i)
        for i, r in enumerate(records, 1)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>whydl report: why deep learning works, measured</title>"
        f"<style>{CSS}{PAGE_CSS}</style></head>"
        '<body class="whydl"><div class="page"><header>'
        "<h1>Why deep learning works, measured</h1>"
        "<p>A popular explainer gives six reasons why deep learning works. Each card below "
        "turns one into an experiment on this machine, with a verdict decided by a rule. "
        f"Preset <b>{escape(str(meta.get('preset')))}</b>; generated "
        f"{escape(str(meta.get('generated')))}.</p>"
        + smoke_banner(meta.get("preset"))
        + "</header>"
        f'<nav class="toc"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav><main>'
        + _summary(records, unavailable)
        + (demo_html(demo) if demo is not None else "")
        + cards
        + _environment(meta)
        + "</main></div></body></html>\n"
    )
