"""What each neuron sees and how each layer warps the plane: pictures of one network.

Descriptive (no rule): the probed 4x16 network on spiral, trained and at initialisation,
of the first evaluation seed that trained, drawn on that seed's own data draw. A picture
needs one network and one dataset; the probes experiment gives the CIs over seeds.
"""

from __future__ import annotations

from whydl.analysis.layers import layer_views
from whydl.analysis.neurons import neuron_maps
from whydl.evidence.experiment import Description
from whydl.evidence.hierarchy.common import INIT, TRAINED, label, member_points
from whydl.evidence.rows import select
from whydl.plots import hierarchy as plots

SOURCE = "probes_spiral"


class SpiralPictures(Description):
    name = "spiral_pictures"

    def figures(self, run):
        source = run.others[SOURCE]
        data, c = source.experiment.cell(source)
        if not c.seeds:
            return {}
        seed, model = c.seeds[0], source.experiment.model
        X, y = member_points(data, data.seeds.index(seed))
        name = f"{label(model)} ReLU MLP"
        maps = neuron_maps(c.trained[0], X, resolution=run.params["neuron_resolution"])
        neurons = plots.neuron_maps_figure(
            maps,
            X,
            y,
            f"What each neuron of a trained {name} sees on spiral (seed {seed}):\nlayer 1 cuts "
            "the plane with straight lines, deeper layers combine them into bent regions",
        )
        views = {TRAINED: layer_views(c.trained[0], X), INIT: layer_views(c.init[0], X)}
        accs = {
            state: ", ".join(
                f"{r['value']:.2f}"
                for r in sorted(
                    select(source.rows, seed=seed, state=state), key=lambda r: r["depth"]
                )
            )
            for state in (TRAINED, INIT)
        }
        layers = plots.layer_views_figure(
            views,
            y,
            f"How each layer of a {name} warps the spiral's plane (seed {seed}):\ntrained "
            "layers pull the two arms apart; at initialisation they stay entangled",
        )
        return {
            "neurons_spiral": (
                neurons,
                "Each tile is one hidden unit's output over the input plane (the box of seed "
                f"{seed}'s own data draw), scaled to that unit's maximum (square-root colour "
                "scale); the points are that draw's two spiral arms. First-layer units are "
                "ramps over half-planes; deeper units respond on regions bounded by several "
                "bent segments.",
            ),
            "layers_spiral": (
                layers,
                "Each panel shows a representation on its top two principal components "
                "(fitted on the data's activations): the data points and the input plane's "
                "grid lines pushed through the network and projected the same way, as in "
                f"ConvNetJS's 2-D demo. Seed {seed}'s probe accuracies by depth, trained: "
                f"{accs[TRAINED]}; at initialisation: {accs[INIT]}.",
            ),
        }

    def notes(self, run):
        return [
            "The neuron maps and layer views show one network on one dataset: the first "
            "evaluation seed's network on that seed's own draw of spiral (a picture needs one "
            "fixed dataset). The probes' CIs over seeds carry the evidence."
        ]
