"""The result figure: what the model learned (left) and how training went (right)."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_rgb

from whydl.analysis.boundary import plane_grid, stacked_outputs
from whydl.plots.bands import percentile_band
from whydl.plots.style import CYCLE, PALETTE, log_y, new_figure

ROW_SLICE_FLOATS = 2**24  # one hidden activation of a grid slice: 64 MB of float32
MAX_SEED_TICKS = 30  # beyond this many seeds, one tick label per seed is unreadable


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))  # = 1/(1+exp(-z)), without overflow warnings


def member_mean(stack, X, ok, transform) -> np.ndarray:
    """The mean over the members where `ok` of `transform(outputs)`, for rows X (n, D).

    Rows go through the stack a slice at a time, each slice reduced over members before the
    next: a (members, n, width) activation for a 200x200 grid is 1.6 GB at 1,000 members,
    while one slice stays near ROW_SLICE_FLOATS floats whatever the number of members."""
    widest = max(t.shape[1] for t in stack.tensors.values() if t.dim() == 3)  # (M, out, in)
    rows = max(1, ROW_SLICE_FLOATS // (stack.M * widest))
    parts = [
        transform(stacked_outputs(stack, X[i : i + rows])[ok]).mean(0)
        for i in range(0, len(X), rows)
    ]
    return np.concatenate(parts)


def _softmax(logits):
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _class_cmap():

    return LinearSegmentedColormap.from_list(
        # pastel ends, so the saturated class colours of the points stand out on the map
        "whydl_binary",
        ["#9ccbe8", "#f7f7f7", "#f3b98f"],
    )


def _points(ax, ds, wrong_test, colors):
    """Train points as circles, test points as triangles, misclassified test points ringed.

    Markers are drawn with `plot`, one call per class and split: the SVG then defines each
    marker once and reuses it, several times faster to write than a per-point scatter."""
    for k, color in enumerate(colors):
        tr, te = ds.plane_train[ds.y_train == k], ds.plane_test[ds.y_test == k]
        ax.plot(
            *tr.T, "o", ms=3.5, color=color, mec="white", mew=0.3, label="train" if k == 0 else None
        )
        ax.plot(
            *te.T, "^", ms=5, color=color, mec="black", mew=0.5, label="test" if k == 0 else None
        )
    if wrong_test.any():
        ax.plot(
            *ds.plane_test[wrong_test].T,
            "o",
            ms=11,
            mfc="none",
            mec="black",
            mew=1.8,
            label=f"misclassified test ({int(wrong_test.sum())})",
        )


def _boundary_panel(ax, ds, fit, n_ok):
    xs, ys, plane = plane_grid(np.concatenate([ds.plane_train, ds.plane_test]))
    grid = ds.expand(plane)  # the network's inputs at each pixel: its features, if any
    ok = fit.ok
    out_test = stacked_outputs(fit.stack, ds.X_test)[ok]
    shape = (len(ys), len(xs))
    members = f"seed {fit.seeds[0]}" if n_ok == 1 else f"mean of {n_ok} members"
    if ds.task == "binary":
        colors = np.array([PALETTE["blue"], PALETTE["vermillion"]])
        p = member_mean(fit.stack, grid, ok, lambda out: _sigmoid(out[..., 0])).reshape(shape)
        im = ax.imshow(
            p,
            origin="lower",
            extent=(xs[0], xs[-1], ys[0], ys[-1]),
            aspect="auto",
            cmap=_class_cmap(),
            vmin=0,
            vmax=1,
            interpolation="bilinear",
        )
        ax.contour(xs, ys, p, levels=[0.5], colors="black", linewidths=1.5)
        ax.figure.colorbar(im, ax=ax, label="P(class 1)", shrink=0.85)
        wrong = (_sigmoid(out_test[..., 0]).mean(0) > 0.5).astype(int) != ds.y_test
        title = f"Decision boundary: P(class 1), {members}"
    else:
        colors = np.array(CYCLE * 2)[: ds.n_classes]
        probs = member_mean(fit.stack, grid, ok, _softmax)
        label = probs.argmax(-1).reshape(shape)
        conf = probs.max(-1).reshape(shape)

        rgb = np.array([to_rgb(c) for c in colors])[label]
        alpha = (conf - 1 / ds.n_classes) / (1 - 1 / ds.n_classes)
        ax.imshow(
            np.concatenate([rgb, 0.15 + 0.5 * alpha[..., None]], -1),
            origin="lower",
            extent=(xs[0], xs[-1], ys[0], ys[-1]),
            aspect="auto",
            interpolation="bilinear",
        )
        ax.contour(
            xs, ys, label, levels=np.arange(ds.n_classes) + 0.5, colors="black", linewidths=1.0
        )
        wrong = _softmax(out_test).mean(0).argmax(-1) != ds.y_test
        title = f"Decision regions: most likely class, {members}"
    _points(ax, ds, wrong, colors)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel(f"{ds.plane_names[0]} (input units)")
    ax.set_ylabel(f"{ds.plane_names[1]} (input units)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower left", fontsize=7, framealpha=0.85)


def _regression_panel(ax, ds, fit, n_ok):
    out_test = stacked_outputs(fit.stack, ds.X_test)[fit.ok][..., 0]
    if ds.n_inputs == 1:
        xs = np.linspace(ds.X_train.min(), ds.X_train.max(), 300, dtype=np.float32)[:, None]
        curves = stacked_outputs(fit.stack, xs)[fit.ok][..., 0]
        ax.scatter(ds.X_train[:, 0], ds.y_train, s=10, color=PALETTE["sky"], label="train")
        ax.scatter(
            ds.X_test[:, 0], ds.y_test, s=16, marker="^", color=PALETTE["black"], label="test"
        )
        percentile_band(ax, xs[:, 0], curves, PALETTE["vermillion"], "prediction")
        ax.set_xlabel(f"{ds.feature_names[0]} (input units)")
        ax.set_ylabel(f"{ds.target_name} (target units)")
        ax.set_title("Fitted function over the input range", fontsize=10)
    else:
        pred = out_test.mean(0)
        ax.scatter(ds.y_test, pred, s=14, color=PALETTE["blue"], label="test points")
        lo, hi = float(min(ds.y_test.min(), pred.min())), float(max(ds.y_test.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=1, label="perfect prediction")
        ax.set_xlabel(f"true {ds.target_name} (target units)")
        ax.set_ylabel(f"predicted {ds.target_name}, mean of {n_ok} (target units)")
        ax.set_title("Predicted against true on the test split", fontsize=10)
    ax.legend(fontsize=7)


def _confusion_panel(ax, ds, fit, n_ok):
    out = stacked_outputs(fit.stack, ds.X_test)[fit.ok]
    if ds.task == "binary":
        pred = (_sigmoid(out[..., 0]).mean(0) > 0.5).astype(int)
    else:
        pred = out.argmax(-1)
        pred = np.array([np.bincount(col, minlength=ds.n_classes).argmax() for col in pred.T])
    k = ds.n_classes
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (ds.y_test, pred), 1)
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                cm[i, j],
                ha="center",
                va="center",
                fontsize=7,
                color="white" if cm[i, j] > cm.max() / 2 else "black",
            )
    names = ds.class_names or tuple(map(str, range(k)))
    ax.set_xticks(range(k), names, fontsize=7, rotation=45 if k > 5 else 0)
    ax.set_yticks(range(k), names, fontsize=7)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(
        f"Test confusion matrix ({'vote of ' + str(n_ok) if n_ok > 1 else 'one member'})",
        fontsize=10,
    )


def loss_panel(ax, history, ok, held_out: str = "test"):
    """Training and held-out loss; `held_out` says which split the second curve is ("test",
    or "validation" when early stopping carved one out of the training split)."""
    epochs = np.arange(1, history.n_epochs + 1)
    percentile_band(ax, epochs, history.train_loss[ok], PALETTE["blue"], "train")
    percentile_band(ax, epochs, history.val_loss[ok], PALETTE["vermillion"], held_out)
    log_y(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel(
        "loss (nats per sample, log scale)"
        if history.metric == "accuracy"
        else "mean squared error (log scale)"
    )
    n = int(ok.sum())
    ax.set_title(
        "Loss per epoch" + (f": median and 10–90% band over {n} seeds" if n > 1 else ""),
        fontsize=10,
    )
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def result_figure(ds, fit, headline: str):
    """Two panels: the learned function (boundary, fit or confusion matrix) and losses."""
    fig, (left, right) = new_figure(ncols=2)
    n_ok = int(fit.ok.sum())
    if ds.task == "regression":
        _regression_panel(left, ds, fit, n_ok)
    elif ds.n_inputs == 2:
        _boundary_panel(left, ds, fit, n_ok)
    else:
        _confusion_panel(left, ds, fit, n_ok)
    loss_panel(right, fit.history, fit.ok, fit.held_out)
    fig.suptitle(headline, fontsize=11)
    return fig


def seed_figure(seeds, accuracies, summary: dict):
    """Each seed's test accuracy as a dot, with the mean and its 95% CI as a band."""
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
    if len(seeds) <= MAX_SEED_TICKS:
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
