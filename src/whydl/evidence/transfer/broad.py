"""Transfer from a broad source (deciding since issue 16): the SmallCNN pretrained on
procedurally generated glyphs (`whydl.data.glyphs`: 24 classes of strokes, arcs and corners
under random affine maps, 20,000 images made at run time), then all ten digits learnt from
k labels per class, as ImageNet pretraining is used for a small labelled target.

The target is learnt four ways, each with its OWN learning rate, chosen on the selection
seeds from its grid (GRIDS; the mean test accuracy over SELECTION_KS, on the selection seeds' own
pretraining, splits and labels); the evaluation seeds never take part in the choice:
- scratch: a fresh CNN, every layer trained;
- fine-tuned: the pretrained convolutions and a new head, every layer trained;
- frozen (a linear probe): a new linear head on the frozen pretrained features;
- random frozen: a new linear head on the frozen features of a random CNN (Yosinski et
  al.'s control), initialised as scratch is (seed FRESH_SEED_OFFSET + s).
A frozen network's features do not change, so the two frozen methods train their head on
the features computed once (`feature_pool`): the same model as a CNN with frozen
convolutions, at the cost of a logistic regression.

Pretraining follows one recipe fixed before any digit is seen (PRETRAIN_LR, PRETRAIN_BATCH,
the preset's `glyphs_pretrain_epochs`); every seed, selection or evaluation, pretrains its
own network on the one glyph set (its own initialisation and shuffling).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from whydl.config import ModelConfig, TrainConfig
from whydl.data import Dataset
from whydl.engine import build_members
from whydl.engine.device import torch_threads
from whydl.evidence.calls import TrainCall
from whydl.evidence.transfer.domains import DomainData, DomainSpec, domain_data, k_levels
from whydl.evidence.transfer.experiments import DomainExperiment
from whydl.evidence.transfer.sweep import (
    FRESH_SEED_OFFSET,
    PRETRAIN,
    final_accuracy,
    fresh_member,
    k_rows,
    pretrained_states,
    spec_row,
)
from whydl.evidence.transfer.table import FINE_TUNED, FROZEN, RANDOM, SCRATCH

NAME = "glyphs to digits (CNN)"
PRETRAIN_LR, PRETRAIN_BATCH = 0.003, 128  # the pretraining recipe, fixed in advance
# Adam's learning rate, each method its own from its grid, chosen on selection seeds. Full
# runs' selections (3 seeds) put the CNN's best at 0.01 and the heads' at 0.01-0.03
# (pretrained features) and 0.3 (random ones, whose features are smaller), so each grid
# holds its best inside; 0.001 lost by 10-30 points for every method
CNN_GRID = (0.003, 0.01, 0.03)
HEAD_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
SELECTION_KS = (1, 5, 20)  # the k values the choice averages over (few labels to many)
TRAINED = (SCRATCH, FINE_TUNED)  # the CNN trains end to end
PROBED = (FROZEN, RANDOM)  # a linear head on frozen features
METHODS = TRAINED + PROBED
TARGET_BATCH = 128  # images per target step, at most (fewer labels: one full batch)
GRIDS = {SCRATCH: CNN_GRID, FINE_TUNED: CNN_GRID, FROZEN: HEAD_GRID, RANDOM: HEAD_GRID}


def glyph_spec(params: dict) -> DomainSpec:
    return DomainSpec(NAME, "glyphs", architecture="cnn", glyph_samples=params["glyph_samples"])


def glyph_pretrain_call(data: DomainData, seeds, epochs: int) -> TrainCall:
    """One CNN per seed on the shared glyph set; member m is seed seeds[m]."""
    seeds = tuple(seeds)
    train = TrainConfig(
        seed=seeds[0], n_seeds=len(seeds), epochs=epochs, lr=PRETRAIN_LR, batch_size=PRETRAIN_BATCH
    )
    tag = f"transfer {NAME}: pretrain"
    return TrainCall(data.source.pool, data.spec.model, train, tag, data.source.hooks)


def networks(data: DomainData, states, seeds, method: str) -> list[torch.nn.Module]:
    """Seed by seed, the network a method starts from: pretrained convolutions (fine-tuned,
    frozen) or none copied (scratch, random frozen), and a new head seeded 1000 + s."""
    copied = data.spec.n_layers if method in (FINE_TUNED, FROZEN) else 0
    return [fresh_member(data.spec, data, states, m, s, copied, False) for m, s in enumerate(seeds)]


@torch.no_grad()
def feature_pool(data: DomainData, nets) -> tuple[Dataset, np.ndarray]:
    """The target pool as each network's last conv features, stacked network by network:
    (the pooled dataset, (M,) the first row of each network's block)."""
    pool = data.target.pool
    X = torch.as_tensor(pool.X_train, dtype=torch.float32)  # the pool: every seed's rows
    blocks = [net.eval().features(X)[-1].numpy() for net in nets]  # each (n_pool, features)
    n = len(pool.X_train)
    features = np.concatenate(blocks).astype(np.float32)
    y = np.tile(pool.y_train, len(nets))
    dataset = Dataset(
        name=f"{pool.name} features",
        X_train=features,
        y_train=y,
        X_test=features,
        y_test=y,
        task=pool.task,
        n_classes=pool.n_classes,
    )
    return dataset, np.arange(len(nets)) * n


def schedule(n_rows: int, steps: int) -> tuple[int, int]:
    """(batch size, epochs) for `steps` Adam steps on n_rows labels: full batch when they fit
    in TARGET_BATCH images, else batches of TARGET_BATCH for as many epochs as the steps
    take. Every k gets the same number of steps, so the largest k costs a few epochs rather
    than `steps` passes over every label."""
    if n_rows <= TARGET_BATCH:
        return 0, steps
    return TARGET_BATCH, math.ceil(steps / math.ceil(n_rows / TARGET_BATCH))


def layout_of(kind, rates: dict, seeds) -> list[tuple[str, float, int]]:
    """(method, lr, seed) of every member of one packed call, in member order."""
    return [(method, lr, s) for method in kind for lr in rates[method] for s in seeds]


def packed_call(data: DomainData, states, seeds, k, kind, rates: dict, steps: int):
    """One TrainCall at one k for every (method, learning rate) of `kind` (TRAINED or
    PROBED), seed by seed: `rates` maps method -> its rates; each member trains at its own
    rate (`member_lr`), as if alone. Returns (call, layout), layout[i] = (method, lr, seed)."""
    seeds = tuple(seeds)
    rows = k_rows(data, k, seeds)
    layout = layout_of(kind, rates, seeds)
    where = {s: m for m, s in enumerate(seeds)}  # seed -> its pretrained network and test rows
    train_rows = np.stack([rows[s] for _, _, s in layout])
    test_rows = np.stack([data.target.test_rows[where[s]] for _, _, s in layout])
    what = ", ".join(f"{m} lr={'/'.join(f'{lr:g}' for lr in rates[m])}" for m in kind)
    tag = f"transfer {NAME} k={k.label}: {what}"
    batch, epochs = schedule(train_rows.shape[1], steps)
    train = TrainConfig(n_seeds=len(layout), epochs=epochs, batch_size=batch)  # lr: member_lr
    hooks = {"member_lr": [lr for _, lr, _ in layout]}
    nets = {m: networks(data, states, seeds, m) for m in kind}
    if kind == TRAINED:
        members = [nets[m][where[s]] for m, _, s in layout]
        hooks |= {"members": members, "train_rows": train_rows, "test_rows": test_rows}
        return TrainCall(data.target.pool, data.spec.model, train, tag, hooks), layout
    blocks = [(m, s) for m in kind for s in seeds]  # one feature block per network
    dataset, offsets = feature_pool(data, [nets[m][where[s]] for m, s in blocks])
    offset = np.array([offsets[blocks.index((m, s))] for m, _, s in layout])[:, None]
    head = ModelConfig(hidden=())
    heads = build_members(dataset, head, [FRESH_SEED_OFFSET + s for _, _, s in layout])
    hooks |= {"members": heads, "train_rows": train_rows + offset, "test_rows": test_rows + offset}
    return TrainCall(dataset, head, train, tag, hooks), layout


def accuracy_by(layout, fit) -> dict:
    """(method, lr, seed) -> final test accuracy of one packed call."""
    return dict(zip(layout, final_accuracy(fit, len(layout))))


def sweep(ctx, data: DomainData, states, seeds, ks, rates: dict, steps: int):
    """Every packed call at every k of `ks`, both kinds, trained in one `fit_many`:
    {(kind, k label): fit} and {(kind, k label): layout}."""
    calls = {
        (kind, k.label): packed_call(data, states, seeds, k, kind, rates, steps)
        for k in k_levels(ks, data.target.member(0))
        for kind in (TRAINED, PROBED)
    }
    fits = ctx.fit_many({key: call for key, (call, _) in calls.items()}, errors="return")
    return fits, {key: layout for key, (_, layout) in calls.items()}


def chosen_rates(chosen: dict) -> dict:
    """method -> (its chosen rate,): the evaluation's one rate per method, as `rates`."""
    return {method: (chosen["lr"][method],) for method in METHODS}


def best_lr(scores: dict) -> float:
    """The learning rate (a key of `scores`) with the highest mean selection accuracy (a
    diverged one: never; ties: the smaller rate)."""
    return max(scores, key=lambda lr: (np.nan_to_num(scores[lr], nan=-1.0), -lr))


def pretrain(ctx, data: DomainData, seeds, params):
    fit = ctx.fit_many([glyph_pretrain_call(data, seeds, params["glyphs_pretrain_epochs"])])[0]
    return fit, pretrained_states(fit, len(seeds))


class BroadSourceExperiment(DomainExperiment):
    """Glyphs to digits: pretrain, choose each method's lr on selection seeds, then learn
    the digits at every k on the evaluation seeds (figures and notes: a domain's)."""

    selects = True

    def __init__(self, params: dict, deciding: bool = True):
        super().__init__(glyph_spec(params), params, deciding)

    def select(self, ctx, params, seeds):
        seeds = tuple(seeds)
        with torch_threads(1):  # tiny steps: a second thread only spin-waits (see experiments)
            data = domain_data(self.spec, seeds)
            ctx.log(f"transfer: pretraining {NAME} (selection seeds)")
            fit, states = pretrain(ctx, data, seeds, params)
            fits, layouts = sweep(
                ctx, data, states, seeds, SELECTION_KS, GRIDS, params["glyphs_steps"]
            )
        accuracy = {}
        for key, layout in layouts.items():
            accuracy |= {(*where, key[1]): a for where, a in accuracy_by(layout, fits[key]).items()}
        scores = {
            method: {
                lr: float(
                    np.nanmean([a for (m, r, *_), a in accuracy.items() if (m, r) == (method, lr)])
                )
                for lr in GRIDS[method]
            }
            for method in METHODS
        }
        return {
            "lr": {method: best_lr(scores[method]) for method in METHODS},
            "selection_accuracy": {
                method: {f"{lr:g}": round(v, 4) for lr, v in by_lr.items()}
                for method, by_lr in scores.items()
            },
            "selection_pretrain_accuracy": round(
                float(np.nanmean(final_accuracy(fit, len(seeds)))), 4
            ),
        }

    def train(self, ctx, params, seeds, chosen):
        seeds = tuple(seeds)
        rates = chosen_rates(chosen)
        with torch_threads(1):
            data = domain_data(self.spec, seeds)
            ctx.log(f"transfer: pretraining {NAME}")
            fit, states = pretrain(ctx, data, seeds, params)
            fits, _ = sweep(ctx, data, states, seeds, params["ks"], rates, params["glyphs_steps"])
        return {PRETRAIN: fit, **fits}

    def rows(self, run):
        seeds = tuple(run.plan.evaluation)
        data = domain_data(self.spec, seeds)
        rates = chosen_rates(run.chosen)
        out = []
        for k in k_levels(run.params["ks"], data.target.member(0)):
            for kind in (TRAINED, PROBED):
                layout = layout_of(kind, rates, seeds)
                for (method, _, s), value in accuracy_by(layout, run.fits[kind, k.label]).items():
                    copied = 0 if method == SCRATCH else self.spec.n_layers
                    out.append(spec_row(self.spec, s, method, copied, k, value))
        return out

    def notes(self, run):
        chosen = ", ".join(
            f"{m} {lr:g}" + (" (an edge of its grid)" if lr in (GRIDS[m][0], GRIDS[m][-1]) else "")
            for m, lr in run.chosen["lr"].items()
        )
        return [
            *super().notes(run),
            f"{NAME}: each method's Adam learning rate, chosen on the selection seeds "
            f"{run.plan.selection[0]}..{run.plan.selection[-1]} (mean accuracy over k = "
            f"{', '.join(map(str, SELECTION_KS))}) from {list(CNN_GRID)} for the CNN and "
            f"{list(HEAD_GRID)} for a head on frozen features: {chosen}. Their glyph networks "
            f"reached {run.chosen['selection_pretrain_accuracy']:.3f} on held-out glyphs.",
        ]
