"""Are the pretrained features alive and varied? A descriptive check of every domain's
pretrained networks against random ones of the same architecture (issue 16).

For each evaluation seed and domain, the features each layer computes on the seed's own
target test images: the share of dead units (zero on every image) and the effective rank
(`whydl.analysis.feature_health`), for the seed's pretrained network and for a random one
initialised as scratch is (seed FRESH_SEED_OFFSET + s). Few live units or a collapsed rank
in the pretrained features explains a frozen probe that loses to random features: the
source task kept only the directions it needed. It decides nothing.
"""

from __future__ import annotations

import numpy as np
import torch

from whydl.analysis.feature_health import dead_fraction, effective_rank
from whydl.evidence.experiment import Description
from whydl.evidence.transfer.domains import domain_data
from whydl.evidence.transfer.sweep import PRETRAIN, fresh_member, pretrained_states
from whydl.plots.bands import ci_errorbar
from whydl.plots.style import PALETTE, new_figure

NAME = "feature health"
PRETRAINED, RANDOM_INIT = "pretrained", "random"
COLORS = {PRETRAINED: PALETTE["vermillion"], RANDOM_INIT: PALETTE["orange"]}
MEASURES = {"dead_fraction": "dead units (fraction)", "effective_rank": "effective rank"}


@torch.no_grad()
def layer_features(net, X) -> list[np.ndarray]:
    """Each feature layer's output on X, flattened to (n, units)."""
    x = torch.as_tensor(X, dtype=torch.float32)
    return [h.reshape(len(X), -1).numpy() for h in net.eval().features(x)]


def health_rows(experiment, fits, seeds) -> list[dict]:
    """One row per seed, initialisation and layer of one domain experiment's networks."""
    spec = experiment.spec
    data = domain_data(spec, seeds)
    states = pretrained_states(fits[PRETRAIN], len(seeds))
    out = []
    for m, s in enumerate(seeds):
        X = data.target.pool.X_test[data.target.test_rows[m]]
        for init, copied in ((PRETRAINED, spec.n_layers), (RANDOM_INIT, 0)):
            net = fresh_member(spec, data, states, m, s, copied, False)
            for layer, H in zip(spec.layers, layer_features(net, X)):
                out.append(
                    {
                        "domain": spec.name,
                        "seed": int(s),
                        "features": init,
                        "layer": layer,
                        "units": int(H.shape[1]),
                        "dead_fraction": round(dead_fraction(H), 6),
                        "effective_rank": round(effective_rank(H), 4),
                    }
                )
    return out


def means(rows, domain: str, layer: str, init: str, measure: str) -> float:
    return float(
        np.mean(
            [
                r[measure]
                for r in rows
                if (r["domain"], r["layer"], r["features"]) == (domain, layer, init)
            ]
        )
    )


class FeatureHealth(Description):
    """Reads the pretrained fits of the named domain experiments (`run.others`)."""

    name = NAME

    def __init__(self, domains):
        self.domains = tuple(domains)

    def train(self, ctx, params, seeds, chosen):
        return {}  # the domain experiments trained the networks it reads

    def rows(self, run):
        seeds = tuple(run.plan.evaluation)
        out = []
        for name in self.domains:  # those of this run that pretrained
            other = run.others.get(name)
            if other is not None and not isinstance(other.fits.get(PRETRAIN), Exception):
                out += health_rows(other.experiment, other.fits, seeds)
        return out

    def figures(self, run):
        rows = run.rows
        domains = [d for d in self.domains if any(r["domain"] == d for r in rows)]
        if not domains:
            return {}
        fig, axes = new_figure(2, size=(4.6, 4.2))
        for ax, (measure, label) in zip(axes, MEASURES.items()):
            ticks = []
            for init in (PRETRAINED, RANDOM_INIT):
                x, per_seed = [], []
                for d in domains:
                    for layer in sorted({r["layer"] for r in rows if r["domain"] == d}):
                        mine = [
                            r
                            for r in rows
                            if (r["domain"], r["layer"], r["features"]) == (d, layer, init)
                        ]
                        x.append(len(x))
                        per_seed.append([r[measure] for r in sorted(mine, key=lambda r: r["seed"])])
                        if init == PRETRAINED:
                            ticks.append(f"{d}\n{layer}")
                offset = -0.12 if init == PRETRAINED else 0.12
                ci_errorbar(  # points, not a curve: the layers of different domains
                    ax,
                    np.array(x) + offset,
                    np.array(per_seed).T,
                    COLORS[init],
                    f"{init} features",
                    linestyle="none",
                )
            ax.set_xticks(range(len(ticks)))
            ax.set_xticklabels(ticks, fontsize=6, rotation=30, ha="right")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        axes[0].set_title("units zero on every target test image", fontsize=9)
        axes[1].set_title("exp(entropy of singular values)", fontsize=9)
        fig.subplots_adjust(top=0.84, bottom=0.28)
        fig.suptitle(
            "Are the pretrained features alive and varied? Each domain's layers, pretrained "
            f"against random\nmean and 95% CI over {len(run.plan.evaluation)} evaluation seeds, "
            "on each seed's own target test images",
            fontsize=10,
        )
        caption = (
            "A frozen linear probe can only use live, varied features. Where the pretrained "
            "layer has more dead units or a lower effective rank than the random one, the "
            "source task collapsed the features onto the few directions it needed, and a "
            "frozen probe on them loses to random features."
        )
        return {"transfer_feature_health": (fig, caption)}

    def notes(self, run):
        rows, out = run.rows, []
        for d in self.domains:
            layers = sorted({r["layer"] for r in rows if r["domain"] == d})
            if not layers:
                continue
            last = layers[-1]
            values = {
                (init, m): means(rows, d, last, init, m)
                for init in (PRETRAINED, RANDOM_INIT)
                for m in MEASURES
            }
            units = next(r["units"] for r in rows if r["domain"] == d and r["layer"] == last)
            out.append(
                f"{d}, last feature layer ({last}, {units} units) on the target test images: "
                f"pretrained {values[PRETRAINED, 'dead_fraction']:.0%} dead, effective rank "
                f"{values[PRETRAINED, 'effective_rank']:.1f}; random "
                f"{values[RANDOM_INIT, 'dead_fraction']:.0%} dead, effective rank "
                f"{values[RANDOM_INIT, 'effective_rank']:.1f} (means over seeds)."
            )
        return out
