"""The article's experiment at the top of the report: test accuracy over seeds.

The article reports one seed. Here the same network trains on many seeds at once, and the
report shows how much the accuracy moves from seed to seed.
"""

from __future__ import annotations

from html import escape

from whydl.config import RunConfig
from whydl.report.card import figures_html, table_html
from whydl.report.playground import link_html


def playground_link(config: dict | None) -> str:
    """An "open in the playground" link for a run's config (as config.json holds it), or ""
    when the playground cannot show that run."""
    if not config:
        return ""
    try:
        link = link_html(RunConfig.from_dict(config), "Open this setup in the playground")
    except (TypeError, ValueError, KeyError):  # a record from another whydl version
        return ""
    if not link:
        return ""
    return f"<p>{link} <span class='muted'>(with <code>whydl serve</code> running)</span></p>"


def demo_html(record: dict) -> str:
    rows = record["table"]
    columns = list(rows[0]) if rows else []
    return (
        '<section class="card" id="demo"><h2>The article\'s experiment, on many seeds</h2>'
        "<p>Two moons (1000 points, noise 0.1, 70/30 split), a 2-10-10-1 ReLU network, Adam "
        "(lr 0.01), batch 32, 100 epochs: the article's only evidence, which it reports for "
        f"one seed. Here {record['n_seeds']} seeds train at once.</p>"
        f'<p class="headline"><b>{escape(record["headline"])}</b><br>'
        f"<span class='muted'>{escape(record['summary'])}</span></p>"
        + figures_html(record["figures"])
        + "<details><summary>Per-seed numbers</summary>"
        + table_html(columns, [[r[c] for c in columns] for r in rows])
        + "</details>"
        f"<pre><code>{escape(record['command'])}</code></pre>"
        + playground_link(record.get("config"))
        + f'<p class="muted">This run took {record["seconds"]:.1f} s.</p></section>'
    )
