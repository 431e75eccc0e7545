"""The cache in front of training: every member is looked up in the results store, and only
what is missing is trained, by an executor (this process, or Dask).

For each call, the members of `train.seeds` are looked up by (member_key, seed). When all are
stored, the `Fit` is rebuilt from the store and nothing trains. Otherwise the contiguous span
of seeds that covers the missing ones becomes a job (with the matching slice of per-member
hooks); its new members are written in ONE transaction, and the `Fit` is assembled from the
store. A member is what it would be if trained alone (the engine's guarantee), so the result
equals a fresh run's. A call's recorders (what it measures while it trains) are part of its
members' keys, and their records are stored and replayed with the members.

Example
-------
>>> from whydl.store import Store
>>> from whydl.data import article_moons
>>> from whydl.config import ModelConfig, TrainConfig
>>> ctx = CachedContext(Store(":memory:"))
>>> _ = ctx.fit(article_moons(), ModelConfig(), TrainConfig(epochs=2, n_seeds=2))
>>> _ = ctx.fit(article_moons(), ModelConfig(), TrainConfig(epochs=2, n_seeds=2))
>>> ctx.n_fits, ctx.n_cached  # trained once; the second call came from the store
(1, 2)
"""

from __future__ import annotations

import dataclasses

from whydl.engine import fit as engine_fit
from whydl.errors import DivergedError
from whydl.evidence.calls import Context, TrainCall
from whydl.runtime.codec import rebuild_fit
from whydl.runtime.grouping import group_jobs
from whydl.runtime.jobs import Diverged, Job, SweepFailed
from whydl.runtime.local import LocalExecutor
from whydl.runtime.split import join_parts, member_cost, split_spans
from whydl.store import (
    CACHE_VERSION,
    KEYED_HOOKS,
    PER_MEMBER_HOOKS,
    MissingResults,
    Store,
    member_key,
    member_rows,
)
from whydl.store import member_specs as store_specs


@dataclasses.dataclass
class _Plan:
    """A call with members to train: the contiguous span of seeds that covers them."""

    call: TrainCall
    specs: list
    found: dict  # index -> stored row
    lo: int
    hi: int

    @property
    def n(self) -> int:
        """Members in the span."""
        return self.hi - self.lo + 1

    @property
    def span(self):
        train = self.call.train
        return dataclasses.replace(train, seed=train.seeds[self.lo], n_seeds=self.n)

    @property
    def local_only(self) -> bool:
        """A recorder measures the machine (wall-clock time): train the call here."""
        return any(r.local_only for r in self.call.recorders)

    @property
    def hooks(self) -> dict:
        hooks = {k: v for k, v in self.call.hooks.items() if k != "progress"}
        for name in ("members", "train_rows", "test_rows", *PER_MEMBER_HOOKS):  # the span's
            if hooks.get(name) is not None:
                hooks[name] = hooks[name][self.lo : self.hi + 1]
        return hooks

    def part(self, a: int, b: int) -> _Plan:
        return _Plan(self.call, self.specs, self.found, self.lo + a, self.lo + b)

    def cost(self) -> float:
        rows = self.call.hooks.get("train_rows")
        n_rows = None if rows is None else len(rows[self.lo])
        return member_cost(self.call.dataset, self.call.model, self.call.train, n_rows)


def _groups(executor) -> bool:
    """Whether calls may be grouped into one stack: only when they train here, one after the
    other, with the engine's own `fit` (on a cluster separate jobs run side by side, and a
    stand-in `fit` need not know the engine's hooks)."""
    return isinstance(executor, LocalExecutor) and executor.fit in (None, engine_fit)


class CachedContext(Context):
    """A `Context` whose `fit` trains only what `store` lacks, on `executor`.

    `executor` is a `LocalExecutor` (default: this process, with `fit` as the training
    function when given) or a `DaskExecutor`; either way the rows come back here and this
    process alone writes the store. With the executor's `split`, a call that would hold up
    the sweep is cut into parts (`whydl.runtime.split`).

    Calls with recorders (`whydl.engine.recorders`) are stored and replayed like any other,
    their records with them. Those whose recorders measure this machine (`local_only`:
    wall-clock time) train in this process whatever the executor, after the executor's
    jobs (so no worker of a local cluster competes for the cores while they are timed).

    Calls with a `callback` hook bypass the store: the callback observes training as it
    happens, which a stored result cannot replay. They always train, in this process, and
    are not stored. So do calls with a hook the store does not know (it could not tell what
    it changes).

    `train=False` forbids training: a missing member raises `MissingResults`.
    `n_fits`/`n_members` count what was trained, `n_cached` the members reused.
    """

    def __init__(
        self,
        store: Store,
        claim: str = "",
        train: bool = True,
        verbose: bool = False,
        fit=None,
        executor=None,
    ):
        super().__init__(verbose=verbose, fit=fit)
        self.store, self.claim, self.allow_training = store, claim, train
        self.executor = executor if executor is not None else LocalExecutor(fit=fit)
        self.n_cached = 0

    def fit(self, dataset, model, train, tag: str = "", recorders=(), **hooks):
        return self.fit_many([TrainCall(dataset, model, train, tag, hooks, recorders)])[0]

    def _fit_list(self, calls: list, errors: str) -> list:
        out: list = [None] * len(calls)
        plans: dict[int, _Plan] = {}
        for i, call in enumerate(calls):
            unknown = set(call.hooks) - KEYED_HOOKS - {"progress", "callback"}
            if call.hooks.get("callback") is not None or unknown:
                out[i] = self._unstored(call, errors)
                continue
            plan = self._plan(call)
            if isinstance(plan, _Plan):
                plans[i] = plan
            else:
                out[i] = plan  # every member was stored
        if plans:
            self._run(plans, out)
        diverged = [r for r in out if isinstance(r, DivergedError)]
        if diverged and errors == "raise":
            raise diverged[0]
        return out

    def _unstored(self, call: TrainCall, errors: str):
        try:
            return super()._train(call)
        except DivergedError as e:
            if errors == "raise":
                raise
            return e

    def _plan(self, call: TrainCall):
        """The stored `Fit` when every member is stored, else a `_Plan` of what to train."""
        dataset, model, train, hooks = call.dataset, call.model, call.train, call.hooks
        members, frozen = hooks.get("members"), tuple(hooks.get("frozen") or ())
        recorders = [r.spec(train) for r in call.recorders]
        rows = member_rows(hooks.get("train_rows"), hooks.get("test_rows"))
        values = {name: hooks.get(name) for name in PER_MEMBER_HOOKS}
        specs = store_specs(dataset, model, train, frozen, members, rows, recorders, values)
        keys = [member_key(s) for s in specs]
        seeds = train.seeds
        found = self.store.find_members(keys, seeds)
        missing = [i for i in range(len(seeds)) if i not in found]
        if not missing:
            self.n_cached += len(seeds)
            self.log(f"reused {call.name}: {len(seeds)} member(s) from the store")
            return rebuild_fit(dataset, model, train, [found[i] for i in sorted(found)], members)
        if not self.allow_training:
            raise MissingResults(
                f"The store {self.store.path!r} lacks {len(missing)} member(s) of "
                f"{call.name!r} (claim {self.claim or '-'}) and training is off. "
                "Run without --no-train to train them."
            )
        return _Plan(call, specs, found, missing[0], missing[-1])

    def _jobs(self, plans: dict[int, _Plan], executor) -> tuple[list[Job], list[list]]:
        """The jobs of `plans` (a call cut into parts where `executor` splits; calls that
        differ only in per-member values grouped where it does not, see
        `whydl.runtime.grouping`), and for each job the calls it serves, as (call index,
        the call's first member it trains, and where those members start and stop in the
        job's result)."""
        order = sorted(plans)
        workers = executor.workers if executor.split else 1
        costs = [(plans[i].n, plans[i].cost()) for i in order]
        jobs, owner = [], []
        for i, cuts in zip(order, split_spans(costs, workers)):
            plan = plans[i]
            self.n_fits += 1
            self.n_members += plan.n
            if len(cuts) > 1:
                self.log(f"sending {plan.call.name}: {plan.n} member(s) in {len(cuts)} parts")
            for a, b in cuts:
                part = plan.part(a, b)
                name = plan.call.name
                if len(cuts) > 1:
                    name += f" [seeds {part.span.seeds[0]}-{part.span.seeds[-1]}]"
                specs = plan.specs[part.lo : part.hi + 1]
                job = Job(
                    name,
                    plan.call.dataset,
                    plan.call.model,
                    part.span,
                    part.hooks,
                    specs,
                    self.claim,
                    CACHE_VERSION,
                    part=len(cuts) > 1,
                    recorders=plan.call.recorders,
                )
                jobs.append(job)
                owner.append([(i, part.lo, 0, part.n)])
        if not _groups(executor):
            return jobs, owner
        groups = group_jobs(jobs)
        for group in groups:
            if len(group.slices) > 1:
                self.log(f"grouping {len(group.slices)} calls as one stack of "
                         f"{group.job.train.n_seeds} members")  # fmt: skip
        return [g.job for g in groups], [
            [(owner[k][0][0], owner[k][0][1], a, b) for k, a, b in g.slices] for g in groups
        ]

    def _run(self, plans: dict[int, _Plan], out: list) -> None:
        """Run the plans' jobs: on the executor, then the `local_only` ones in this process."""
        here = {i: plan for i, plan in plans.items() if plan.local_only}
        away = {i: plan for i, plan in plans.items() if not plan.local_only}
        local = self.executor
        if not isinstance(local, LocalExecutor):
            local = LocalExecutor(fit=self._fit)
        failures, n_jobs = [], 0
        for executor, group in ((self.executor, away), (local, here)):
            if group:
                jobs, owner = self._jobs(group, executor)
                failures += self._run_jobs(executor, jobs, owner, group, out)
                n_jobs += len(jobs)
        if failures:
            raise SweepFailed(failures, n_jobs - len(failures))

    def _run_jobs(self, executor, jobs, owner, plans: dict[int, _Plan], out: list) -> list:
        """Run `jobs` on `executor`; store and assemble each call as soon as all its parts
        are back, in ONE transaction, whichever executor trained it. Returns the failures."""
        waiting = {i: sum(share[0] == i for shares in owner for share in shares) for i in plans}
        returned: dict[int, list] = {i: [] for i in plans}  # (first member, rows) per part

        def on_result(k: int, result) -> None:
            for i, lo, a, b in owner[k]:
                if isinstance(result, Diverged):  # a whole call, every member diverged
                    out[i] = DivergedError(result.message)
                    continue
                rows = result.rows[a:b]
                if len(owner[k]) > 1:  # a grouped job's rows: tagged as their own call
                    rows = [row | {"tag": plans[i].call.name} for row in rows]
                returned[i].append((lo, rows))
                waiting[i] -= 1
                if not waiting[i]:
                    alone = len(owner[k]) == 1  # the job trained this call and nothing else
                    finished(i, result.fit if alone else None)

        def finished(i: int, trained) -> None:
            rows = join_parts(returned[i])
            if isinstance(rows, DivergedError):
                out[i] = rows
                return
            plan = plans[i]
            self._store_rows(plan, rows)
            whole = plan.n == plan.call.train.n_seeds and len(returned[i]) == 1
            out[i] = trained if whole and trained is not None else self._assemble(plan, rows)

        return executor.run(jobs, on_result, log=self.log)

    def _store_rows(self, plan: _Plan, rows: list[dict]) -> None:
        """Write a span's new members in ONE transaction (those stored before stay as stored)."""
        span = range(plan.lo, plan.hi + 1)
        self.store.put_members([r for r, i in zip(rows, span) if i not in plan.found])

    def _assemble(self, plan: _Plan, rows: list[dict]):
        self.n_cached += len(plan.found)
        found = dict(plan.found)
        for j, row in enumerate(rows):  # members stored before stay as they were stored
            found.setdefault(plan.lo + j, row)
        call = plan.call
        ordered = [found[i] for i in range(call.train.n_seeds)]
        return rebuild_fit(call.dataset, call.model, call.train, ordered, call.hooks.get("members"))
