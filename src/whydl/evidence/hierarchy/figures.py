"""The figures that put several experiments side by side: probes on spiral and moons,
probes on digits, depth against width on spiral and checkerboard, and first-layer weights
on digits. Descriptive (no rule): drawn from the other experiments' rows and fits."""

from __future__ import annotations

import numpy as np
import torch

from whydl.evidence.experiment import Description
from whydl.evidence.hierarchy.common import (
    DEEP_DEPTH,
    DIGITS_MLP,
    DIGITS_MODELS,
    SHALLOW_DEPTH,
    budget,
    depth_models,
    label,
)
from whydl.evidence.hierarchy.probes import curves
from whydl.evidence.rows import matrix
from whydl.plots import hierarchy as plots

PLANE_PROBES = ("probes_spiral", "probes_moons")
DIGIT_PROBES = ("probes_digits_cnn", "probes_digits_mlp")
DEPTH_WIDTH = ("depth_vs_width_spiral", "depth_vs_width_checkerboard")
DIGIT_LAYERS = {
    "cnn": ["pixels", "conv 1", "conv 2"],
    "mlp": ["pixels"] + [f"layer {i}" for i in range(1, len(DIGITS_MLP) + 1)],
}
DIGIT_NAMES = {"cnn": "CNN", "mlp": f"MLP {label(DIGITS_MODELS['mlp'])}"}


def _summary(run) -> str:
    """'last layer 0.95 vs input 0.59 (init 0.59)' from a probe run's verdict numbers."""
    n = run.verdict.numbers
    if not n["n_seeds"]:
        return "no seed trained"
    t, i = n["mean_trained"], n["mean_init"]
    return f"last layer {t[-1]:.2f} vs input {t[0]:.2f} (init {i[-1]:.2f})"


class Figures(Description):
    name = "figures"

    def figures(self, run):
        drawn = {
            "probes_by_depth": self.plane_probes(run),
            "depth_vs_width": self.depth_width(run),
            "digits_probes": self.digit_probes(run),
            "digits_weights": self.digit_weights(run),
        }
        return {name: figure for name, figure in drawn.items() if figure is not None}

    def plane_probes(self, run):
        runs = [run.others[n] for n in PLANE_PROBES]
        n_layers = run.params["n_hidden"]
        labels = ["input"] + [f"layer {i}" for i in range(1, n_layers + 1)]
        model = label(runs[0].experiment.model)
        panels = [
            (f"{r.experiment.dataset}: {model} ReLU MLP", labels, curves(r.rows), 0.5) for r in runs
        ]
        title = (
            "Linear-probe accuracy by depth, after training and at initialisation\n"
            + "; ".join(f"{r.experiment.dataset}: {_summary(r)}" for r in runs)
        )
        return (
            plots.probes_figure(panels, title),
            "Held-out accuracy of a logistic regression fitted on each representation's "
            "training activations, each seed on its own data draw (mean over seeds, 95% CI "
            "band). The trained curve should rise with depth and the initialisation curve "
            "should not; chance is 0.5.",
        )

    def digit_probes(self, run):
        runs = {n.rsplit("_", 1)[1]: run.others[n] for n in DIGIT_PROBES}
        panels = [
            (f"digits: {DIGIT_NAMES[k]}", DIGIT_LAYERS[k], curves(r.rows), 0.1)
            for k, r in runs.items()
        ]
        title = "Linear-probe accuracy by layer on digits\n" + "; ".join(
            f"{DIGIT_NAMES[k]} {_summary(r)}" for k, r in runs.items()
        )
        return (
            plots.probes_figure(panels, title),
            "Held-out accuracy of a logistic regression on the pixels and on each layer's "
            "activations, each seed on its own stratified split (mean over seeds, 95% CI "
            "band); chance is 0.1. The pixels of sklearn's 8x8 digits are already close to "
            "linearly separable, which caps the possible gain.",
        )

    def depth_width(self, run):
        models = depth_models(run.params)
        names = [label(m) for m in models.values()]
        n, panels, titles = budget(run.params), [], []
        deep, shallow = list(models).index(DEEP_DEPTH), list(models).index(SHALLOW_DEPTH)
        for name in DEPTH_WIDTH:
            other = run.others[name]
            _, _, accuracy = matrix(other.rows, "value", "depth", metric="test_accuracy")
            dataset = other.experiment.dataset
            panels.append((f"{dataset} ({n} parameters)", names, accuracy))
            means = np.nanmean(accuracy, axis=0) if accuracy.size else np.full(len(names), np.nan)
            titles.append(
                f"{dataset} {means[deep]:.3f} ({names[deep]}) vs {means[shallow]:.3f} "
                f"({names[shallow]})"
            )
        return (
            plots.depth_width_figure(
                panels, "Depth against width at one parameter budget\n" + "; ".join(titles)
            ),
            f"Test accuracy after {run.params['epochs']} epochs of Adam (lr {run.params['lr']}) "
            f"for networks of different depth with about {n} parameters each, each seed on its "
            "own data draw and scored on its own test rows; mean and 95% CI over seeds, dots "
            "are single seeds.",
        )

    def digit_weights(self, run):
        (data, cnn), (_, mlp) = (run.others[n].experiment.cell(run.others[n]) for n in DIGIT_PROBES)
        if not (cnn.seeds and mlp.seeds):
            return None  # every member diverged: nothing to draw
        digits = data.member(data.seeds.index(cnn.seeds[0]))
        shape = digits.image_shape
        digit = digits.X_test[0].reshape(shape)
        with torch.no_grad():
            filters = cnn.trained[0].conv1.weight[:, 0].numpy()  # (channels, 3, 3)
            image = torch.as_tensor(digit).view(1, 1, *shape)
            responses = torch.relu(cnn.trained[0].conv1(image))[0].numpy()

        def weights(net, n_units=16):  # the first n_units units' incoming weights as images
            return net.hidden[0].weight.detach()[:n_units].reshape(-1, *shape).numpy()

        rows = [
            ("test digit", digit[None]),
            ("CNN 3x3 filters", filters),
            ("their responses", responses),
            ("MLP weights, trained", weights(mlp.trained[0])),
            ("MLP weights, at init", weights(mlp.init[0])),
        ]
        return (
            plots.image_rows_figure(
                rows, "First-layer features on digits: CNN filters and MLP weights as images"
            ),
            f"Top: one test digit of seed {cnn.seeds[0]}'s split, the CNN's first-layer 3x3 "
            f"filters (trained, seed {cnn.seeds[0]}) and each filter's response to that digit "
            "(8x8 feature maps before pooling). Below: the first-layer weights of 16 MLP "
            f"units (seed {mlp.seeds[0]}) drawn as 8x8 images, trained and at initialisation. "
            "Each tile is scaled to its largest magnitude: red positive, blue negative.",
        )

    def notes(self, run):
        return [
            "The first-layer weights on digits show one network each (the first evaluation "
            "seed's) and one test digit of that seed's split: a picture needs one fixed "
            "dataset. The probes' CIs over seeds carry the evidence."
        ]
