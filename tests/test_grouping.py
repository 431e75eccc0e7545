"""The runtime trains calls that differ only in per-member values (lr, weight decay,
momentum) as one stack, and splits the result back: each call's members as they would be
trained alone, stored under the keys the call gives them."""

import json
import sqlite3

import numpy as np
import pytest

from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import fit
from whydl.errors import DivergedError
from whydl.evidence.calls import TrainCall
from whydl.runtime import CachedContext
from whydl.runtime.grouping import group_jobs, group_key
from whydl.runtime.jobs import Job
from whydl.store import Store

MODEL = ModelConfig(hidden=(8,))
TOL = 1e-5


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_samples=200, noise=0.2, data_seed=3)


def _call(ds, tag, model=MODEL, **train):
    return TrainCall(ds, model, TrainConfig(epochs=4, n_seeds=3, **train), tag, {})


def _runs(path) -> dict:
    """tag -> the set of training runs its stored members came from."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT tag, run FROM members").fetchall()
    out: dict = {}
    for tag, run in rows:
        out.setdefault(tag, set()).add(run)
    return out


def test_calls_that_differ_in_lr_train_as_one_stack_and_equal_separate_calls(moons, tmp_path):
    lrs = (0.003, 0.03, 0.3)
    calls = [_call(moons, f"lr {lr}", lr=lr, weight_decay=wd) for lr, wd in zip(lrs, (0, 0, 0.01))]
    path = tmp_path / "s.db"
    logs: list[str] = []
    ctx = CachedContext(Store(path))
    ctx.log = logs.append
    grouped = ctx.fit_many(calls)
    assert any("grouping 3 calls as one stack of 9 members" in line for line in logs), logs
    runs = _runs(path)
    assert len(set.union(*runs.values())) == 1  # one training run wrote all nine members
    for call, got in zip(calls, grouped):
        alone = fit(moons, call.model, call.train)
        assert got.seeds == alone.seeds
        np.testing.assert_allclose(got.history.train_loss, alone.history.train_loss, TOL, TOL)
    # stored under the keys each call gives its members: a later single call reuses them
    again = CachedContext(Store(path))
    again.fit(moons, calls[1].model, calls[1].train, tag="again")
    assert (again.n_fits, again.n_cached) == (0, 3)


def test_a_call_whose_members_all_diverge_fails_alone(moons, tmp_path):
    calls = [
        _call(moons, "fine", optimizer="nesterov", lr=0.1),
        _call(moons, "explodes", optimizer="nesterov", lr=100.0),
    ]
    ctx = CachedContext(Store(tmp_path / "s.db"))
    fine, explodes = ctx.fit_many(calls, errors="return")
    assert fine.ok.all()
    assert isinstance(explodes, DivergedError), explodes
    with sqlite3.connect(tmp_path / "s.db") as db:
        tags = {t for (t,) in db.execute("SELECT tag FROM members")}
    assert tags == {"fine"}  # a failed call stores nothing


def test_calls_that_differ_in_anything_else_are_not_grouped(moons):
    def job(**changes):
        model = changes.pop("model", MODEL)
        train = TrainConfig(**{"epochs": 4, "n_seeds": 3, **changes})
        return Job("j", moons, model, train, {}, [{}] * 3)

    assert group_key(job(lr=0.1)) == group_key(job(lr=0.2, seed=7, momentum=0.5))
    assert group_key(job(lr=0.1)) != group_key(job(lr=0.1, epochs=5))
    assert group_key(job()) != group_key(job(model=ModelConfig(hidden=(9,))))
    own_rows = Job("j", moons, MODEL, TrainConfig(n_seeds=2), {"train_rows": [[0], [1]]}, [{}] * 2)
    assert group_key(own_rows) is None


def test_groups_keep_order_and_their_member_cap():
    ds = load_dataset("moons", n_samples=60, data_seed=0)
    jobs = [
        Job(f"j{k}", ds, MODEL, TrainConfig(lr=0.01 * (k + 1), n_seeds=4), {}, [{}] * 4)
        for k in range(5)
    ]
    groups = group_jobs(jobs, max_members=8)
    assert [g.slices for g in groups] == [
        [(0, 0, 4), (1, 4, 8)],
        [(2, 0, 4), (3, 4, 8)],
        [(4, 0, 4)],
    ]
    merged = groups[0].job
    assert merged.hooks["member_seeds"] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert merged.hooks["member_lr"] == [0.01] * 4 + [0.02] * 4
    assert json.dumps(merged.train.n_seeds) == "8"


def test_calls_that_differ_in_dropout_are_grouped_and_keyed_as_alone(moons, tmp_path):
    calls = [
        TrainCall(
            moons,
            ModelConfig(hidden=(8,), dropout=p),
            TrainConfig(epochs=3, n_seeds=2),
            f"p {p}",
            {},
        )
        for p in (0.0, 0.3)
    ]
    path = tmp_path / "s.db"
    grouped = CachedContext(Store(path)).fit_many(calls)
    assert len(set.union(*_runs(path).values())) == 1
    for call, got in zip(calls, grouped):
        alone = fit(moons, call.model, call.train)
        np.testing.assert_allclose(got.history.train_loss, alone.history.train_loss, TOL, TOL)
        again = CachedContext(Store(path))
        again.fit(moons, call.model, call.train)
        assert again.n_fits == 0
