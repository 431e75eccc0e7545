"""Figures for the hierarchy claim: probes by depth, neuron maps, layer views, regions, images.

Each drawer takes plain arrays (the claim computes them) and returns a matplotlib Figure.
Lines over seeds are means with 95% confidence bands or error bars (Student t, from
`whydl.plots.bands`), not percentile bands: the claim's rules compare means by their CIs,
and the figure shows what the rules saw. Per-seed arrays are always (seeds, points).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import PowerNorm

from whydl.plots.bands import ci_band, ci_errorbar
from whydl.plots.style import CYCLE, PALETTE, log_y, new_figure

STATE_COLORS = {"trained": PALETTE["blue"], "at initialisation": PALETTE["vermillion"]}


def probes_figure(panels, title: str):
    """One panel per model: probe accuracy on [input, layer 1, ...], one band per state.

    `panels`: list of (panel title, layer labels, {state: (seeds, layers) array}, chance).
    """
    fig, axes = new_figure(len(panels), size=(4.6, 4.4))
    fig.subplots_adjust(top=0.8, bottom=0.17)
    axes = np.atleast_1d(axes)
    for ax, (name, labels, curves, chance) in zip(axes, panels):
        x = np.arange(len(labels))
        lows = [
            ci_band(ax, x, v, STATE_COLORS.get(state, CYCLE[0]), state)
            for state, v in curves.items()
        ]
        # zoom on the data; chance is drawn when it falls inside, named when it does not
        low = max(0.0, min(lows) - 0.03)
        if chance >= low:
            ax.axhline(chance, color=PALETTE["black"], lw=0.8, ls=":", label="chance")
            low = min(low, chance - 0.02)
        else:
            ax.plot([], [], " ", label=f"chance {chance:.2f}: below the axis")
        ax.set_ylim(low, 1.005)
        ax.set_xticks(x, labels, rotation=20)
        ax.set_xlabel("representation (depth)")
        ax.set_ylabel("linear-probe test accuracy (fraction)")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=11)
    return fig


def _mosaic(tiles: np.ndarray, gap: float = np.nan) -> np.ndarray:
    """(k, h, w) tiles side by side, one NaN column between neighbours: (h, k * (w + 1) - 1)."""
    k, h, w = tiles.shape
    out = np.full((h, k * (w + 1) - 1), gap)
    for i, t in enumerate(tiles):
        out[:, i * (w + 1) : i * (w + 1) + w] = t
    return out


def neuron_maps_figure(maps, points, labels, title: str):
    """One row per hidden layer; each tile is one unit's output over the input plane,
    scaled to its own maximum (dark: off, yellow: its strongest response), square-root
    colour scale."""

    n_rows = len(maps.maps)
    n_cols = max(m.shape[0] for m in maps.maps)
    fig, axes = new_figure(1, n_rows, size=(min(0.75 * n_cols, 14), 1.15))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.1, top=0.84, hspace=0.6)
    axes = np.atleast_1d(axes)
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")  # NaN: gaps between tiles
    span = np.array([maps.xs[0], maps.xs[-1], maps.ys[0], maps.ys[-1]])
    for layer, (ax, m) in enumerate(zip(axes, maps.maps), start=1):
        peak = m.reshape(len(m), -1).max(1)
        scaled = m / np.where(peak > 0, peak, 1.0)[:, None, None]  # dead units stay all zero
        tiles = np.full((n_cols, *m.shape[1:]), np.nan)
        tiles[: len(m)] = scaled
        # square-root colour scale: weak responses stay visible next to a unit's peak
        norm = PowerNorm(0.5, vmin=0, vmax=1)
        ax.imshow(_mosaic(tiles), origin="lower", cmap=cmap, norm=norm, aspect="equal")
        # the data, drawn in every tile (one plot call per class)
        w = m.shape[2] + 1
        for k, color in enumerate((PALETTE["sky"], PALETTE["vermillion"])):
            P = points[labels == k]
            u = (P[:, 0] - span[0]) / (span[1] - span[0]) * (m.shape[2] - 1)
            v = (P[:, 1] - span[2]) / (span[3] - span[2]) * (m.shape[1] - 1)
            tiles_u = (u[None, :] + w * np.arange(len(m))[:, None]).ravel()
            dots = ax.plot(tiles_u, np.tile(v, len(m)), ".", ms=0.6, color=color, alpha=0.35)
            dots[0].set_rasterized(True)  # thousands of dots: one bitmap in the SVG
        dead = int((peak <= 0).sum())
        ax.set_ylabel(f"layer {layer}", rotation=0, ha="right", va="center", fontsize=9)
        ax.set_xticks([i * w + w / 2 - 1 for i in range(len(m))], range(1, len(m) + 1))
        ax.tick_params(labelsize=6, length=0)
        ax.set_yticks([])
        ax.set_title(f"{len(m)} units, {dead} never active over the plane", fontsize=8, loc="left")
    axes[-1].set_xlabel(
        "unit (each tile: input plane, x1 rightwards, x2 upwards; colour: sqrt(output / unit's "
        "max))"
    )
    fig.suptitle(title, fontsize=11)
    return fig


def layer_views_figure(rows: dict, labels, title: str):
    """One row per state (e.g. trained, at initialisation), one column per representation:
    the data and the input grid's lines on the layer's top two principal components."""
    n_rows, n_cols = len(rows), len(next(iter(rows.values())))
    fig, axes = new_figure(n_cols, n_rows, size=(2.9, 2.9))
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.86, wspace=0.3, hspace=0.45)
    axes = np.asarray(axes).reshape(n_rows, n_cols)
    colors = (PALETTE["blue"], PALETTE["vermillion"])
    for r, (state, views) in enumerate(rows.items()):
        for c, view in enumerate(views):
            ax = axes[r, c]
            # all grid lines as one path, NaN-separated: one SVG element instead of many
            gaps = np.full((len(view.lines), 1, 2), np.nan)
            joined = np.concatenate([view.lines, gaps], axis=1).reshape(-1, 2)
            ax.plot(joined[:, 0], joined[:, 1], color="0.6", lw=0.5)
            for k, color in enumerate(colors):
                ax.plot(*view.points[labels == k].T, "o", ms=2, color=color, alpha=0.7)
            name = "input" if view.layer == 0 else f"layer {view.layer}"
            kept = "" if view.layer == 0 else f", PCA keeps {view.explained:.0%}"
            ax.set_title(f"{state}: {name}{kept}", fontsize=8)
            if view.layer:
                # principal-component coordinates have no meaning of their own: no ticks
                # (which also makes the figure several times faster to save)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_xlabel("PC 1 (activation units)", fontsize=8)
                ax.set_ylabel("PC 2 (activation units)", fontsize=8)
            else:
                ax.set_xlabel("x1 (input units)", fontsize=8)
                ax.set_ylabel("x2 (input units)", fontsize=8)
                ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=11)
    return fig


def regions_figure(cumulative: dict, totals: dict, depth_labels, title: str):
    """Left: regions of layers 1..l (cumulative) by depth, per state. Right: total regions of
    networks of different depth at one parameter budget, per state (mean and 95% CI).

    `cumulative`: {state: (seeds, layers)}; `totals`: {state: (seeds, architectures)}."""
    fig, (left, right) = new_figure(2, size=(5.0, 4.3))
    for state, values in cumulative.items():
        x = np.arange(1, np.asarray(values).shape[1] + 1)
        ci_band(left, x, values, STATE_COLORS.get(state, CYCLE[0]), state)
    log_y(left)
    left.set_xticks(x, [f"1..{i}" for i in x])
    left.set_xlabel("layers included (deep-narrow network)")
    left.set_ylabel("linear regions over the data's box (count, log)")
    left.set_title("Regions as layers are added", fontsize=10)
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    x = np.arange(len(depth_labels))
    offsets = np.linspace(-0.12, 0.12, len(totals))
    for off, (state, values) in zip(offsets, totals.items()):
        color = STATE_COLORS.get(state, CYCLE[0])
        values = np.atleast_2d(np.asarray(values, dtype=float))  # (seeds, architectures)
        for i in range(values.shape[1]):
            right.plot(
                np.full(len(values), i + off), values[:, i], ".", color=color, alpha=0.35, ms=4
            )
        ci_errorbar(right, x + off, values, color, f"{state} (95% CI)", log=True)
    log_y(right)
    right.set_xticks(x, depth_labels)
    right.set_xlabel("architecture (hidden layers x width), equal parameter count")
    right.set_ylabel("linear regions over the data's box (count, log)")
    right.set_title("Deep-narrow against shallow-wide", fontsize=10)
    right.legend(fontsize=7)
    right.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    return fig


def depth_width_figure(panels, title: str):
    """One panel per dataset: test accuracy by architecture at one parameter budget.

    `panels`: list of (panel title, architecture labels, (seeds, architectures) accuracies).
    """
    fig, axes = new_figure(len(panels), size=(4.6, 4.4))
    fig.subplots_adjust(top=0.8)
    axes = np.atleast_1d(axes)
    for ax, (name, labels, values) in zip(axes, panels):
        x = np.arange(len(labels))
        values = np.atleast_2d(np.asarray(values, dtype=float))  # (seeds, architectures)
        for i in range(values.shape[1]):
            ax.plot(
                np.full(len(values), i), values[:, i], ".", color=PALETTE["sky"], alpha=0.6, ms=5
            )
        ci_errorbar(ax, x, values, PALETTE["blue"], "mean, 95% CI")
        ax.plot([], [], ".", color=PALETTE["sky"], label="one seed")
        ax.set_xticks(x, labels)
        ax.set_xlabel("architecture (hidden layers x width)")
        ax.set_ylabel("test accuracy (fraction)")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(title, fontsize=11)
    return fig


def image_rows_figure(rows, title: str):
    """Rows of small images (e.g. filters, first-layer weights), every tile drawn at the same
    size whatever its pixels, each scaled to its own largest magnitude on a diverging map
    (blue negative, red positive).

    `rows`: list of (row label, (k, h, w) array).
    """

    n_cols = max(len(t) for _, t in rows)
    step, row_step = 1.15, 1.45  # tile pitch and row pitch, in tile widths
    fig, ax = new_figure(size=(0.62 * n_cols * step + 2.2, 0.62 * len(rows) * row_step + 0.5))
    fig.subplots_adjust(left=0.16, right=0.99, bottom=0.02, top=0.86)
    cmap = plt.get_cmap("RdBu_r")
    for r, (label, tiles) in enumerate(rows):
        tiles = np.asarray(tiles, dtype=float)
        peak = np.abs(tiles).reshape(len(tiles), -1).max(1)
        scaled = tiles / np.where(peak > 0, peak, 1.0)[:, None, None]
        top = -r * row_step
        for i, tile in enumerate(scaled):  # one image per tile: each placed by its extent
            left = i * step
            ax.imshow(
                tile,
                cmap=cmap,
                vmin=-1,
                vmax=1,
                interpolation="nearest",
                extent=(left, left + 1, top - 1, top),
            )
        h, w = tiles.shape[1:]
        ax.text(-0.3, top - 0.5, f"{label}\n({h}x{w} px)", ha="right", va="center", fontsize=8)
    ax.set_xlim(-0.1, n_cols * step)
    ax.set_ylim(-(len(rows) - 1) * row_step - 1.1, 0.1)
    ax.set_axis_off()
    fig.suptitle(title, fontsize=11)
    return fig
