"""Claim 5: a pretrained network learns a new task from few labels (transfer learning).

Sub-experiments, each a source task to pretrain on and a target task with k labels per class:
1. digits: pretrain an MLP on digits 0-4 (all their training rows); learn digits 5-9;
2. digits with the small CNN: the same with convolutional features. Off in both presets (its
   grouped convolutions cost about four times the rest of the claim on a CPU); run it with
   `CLAIM.experiment(Context(), {**CLAIM.presets["full"], "cnn": True})`;
3. shifted moons: pretrain on moons; learn the same moons rotated and rescaled.

Each target is learnt four ways, all with one recipe (Adam, full batch, fixed epochs):
scratch; frozen pretrained features with a new linear head; full fine-tuning; and frozen
random features (Yosinski et al.'s control). On the MLP digits also layer by layer: copy the
first n hidden layers, frozen or fine-tuned. Each seed draws its own k labels per class, its
own pretrained network and its own new layers; all variants of one seed see the same labels,
so fine-tuning and scratch are compared paired by seed.

The overall verdict rests on fine-tuning against scratch on the MLP digits and the shifted
moons (`REQUIRED`); the features control and the CNN are reported with their own verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from whydl.config import ModelConfig, TrainConfig
from whydl.data import Dataset, load_dataset
from whydl.data.subsets import sample_per_class, select_classes
from whydl.engine import build_members, evaluate
from whydl.engine.device import torch_threads
from whydl.engine.tasks import prepare_targets
from whydl.evidence.frame import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    Claim,
    TrainCall,
    Verdict,
    combine,
)
from whydl.plots.style import CYCLE, PALETTE, new_figure
from whydl.stats import summarize

# the rule's thresholds (the rule texts below print them)
SMALL_K = 5  # "few labels": every k <= SMALL_K per class
NARROWING_RATIO = 0.5  # the gap at the largest k must be at most this fraction of the first
MIN_SEEDS = 3  # fewer seeds give no confidence interval worth comparing: inconclusive
REQUIRED = ("digits", "shifted moons")

SOURCE_DIGITS, TARGET_DIGITS = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
DATA_SEED = 42  # the digits' train/test split
MOONS_NOISE, MOONS_SOURCE_SEED, MOONS_TARGET_SEED = 0.2, 1, 2
ROTATION_DEGREES, SCALE = 45.0, 1.5  # the shifted domain: x -> SCALE * R(ROTATION) x
LR = 0.01  # Adam, for pretraining and for every target variant alike
FRESH_SEED_OFFSET = 1000  # new layers of seed s are initialised with seed 1000 + s
ALL = "all"
SCRATCH, FROZEN, FINE_TUNED, RANDOM = "scratch", "frozen", "fine-tuned", "random frozen"
METHODS = (SCRATCH, FROZEN, FINE_TUNED, RANDOM)
ZERO_SHOT = "pretrained, no target labels"

HYPOTHESIS = (
    "A network pretrained on a related task and fine-tuned on k labels per class beats the "
    "same network trained from scratch when k is small, and the advantage shrinks as k grows."
)


# decision rules: pure functions of per-seed numbers -------------------------------------


def gap_summary(a, b) -> dict:
    """Mean of a - b paired by seed (columns), with its 95% CI: one entry per row (k)."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    s = [summarize(row) for row in np.atleast_2d(diff)]
    return {key: [round(x[key], 4) for x in s] for key in ("mean", "ci_low", "ci_high", "n")}


def catch_up_k(ks, ci_low):
    """The smallest k from which the gap's CI no longer lies above 0 at any larger k (None
    when fine-tuning stays ahead up to the largest k)."""
    k = None
    for value, low in zip(reversed(list(ks)), reversed(list(ci_low))):
        if low > 0:
            break
        k = value
    return k


def finetuning_rule_text() -> str:
    return (
        "paired by seed, gap = fine-tuned minus scratch test accuracy. Supported when the gap's "
        f"95% CI lies above 0 at every k <= SMALL_K={SMALL_K} labels per class and the mean "
        f"gap at the largest k is at most NARROWING_RATIO={NARROWING_RATIO} times the mean gap "
        "at the smallest k. Not supported when the gap's CI does not lie above 0 at the "
        f"smallest k, or lies below 0 at any k <= {SMALL_K}. Otherwise inconclusive (also with "
        f"fewer than MIN_SEEDS={MIN_SEEDS} seeds). Scratch catches up at the smallest k from "
        "which the gap's CI no longer lies above 0."
    )


def finetuning_rule(name: str, ks, finetuned, scratch) -> Verdict:
    """Fine-tuning against scratch on one domain. `ks` ascending (labels per class; "all" as
    its per-class count); `finetuned`, `scratch`: test accuracy (len(ks), seeds), paired
    by column.

    Example
    -------
    >>> ft = [[0.8, 0.82, 0.81], [0.95, 0.96, 0.95]]
    >>> sc = [[0.6, 0.61, 0.62], [0.95, 0.95, 0.96]]
    >>> finetuning_rule("toy", [1, 100], ft, sc).verdict
    'supported'
    """
    ks = [float(k) for k in ks]
    finetuned, scratch = np.atleast_2d(finetuned), np.atleast_2d(scratch)
    gap = gap_summary(finetuned, scratch)
    n = int(min(gap["n"]))
    small = [i for i, k in enumerate(ks) if k <= SMALL_K] or [0]
    ahead = [low > 0 for low in gap["ci_low"]]
    behind = [high < 0 for high in gap["ci_high"]]
    first, last = gap["mean"][0], gap["mean"][-1]
    narrows = bool(len(ks) > 1 and first > 0 and last <= NARROWING_RATIO * first)
    if n < MIN_SEEDS:
        verdict = INCONCLUSIVE
    elif all(ahead[i] for i in small) and narrows:
        verdict = SUPPORTED
    elif not ahead[0] or any(behind[i] for i in small):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    numbers = {
        "k": ks,
        "fine_tuned_mean": [round(float(np.nanmean(r)), 4) for r in finetuned],
        "scratch_mean": [round(float(np.nanmean(r)), 4) for r in scratch],
        "gap_mean": gap["mean"],
        "gap_ci_low": gap["ci_low"],
        "gap_ci_high": gap["ci_high"],
        "gap_narrows": narrows,
        "catch_up_k": catch_up_k(ks, gap["ci_low"]),
        "scratch_leads_at_k": [k for k, b in zip(ks, behind) if b],
    }
    return Verdict(name, verdict, HYPOTHESIS, finetuning_rule_text(), numbers, n)


def features_rule(name: str, frozen, random) -> Verdict:
    """Yosinski et al.'s control at one k: frozen pretrained features against frozen random
    features of the same architecture, each with a new linear head, paired by seed.

    Example
    -------
    >>> features_rule("toy", [0.8, 0.81, 0.8], [0.6, 0.62, 0.6]).verdict
    'supported'
    """
    gap = gap_summary([frozen], [random])
    n, low, high = int(gap["n"][0]), gap["ci_low"][0], gap["ci_high"][0]
    if n < MIN_SEEDS:
        verdict = INCONCLUSIVE
    else:
        verdict = SUPPORTED if low > 0 else NOT_SUPPORTED if high < 0 else INCONCLUSIVE
    rule = (
        "paired by seed, gap = frozen pretrained minus frozen random features (each with a new "
        "linear head) at the smallest k. Supported when the gap's 95% CI lies above 0; not "
        "supported when it lies below 0; otherwise inconclusive (also with fewer than "
        f"MIN_SEEDS={MIN_SEEDS} seeds)."
    )
    numbers = {
        "frozen_mean": round(float(np.nanmean(frozen)), 4),
        "random_mean": round(float(np.nanmean(random)), 4),
        "gap_mean": gap["mean"][0],
        "gap_ci_low": low,
        "gap_ci_high": high,
    }
    hypothesis = "Pretrained features carry over: frozen, they beat frozen random features."
    return Verdict(name, verdict, hypothesis, rule, numbers, n)


# moving layers between networks ---------------------------------------------------------


def layer_parameters(module: torch.nn.Module, layers) -> tuple[str, ...]:
    """Names of the parameters of `layers` (prefixes such as "hidden.0" or "conv1")."""
    layers = tuple(layers)
    return tuple(
        n for n, _ in module.named_parameters() if any(n.startswith(f"{x}.") for x in layers)
    )


def copy_layers(state: dict, module: torch.nn.Module, layers) -> torch.nn.Module:
    """`module` with the parameters of `layers` replaced by those in `state` (a state dict of
    a network of the same architecture); the other layers keep their own values."""
    names = layer_parameters(module, layers)
    if not names and layers:
        raise ValueError(f"layers {list(layers)} match no parameter of {type(module).__name__}.")
    with torch.no_grad():
        params = dict(module.named_parameters())
        for n in names:
            params[n].copy_(state[n])
    return module


# the domains ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """A source task to pretrain on, a target task to transfer to, and how to transfer."""

    name: str
    source: Dataset
    target: Dataset
    model: ModelConfig
    layers: tuple[str, ...]  # the feature layers, input side first; the head is "out"
    copy_head: bool  # the labels mean the same in both tasks: fine-tuning keeps the head
    layer_sweep: bool  # also copy the first n layers for every n, frozen and fine-tuned


def shift(dataset: Dataset, degrees: float, scale: float) -> Dataset:
    """The dataset with every input x replaced by scale * R(degrees) x (about the origin)."""
    t = np.deg2rad(degrees)
    R = scale * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], dtype=np.float32)
    return replace(dataset, X_train=dataset.X_train @ R.T, X_test=dataset.X_test @ R.T)


def domains(p: dict) -> list[Domain]:
    digits = load_dataset("digits", data_seed=DATA_SEED)
    source, target = select_classes(digits, SOURCE_DIGITS), select_classes(digits, TARGET_DIGITS)
    hidden = tuple(p["digits_hidden"])
    mlp_layers = tuple(f"hidden.{i}" for i in range(len(hidden)))
    moons_hidden = tuple(p["moons_hidden"])
    moons = lambda seed: load_dataset(  # noqa: E731
        "moons", n_samples=p["moons_samples"], noise=MOONS_NOISE, data_seed=seed
    )
    found = [
        Domain("digits", source, target, ModelConfig(hidden=hidden), mlp_layers, False, True),
        Domain(
            "shifted moons",
            moons(MOONS_SOURCE_SEED),
            shift(moons(MOONS_TARGET_SEED), ROTATION_DEGREES, SCALE),
            ModelConfig(hidden=moons_hidden),
            tuple(f"hidden.{i}" for i in range(len(moons_hidden))),
            True,
            False,
        ),
    ]
    if p["cnn"]:
        cnn = ModelConfig(architecture="cnn")
        found.insert(
            1, Domain("digits (CNN)", source, target, cnn, ("conv1", "conv2"), False, False)
        )
    return found


def k_values(ks, target: Dataset) -> list[tuple[int, str]]:
    """(k, label) pairs; "all" becomes the mean per-class count of the target's pool."""
    all_k = int(round(len(target.y_train) / target.n_classes))
    return [(all_k, ALL) if k == ALL else (int(k), str(k)) for k in ks]


# the claim -------------------------------------------------------------------------------


class TransferClaim(Claim):
    name = "transfer"
    title = "Transfer learning: a pretrained network needs few labels"
    hypothesis = HYPOTHESIS
    literature = (
        "Yosinski et al. 2014: on ImageNet halves, transferred layers that are fine-tuned beat "
        "training from scratch (a lasting boost); frozen middle layers lose accuracy through "
        "co-adaptation and specificity; frozen random features collapse",
        "Zeiler & Fergus 2014: with 15 images per class on Caltech-101, training from scratch "
        "reached 22.8% against 83.8% for ImageNet-pretrained features",
        "Kornblith et al. 2019: the benefit of ImageNet pretraining shrinks as the target's "
        "training set grows and can vanish on fine-grained tasks",
    )
    presets = {
        "quick": {
            "n_seeds": 3,
            "ks": (1, 5, ALL),
            "digits_hidden": (32, 32),
            "moons_hidden": (16, 16),
            "moons_samples": 300,
            "pretrain_epochs": 3,
            "epochs": 20,
            "cnn": False,
        },
        "full": {
            "n_seeds": 10,
            "ks": (1, 2, 5, 10, 20, ALL),
            "digits_hidden": (64, 64),
            "moons_hidden": (32, 32),
            "moons_samples": 1000,
            "pretrain_epochs": 20,
            "epochs": 100,
            "cnn": False,
        },
    }

    def experiment(self, ctx, params):

        # one thread: most calls train tiny batches (k labels per class), too little work per
        # step for a second thread; on a loaded CPU its spin-waiting made the full preset
        # about 6x slower (measured)
        with torch_threads(1):
            return self._experiment(ctx, params)

    def _experiment(self, ctx, params):
        p = params
        seeds = list(range(p["n_seeds"]))
        table, acc, notes, parts = [], {}, [], []
        all_domains = domains(p)
        # two rounds of independent calls (an executor trains each round's side by side):
        # every domain's pretraining, then every fine-tuning call, which starts from it
        ctx.log(f"transfer: pretraining {', '.join(d.name for d in all_domains)}")
        pretrain = {d.name: _pretrain_call(d, p, seeds) for d in all_domains}
        pretrained = {
            d.name: _pretrained(fit, d, seeds)
            for d, fit in zip(all_domains, ctx.fit_many(list(pretrain.values())))
        }
        calls, owners = [], []
        for domain in all_domains:
            for k in k_values(p["ks"], domain.target):
                for call, keys in _k_calls(domain, pretrained[domain.name][0], k, seeds, p):
                    calls.append(call)
                    owners.append(((domain.name, k), keys))
        pairs: dict = {}  # (domain, k) -> [(fit, keys)]
        for (where, keys), fit in zip(owners, ctx.fit_many(calls)):
            pairs.setdefault(where, []).append((fit, keys))
        by_k = {where: _accuracies(p) for where, p in pairs.items()}  # {(method, n): accuracy}
        for domain in all_domains:
            _states, source_acc, zero_shot = pretrained[domain.name]
            s = summarize(source_acc)
            notes.append(
                f"{domain.name}: the pretrained networks reach {s['mean']:.3f} test accuracy on "
                f"their source task (95% CI {s['ci_low']:.3f}-{s['ci_high']:.3f})."
            )
            if zero_shot is not None:
                acc[(domain.name, ZERO_SHOT, len(domain.layers), 0)] = zero_shot
                table += _rows(domain, ZERO_SHOT, len(domain.layers), (0, "0"), seeds, zero_shot)
            for k in k_values(p["ks"], domain.target):
                for (method, n), values in by_k[domain.name, k].items():
                    acc[(domain.name, method, n, k[0])] = values
                    table += _rows(domain, method, n, k, seeds, values)
            ks = [k for k, _ in k_values(p["ks"], domain.target)]
            L = len(domain.layers)
            ft = [acc[(domain.name, FINE_TUNED, L, k)] for k in ks]
            sc = [acc[(domain.name, SCRATCH, 0, k)] for k in ks]
            parts.append(finetuning_rule(domain.name, ks, ft, sc))
            parts.append(
                features_rule(
                    f"{domain.name}: pretrained vs random features",
                    acc[(domain.name, FROZEN, L, ks[0])],
                    acc[(domain.name, RANDOM, L, ks[0])],
                )
            )
        verdict = combine(self.name, HYPOTHESIS, parts, p["n_seeds"], required=REQUIRED)
        figures = {
            "transfer_vs_k": _accuracy_figure(acc, all_domains, p),
            "transfer_gap": _gap_figure(parts, all_domains),
        }
        layered = [d for d in all_domains if d.layer_sweep]
        if layered:
            figures["transfer_layers"] = _layers_figure(acc, layered[0], p)
        notes += _notes(parts)
        return self.result(p, table, verdict, figures, notes, _headline(parts))


# the sweep --------------------------------------------------------------------------------


def _pretrain_call(domain: Domain, p: dict, seeds) -> TrainCall:
    """One pretrained network per seed on the source task."""
    train = TrainConfig(n_seeds=len(seeds), epochs=p["pretrain_epochs"], lr=LR, batch_size=32)
    return TrainCall(domain.source, domain.model, train, f"transfer {domain.name}: pretrain")


def _pretrained(fit, domain: Domain, seeds):
    """(state dicts, source accuracy, accuracy on the target's test split without any target
    label, or None) of the pretraining fit."""
    states = [fit.stack.state_dict(i) for i in range(len(seeds))]
    source_acc = np.where(fit.ok, fit.history.val_metric[:, -1], np.nan)
    zero_shot = None
    if domain.copy_head:  # the same labels: score the pretrained networks on the target as is
        target = domain.target
        y = prepare_targets(target.y_test, target.task, fit.stack.device)
        X = torch.as_tensor(target.X_test, device=fit.stack.device)
        zero_shot = evaluate(fit.stack, X, y, target.task)[1].cpu().numpy().astype(float)
    return states, source_acc, zero_shot


def _pretrain(ctx, domain: Domain, p: dict, seeds):
    """`_pretrained` of a pretraining run trained through `ctx`."""
    return _pretrained(ctx.fit_many([_pretrain_call(domain, p, seeds)])[0], domain, seeds)


def _member(domain: Domain, states, seed: int, n: int, copy_head: bool = False):
    """A fresh network of seed FRESH_SEED_OFFSET + seed with the first `n` layers (and the
    head, with `copy_head`) taken from pretrained network `seed`."""
    fresh = build_members(domain.target, domain.model, [FRESH_SEED_OFFSET + seed])[0]
    layers = domain.layers[:n] + (("out",) if copy_head else ())
    return copy_layers(states[seed], fresh, layers) if layers else fresh


def _k_calls(domain: Domain, states, k, seeds, p) -> list:
    """Every variant at one k: [(TrainCall, [(method, n_copied) per member])].

    One engine call per set of frozen layers; all seeds and variants of a call train
    together, each seed on its own k labels per class (`train_rows`)."""
    k_value, k_label = k
    target = domain.target
    rows = {
        s: np.arange(len(target.y_train))
        if k_label == ALL
        else sample_per_class(target.y_train, k_value, seed=s)
        for s in seeds
    }
    L = len(domain.layers)
    ns = range(1, L + 1) if domain.layer_sweep else (L,)
    # (frozen layers, [(method, n copied, from pretrained?, copy head?)]): one call each
    unfrozen = [(SCRATCH, 0, False, False)]
    unfrozen += [(FINE_TUNED, n, True, domain.copy_head and n == L) for n in ns]
    groups = [((), unfrozen)]
    groups += [
        (domain.layers[:n], [(FROZEN, n, True, False), (RANDOM, n, False, False)]) for n in ns
    ]
    calls = []
    for frozen_layers, variants in groups:
        members, train_rows, keys = [], [], []
        for s in seeds:
            for method, n, pretrained, head in variants:
                members.append(_member(domain, states, s, n if pretrained else 0, head))
                train_rows.append(rows[s])
                keys.append((method, n))
        hooks = {
            "members": members,
            "frozen": layer_parameters(members[0], frozen_layers),
            "train_rows": np.stack(train_rows),
        }
        train = TrainConfig(n_seeds=len(members), epochs=p["epochs"], lr=LR, batch_size=0)
        what = ", ".join(f"{m} {n}" for m, n, _, _ in variants)
        tag = f"transfer {domain.name} k={k_label}: {what}"
        calls.append((TrainCall(target, domain.model, train, tag, hooks), keys))
    return calls


def _train_k(ctx, domain: Domain, states, k, seeds, p) -> dict:
    """Every variant at one k trained through `ctx`: {(method, n_copied): accuracy per seed}."""
    calls = _k_calls(domain, states, k, seeds, p)
    fits = ctx.fit_many([call for call, _ in calls])
    return _accuracies(zip(fits, [keys for _, keys in calls]))


def _accuracies(fits_and_keys) -> dict:
    """{(method, n_copied): test accuracy per seed} from (fit, keys per member) pairs."""
    found: dict = {}
    for fit, keys in fits_and_keys:
        final = np.where(fit.ok, fit.history.val_metric[:, -1], np.nan)
        for key, value in zip(keys, final):
            found.setdefault(key, []).append(float(value))
    return {key: np.array(values) for key, values in found.items()}


def _rows(domain: Domain, method: str, n: int, k, seeds, values) -> list[dict]:
    whole = domain.copy_head and n == len(domain.layers) and method in (FINE_TUNED, ZERO_SHOT)
    return [
        {
            "domain": domain.name,
            "method": method,
            "n_copied": n,
            "head": "copied" if whole else "new",
            "k": k[0],
            "k_label": k[1],
            "seed": s,
            "test_accuracy": round(float(v), 6),
        }
        for s, v in zip(seeds, values)
    ]


# figures, notes, headline -----------------------------------------------------------------


def _ci_band(ax, x, per_seed, color, label, **line):
    """Mean over seeds with its 95% CI as a band; per_seed is (len(x), seeds)."""
    s = [summarize(v) for v in per_seed]
    mean = [v["mean"] for v in s]
    ax.plot(x, mean, color=color, label=label, **line)
    ax.fill_between(
        x, [v["ci_low"] for v in s], [v["ci_high"] for v in s], color=color, alpha=0.2, linewidth=0
    )


def _k_axis(ax, ks):
    ax.set_xscale("log")
    ax.set_xticks([k for k, _ in ks])
    ax.set_xticklabels([f"all\n({k})" if label == ALL else label for k, label in ks])
    ax.minorticks_off()


def _accuracy_figure(acc, domains, p):

    colors = {
        SCRATCH: PALETTE["black"],
        FROZEN: PALETTE["sky"],
        FINE_TUNED: PALETTE["vermillion"],
        RANDOM: PALETTE["orange"],
    }
    labels = {
        SCRATCH: "scratch",
        FROZEN: "frozen pretrained features + new head",
        FINE_TUNED: "fine-tuned (all layers)",
        RANDOM: "frozen random features + new head",
    }
    fig, axes = new_figure(len(domains), size=(4.6, 4.8))
    axes = np.atleast_1d(axes)
    for ax, d in zip(axes, domains):
        ks = k_values(p["ks"], d.target)
        x = [k for k, _ in ks]
        L = len(d.layers)
        for method in METHODS:
            n = 0 if method == SCRATCH else L
            values = [acc[(d.name, method, n, k)] for k in x]
            _ci_band(ax, x, values, colors[method], labels[method], marker="o", markersize=3)
        zero = acc.get((d.name, ZERO_SHOT, L, 0))
        if zero is not None:
            _ci_band(
                ax,
                [x[0], x[-1]],
                [zero, zero],
                PALETTE["purple"],
                "pretrained, no target labels",
                linestyle="--",
            )
        _k_axis(ax, ks)
        ax.set_title(d.name, fontsize=10)
        ax.set_xlabel("target labels per class, k (log scale)")
        ax.set_ylabel("target test accuracy (fraction)")
        ax.grid(alpha=0.3)
    handles, names = [], []
    for ax in axes:  # one legend for all panels: the methods, and the zero-shot line if drawn
        for h, n in zip(*ax.get_legend_handles_labels()):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.subplots_adjust(top=0.84, bottom=0.3)
    fig.suptitle(
        "Transfer against k: does fine-tuning (vermillion) beat scratch (black) at small k?\n"
        f"mean and 95% CI over {p['n_seeds']} seeds (each its own labels and pretraining)",
        fontsize=10,
    )
    caption = (
        "Target test accuracy against labels per class. Where the vermillion band lies above the "
        "black one, the pretrained network helps; where they merge, scratch has caught up. The "
        "orange band is Yosinski's control: the same frozen architecture with random weights."
    )
    return fig, caption


def _gap_figure(parts, domains):

    fig, ax = new_figure(size=(6.0, 4.2))
    for color, d in zip(CYCLE, domains):
        v = next(v for v in parts if v.claim == d.name)
        x = v.numbers["k"]
        ax.plot(x, v.numbers["gap_mean"], color=color, marker="o", markersize=3, label=d.name)
        ax.fill_between(
            x,
            v.numbers["gap_ci_low"],
            v.numbers["gap_ci_high"],
            color=color,
            alpha=0.2,
            linewidth=0,
        )
    ax.axhline(0, color="grey", linewidth=1)
    ax.set_xscale("log")
    ticks = sorted(
        {k for v in parts if v.claim in {d.name for d in domains} for k in v.numbers["k"]}
    )
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{k:g}" for k in ticks], fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("target labels per class, k (log scale; each curve's last point is all)")
    ax.set_ylabel("fine-tuned minus scratch test accuracy (fraction)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.subplots_adjust(top=0.86)
    fig.suptitle(
        "The gain from pretraining, paired by seed:\n"
        "above 0 it helps, and it should shrink as k grows",
        fontsize=10,
    )
    caption = (
        "Mean paired gap (fine-tuned minus scratch) with its 95% CI. The rule asks for a band "
        f"above 0 at every k <= {SMALL_K} and a gap at the largest k at most {NARROWING_RATIO} "
        "of the first."
    )
    return fig, caption


def _layers_figure(acc, d, p):

    ks = k_values(p["ks"], d.target)
    shown = [ks[0], ks[len(ks) // 2], ks[-1]] if len(ks) >= 3 else ks
    L = len(d.layers)
    fig, axes = new_figure(len(shown), size=(4.0, 4.0))
    axes = np.atleast_1d(axes)
    x = list(range(L + 1))
    for ax, (k, label) in zip(axes, shown):
        scratch = acc[(d.name, SCRATCH, 0, k)]
        for method, color in (
            (FINE_TUNED, PALETTE["vermillion"]),
            (FROZEN, PALETTE["sky"]),
            (RANDOM, PALETTE["orange"]),
        ):
            values = [scratch] + [acc[(d.name, method, n, k)] for n in x[1:]]
            _ci_band(
                ax,
                x,
                values,
                color,
                f"first n layers {method}" if method != RANDOM else "first n layers random, frozen",
                marker="o",
                markersize=3,
            )
        ax.set_xticks(x)
        ax.set_xlabel("hidden layers copied from the pretrained network, n")
        ax.set_ylabel("target test accuracy (fraction)")
        ax.set_title(f"k = {label} labels per class", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.subplots_adjust(top=0.82)
    fig.suptitle(
        f"Layer by layer ({d.name}): copy the first n layers, then freeze them or fine-tune them\n"
        f"n = 0 is scratch; mean and 95% CI over {p['n_seeds']} seeds",
        fontsize=10,
    )
    caption = (
        "Yosinski et al.'s experiment at our scale: a frozen curve that falls with n means the "
        "copied layers are specific to the source task; fine-tuning recovers what freezing loses."
    )
    return fig, caption


def _gap_text(v: Verdict, i: int) -> str:
    n = v.numbers
    return (
        f"{n['gap_mean'][i]:+.3f} (95% CI {n['gap_ci_low'][i]:+.3f} to {n['gap_ci_high'][i]:+.3f})"
    )


def _headline(parts) -> str:
    main = [v for v in parts if ":" not in v.claim]
    k = main[0].numbers["k"][0]
    return f"fine-tuned minus scratch at k={k:g}: " + "; ".join(
        f"{v.claim} {_gap_text(v, 0)}" for v in main
    )


def _notes(parts) -> list[str]:
    notes = []
    for v in parts:
        n = v.numbers
        if ":" in v.claim:
            notes.append(
                f"{v.claim}: frozen pretrained features {n['frozen_mean']:.3f} against frozen "
                f"random features {n['random_mean']:.3f} at the smallest k ({v.verdict})."
            )
            continue
        catch, leads = n["catch_up_k"], n["scratch_leads_at_k"]
        if catch is None:
            where = "scratch never catches up within the sweep"
        elif catch == n["k"][0]:
            where = "fine-tuning never leads beyond the CI"
        else:
            where = f"scratch catches up at k = {catch:g}"
        if leads:
            where += f"; scratch leads beyond the CI at k = {', '.join(f'{k:g}' for k in leads)}"
        notes.append(
            f"{v.claim}: at k = {n['k'][0]:g} fine-tuned {n['fine_tuned_mean'][0]:.3f} against "
            f"scratch {n['scratch_mean'][0]:.3f}, gap {_gap_text(v, 0)}; at the largest k gap "
            f"{_gap_text(v, -1)}; {where} ({v.verdict})."
        )
    notes += [
        "The literature's gains come from pretraining on ImageNet (1.2 million images, 1000 "
        "classes); here the digits source is about 630 images of 5 classes, so its features can "
        "be specific to those classes rather than general, which is what Yosinski et al. found "
        "for the upper layers of networks trained on dissimilar halves of ImageNet.",
        "Every variant uses one recipe (Adam, lr 0.01, full batch, the same epochs); no "
        "per-method tuning such as a smaller fine-tuning learning rate or a linear probe before "
        "fine-tuning, either of which could change small gaps.",
        "On the shifted moons the target is an exact linear change of the input (rotation and "
        "scale), which only the first layer needs to absorb; there the head is fine-tuned too, "
        "since the labels mean the same in both tasks.",
        "No real pretrained model: the usual sources (torchvision, timm, Hugging Face) download "
        "their weights at run time, which whydl may not do, and whydl does not depend on them.",
    ]
    return notes


CLAIM = TransferClaim()
