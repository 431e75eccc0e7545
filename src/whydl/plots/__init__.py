"""Figures: a shared style (colour-blind-safe palette, SVG + PNG) and the demo figure."""

from whydl.plots.style import PALETTE, save_figure

__all__ = ["PALETTE", "save_figure"]
