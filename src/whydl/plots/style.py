"""One look for every figure: the Okabe-Ito colour-blind-safe palette, SVG + PNG output."""

from __future__ import annotations

from pathlib import Path

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies
PALETTE = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "green": "#009E73",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
CYCLE = [PALETTE[k] for k in ("blue", "vermillion", "green", "orange", "sky", "purple", "black")]


def use_agg() -> None:
    """Headless backend unless one was chosen already (Jupyter's inline backend stays)."""
    import matplotlib  # lazily: the backend is chosen before pyplot is ever imported

    if "inline" not in matplotlib.get_backend():
        matplotlib.use("Agg", force=False)


def new_figure(ncols: int = 1, nrows: int = 1, size=(5.2, 4.4)):
    """A Figure not registered with pyplot: it is freed when no longer referenced (sweeps
    draw dozens), and Jupyter still displays it when it is a cell's value."""
    from matplotlib.figure import Figure  # lazily: matplotlib takes ~0.3 s to import

    # fixed margins rather than constrained layout: layout solving doubled the save time
    # margins in inches, so axis labels fit whatever the figure's width
    width, height = size[0] * ncols, size[1] * nrows
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(nrows, ncols)
    fig.subplots_adjust(
        left=0.85 / width,
        right=1 - 0.2 / width,
        bottom=0.6 / height,
        top=1 - 0.62 / height,
        wspace=0.32,
        hspace=0.45,
    )
    fig.set_dpi(100)
    for ax in getattr(axes, "flat", [axes]):
        ax.set_prop_cycle(color=CYCLE)
    return fig, axes


def log_y(ax) -> None:
    """A log y axis whose tick labels are plain text ("0.1", "0.05"): matplotlib's default
    writes them as mathtext, whose parser costs about 0.5 s to set up on the first figure a
    process draws (a third of `whydl demo`'s figure time)."""
    from matplotlib import ticker

    class Plain(ticker.LogFormatter):  # matplotlib's choice of which ticks to label
        def _num_to_string(self, x, vmin, vmax):
            return f"{x:g}"

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(Plain())
    ax.yaxis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(2, 0.4)))


def save_figure(fig, stem) -> list[Path]:
    """Write `stem`.svg (for the report) and `stem`.png (for quick viewing)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".svg"), stem.with_suffix(".png")]
    fig.savefig(paths[0], metadata={"Date": None})  # no date: identical runs, identical SVGs
    fig.savefig(paths[1], dpi=130)
    return paths


def label(ax, xlabel: str, ylabel: str, title: str, legend: int | None = 8) -> None:
    """Axis labels (with units), a title that says what to see, and a legend of that font
    size (None: no legend)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend:
        ax.legend(fontsize=legend)
