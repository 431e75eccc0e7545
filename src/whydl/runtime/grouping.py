"""Calls that differ only in per-member values train as one stack.

A sweep often sends the same network, data and schedule at several learning rates (or
weight decays, or momenta): five calls of ten seeds each. The engine can train them as one
call of fifty members, each with its own value (`fit(member_lr=..., member_seeds=...)`), and
each member is exactly what it would be alone, so its rows carry the key its own call gives
it. `group_jobs` finds such jobs and merges them; the cache splits the merged result back,
each call's rows stored under its own keys.

What may differ between grouped calls: the fields of `MEMBER_VALUES` (lr, weight_decay,
momentum, and the model's dropout) and the seeds. Everything else (dataset, the rest of the
model, schedule, recorders, frozen layers) must be equal, and calls with ready-made members
or their own rows are left alone.

Example
-------
>>> from whydl.data import article_moons
>>> from whydl.config import ModelConfig, TrainConfig
>>> from whydl.runtime.jobs import Job
>>> ds, model = article_moons(), ModelConfig()
>>> jobs = [Job(f"lr {lr}", ds, model, TrainConfig(lr=lr, n_seeds=3), {}, [{}] * 3)
...         for lr in (0.01, 0.1)]
>>> [(g.job.name, g.job.train.n_seeds, g.slices) for g in group_jobs(jobs)]
[('lr 0.01 + lr 0.1', 6, [(0, 0, 3), (1, 3, 6)])]
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from whydl.runtime.jobs import Job
from whydl.store import MEMBER_VALUES, MODEL_VALUES

# a merged stack stays small enough to gain: beyond this many members the step is bound by
# arithmetic, and a call's own members already fill it
MAX_GROUP_MEMBERS = 256
# hooks that give members their own weights or rows: such calls train alone
ALONE_HOOKS = ("members", "train_rows", "test_rows", "callback", "member_seeds")


@dataclasses.dataclass
class Group:
    """One job to run, and for each job it stands for: (its index, its first member in the
    result, one past its last)."""

    job: Job
    slices: list[tuple[int, int, int]]


def group_key(job: Job) -> str | None:
    """Equal for jobs that may train as one stack; None for a job that trains alone."""
    if job.part or job.local_only or any(job.hooks.get(h) is not None for h in ALONE_HOOKS):
        return None
    unknown = set(job.hooks) - {"frozen", *MEMBER_VALUES}
    if unknown:  # a hook this module does not know how to merge
        return None
    train, model = dataclasses.asdict(job.train), dataclasses.asdict(job.model)
    for field in ("seed", "n_seeds", *MEMBER_VALUES.values()):  # what may differ
        (model if field in MODEL_VALUES else train).pop(field)
    return json.dumps(
        [
            id(job.dataset),  # one object: calls of one sweep share their dataset
            model,
            train,
            sorted(job.hooks.get("frozen") or ()),
            [r.spec(job.train) for r in job.recorders],
            job.claim,
            job.cache_version,
        ],
        sort_keys=True,
        default=list,
    )


def _values(job: Job, hook: str) -> list[float]:
    """The job's per-member values of `hook`: its own, or its config's one, repeated."""
    given = job.hooks.get(hook)
    if given is not None:
        return [float(v) for v in np.asarray(given).tolist()]
    field = MEMBER_VALUES[hook]
    config = job.model if field in MODEL_VALUES else job.train
    return [float(getattr(config, field))] * job.train.n_seeds


def merge(jobs: list[Job]) -> Job:
    """One job training every member of `jobs` (equal `group_key`s) as one stack."""
    first = jobs[0]
    seeds = [s for job in jobs for s in job.train.seeds]
    hooks: dict = {"member_seeds": seeds}
    if first.hooks.get("frozen"):
        hooks["frozen"] = first.hooks["frozen"]
    for hook in MEMBER_VALUES:
        values = [v for job in jobs for v in _values(job, hook)]
        if len(set(values)) > 1:  # one value for all: the config's, as one float
            hooks[hook] = values
    # values all jobs share stay in the configs, as floats (the fused optimiser step)
    shared = {MEMBER_VALUES[h]: _values(first, h)[0] for h in MEMBER_VALUES if h not in hooks}
    in_model = {f: v for f, v in shared.items() if f in MODEL_VALUES}
    in_train = {f: v for f, v in shared.items() if f not in MODEL_VALUES}
    train = dataclasses.replace(first.train, seed=seeds[0], n_seeds=len(seeds), **in_train)
    model = dataclasses.replace(first.model, **in_model)
    return dataclasses.replace(
        first,
        name=" + ".join(job.name for job in jobs),
        model=model,
        train=train,
        hooks=hooks,
        specs=[spec for job in jobs for spec in job.specs],
        part=True,  # keep the stack when one call's members all diverge: each call decides
    )


def group_jobs(jobs: list[Job], max_members: int = MAX_GROUP_MEMBERS) -> list[Group]:
    """`jobs` as groups: jobs with one `group_key` merged (in order, up to `max_members`
    members a group), every other job alone."""
    groups: list[Group] = []
    open_groups: dict[str, list[int]] = {}  # key -> indices of jobs gathered so far
    order: list[tuple[str | None, list[int]]] = []
    for k, job in enumerate(jobs):
        key = group_key(job)
        members = job.train.n_seeds
        if key is None or members >= max_members:
            order.append((None, [k]))
            continue
        gathered = open_groups.get(key)
        if (
            gathered is not None
            and sum(jobs[i].train.n_seeds for i in gathered) + members <= max_members
        ):
            gathered.append(k)
            continue
        open_groups[key] = [k]
        order.append((key, open_groups[key]))
    for _, indices in order:
        if len(indices) == 1:
            k = indices[0]
            groups.append(Group(jobs[k], [(k, 0, jobs[k].train.n_seeds)]))
            continue
        members = [jobs[k] for k in indices]
        slices, start = [], 0
        for k in indices:
            n = jobs[k].train.n_seeds
            slices.append((k, start, start + n))
            start += n
        groups.append(Group(merge(members), slices))
    return groups
