"""The vanishing-gradient experiment's figures, drawn from its tidy rows and its verdict:
gradient norm by layer, activation statistics by hidden layer, and training loss.

Every band is the mean over evaluation seeds with its 95% CI (`whydl.plots.bands.ci_band`);
gradients span dozens of decades, so they are drawn as log10 values (a geometric mean).
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.rows import matrix
from whydl.plots.bands import ci_band
from whydl.plots.style import CYCLE, new_figure


def figures(rows, verdict, params, variants, deep) -> dict:
    """{name: (figure, caption)}: gradient_norms, activation_stats, training_loss.
    `variants`: the variants' names, the naive one first; `deep`: init -> the deep pair's
    variant names ("xavier", "he")."""
    depths = sorted(params["grad_depths"])
    variants = list(variants)
    colors = dict(zip(variants, CYCLE))
    last = f"epoch {params['grad_epochs']}"
    return {
        "gradient_norms": _gradient_norms(
            rows, depths, variants, colors, last, params, verdict, deep
        ),
        "activation_stats": _activation_stats(rows, depths[-1], variants, colors, last),
        "training_loss": _training_loss(rows, depths, variants, colors, params, deep),
    }


def _layer_matrix(rows, column, variant, depth, stage):
    """(layers, values (seeds, layers)) of a per-layer column."""
    layers, _seeds, values = matrix(
        rows, column, "layer", measure="layer", variant=variant, depth=depth, stage=stage
    )
    return np.asarray(layers), values


def _gradient_norms(rows, depths, variants, colors, last, params, verdict, deep):
    fig, axes = new_figure(ncols=len(depths) + 1, size=(4.6, 4.2))
    axes = np.atleast_1d(axes)
    panels = [(d, "init", f"{d} hidden layers, at initialisation") for d in depths]
    panels.append((depths[-1], last, f"{depths[-1]} hidden layers, after {last}"))
    for ax, (depth, stage, title) in zip(axes, panels):
        for v in variants:
            layers, norms = _layer_matrix(rows, "weight_grad_norm", v, depth, stage)
            if norms.size:
                with np.errstate(divide="ignore"):
                    ci_band(ax, layers, np.log10(norms), colors[v], v, marker=".")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("weight layer (1 = first hidden, last = output)")
        ax.set_ylabel("log10 ‖∂loss/∂W‖ (decades of gradient norm)")
    axes[0].legend(fontsize=5.5, loc="lower right")
    ratio = verdict.numbers.get("log10_ratio_at_init", {})
    naive = ratio.get(variants[0], {}).get("mean", float("nan"))
    relu = ratio.get(deep["he"], {}).get("mean", float("nan"))
    fig.suptitle(
        f"First/last gradient norm at {depths[-1]} layers: 10^{naive:.0f} with sigmoid + small "
        f"init, 10^{relu:.1f} with {deep['he']}"
    )
    caption = (
        "Norm of the loss gradient with respect to each layer's weights (log10; mean and 95% "
        "CI over evaluation seeds), at initialisation on each seed's own batch of "
        f"{params['grad_probe']} digits, and after training on seed 0's batch. With sigmoid and "
        "N(0, 0.01²) weights the first layer's gradient is tens of orders of magnitude below "
        "the output layer's; tanh + Xavier and ReLU + He keep it level. Batch norm makes the "
        "first layers' gradients larger than the last's at init."
    )
    return fig, caption


def _activation_stats(rows, depth, variants, colors, last):
    fig, axes = new_figure(ncols=2, size=(5.0, 4.2))
    for v in variants:
        for stage, style in (("init", "-"), (last, "--")):
            for ax, column, log in (
                (axes[0], "saturated", False),
                (axes[1], "backprop_grad_std", True),
            ):
                layers, values = _layer_matrix(rows, column, v, depth, stage)
                layers, values = layers[:-1], values[:, :-1]  # hidden layers: not the output
                if not values.size:
                    continue
                if log:
                    with np.errstate(divide="ignore"):
                        values = np.log10(values)
                label = v if stage == "init" else f"_{v}"  # "_": no second legend entry
                ci_band(ax, layers, values, colors[v], label, marker="", linestyle=style)
    axes[0].set_ylabel("saturated fraction of unit-samples")
    axes[1].set_ylabel("log10 std of ∂loss/∂(pre-activation)")
    for ax in axes:
        ax.set_xlabel("hidden layer")
    axes[0].legend(fontsize=5, loc="upper right")
    fig.suptitle(
        f"{depth} hidden layers: ReLUs sit at zero half the time; sigmoid's back-propagated "
        "gradients shrink layer by layer"
    )
    caption = (
        "Per hidden layer, mean and 95% CI over evaluation seeds, at initialisation (solid) "
        "and after training (dashed): the fraction of unit-samples in a flat region (|tanh| "
        "> 0.99, sigmoid < 0.01 or > 0.99, ReLU exactly 0) and the spread of the "
        "back-propagated gradient (log10)."
    )
    return fig, caption


def _training_loss(rows, depths, variants, colors, params, deep_pair):
    deep = params["deep_depth"]
    fig, axes = new_figure(ncols=len(depths) + 1, size=(4.6, 4.2))
    axes = np.atleast_1d(axes)
    for ax, depth in zip(axes, depths):
        for v in variants:
            epochs, _seeds, loss = matrix(
                rows, "train_loss", "epoch", measure="loss", variant=v, depth=depth
            )
            if loss.size:
                ci_band(ax, epochs, loss, colors[v], v, marker=".")
        ax.set_title(f"{depth} hidden layers", fontsize=9)
    finals = {}
    for v, color in ((deep_pair["xavier"], CYCLE[1]), (deep_pair["he"], CYCLE[2])):
        epochs, _seeds, loss = matrix(
            rows, "train_loss", "epoch", measure="loss", variant=v, depth=deep
        )
        if loss.size:
            ci_band(axes[-1], epochs, loss, color, v, marker=".")
            finals[v] = float(np.nanmean(loss[:, -1]))
    axes[-1].set_title(f"{deep} hidden ReLU layers: Xavier vs He", fontsize=9)
    axes[-1].legend(fontsize=6)
    axes[0].legend(fontsize=5.5)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (cross-entropy, nats)")
    xavier, he = (finals.get(deep_pair[k], np.nan) for k in ("xavier", "he"))
    fig.suptitle(
        f"Sigmoid + small init does not train; at {deep} ReLU layers Xavier ends at loss "
        f"{xavier:.2f}, He at {he:.2f}"
    )
    caption = (
        f"Training loss on each seed's own {params['grad_train']} digits, SGD with momentum "
        f"(lr {params['grad_lr']:g}), mean and 95% CI over evaluation seeds. Right: the deep "
        "ReLU network with Xavier init stays near chance loss (ln 10 = 2.30) while He init "
        "trains."
    )
    return fig, caption
