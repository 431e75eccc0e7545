"""Figures as inline SVG text, for records that travel without their files (the results
store, the report, a notebook)."""

from __future__ import annotations

import io
import re


def figure_svg(fig) -> str:
    """A matplotlib figure as inline SVG text. Text is drawn as paths (matplotlib's default),
    so no font is fetched."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return clean_svg(buf.getvalue())


def clean_svg(svg: str) -> str:
    """SVG file text made fit to inline: no XML prolog, doctype, comments or metadata."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return re.sub(r"<!--.*?-->", "", svg, flags=re.S)
