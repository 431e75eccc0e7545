"""Intermediate features, layer by layer: on nested parity, linear probes for each of the
target's sub-functions (the parity of the first 2 bits, of the first 4, ..., of all d) on
every hidden layer of the deep network, after training and at its initial weights.

Nothing is trained here: the networks are `depth_nested_parity`'s deep arm on the
evaluation seeds (its learning rate chosen there, on the selection seeds). Each probe is a
logistic regression fitted on the seed's own training rows and scored on its test rows
(`whydl.analysis.probes`); a sub-function's labels are the parities of the inputs' signs.

The rule (`LayerRule`) pre-registers where each sub-function should appear: the tree of XORs
computes the parity of 2^j bits with j layers of XORs, so level 2^j belongs at hidden layer j
(at most the last). All effects are paired by seed:
1. learned_j (every level): the level's probe at its layer, trained minus at initialisation;
2. later_j (every level but the first): the level's trained probe at its layer minus at the
   layer before: it is not yet decodable one layer early.
Supported when every effect is (`every`: each CI above 0, not wholly below LAYER_GAIN); not
supported when Holm's correction over them shows one below LAYER_GAIN.

Example
-------
>>> rule = LayerRule()
>>> rows = [{"seed": s, "state": st, "layer": l, "level": k, "value": v + 0.01 * s}
...         for s in range(5) for st, l, k, v in rule.cells([0.2] * 5)]
>>> rule.decide(rows).verdict
'supported'
"""

from __future__ import annotations

import numpy as np

from whydl.analysis.layers import activations
from whydl.analysis.probes import probe_accuracy
from whydl.data.compositional import parity_levels
from whydl.evidence.calibration import MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import MIN_SEEDS, paired_difference
from whydl.evidence.decide import every as every_of
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.hierarchy.common import CONFIG_SHARE, DEEP_DEPTH, INIT, TRAINED, cell
from whydl.evidence.hierarchy.compositional import DEEP, arm_models, target_data
from whydl.evidence.rows import by_seed, matrix
from whydl.plots import hierarchy as plots

SOURCE = "depth_nested_parity"  # the experiment whose deep arm is probed
LAYER_GAIN = 0.05  # minimum effect of interest of each of the three comparisons
LAYER_GAIN_REASON = (
    "five points of held-out probe accuracy on a balanced binary label (chance 0.5): a "
    "smaller difference is within what a probe's fit on a few hundred rows moves by, and is "
    "not a feature being there or not"
)
CLEAR_LAYER_GAIN = 0.15  # calibration: a clear effect on every comparison
# calibration: one probe accuracy's seed-to-seed noise; the full preset's paired effects
# varied by 0.04 (learned), 0.07 (deeper) and 0.12 (earlier) over seeds
SEED_SD = 0.07
SHARED_SD = 0.02  # calibration: a seed's data draw and network, shared by its cells


class LayerRule(Rule):
    name = "probes_nested_parity"
    hypothesis = (
        "On nested parity, training makes each sub-function of the tree of XORs (the parity "
        "of the first 2, 4, ... bits) linearly decodable at its own depth (level 2^j at "
        "hidden layer j), not one layer earlier, and not at initialisation."
    )
    minimum_effect = LAYER_GAIN
    minimum_effect_reason = LAYER_GAIN_REASON

    def __init__(self, n_layers: int = DEEP_DEPTH, top: int = 8):
        self.n_layers, self.top = int(n_layers), int(top)

    @property
    def levels(self) -> dict[int, int]:
        """{level (bits): its pre-registered hidden layer}: 2 -> 1, 4 -> 2, 8 -> 3, ..."""
        out, level, layer = {}, 2, 1
        while level <= self.top:
            out[level] = min(layer, self.n_layers)
            level, layer = 2 * level, layer + 1
        return out

    def effect_names(self) -> list[str]:
        levels = list(self.levels)
        return [f"learned_{k}" for k in levels] + [f"later_{k}" for k in levels[1:]]

    def text(self) -> str:
        where = ", ".join(f"{k} bits at layer {lay}" for k, lay in self.levels.items())
        return (
            "paired effects (means of per-seed differences of held-out probe accuracies, 95% "
            f"CIs) at each sub-function's pre-registered layer ({where}): learned_k = level "
            "k's probe at its layer, trained minus at initialisation; later_k = level k's "
            "trained probe at its layer minus at the layer before (every level but the "
            "first). Supported when every CI lies above 0 and none wholly below "
            f"LAYER_GAIN={LAYER_GAIN}; not supported when Holm's correction over the "
            f"{len(self.effect_names())} effects (one-sided 2.5%) shows one below LAYER_GAIN; "
            f"otherwise inconclusive (also with fewer than MIN_SEEDS={MIN_SEEDS} seeds)."
        )

    def effects(self, rows) -> dict:
        def cell_(state, layer, level):
            return by_seed(rows, "value", state=state, layer=layer, level=level)

        levels = self.levels
        out = {
            f"learned_{k}": paired_difference(cell_(TRAINED, lay, k), cell_(INIT, lay, k))
            for k, lay in levels.items()
        }
        for k, lay in list(levels.items())[1:]:
            out[f"later_{k}"] = paired_difference(
                cell_(TRAINED, lay, k), cell_(TRAINED, lay - 1, k)
            )
        return out

    def decide(self, rows):
        effects = self.effects(rows)
        verdict, details = every_of(effects.values(), [LAYER_GAIN] * len(effects))
        numbers = {"n_seeds": min(e.n for e in effects.values())}
        for (key, e), d in zip(effects.items(), details):
            numbers |= e.numbers(key) | {f"{key}_verdict": d["verdict"]}
        return self.verdict(verdict, numbers, numbers["n_seeds"])

    def cells(self, sizes, chance=0.5):
        """(state, layer, level, mean) of the cells the rule reads, for effects of these
        sizes (in `effect_names()` order): every level sits at chance at initialisation."""
        size = dict(zip(self.effect_names(), sizes))
        out = []
        for k, lay in self.levels.items():
            here = chance + size[f"learned_{k}"]
            out += [(INIT, lay, k, chance), (TRAINED, lay, k, here)]
            if f"later_{k}" in size:
                out.append((TRAINED, lay - 1, k, here - size[f"later_{k}"]))
        return out

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """The cells the rule reads. NULL: one effect (drawn at random) is zero and the
        others clear (the hardest null of an all-of rule); MINIMUM: all at LAYER_GAIN;
        CLEAR: all at CLEAR_LAYER_GAIN. Noise per seed, per cell (CONFIG_SHARE x SEED_SD,
        shared by its seeds) and per seed (shared by its cells)."""
        n = len(self.effect_names())
        sizes = [CLEAR_LAYER_GAIN if condition != MINIMUM else LAYER_GAIN] * n
        if condition == NULL:
            sizes[rng.integers(n)] = 0.0
        cells = self.cells(sizes)
        values = noisy_grid(
            rng, [c[3] for c in cells], n_evaluation, SEED_SD, CONFIG_SHARE * SEED_SD, SHARED_SD
        )
        return [
            {"seed": s, "state": st, "layer": layer, "level": level, "value": float(values[s, j])}
            for s in range(n_evaluation)
            for j, (st, layer, level, _) in enumerate(cells)
        ]


class ParityProbes(Experiment):
    """Probes for every sub-function of nested parity on every layer of the deep arm."""

    name = LayerRule.name

    def __init__(self, top: int = 8):
        self.rule = LayerRule(DEEP_DEPTH, top)

    def rows(self, run):
        source = run.others[SOURCE]
        data = target_data("nested_parity", run.params, run.plan.evaluation)
        model = arm_models("nested_parity", run.params)[DEEP]
        c = cell(source.fits.get(DEEP), data.pool, model)
        out = []
        for seed, trained, init in zip(c.seeds, c.trained, c.init):
            m = data.seeds.index(seed)
            d, k = data.member(m), data.train_rows.shape[1]
            X_train, X_test = d.X_train[:k], d.X_test
            y_train, y_test = parity_levels(X_train), parity_levels(X_test)
            for state, module in ((TRAINED, trained), (INIT, init)):
                train_acts, test_acts = activations(module, X_train), activations(module, X_test)
                for layer, (a, b) in enumerate(zip(train_acts, test_acts)):
                    out += [
                        {
                            "dataset": "nested_parity",
                            "state": state,
                            "seed": seed,
                            "layer": layer,
                            "level": level,
                            "metric": "probe_accuracy",
                            "value": probe_accuracy(a, y_train[level], b, y_test[level]),
                        }
                        for level in y_train
                    ]
        return out

    def figures(self, run):
        if not run.rows:
            return {}
        levels = sorted({r["level"] for r in run.rows})
        panels = []
        for level in levels:
            curves = {}
            for state in (TRAINED, INIT):
                layers, _, values = matrix(run.rows, "value", "layer", state=state, level=level)
                curves[state] = values
            names = ["input", *(f"layer {i}" for i in layers[1:])]
            panels.append((f"parity of the first {level} bits", names, curves, 0.5))
        n = run.verdict.numbers
        title = (
            "Nested parity: sub-functions decodable layer by layer? "
            + ", ".join(f"{k} {n[k]:+.2f}" for k in self.rule.effect_names())
            + f" ({run.verdict.verdict})"
        )
        caption = (
            "Held-out linear-probe accuracy of each sub-function of nested parity (the parity "
            "of the first 2, 4, ... bits) on the input and on every hidden layer of the deep "
            "network trained on the whole parity, and of the same network at its initial "
            "weights; mean over evaluation seeds with 95% CI bands. Chance is 0.5."
        )
        return {"probes_nested_parity": (plots.probes_figure(panels, title), caption)}

    def notes(self, run):
        n, v = run.verdict.numbers, run.verdict.verdict
        if not n["n_seeds"]:
            return ["On nested parity no deep member trained: the layer rule had nothing."]
        parts = "; ".join(
            f"{k} {n[k]:+.3f} (95% CI {n[f'{k}_ci_low']:.3f} to {n[f'{k}_ci_high']:.3f}, "
            f"{n[f'{k}_verdict']})"
            for k in self.rule.effect_names()
        )
        means = "; ".join(
            f"{k} bits: " + ", ".join(f"{x:.2f}" for x in m)
            for k, m in level_means(run.rows).items()
        )
        return [
            f"Sub-functions of nested parity at their layers ({v}): {parts}. Mean trained "
            f"probe accuracy on [input, layer 1, ...]: {means} (chance 0.5)."
        ]


def level_means(rows, state: str = TRAINED) -> dict:
    """{level: mean probe accuracy per layer} of a probe table, for notes and docs."""
    out = {}
    for level in sorted({r["level"] for r in rows}):
        _, _, values = matrix(rows, "value", "layer", state=state, level=level)
        out[level] = np.nanmean(values, axis=0).round(3).tolist()
    return out
