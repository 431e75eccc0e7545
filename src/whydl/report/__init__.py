"""Stored results as one self-contained HTML page (`whydl report`), and claim cards for
Jupyter. Rendering never trains; `build_report` runs the claims through the results store
first, then renders.

Example
-------
>>> from whydl.report import build_report
>>> path, failed = build_report(preset="quick", out="runs")  # doctest: +SKIP
>>> path
PosixPath('runs/report/index.html')
"""

from whydl.report.build import build_report
from whydl.report.card import card_html, claim_record
from whydl.report.page import render_page

__all__ = ["build_report", "card_html", "claim_record", "render_page"]
