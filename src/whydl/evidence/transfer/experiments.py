"""The transfer claim's experiments: one per domain (pretrain, then learn the target at every
k; its rule is fine-tuning against scratch) and, per domain, Yosinski et al.'s features
control, which reads the domain's fits rather than training again.

Training is staged (the target's calls start from the pretrained weights), so a domain
experiment overrides `train`: one `fit_many` for its pretraining, then one for every call of
its target sweep, all `TrainCall`s, so a results store caches each of them.
"""

from __future__ import annotations

from whydl.engine.device import torch_threads
from whydl.evidence.experiment import Experiment
from whydl.evidence.transfer.domains import DomainSpec, domain_data, k_levels
from whydl.evidence.transfer.figures import domain_figure, layers_figure
from whydl.evidence.transfer.rules import FeaturesRule, FineTuningRule
from whydl.evidence.transfer.sweep import (
    PRETRAIN,
    final_accuracy,
    k_calls,
    pretrain_call,
    pretrained_states,
    sweep_rows,
)
from whydl.evidence.transfer.table import ALL, FROZEN, RANDOM
from whydl.stats import summarize


def slug(name: str) -> str:
    """'shifted moons' -> 'shifted_moons', 'digits (CNN)' -> 'digits_cnn'."""
    return "_".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def gap_text(numbers: dict, i: int) -> str:
    """'+0.105 (95% CI +0.063 to +0.148)': the paired gain at the i-th k."""
    return (
        f"{numbers['gap_mean'][i]:+.3f} (95% CI {numbers['gap_ci_low'][i]:+.3f} to "
        f"{numbers['gap_ci_high'][i]:+.3f})"
    )


class DomainExperiment(Experiment):
    """Pretrain on the source, learn the target from k labels per class in four ways."""

    def __init__(self, spec: DomainSpec, params: dict, deciding: bool = True):
        self.spec, self.name, self.deciding = spec, spec.name, deciding
        self.rule = FineTuningRule(spec.name, spec.n_layers, params["ks"])

    def train(self, ctx, params, seeds, chosen):
        seeds = tuple(seeds)
        # one thread: most calls train tiny batches (k labels per class), too little work per
        # step for a second thread; on a loaded CPU its spin-waiting made the full preset
        # about 6x slower (measured)
        with torch_threads(1):
            data = domain_data(self.spec, seeds)
            ctx.log(f"transfer: pretraining {self.name}")
            call = pretrain_call(data, seeds, params["pretrain_epochs"])
            pretrained = ctx.fit_many([call])[0]  # diverged: nothing to transfer from, raise
            states = pretrained_states(pretrained, len(seeds))
            calls = {}
            for k in k_levels(params["ks"], data.target.member(0)):
                calls.update(k_calls(data, states, k, seeds, params["epochs"]))
            return {PRETRAIN: pretrained, **ctx.fit_many(calls, errors="return")}

    def rows(self, run):
        seeds = tuple(run.plan.evaluation)
        data = domain_data(self.spec, seeds)
        with torch_threads(1):
            return sweep_rows(
                data, run.fits, k_levels(run.params["ks"], data.target.member(0)), seeds
            )

    def figures(self, run):
        n = len(run.plan.evaluation)
        out = {
            f"transfer_{slug(self.name)}": domain_figure(self.name, run.rows, self.spec.n_layers, n)
        }
        if self.spec.layer_sweep:
            out["transfer_layers"] = layers_figure(self.name, run.rows, self.spec.n_layers, n)
        return out

    def notes(self, run):
        source = summarize(final_accuracy(run.fits[PRETRAIN], len(run.plan.evaluation)))
        n = run.verdict.numbers
        catch, leads = n["catch_up_k"], n["scratch_leads_at_k"]
        if catch is None:
            where = "scratch never catches up within the sweep"
        elif catch == n["k"][0]:
            where = "fine-tuning never leads beyond the CI"
        else:
            where = f"scratch catches up at k = {catch:g}"
        if leads:
            where += f"; scratch leads beyond the CI at k = {', '.join(f'{k:g}' for k in leads)}"
        holm = [c for c, d in n["components"].items() if d["holm_rejects_minimum"]]
        below = f"; Holm finds below its minimum: {', '.join(holm)}" if holm else ""
        return [
            f"{self.name}: the pretrained networks reach {source['mean']:.3f} test accuracy on "
            f"their source task (95% CI {source['ci_low']:.3f}-{source['ci_high']:.3f}).",
            f"{self.name}: at k = {n['k'][0]:g} fine-tuned {n['fine_tuned_mean'][0]:.3f} "
            f"against scratch {n['scratch_mean'][0]:.3f}, gain {gap_text(n, 0)}; at the "
            f"largest k {gap_text(n, -1)}; {where}{below} ({run.verdict.verdict}).",
        ]


class FeaturesExperiment(Experiment):
    """Frozen pretrained against frozen random features at the smallest k (reported, not
    deciding); it reads the rows of its domain's experiment, which trained both."""

    deciding = False

    def __init__(self, domain: DomainExperiment, params: dict):
        self.domain = domain.name
        self.n_layers = domain.spec.n_layers
        self.name = f"{domain.name}: pretrained vs random features"
        smallest = min((k for k in params["ks"] if k != ALL), default=ALL)
        self.rule = FeaturesRule(self.name, self.n_layers, smallest)

    def train(self, ctx, params, seeds, chosen):
        return {}  # its domain's experiment trained the frozen variants

    def rows(self, run):
        other = run.others[self.domain]
        rows = other.rows or other.experiment.rows(other)
        mine = [
            r for r in rows if r["method"] in (FROZEN, RANDOM) and r["n_copied"] == self.n_layers
        ]
        smallest = min(r["k"] for r in mine)
        return [r for r in mine if r["k"] == smallest]

    def notes(self, run):
        n = run.verdict.numbers
        return [
            f"{self.name}: frozen pretrained features {n['frozen_mean']:.3f} against frozen "
            f"random features {n['random_mean']:.3f} at k = {n['k']:g}, gap {n['gap']:+.3f} "
            f"(95% CI {n['gap_ci_low']:+.3f} to {n['gap_ci_high']:+.3f}; {run.verdict.verdict})."
        ]
