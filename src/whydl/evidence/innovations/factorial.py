"""Vanishing gradients as a factorial design (Glorot & Bengio 2010; He et al. 2015):
activation (sigmoid, tanh, ReLU) x initialisation (Glorot & Bengio's "standard" U[±1/√n],
Xavier, He) at one depth, every cell on every evaluation seed.

The measure is the first/last gradient-norm ratio at initialisation, in decades
(|log10 first/last|: 0 is level, either sign of tilt counts), on each seed's own probe
batch of its own digits split. "standard" is the scheme Glorot & Bengio called standard,
W ~ U[-1/√n, 1/√n] (n = fan-in), which is PyTorch's default (`init="default"`; its biases
are U[±1/√n] too, where Glorot & Bengio's were 0).

Protocol: nothing is chosen from data and nothing is trained (the ratio at init is what
Glorot & Bengio's Figure 7 and He et al.'s derivation are about); every cell shares the
seeds, so factor effects are paired per seed. The rule (`FactorialRule`) needs both main
effects: the initialisation's (standard against the scaled inits, averaged over
activations) and the activation's (sigmoid against ReLU, averaged over inits).
"""

from __future__ import annotations

import numpy as np

from whydl.analysis.gradients import gradient_flow
from whydl.config import ModelConfig
from whydl.engine import build_members
from whydl.evidence.calibration import MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import mean_effect
from whydl.evidence.experiment import Experiment, Rule
from whydl.evidence.innovations.common import decide_every, digits, log10, probe, summary
from whydl.evidence.rows import by_seed, matrix
from whydl.plots.bands import ci_band
from whydl.plots.style import CYCLE, new_figure

PRESETS = {
    "quick": {"factorial_depth": 6},
    "full": {"factorial_depth": 20},
}  # width, training rows and probe batch: the vanishing experiment's grad_* settings

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITS = {"standard": "default", "xavier": "xavier", "he": "he"}  # name -> ModelConfig init
SCALED = ("xavier", "he")  # the init factor's effect: standard against these

MIN_DECADES = 1.0  # the minimum effect of interest of each main effect
MIN_DECADES_REASON = (
    "a factor 10 in the first/last gradient ratio (one decade, averaged over the other "
    "factor's levels) is what one learning rate per layer could not hide; a smaller "
    "difference is a slow layer, not a factor that decides whether gradients flow"
)

# the simulator, in decades of |log10 first/last|: a seed's own 0.25 (the old full run's
# per-seed sd at 20 layers: 0.11-0.24), its probe batch shared by its cells (0.1), and each
# cell's own luck shared by all its seeds (0.03). Truth: a base tilt of 1 decade plus the
# activation's effect (sigmoid 1, tanh 1/2, ReLU 0 of it) plus the init's (standard only)
SIM_SD, SIM_SHARED_SD, SIM_CONFIG_SD = 0.25, 0.1, 0.03
SIM_BASE = 1.0
SIM_SHAPE_ACTIVATION = {"sigmoid": 1.0, "tanh": 0.5, "relu": 0.0}
SIM_SHAPE_INIT = {"standard": 1.0, "xavier": 0.0, "he": 0.0}
SIM_CLEAR = {"activation": 3.0, "init": 3.0}
SIM_DEPTH = 20


def cell(activation: str, init: str) -> str:
    return f"{activation} + {init}"


def main_effects(rows) -> dict:
    """Per seed, in decades of |log10 first/last|: {"activation": sigmoid minus ReLU
    (averaged over inits), "init": standard minus the scaled inits (averaged over
    activations)}, plus every level's contrast for the report."""
    d = {
        (a, i): {
            s: abs(v)
            for s, v in by_seed(rows, "log10_ratio", measure="ratio", activation=a, init=i).items()
        }
        for a in ACTIVATIONS
        for i in INITS
    }
    seeds = sorted(set.intersection(*(set(v) for v in d.values())))

    def mean(cells):
        return {s: float(np.mean([d[c][s] for c in cells])) for s in seeds}

    by_act = {a: mean([(a, i) for i in INITS]) for a in ACTIVATIONS}
    by_init = {i: mean([(a, i) for a in ACTIVATIONS]) for i in INITS}
    scaled = mean([(a, i) for a in ACTIVATIONS for i in SCALED])
    return {
        "activation": {s: by_act["sigmoid"][s] - by_act["relu"][s] for s in seeds},
        "init": {s: by_init["standard"][s] - scaled[s] for s in seeds},
        "sigmoid minus tanh": {s: by_act["sigmoid"][s] - by_act["tanh"][s] for s in seeds},
        "tanh minus relu": {s: by_act["tanh"][s] - by_act["relu"][s] for s in seeds},
        "standard minus xavier": {s: by_init["standard"][s] - by_init["xavier"][s] for s in seeds},
        "standard minus he": {s: by_init["standard"][s] - by_init["he"][s] for s in seeds},
        "xavier minus he": {s: by_init["xavier"][s] - by_init["he"][s] for s in seeds},
    }, d


class FactorialRule(Rule):
    """Both main effects at least MIN_DECADES (`decide.every`); see `text`.

    `verdict.numbers`: `depth`; per deciding effect (`activation`, `init`) its estimate,
    CI, minimum and verdict (`common.decide_every`); `contrasts` (every level's main
    effect, mean and CI); `cells` ({activation + init: mean and CI of |log10 first/last|},
    the interaction table); `interaction` (per activation, standard minus scaled: how the
    init's effect depends on the activation)."""

    name = "init_activation_factorial"
    hypothesis = (
        "Both the activation and the initialisation decide whether gradients flow through a "
        "deep net: sigmoid tilts the first/last gradient ratio more than ReLU, and the "
        "standard U[±1/√n] init more than Xavier and He."
    )
    minimum_effect = MIN_DECADES
    minimum_effect_reason = MIN_DECADES_REASON

    def text(self) -> str:
        return (
            "Activation (sigmoid, tanh, ReLU) x init (standard U[±1/√n], Xavier, He), every "
            "cell on every evaluation seed; per seed and cell the first/last gradient-norm "
            "ratio at initialisation in decades, |log10 first/last|. Two main effects, paired "
            "per seed: the activation's (sigmoid minus ReLU, averaged over the three inits) "
            "and the init's (standard minus the mean of Xavier and He, averaged over the "
            f"three activations), each with minimum MIN_DECADES={MIN_DECADES:g}. Supported "
            "when both 95% CIs lie above 0 and neither lies below its minimum; not supported "
            "when Holm over the two one-sided tests of 'the effect is at least its minimum' "
            "shows one below it; otherwise inconclusive (also with fewer than MIN_SEEDS "
            "seeds)."
        )

    def decide(self, rows):
        effects, cells = main_effects(rows)
        deciding = {k: (mean_effect(effects[k]), MIN_DECADES) for k in ("activation", "init")}
        verdict, numbers = decide_every(deciding)
        numbers["depth"] = rows[0].get("depth") if rows else None
        numbers["contrasts"] = {k: summary(v.values()) for k, v in effects.items()}
        numbers["cells"] = {cell(a, i): summary(v.values()) for (a, i), v in cells.items()}
        numbers["interaction"] = {
            a: summary(
                cells[a, "standard"][s] - np.mean([cells[a, i][s] for i in SCALED])
                for s in cells[a, "standard"]
            )
            for a in ACTIVATIONS
        }
        return self.verdict(verdict, numbers, min(e.n for e, _ in deciding.values()))

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """NULL: one main effect, drawn at random, at 0 and the other clear; MINIMUM: both
        at MIN_DECADES; CLEAR: SIM_CLEAR."""
        truth = dict.fromkeys(SIM_CLEAR, MIN_DECADES) if condition == MINIMUM else dict(SIM_CLEAR)
        if condition == NULL:
            truth[list(truth)[rng.integers(len(truth))]] = 0.0
        keys = [(a, i) for a in ACTIVATIONS for i in INITS]
        means = [
            SIM_BASE
            + truth["activation"] * SIM_SHAPE_ACTIVATION[a]
            + truth["init"] * SIM_SHAPE_INIT[i]  # standard minus the scaled mean: truth
            for a, i in keys
        ]
        values = noisy_grid(rng, means, n_evaluation, SIM_SD, SIM_CONFIG_SD, SIM_SHARED_SD)
        sign = rng.choice([-1.0, 1.0])  # a tilt either way: the rule reads |log10|
        return [
            {"measure": "ratio", "seed": s, "activation": a, "init": i, "depth": SIM_DEPTH}
            | {"log10_ratio": float(sign * values[s, k])}
            for k, (a, i) in enumerate(keys)
            for s in range(n_evaluation)
        ]


class FactorialExperiment(Experiment):
    name = "init_activation_factorial"
    rule = FactorialRule()

    def rows(self, run):
        params, seeds = run.params, run.plan.evaluation
        depth = params["factorial_depth"]
        data = digits(seeds, params["grad_train"])
        batches = [probe(data, m, params["grad_probe"]) for m in range(len(seeds))]
        out = []
        for a in ACTIVATIONS:
            for i, scheme in INITS.items():
                model = ModelConfig(
                    hidden=(params["grad_width"],) * depth, activation=a, init=scheme
                )
                members = build_members(data.pool, model, seeds)
                for s, net, (X, y) in zip(seeds, members, batches):
                    flow = gradient_flow(net, X, y, data.pool.task)
                    base = {"seed": int(s), "activation": a, "init": i, "depth": depth}
                    out.append({**base, "measure": "ratio", "log10_ratio": log10(flow.ratio)})
                    out += [
                        {**base, "measure": "layer", "layer": k + 1, "log10_grad_norm": log10(norm)}
                        for k, norm in enumerate(flow.weight_grad_norms)
                    ]
        return out

    def figures(self, run):
        return {"factorial_gradient_flow": _figure(run)}

    def notes(self, run):
        v = run.verdict.numbers
        inter = ", ".join(
            f"{a} {x['mean']:+.1f} (95% CI {x['ci_low']:+.1f} to {x['ci_high']:+.1f})"
            for a, x in v["interaction"].items()
        )
        return [
            "Factorial design at initialisation: the init's effect (standard minus the scaled "
            f"inits, decades of |log10 first/last|) by activation: {inter}. Nothing is trained: "
            "the trained effects (He against Xavier at depth, batch norm, residual) are the "
            "vanishing_gradients part's, reported as description."
        ]


def _figure(run):
    rows = [r for r in run.rows if r["measure"] == "layer"]
    depth = run.params["factorial_depth"]
    fig, axes = new_figure(ncols=len(ACTIVATIONS), size=(4.0, 4.0))
    for ax, a in zip(np.atleast_1d(axes), ACTIVATIONS):
        for i, color in zip(INITS, CYCLE):
            layers, _, values = matrix(rows, "log10_grad_norm", "layer", activation=a, init=i)
            ci_band(ax, layers, values, color, i, marker=".")
        ax.set_title(a, fontsize=9)
        ax.set_xlabel("weight layer (1 = first hidden, last = output)")
        ax.set_ylabel("log10 ‖∂loss/∂W‖ (decades)")
        ax.legend(fontsize=6)
    v = run.verdict.numbers
    fig.suptitle(
        f"Gradient flow at init, {depth} hidden layers, per cell: activation effect "
        f"{v['activation']['estimate']:.1f} decades, init effect {v['init']['estimate']:.1f}"
    )
    caption = (
        "Norm of the loss gradient with respect to each layer's weights at initialisation "
        "(log10; mean and 95% CI over evaluation seeds, each on its own batch of "
        f"{run.params['grad_probe']} digits), one panel per activation, one line per init: "
        "standard U[±1/√n], Xavier, He."
    )
    return fig, caption
