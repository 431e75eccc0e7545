"""Stored results as one self-contained HTML page (`whydl report`), and claim cards for
Jupyter. Rendering never trains: `whydl.make_report.build_report` runs the claims through
the results store first, then renders with `write_report`.

Importing this package gives `ClaimResult` the card as its notebook view.

Example
-------
>>> from whydl.report import card_html
>>> callable(card_html)
True
"""

from whydl.evidence import ClaimResult
from whydl.evidence.record import claim_record
from whydl.report.build import write_report
from whydl.report.card import card_html
from whydl.report.page import render_page


def _card(result: ClaimResult) -> str:
    return card_html(claim_record(result), standalone=True)


ClaimResult.html_renderer = _card  # evidence sits below the report: the card is injected

__all__ = ["card_html", "render_page", "write_report"]
