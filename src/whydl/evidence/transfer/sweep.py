"""The transfer sweep as training calls: pretrain one network per seed on the source, then
learn the target at every k in four ways (and, on the MLP digits, layer by layer).

Variants of one k that share a set of frozen layers train in ONE call, `members` packed seed
by seed (`layout`): scratch; fine-tuned with the first n layers copied; frozen pretrained
layers with a new head; frozen random layers with a new head (Yosinski et al.'s control).
Member i of such a call is therefore not seed i: `layout` says which seed and variant it
is, and its own k labels per class (`train_rows`) and test rows (`test_rows`) are those of
that seed's data draw. The new layers of seed s are initialised with seed
FRESH_SEED_OFFSET + s, so scratch and the random control of a seed start from one draw.
"""

from __future__ import annotations

import numpy as np
import torch

from whydl.config import TrainConfig
from whydl.data.subsets import sample_per_class
from whydl.engine import build_members
from whydl.engine.tasks import metric, prepare_targets
from whydl.evidence.calls import TrainCall
from whydl.evidence.transfer.domains import DomainData, DomainSpec, KLevel
from whydl.evidence.transfer.table import FINE_TUNED, FROZEN, RANDOM, SCRATCH, ZERO_SHOT, row

LR = 0.01  # Adam, for pretraining and for every target variant alike (not tuned per method)
PRETRAIN_BATCH = 32
FRESH_SEED_OFFSET = 1000  # new layers of seed s are initialised with seed 1000 + s
PRETRAIN = "pretrain"


# moving layers between networks -----------------------------------------------------------


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


# pretraining ------------------------------------------------------------------------------


def pretrain_call(data: DomainData, seeds, epochs: int) -> TrainCall:
    """One network per seed on its own source rows; member m is seed seeds[m]."""
    seeds = tuple(seeds)
    if seeds != tuple(range(seeds[0], seeds[0] + len(seeds))):
        raise ValueError(f"seeds {seeds} are not consecutive; a call trains seeds s..s+n-1.")
    train = TrainConfig(
        seed=seeds[0], n_seeds=len(seeds), epochs=epochs, lr=LR, batch_size=PRETRAIN_BATCH
    )
    tag = f"transfer {data.spec.name}: pretrain"
    return TrainCall(data.source.pool, data.spec.model, train, tag, data.source.hooks)


def final_accuracy(fit, n: int) -> np.ndarray:
    """(n,) test accuracy at the last epoch; NaN for diverged members, and for all n when the
    whole call diverged (a `DivergedError` in place of its fit)."""
    if isinstance(fit, Exception):
        return np.full(n, np.nan)
    return np.where(fit.ok, fit.history.val_metric[:, -1], np.nan).astype(float)


def pretrained_states(fit, n: int) -> list[dict]:
    """The pretrained weights of each seed (member order)."""
    return [fit.stack.state_dict(i) for i in range(n)]


@torch.no_grad()
def zero_shot(fit, data: DomainData) -> np.ndarray:
    """(M,) accuracy of each pretrained network on its own seed's target test rows, before
    it sees any target label (only where the labels mean the same in both tasks)."""
    target = data.target
    X = torch.as_tensor(target.pool.X_test[target.test_rows], device=fit.stack.device)
    y = target.pool.y_test[target.test_rows]  # (M, n_test)
    flat = prepare_targets(y.reshape(-1), target.pool.task, fit.stack.device)
    y = flat.view(*y.shape, *flat.shape[1:])
    out = fit.stack.forward(X, train=False)
    return metric(out, y, target.pool.task).cpu().numpy().astype(float)


# the target sweep -------------------------------------------------------------------------


def variant_groups(spec: DomainSpec) -> list[tuple[int, list[tuple[str, int, bool, bool]]]]:
    """[(layers frozen, [(method, layers copied, from pretrained?, head copied?)])]: one
    engine call per entry. Scratch and fine-tuning freeze nothing; frozen pretrained and
    frozen random layers of each depth n share a call."""
    L = spec.n_layers
    depths = range(1, L + 1) if spec.layer_sweep else (L,)
    unfrozen = [(SCRATCH, 0, False, False)]
    unfrozen += [(FINE_TUNED, n, True, spec.copy_head and n == L) for n in depths]
    groups = [(0, unfrozen)]
    groups += [(n, [(FROZEN, n, True, False), (RANDOM, n, False, False)]) for n in depths]
    return groups


def layout(variants, seeds) -> list[tuple[int, str, int]]:
    """(seed, method, layers copied) of every member of one call, seed by seed."""
    return [(s, method, n) for s in seeds for method, n, _, _ in variants]


def call_key(k: KLevel, n_frozen: int) -> str:
    return f"k={k.label} frozen={n_frozen}"


def k_rows(data: DomainData, k: KLevel, seeds) -> dict[int, np.ndarray]:
    """Seed s -> its k labels per class, as rows of the target pool (its own draw)."""
    target, out = data.target, {}
    for m, s in enumerate(seeds):
        own = target.train_rows[m]
        if k.is_all:
            out[s] = own
        else:
            out[s] = own[sample_per_class(target.member(m).y_train, k.value, seed=s)]
    return out


def fresh_member(spec: DomainSpec, data: DomainData, states, m: int, seed: int, n: int, head):
    """A fresh network of seed FRESH_SEED_OFFSET + seed with the first `n` layers (and the
    head, with `head`) taken from pretrained network m."""
    fresh = build_members(data.target.pool, spec.model, [FRESH_SEED_OFFSET + seed])[0]
    layers = spec.layers[:n] + (("out",) if head else ())
    return copy_layers(states[m], fresh, layers) if layers else fresh


def k_calls(data: DomainData, states, k: KLevel, seeds, epochs: int) -> dict[str, TrainCall]:
    """Every variant at one k: {call_key: TrainCall}, members as `layout` lists them."""
    spec, seeds = data.spec, tuple(seeds)
    rows = k_rows(data, k, seeds)
    calls = {}
    for n_frozen, variants in variant_groups(spec):
        members, train_rows, test_rows = [], [], []
        for m, s in enumerate(seeds):
            for _method, n, pretrained, head in variants:
                members.append(fresh_member(spec, data, states, m, s, n if pretrained else 0, head))
                train_rows.append(rows[s])
                test_rows.append(data.target.test_rows[m])
        hooks = {
            "members": members,
            "frozen": layer_parameters(members[0], spec.layers[:n_frozen]),
            "train_rows": np.stack(train_rows),
            "test_rows": np.stack(test_rows),
        }
        # full batch: the member index only names the member (no shuffling to seed)
        train = TrainConfig(n_seeds=len(members), epochs=epochs, lr=LR, batch_size=0)
        what = ", ".join(f"{method} {n}" for method, n, _, _ in variants)
        tag = f"transfer {spec.name} k={k.label}: {what}"
        calls[call_key(k, n_frozen)] = TrainCall(data.target.pool, spec.model, train, tag, hooks)
    return calls


# from fits to tidy rows -------------------------------------------------------------------


def spec_row(spec: DomainSpec, seed: int, method: str, n: int, k: KLevel, value) -> dict:
    whole = spec.copy_head and n == spec.n_layers and method in (FINE_TUNED, ZERO_SHOT)
    head = "copied" if whole else "new"
    return row(spec.name, seed, method, n, k.value, k.label, value, head)


def sweep_rows(data: DomainData, fits: dict, ks: list[KLevel], seeds) -> list[dict]:
    """One row per seed, variant and k (and the zero-shot score, where there is one)."""
    spec, seeds = data.spec, tuple(seeds)
    out = []
    if spec.copy_head and not isinstance(fits[PRETRAIN], Exception):
        values = zero_shot(fits[PRETRAIN], data)
        none = KLevel(0, "0")
        out += [spec_row(spec, s, ZERO_SHOT, spec.n_layers, none, v) for s, v in zip(seeds, values)]
    for k in ks:
        for n_frozen, variants in variant_groups(spec):
            members = layout(variants, seeds)
            values = final_accuracy(fits[call_key(k, n_frozen)], len(members))
            out += [spec_row(spec, s, m, n, k, v) for (s, m, n), v in zip(members, values)]
    return out
