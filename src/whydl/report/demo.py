"""The article's experiment at the top of the report: test accuracy over seeds.

The article reports one seed. Here the same network trains on many seeds at once, and the
report shows how much the accuracy moves from seed to seed.
"""

from __future__ import annotations

from html import escape

from whydl.report.card import figure_svg, figures_html, plain, table_html

DEMO_SEEDS = 10


def seed_figure(seeds, accuracies, summary: dict):
    """Each seed's test accuracy as a dot, with the mean and its 95% CI as a band."""
    import numpy as np

    from whydl.plots.style import PALETTE, new_figure

    fig, ax = new_figure(size=(6.4, 3.6))
    fig.subplots_adjust(bottom=0.15)  # room for the x label at this size
    acc = np.asarray(accuracies, dtype=float)
    ax.axhspan(
        summary["ci_low"],
        summary["ci_high"],
        color=PALETTE["sky"],
        alpha=0.35,
        lw=0,
        label="95% CI of the mean",
    )
    ax.axhline(summary["mean"], color=PALETTE["blue"], lw=1.5, label=f"mean {summary['mean']:.3f}")
    ax.plot(seeds, acc, "o", color=PALETTE["vermillion"], ms=6, label="one seed")
    ax.set_xlabel("member seed")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.set_xticks(list(seeds))
    lo, hi = np.nanmin(acc), np.nanmax(acc)
    title = (
        f"The seed alone moves test accuracy by {hi - lo:.3f} ({lo:.3f}–{hi:.3f})"
        if hi > lo
        else f"Every seed reaches the same test accuracy ({hi:.3f})"
    )
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def demo_record(result, seconds: float, trained: int | None = None, cached: int | None = None):
    """The demo as a JSON-ready record: headline, per-seed table and two figures."""
    import matplotlib.pyplot as plt

    m = result.metrics
    name = m["metric"]
    per_seed = m[f"test_{name}_per_seed"]
    seeds = result.seeds
    figures = []
    for fig, caption in (
        (
            result.plot(),
            "Left: the members' mean predicted probability over the plane, with the 0.5 "
            "decision boundary; train points ●, test points ▲, misclassified test points "
            "ringed. Right: training and test loss per epoch, median over seeds with a "
            "10–90% band.",
        ),
        (
            seed_figure(seeds, per_seed, m[f"test_{name}_summary"]),
            "Test accuracy of each seed (dots) against the mean over seeds and its 95% "
            "confidence interval (band): the article's single number is one dot.",
        ),
    ):
        figures.append({"caption": caption, "svg": figure_svg(fig)})
        plt.close(fig)
    return plain(
        {
            "kind": "demo",
            "name": "demo",
            "title": "The article's experiment",
            "headline": result.headline(),
            "summary": result.summary(),
            "n_seeds": len(seeds),
            "table": [
                {"seed": s, f"test_{name}": a, "test_loss": loss}
                for s, a, loss in zip(seeds, per_seed, m["test_loss_per_seed"])
            ],
            "figures": figures,
            "seconds": seconds,
            "command": f"whydl demo --seeds {len(seeds)}",
            "config": result.config.to_dict(),
            "trained_members": trained,
            "cached_members": cached,
        }
    )


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
        f'<p class="muted">This run took {record["seconds"]:.1f} s.</p></section>'
    )
