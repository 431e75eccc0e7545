"""The Dask executor: same numbers as local, survives a dying worker, reports what failed."""

import json
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

from whydl.cli import main
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.errors import DivergedError, WhydlError
from whydl.evidence import Context, TrainCall, get_claim
from whydl.runtime import CachedContext, SweepFailed, check_options
from whydl.store import Store

pytest.importorskip("distributed")

from whydl.runtime.dask import DaskExecutor  # noqa: E402


@pytest.fixture(scope="module")
def executor():
    with DaskExecutor(n_workers=2) as ex:
        yield ex


@pytest.fixture(scope="module")
def data():
    return load_dataset("moons", n_samples=300)


def calls_for(data, epochs=4, widths=(3, 5, 8, 13)):
    return [
        TrainCall(data, ModelConfig(hidden=(w, w)), TrainConfig(epochs=epochs, n_seeds=3), f"w{w}")
        for w in widths
    ]


def assert_same_fit(a, b):
    assert a.seeds == b.seeds
    np.testing.assert_array_equal(a.history.val_loss, b.history.val_loss)
    np.testing.assert_array_equal(a.history.train_metric, b.history.train_metric)
    for i in range(len(a.seeds)):
        for (name, x), (_, y) in zip(a.stack.state_dict(i).items(), b.stack.state_dict(i).items()):
            assert np.array_equal(x.numpy(), y.numpy()), name


def test_dask_fits_equal_local_fits_and_are_stored(executor, data):
    local = CachedContext(Store(":memory:")).fit_many(calls_for(data))
    store = Store(":memory:")
    ctx = CachedContext(store, executor=executor)
    remote = ctx.fit_many(calls_for(data))
    for a, b in zip(local, remote):
        assert_same_fit(a, b)
    assert store.count_members() == 12 and ctx.n_members == 12
    # stored by the client: a second pass trains nothing and rebuilds the same fits
    again = CachedContext(store, executor=executor)
    for a, b in zip(local, again.fit_many(calls_for(data))):
        assert_same_fit(a, b)
    assert again.n_members == 0 and again.n_cached == 12


def test_only_missing_members_go_to_the_cluster(executor, data):
    store = Store(":memory:")
    call = calls_for(data)[0]
    CachedContext(store).fit(call.dataset, call.model, TrainConfig(epochs=4, n_seeds=2), "w3")
    ctx = CachedContext(store, executor=executor)
    fit = ctx.fit_many([call])[0]  # seeds 0-2: 0 and 1 stored, 2 trains remotely
    assert ctx.n_members == 1 and ctx.n_cached == 2
    assert_same_fit(fit, CachedContext(Store(":memory:")).fit_many([call])[0])


def test_split_cuts_a_call_that_would_hold_up_the_sweep_into_parts_of_the_same_members(
    executor, data, capsys
):
    call = TrainCall(data, ModelConfig(hidden=(9, 9)), TrainConfig(epochs=5, n_seeds=6), "big")
    store = Store(":memory:")
    ctx = CachedContext(store, executor=executor, verbose=True)
    executor.split = True
    try:
        remote = ctx.fit_many([call])[0]  # 6 members, 2 workers: two parts of 3
    finally:
        executor.split = False
    assert "big: 6 member(s) in 2 parts" in capsys.readouterr().out
    local_store = Store(":memory:")
    local = CachedContext(local_store).fit_many([call])[0]
    assert remote.seeds == [0, 1, 2, 3, 4, 5]
    # the same members, to float32 rounding (vectorised kernels round by size: see --split)
    np.testing.assert_allclose(remote.history.val_loss, local.history.val_loss, rtol=1e-5)
    for i in range(6):
        for name, w in local.stack.state_dict(i).items():
            np.testing.assert_allclose(remote.stack.state_dict(i)[name], w, rtol=1e-4, atol=1e-6)
    # stored as the one call it is: the run id the local executor gives it, each member once
    assert {r["run"] for r in store.runs()} == {r["run"] for r in local_store.runs()}
    assert store.count_members() == 6


def test_a_split_call_whose_members_all_diverge_raises_as_one_call_and_stores_nothing(
    executor,
):
    plane = load_dataset("plane", n_samples=200, noise=0.1, data_seed=0)
    train = TrainConfig(optimizer="sgd", lr=50, epochs=20, n_seeds=4)
    bad = TrainCall(plane, ModelConfig(hidden=(16,)), train, "too fast")
    store = Store(":memory:")
    ctx = CachedContext(store, executor=executor)
    executor.split = True
    try:
        (returned,) = ctx.fit_many([bad], errors="return")
    finally:
        executor.split = False
    assert isinstance(returned, DivergedError)
    with pytest.raises(DivergedError) as local:
        Context().fit(bad.dataset, bad.model, bad.train)
    assert str(returned) == str(local.value)
    assert store.count_members() == 0


@pytest.mark.parametrize("workers", [1, 2, 3, 16])
def test_split_spans_cover_every_member_once_and_balance_the_work(workers):
    from whydl.runtime import split_spans

    costs = [(10, 8.0), (10, 1.0), (3, 1.0), (1, 50.0)]
    plan = split_spans(costs, workers)
    share = sum(m * c for m, c in costs) / workers
    for (m, c), parts in zip(costs, plan):
        covered = [i for lo, hi in parts for i in range(lo, hi + 1)]
        assert covered == list(range(m))  # contiguous, in order, each member once
        for lo, hi in parts:  # under the share, unless a single member is already over it
            assert (hi - lo + 1) * c <= share + 1e-9 or hi == lo
    assert len(plan[3]) == 1  # one member: never cut
    if workers <= 3:  # a call under its share of the sweep stays whole
        assert plan[1] == [(0, 9)] and plan[2] == [(0, 2)]
    if workers == 1:
        assert all(len(parts) == 1 for parts in plan)


def test_dict_of_calls_returns_a_dict_with_the_same_keys(executor, data):
    calls = {f"key {i}": c for i, c in enumerate(calls_for(data, widths=(3, 4)))}
    fits = CachedContext(Store(":memory:"), executor=executor).fit_many(calls)
    assert list(fits) == ["key 0", "key 1"]
    assert fits["key 1"].stack.state_dict(0)["hidden.0.weight"].shape == (4, 2)


def test_a_run_that_diverges_comes_back_as_on_the_local_executor(executor, data):
    plane = load_dataset("plane", n_samples=200, noise=0.1, data_seed=0)
    train = TrainConfig(optimizer="sgd", lr=50, epochs=20, n_seeds=2)
    bad = TrainCall(plane, ModelConfig(hidden=(16,)), train, "too fast")
    good = calls_for(data, widths=(3,))[0]
    ctx = CachedContext(Store(":memory:"), executor=executor)
    fits = ctx.fit_many([bad, good], errors="return")
    assert isinstance(fits[0], DivergedError) and "learning rate" in str(fits[0])
    assert fits[1].history.n_epochs == 4
    assert executor.retried == [] or "too fast" not in executor.retried  # a result, not retried
    with pytest.raises(DivergedError):
        ctx.fit_many([bad])
    with pytest.raises(DivergedError):  # the local executor agrees
        Context().fit_many([bad])


def test_a_job_that_fails_twice_is_named_and_the_rest_of_the_sweep_is_stored(executor, data):
    store = Store(":memory:")
    broken = TrainCall(
        data,
        ModelConfig(hidden=(4,)),
        TrainConfig(epochs=2),
        "broken job",
        {"frozen": ("no.such.weight",)},
    )
    calls = [*calls_for(data, widths=(3, 5)), broken]
    ctx = CachedContext(store, executor=executor)
    with pytest.raises(SweepFailed) as info:
        ctx.fit_many(calls)
    message = str(info.value)
    assert "broken job" in message and "ValueError" in message and "no.such.weight" in message
    assert "failed 2 times" in message and "1 training job(s) failed twice" in message
    assert "broken job" in executor.retried
    assert store.count_members() == 6  # both good jobs finished and were stored


def _pid_if_executing(dask_worker):
    return os.getpid() if dask_worker.state.executing else None


def test_a_killed_worker_is_survived_and_every_member_is_stored_exactly_once(executor, data):
    store = Store(":memory:")
    # long enough (seconds each) that the poll below sees a job running
    calls = calls_for(data, epochs=300, widths=(16, 17, 18, 19))
    retried_before = len(executor.retried)
    client = executor.client
    killed = []

    def kill_a_worker_mid_job():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pids = [pid for pid in client.run(_pid_if_executing).values() if pid]
            if pids:  # that worker is inside a job right now
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker_mid_job)
    killer.start()
    ctx = CachedContext(store, executor=executor)
    fits = ctx.fit_many(calls)
    killer.join()
    assert killed  # a worker died inside a job
    assert len(executor.retried) > retried_before  # and that job ran again
    assert len(fits) == 4 and all(f.history.n_epochs == 300 for f in fits)
    rows = store._conn.execute("SELECT key, seed, COUNT(*) FROM members GROUP BY key, seed")
    counts = [r[2] for r in rows]
    assert len(counts) == 12 and set(counts) == {1}
    local = CachedContext(Store(":memory:")).fit_many(calls[:1])[0]
    assert_same_fit(local, fits[0])


@pytest.fixture(scope="module")
def innovations_here():
    """innovations at 2 seeds trained in this process: a claim of a few seconds that pins one
    torch thread, as the Dask workers train."""
    claim = get_claim("innovations")
    return claim.experiment(CachedContext(Store(":memory:")), claim.params("quick", 2))


def test_a_claim_under_dask_gives_the_local_results(executor, innovations_here, tmp_path, capsys):
    local = innovations_here
    code = main(
        ["claim", "innovations", "--seeds", "2", "--executor", "dask", "--out", str(tmp_path)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "executor: dask on a local cluster" in out
    remote = json.loads((tmp_path / "results.json").read_text())
    assert remote == json.loads(json.dumps(local.table))
    assert json.loads((tmp_path / "verdict.json").read_text())["verdict"] == local.verdict.verdict


def test_ctrl_c_mid_sweep_keeps_every_finished_call_and_a_rerun_trains_only_the_rest(
    executor, data, monkeypatch
):
    store = Store(":memory:")
    calls = calls_for(data, widths=(3, 4, 5, 6))
    run = executor.run

    def interrupted_after_two(jobs, on_result, log=print):
        seen = []

        def on_result_then_ctrl_c(k, result):
            on_result(k, result)
            seen.append(k)
            if len(seen) == 2:
                raise KeyboardInterrupt

        return run(jobs, on_result_then_ctrl_c, log)

    monkeypatch.setattr(executor, "run", interrupted_after_two)
    with pytest.raises(KeyboardInterrupt):
        CachedContext(store, executor=executor).fit_many(calls)
    assert store.count_members() == 6  # the two finished calls, whole; nothing else
    monkeypatch.setattr(executor, "run", run)
    resumed = CachedContext(store, executor=executor)
    fits = resumed.fit_many(calls)
    assert resumed.n_members == 6 and resumed.n_cached == 6
    for a, b in zip(CachedContext(Store(":memory:")).fit_many(calls), fits):
        assert_same_fit(a, b)


def test_an_existing_cluster_is_used_through_its_scheduler_address(
    executor, innovations_here, tmp_path, capsys
):
    address = executor.cluster.scheduler_address
    argv = ["claim", "innovations", "--seeds", "2", "--out", str(tmp_path)]
    assert main([*argv, "--executor", "dask", "--scheduler", address]) == 0
    out = capsys.readouterr().out
    assert f"executor: dask on {address} (2 worker(s)" in out
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(
        json.dumps(innovations_here.table)
    )
    assert executor.client.status == "running"  # the cluster is not ours to close


# -- bad options ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--executor", "spark"], "--executor 'spark' is not valid. Expected one of: local, dask"),
        (["--scheduler", "tcp://h:8786"], "--scheduler tcp://h:8786 needs --executor dask"),
        (["--executor", "dask", "--scheduler", "h:8786"], "is not a Dask scheduler address"),
        (["--split"], "--split cuts calls across Dask workers, so it needs --executor dask"),
    ],
)
def test_bad_executor_options_exit_2_with_a_message_before_anything_runs(
    argv, expected, tmp_path, capsys
):
    code = main(["claim", "flexibility", "--out", str(tmp_path / "o"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # nothing written


def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("whydl.runtime.dask.CONNECT_TIMEOUT_S", 1)
    argv = ["claim", "flexibility", "--out", str(tmp_path), "--executor", "dask"]
    code = main([*argv, "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and "could not connect to the Dask scheduler at tcp://127.0.0.1:9" in err


def test_report_no_train_takes_no_executor(tmp_path, capsys):
    code = main(["report", "--no-train", "--executor", "dask", "--out", str(tmp_path)])
    assert code == 2 and "--no-train trains nothing" in capsys.readouterr().err


def test_without_the_dask_extra_the_message_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(WhydlError, match=r"pip install 'whydl\[dask\]'"):
        check_options("dask", None, "whydl claim")
    code = main(["report", "--executor", "dask", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "needs the dask extra (distributed is not installed)" in err
    assert not (tmp_path / "r").exists()


def test_a_sweep_with_failed_jobs_exits_1_naming_them(monkeypatch, tmp_path, capsys):
    from whydl.evidence.flexibility import FlexibilityClaim
    from whydl.runtime import JobFailed

    def broken(self, ctx, params):
        raise SweepFailed([JobFailed("flexibility wine: deep", "KilledWorker: died", 2)], 11)

    monkeypatch.setattr(FlexibilityClaim, "experiment", broken)
    code = main(["claim", "flexibility", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "flexibility wine: deep: KilledWorker: died (failed 2 times)" in err
    assert "the other 11 finished and are stored" in err
