"""Depth against width on compositional targets, at one parameter budget and one tuning
budget: a 4-hidden-layer network against a 1-hidden-layer one with the same parameter count.

Targets (`whydl.data.compositional`): a sawtooth of `sawtooth_folds` folds of the tent map
(Telgarsky 2016), nested parity over `parity_bits` noisy bits (a binary tree of XORs), and,
as the control, a low-frequency sine in 2-D, where depth should buy nothing.

The protocol: each arm gets the same learning-rate grid (LR_GRID); its rate is the one with
the best mean test metric over the *selection* seeds (each its own data draw). The chosen
rates then train on the evaluation seeds, each seed its own data draw shared by both arms,
and the rule compares the arms paired by seed. Each target decides on its own
(`PairedRule`, deep minus shallow); the claim's verdict needs both compositional targets
(the frame's `combine`); the control reports its verdict without deciding.
"""

from __future__ import annotations

import numpy as np

from whydl.config import ModelConfig, TrainConfig
from whydl.data.compositional import compositional_dataset
from whydl.engine.memory import mlp_n_parameters
from whydl.errors import DivergedError
from whydl.evidence.calls import TrainCall
from whydl.evidence.experiment import Experiment
from whydl.evidence.hierarchy.common import DEEP_DEPTH, SHALLOW_DEPTH, label, width_for_budget
from whydl.evidence.hierarchy.paired_rule import PairedRule
from whydl.evidence.protocol import data_seed, pool_datasets
from whydl.plots import hierarchy as plots

# every arm's tuning budget: the same four Adam rates, a factor of about 3 apart (a first
# full run on 0.002..0.02 put the deep arm's best rate at the grid's low edge)
LR_GRID = (0.0005, 0.0015, 0.005, 0.015)
DEEP, SHALLOW = "deep", "shallow"
DEEP_WIDTH = 16  # the deep arm: DEEP_DEPTH x 16; the shallow arm gets its parameter count
GAIN = 0.02  # minimum effect of interest: test accuracy (or R^2), deep minus shallow
GAIN_REASON = (
    "two points of test accuracy at one parameter and tuning budget: a smaller edge is within "
    "what one more learning rate or a few more epochs would change, so no reason to prefer "
    "depth"
)
# calibration: a clear edge per target, and one seed's test metric's noise (paired
# differences vary by sqrt(2) x it): the full preset's paired differences varied by 0.12 on
# sawtooth (the deep arm sometimes stays near chance), 0.047 on parity and 0.005 (R^2) on
# the sine
CLEAR_GAIN = {"sawtooth": 0.15, "nested_parity": 0.08, "smooth_sine": 0.08}
SEED_SD = {"sawtooth": 0.085, "nested_parity": 0.035, "smooth_sine": 0.005}
SHARED_SD = 0.01  # a seed's data draw, shared by both arms
TARGETS = {  # target -> (preset key of its sample size, what it tests)
    "sawtooth": "sawtooth_samples",
    "nested_parity": "parity_samples",
    "smooth_sine": "sine_samples",
}


def target_kwargs(target: str, params: dict) -> dict:
    if target == "sawtooth":
        return {"folds": params["sawtooth_folds"]}
    if target == "nested_parity":
        return {"n_bits": params["parity_bits"]}
    return {}


def target_data(target: str, params: dict, seeds):
    """Each seed's own draw of `target`, pooled (`SeedData`)."""
    n, kwargs = params[TARGETS[target]], target_kwargs(target, params)
    datasets = [compositional_dataset(target, n, data_seed(s), **kwargs) for s in seeds]
    return pool_datasets(datasets, seeds)


def n_inputs(target: str, params: dict) -> int:
    return {"sawtooth": 1, "nested_parity": params["parity_bits"], "smooth_sine": 2}[target]


def arm_budget(target: str, params: dict) -> int:
    """The parameter count both arms get: the deep arm's."""
    return mlp_n_parameters(n_inputs(target, params), 1, (DEEP_WIDTH,) * DEEP_DEPTH)


def arm_models(target: str, params: dict) -> dict[str, ModelConfig]:
    """{deep: DEEP_DEPTH x DEEP_WIDTH, shallow: one layer with the same parameter count}."""
    deep = (DEEP_WIDTH,) * DEEP_DEPTH
    n = arm_budget(target, params)
    shallow = (width_for_budget(n, SHALLOW_DEPTH, n_inputs(target, params)),)
    return {DEEP: ModelConfig(hidden=deep), SHALLOW: ModelConfig(hidden=shallow)}


def final_metric(fit) -> np.ndarray:
    """Each member's last-epoch metric on its own test rows; NaN where it diverged."""
    if isinstance(fit, DivergedError) or fit is None:
        return np.array([np.nan])
    values = np.asarray(fit.history.val_metric, float)[:, -1]
    return np.where(np.asarray(fit.ok, bool), values, np.nan)


class DepthAdvantage(Experiment):
    """Deep against shallow on one target, each arm's rate chosen on selection seeds."""

    selects = True

    def __init__(self, target: str, deciding: bool):
        self.target, self.deciding = target, deciding
        self.name = f"depth_{target}"
        metric = "R^2" if target == "smooth_sine" else "test accuracy"
        self.rule = PairedRule(
            self.name,
            f"At equal parameter count and equal tuning budget a {DEEP_DEPTH}-hidden-layer "
            f"network reaches a higher {metric} than a {SHALLOW_DEPTH}-hidden-layer one on "
            f"{target}.",
            {"arm": DEEP},
            {"arm": SHALLOW},
            DEEP,
            SHALLOW,
            minimum=GAIN,
            reason=GAIN_REASON,
            clear=CLEAR_GAIN[target],
            seed_sd=SEED_SD[target],
            shared_sd=SHARED_SD,
        )

    def _call(self, params, data, arm, model, lr, seeds, role):
        train = TrainConfig(
            seed=seeds[0],
            n_seeds=len(seeds),
            epochs=params[f"{self.target}_epochs"],
            batch_size=params["compositional_batch_size"],
            lr=lr,
        )
        tag = f"{self.target} {arm} {label(model)} lr={lr:g} ({role})"
        return TrainCall(data.pool, model, train, tag, data.hooks)

    def selection_calls(self, params, seeds):
        data = target_data(self.target, params, seeds)
        return {
            (arm, lr): self._call(params, data, arm, model, lr, seeds, "selection")
            for arm, model in arm_models(self.target, params).items()
            for lr in LR_GRID
        }

    def choose(self, params, fits):
        """Per arm, the rate of LR_GRID with the best mean test metric over selection seeds."""
        chosen = {}
        for arm in (DEEP, SHALLOW):
            means = {lr: np.nanmean(final_metric(fits[arm, lr])) for lr in LR_GRID}
            means = {lr: m if np.isfinite(m) else -np.inf for lr, m in means.items()}
            chosen[f"lr_{arm}"] = max(means, key=means.get)
            chosen[f"selection_{arm}"] = {str(lr): float(m) for lr, m in means.items()}
        return chosen

    def calls(self, params, seeds, chosen):
        data = target_data(self.target, params, seeds)
        return {
            arm: self._call(params, data, arm, model, chosen[f"lr_{arm}"], seeds, "evaluation")
            for arm, model in arm_models(self.target, params).items()
        }

    def rows(self, run):
        models = arm_models(self.target, run.params)
        out = []
        for arm, model in models.items():
            fit = run.fits.get(arm)
            values = final_metric(fit)
            seeds = fit.seeds if not isinstance(fit, DivergedError) and fit else []
            out += [
                {
                    "dataset": self.target,
                    "arm": arm,
                    "architecture": label(model),
                    "lr": run.chosen[f"lr_{arm}"],
                    "seed": int(seed),
                    "metric": "r2" if self.target == "smooth_sine" else "test_accuracy",
                    "value": float(v),
                }
                for seed, v in zip(seeds, values)
                if np.isfinite(v)
            ]
        return out

    def figures(self, run):
        models = arm_models(self.target, run.params)
        names = [label(m) for m in models.values()]
        values = [[r["value"] for r in run.rows if r["arm"] == arm] for arm in models]
        if not all(values) or len({len(v) for v in values}) != 1:
            return {}
        n = run.verdict.numbers
        title = (
            f"{self.target}: deep minus shallow {n['difference']:+.3f} "
            f"(95% CI {n['difference_ci_low']:.3f} to {n['difference_ci_high']:.3f}), "
            f"{run.verdict.verdict}"
        )
        lrs = ", ".join(f"{arm} lr={run.chosen[f'lr_{arm}']:g}" for arm in models)
        caption = (
            f"Test {'R^2' if self.target == 'smooth_sine' else 'accuracy'} of the deep and the "
            f"shallow network at {arm_budget(self.target, run.params)} parameters on "
            f"{self.target}, each "
            f"seed its own data draw; each arm's learning rate chosen from {LR_GRID} on the "
            f"selection seeds ({lrs}). Mean with 95% CI; dots are single seeds."
        )
        figure = plots.depth_width_figure(
            [(self.target, names, np.array(values).T)], title
        )  # (seeds, arms)
        return {f"depth_{self.target}": (figure, caption)}

    def notes(self, run):
        n, v = run.verdict.numbers, run.verdict.verdict
        models = arm_models(self.target, run.params)
        means = ", ".join(f"{label(models[a])} {n[f'mean {a}']:.3f}" for a in (DEEP, SHALLOW))
        lrs = ", ".join(f"{a} {run.chosen[f'lr_{a}']:g}" for a in (DEEP, SHALLOW))
        role = "decides" if self.deciding else "control, does not decide"
        edges = [a for a in (DEEP, SHALLOW) if run.chosen[f"lr_{a}"] in (LR_GRID[0], LR_GRID[-1])]
        edge = (
            f" The {' and '.join(edges)} arm's chosen rate sits at the grid's edge: a wider "
            "grid might do better for it."
            if edges
            else ""
        )
        return [
            f"Depth on {self.target} ({role}) at {arm_budget(self.target, run.params)} "
            "parameters: mean "
            f"{means}; deep minus shallow {n['difference']:+.3f} (95% CI "
            f"{n['difference_ci_low']:.3f} to {n['difference_ci_high']:.3f}), {v}. Learning "
            f"rates chosen on the selection seeds from {LR_GRID}: {lrs}.{edge}"
        ]
