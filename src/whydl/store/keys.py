"""What determines a stored member, hashed into its key.

A member is determined by the dataset's bytes, the `ModelConfig`, the `TrainConfig` (less
`seed` and `n_seeds`, which only say *which* members a call trains), the `frozen` names, the
member's initial weights (`members` hook) and training rows (`train_rows` hook) when a call
passes them, the call's recorders (what it measures while it trains, as their plain-JSON
specs) when it has any, and its seed. `member_key` hashes all but the seed; the store's
UNIQUE (key, seed) constraint keeps each member once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

# Bump when the engine's numbers change for the same config, so old members are not reused.
# 2: a member whose training loss grows 1000-fold over its initial loss counts as diverged.
# 3: fused optimiser kernels and feature-major MLP products: the same members to float
#    rounding, not bit for bit.
CACHE_VERSION = 3

# engine.fit hooks that change what a member becomes: each is part of the member's key
# (a call's recorders are part of it too, as a field of the call, not as a hook)
# the engine's per-member hyperparameters (`fit(member_lr=...)`), by the config field each
# replaces: a member's key is the key it would have trained alone with its own value
MEMBER_VALUES = {
    "member_lr": "lr",
    "member_weight_decay": "weight_decay",
    "member_momentum": "momentum",
    "member_dropout": "dropout",
}
MODEL_VALUES = {"dropout"}  # those fields of ModelConfig; the others are TrainConfig's
# per-member values with no config field: a member's spec holds its value under the name, and
# only where it is not the default (so a member without it keeps the key it always had)
SPEC_VALUES = {"member_init_scale": ("init_scale", 1.0), "member_label_noise": ("label_noise", 0.0)}
PER_MEMBER_HOOKS = (*MEMBER_VALUES, *SPEC_VALUES)  # hooks with one value per member
KEYED_HOOKS = {"members", "frozen", "train_rows", "test_rows", *PER_MEMBER_HOOKS}


# -- keys ------------------------------------------------------------------------------------
def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.hexdigest()


def dataset_fingerprint(dataset) -> str:
    """sha256 of the split arrays' bytes, dtypes and shapes, plus the task: two datasets with
    the same fingerprint train identical members whatever their names."""

    h = hashlib.sha256()
    for a in (dataset.X_train, dataset.y_train, dataset.X_test, dataset.y_test):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    meta = [dataset.task, dataset.n_classes, list(dataset.image_shape or ())]
    h.update(json.dumps(meta).encode())
    return h.hexdigest()


def state_hash(module) -> str:
    """sha256 of a module's state_dict (names, dtypes, shapes, values)."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def rows_hash(rows) -> str:
    """sha256 of one member's training-row indices (the engine's `train_rows` hook)."""

    return _sha(np.ascontiguousarray(rows, dtype=np.int64).tobytes())


def member_rows(train_rows, test_rows=None):
    """Each member's rows as one array for its key: its training rows, then (when a call
    gives `test_rows`, a per-member test draw) -1 and its test rows. A call without
    `test_rows` keeps the key it always had."""
    if train_rows is None or test_rows is None:
        return train_rows
    return [np.concatenate([t, [-1], v]) for t, v in zip(train_rows, test_rows)]


def config_spec(dataset, model, train, frozen=(), init=None, rows=None, recorders=()) -> dict:
    """What determines a member except its seed, as a JSON-ready dict. `init` and `rows` are
    hashes of the member's initial weights and training rows, when a call passes them;
    `recorders` the specs (plain JSON dicts, `Recorder.spec`) of what the call records.
    Without recorders the spec has no such field: a plain call keeps the key it always had."""
    t = dataclasses.asdict(train)
    del t["seed"], t["n_seeds"]  # which members, not how they train
    spec = {
        "cache_version": CACHE_VERSION,
        "dataset": dataset_fingerprint(dataset),
        "model": dataclasses.asdict(model),
        "train": t,
        "frozen": sorted(frozen),
        "init": init,
        "train_rows": rows,
    }
    if recorders:  # in a canonical order: the order a call lists them in does not matter
        spec["recorders"] = sorted(recorders, key=lambda r: json.dumps(r, sort_keys=True))
    return spec


def member_key(spec: dict) -> str:
    return _sha(json.dumps(spec, sort_keys=True, default=list).encode())


def member_specs(
    dataset, model, train, frozen=(), members=None, train_rows=None, recorders=(), values=None
) -> list[dict]:
    """One spec per seed of `train.seeds` (they differ when `members` or `train_rows`, one
    entry per member, are given). `recorders`: the call's recorder specs, as in `config_spec`;
    `values`: the call's per-member hyperparameters ({hook: one value per member}, hooks of
    MEMBER_VALUES), each member's spec then holding its own value in place of the config's."""
    n = train.n_seeds
    inits = [state_hash(m) for m in members] if members is not None else [None] * n
    rows = [rows_hash(r) for r in train_rows] if train_rows is not None else [None] * n
    given = {
        MEMBER_VALUES[k]: v
        for k, v in (values or {}).items()
        if v is not None and k in MEMBER_VALUES
    }
    own = lambda config, m, fields: dataclasses.replace(  # noqa: E731
        config, **{f: float(v[m]) for f, v in given.items() if f in fields}
    )
    train_fields = set(given) - MODEL_VALUES
    trains = [own(train, m, train_fields) for m in range(n)]
    models = [own(model, m, MODEL_VALUES) for m in range(n)]
    specs = [
        config_spec(dataset, md, t, frozen, i, r, recorders)
        for md, t, i, r in zip(models, trains, inits, rows)
    ]
    for hook, (name, default) in SPEC_VALUES.items():
        given_values = (values or {}).get(hook)
        for m, spec in enumerate(specs if given_values is not None else ()):
            if float(given_values[m]) != default:
                spec[name] = float(given_values[m])
    return specs


def run_id(keys, seeds) -> str:
    """The id shared by the members one training call wrote."""
    return _sha(",".join(f"{k}:{s}" for k, s in zip(keys, seeds)).encode())[:12]
