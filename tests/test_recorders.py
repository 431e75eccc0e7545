"""Recorders: the engine measures what callbacks measured, and a results store caches it.

A recorder is data, so a call with recorders has a key of its own (a plain call keeps its
key), its records are stored with its members and replayed bit for bit, a Dask worker can
train it, and a timing is measured only in the client and replayed only on the same machine.
"""

import numpy as np
import pytest
import torch

from whydl.analysis.gradients import (
    GradientFlows,
    UnitInputs,
    activation_inputs,
    gradient_flow,
    recorded_flows,
)
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import EpochSeconds, GradientNorms, Trainer, fit
from whydl.engine import recorders as engine_recorders
from whydl.evidence import TrainCall, innovations
from whydl.runtime import CachedContext, Job, run_job
from whydl.store import CACHE_VERSION, Store, config_spec, member_key, member_specs

MODEL = ModelConfig(hidden=(8, 8), batch_norm=True)
TRAIN = TrainConfig(epochs=3, n_seeds=3, batch_size=16)


@pytest.fixture(scope="module")
def data():
    return load_dataset("moons", n_samples=120, noise=0.2, data_seed=0)


def assert_same_records(a: dict, b: dict):
    assert set(a) == set(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


# the engine's numbers are the callbacks' numbers -------------------------------------------


def test_gradient_flows_equal_the_callback_recording_bit_for_bit(data):
    """What the innovations claim's callback measured (gradient_flow of each member's
    exported weights on the template, after epochs 1 and 3), the recorder measures."""
    X, y = data.X_train[:40], data.y_train[:40]
    seen = []

    def callback(epoch, stacked):
        if epoch in (1, 3):
            for i in range(stacked.M):
                flow = gradient_flow(stacked.template, X, y, data.task, state=stacked.state_dict(i))
                seen.append((epoch, i, flow))

    watched = fit(data, MODEL, TRAIN, callback=callback)
    recorded = fit(data, MODEL, TRAIN, recorders=(GradientFlows(epochs=(3, 1), rows=40),))
    np.testing.assert_array_equal(watched.history.train_loss, recorded.history.train_loss)
    flows = recorded_flows(recorded)
    assert sorted(flows) == [1, 3] and len(seen) == 6
    for epoch, member, old in seen:
        new = flows[epoch][member]
        assert new.layer_names == old.layer_names
        np.testing.assert_array_equal(new.weight_grad_norms, old.weight_grad_norms)
        assert new.hidden == old.hidden and new.loss == old.loss
        assert new.rows() == old.rows()


def test_unit_inputs_equal_a_callback_that_measures_them(data):
    seen = []

    def watch(epoch, stacked):
        for i in range(stacked.M):
            state = stacked.state_dict(i)
            unit = activation_inputs(stacked.template, data.X_test, state=state)[-1][:, 0]
            seen.append(np.percentile(unit, [15, 50, 85]))

    fit(data, MODEL, TRAIN, callback=watch)
    recorded = fit(data, MODEL, TRAIN, recorders=(UnitInputs(),)).records["unit_inputs"]
    assert recorded.shape == (3, 3, 3)  # (members, epochs, percentiles)
    expected = np.array(seen).reshape(3, 3, 3).transpose(1, 0, 2)  # callback: epoch-major
    np.testing.assert_array_equal(recorded, expected)


def test_gradient_norms_are_the_last_steps_norms_by_layer(data):
    trainer = Trainer(data, MODEL, TRAIN, track_gradients=True, recorders=(GradientNorms(),))
    per_parameter = []
    while not trainer.done:
        trainer.run_epoch()
        per_parameter.append(dict(trainer.grad_norms))
    got = trainer.finish().records["gradient_norms"]  # (M, epochs, layers)
    layers = ["hidden.0", "hidden.1", "norms.0", "norms.1", "out"]
    assert got.shape == (3, 3, len(layers))
    for e, norms in enumerate(per_parameter):
        for j, layer in enumerate(layers):
            parts = [v for name, v in norms.items() if name.rsplit(".", 1)[0] == layer]
            np.testing.assert_allclose(got[:, e, j], np.sqrt(sum(p**2 for p in parts)), rtol=1e-5)


def test_epoch_seconds_grow_and_recorders_leave_training_alone(data):
    timed = fit(data, MODEL, TRAIN, recorders=(EpochSeconds(), GradientNorms(every=2)))
    seconds = timed.records["epoch_seconds"]
    assert seconds.shape == (3, 3) and (np.diff(seconds, axis=1) > 0).all()
    assert (seconds == seconds[0]).all()  # the members train together
    assert timed.records["gradient_norms"].shape == (3, 1, 5)  # epoch 2 only
    plain = fit(data, MODEL, TRAIN)
    np.testing.assert_array_equal(timed.history.val_loss, plain.history.val_loss)
    assert plain.records == {}


def test_bad_recorders_are_refused(data):
    with pytest.raises(ValueError, match="Recorder instances"):
        fit(data, MODEL, TRAIN, recorders=(lambda e, n: None,))
    with pytest.raises(ValueError, match="repeat a name"):
        fit(data, MODEL, TRAIN, recorders=(GradientNorms(), GradientNorms(every=2)))
    with pytest.raises(ValueError, match="split="):
        GradientFlows(split="validation")
    with pytest.raises(ValueError, match="epochs >= 1"):
        GradientFlows(epochs=(0, 1))


# keys ---------------------------------------------------------------------------------------


def test_a_plain_call_keeps_its_key_and_a_recorder_call_has_its_own(data):
    plain = member_specs(data, MODEL, TRAIN)
    assert plain == member_specs(data, MODEL, TRAIN, recorders=())
    fields = {"cache_version", "dataset", "model", "train", "frozen", "init", "train_rows"}
    assert set(plain[0]) == fields  # nothing added to a plain call's spec
    assert plain[0] == config_spec(data, MODEL, TRAIN)
    a, b = GradientFlows(epochs=(1, 2), rows=40), GradientNorms()
    specs = [r.spec(TRAIN) for r in (a, b)]
    keyed = member_specs(data, MODEL, TRAIN, recorders=specs)
    assert keyed[0]["recorders"][1] == {"recorder": "gradient_norms", "every": 1}
    assert member_key(keyed[0]) != member_key(plain[0])
    reordered = member_specs(data, MODEL, TRAIN, recorders=specs[::-1])
    assert member_key(reordered[0]) == member_key(keyed[0])  # order does not matter
    other = member_specs(data, MODEL, TRAIN, recorders=[GradientNorms(every=2).spec(TRAIN)])
    assert member_key(other[0]) != member_key(keyed[0])


# the store ----------------------------------------------------------------------------------

RECORDERS = (GradientFlows(epochs=(1, 3), rows=40), UnitInputs(), GradientNorms())


def test_a_recorder_call_is_stored_and_replayed_with_its_records(data):
    ctx = CachedContext(Store(":memory:"))
    first = ctx.fit(data, MODEL, TRAIN, recorders=RECORDERS)
    assert (ctx.n_fits, ctx.n_cached) == (1, 0)
    again = ctx.fit(data, MODEL, TRAIN, recorders=RECORDERS[::-1])
    assert (ctx.n_fits, ctx.n_cached) == (1, 3)  # nothing trained
    assert_same_records(first.records, again.records)
    assert_same_records(first.records, fit(data, MODEL, TRAIN, recorders=RECORDERS).records)
    assert recorded_flows(again)[3][2].rows() == recorded_flows(first)[3][2].rows()
    plain = ctx.fit(data, MODEL, TRAIN)  # a plain call is not served the recorder call's
    assert ctx.n_fits == 2 and plain.records == {}


def test_a_grown_recorder_call_trains_only_its_new_members(data):
    ctx = CachedContext(Store(":memory:"))
    ctx.fit(data, MODEL, TrainConfig(epochs=3, n_seeds=2, batch_size=16), recorders=RECORDERS)
    grown = ctx.fit(data, MODEL, TRAIN, recorders=RECORDERS)
    assert (ctx.n_members, ctx.n_cached) == (2 + 1, 2)
    assert_same_records(grown.records, fit(data, MODEL, TRAIN, recorders=RECORDERS).records)


def test_non_finite_records_come_back_as_they_were():
    from whydl.runtime.codec import _decode, _encode

    a = np.array([[1e-300, np.nan], [np.inf, -np.inf]])
    np.testing.assert_array_equal(_decode(_encode(a)), a)
    empty = np.zeros((2, 0, 6))
    assert _decode(_encode(empty)).shape == (2, 0, 6)


def test_the_innovations_recordings_train_nothing_the_second_time():
    from whydl.evidence.experiment import run_experiments
    from whydl.evidence.protocol import seed_plan

    claim = innovations.CLAIM
    params = claim.params("quick")
    plan = seed_plan(params["n_seeds"], params["n_selection_seeds"])
    recording = ("vanishing_gradients", "batch_norm")  # gradient norms, watched units

    def experiments():
        return [e for e in claim.experiments(params) if e.name in recording]

    ctx = CachedContext(Store(":memory:"))
    first = run_experiments(ctx, experiments(), params, plan)
    trained = ctx.n_members
    second = run_experiments(ctx, experiments(), params, plan)
    assert trained > 0 and ctx.n_members == trained and ctx.n_cached == trained
    np.testing.assert_equal([r.rows for r in second], [r.rows for r in first])  # NaN == NaN
    recorded = 0
    for a, b in zip(first, second):
        for fits_a, fits_b in ((a.fits, b.fits), (a.selection_fits, b.selection_fits)):
            for key, fit_a in fits_a.items():
                if getattr(fit_a, "records", None):
                    assert_same_records(fits_b[key].records, fit_a.records)
                    recorded += 1
    assert recorded > 0  # the experiments did record, and the records came back


# timings: this machine only -----------------------------------------------------------------


def test_a_timing_is_replayed_on_this_machine_only(data, monkeypatch):
    ctx = CachedContext(Store(":memory:"))
    timed = (EpochSeconds(),)
    first = ctx.fit(data, MODEL, TRAIN, recorders=timed)
    again = ctx.fit(data, MODEL, TRAIN, recorders=timed)
    assert (ctx.n_fits, ctx.n_cached) == (1, 3)
    assert_same_records(first.records, again.records)
    ctx.fit(data, MODEL, TRAIN, recorders=(EpochSeconds(repeat=1),))  # another measurement
    assert ctx.n_fits == 2
    fingerprint = engine_recorders.machine_fingerprint()
    other = fingerprint | {"cpu": "another CPU"}
    monkeypatch.setattr(engine_recorders, "machine_fingerprint", lambda device="cpu": other)
    elsewhere = ctx.fit(data, MODEL, TRAIN, recorders=timed)
    assert ctx.n_fits == 3  # measured afresh, not replayed
    assert not np.array_equal(elsewhere.records["epoch_seconds"], first.records["epoch_seconds"])


def test_a_timing_belongs_to_its_whole_call(data):
    """The members of a 3-member call are not served to a 1-member call: its time differs."""
    ctx = CachedContext(Store(":memory:"))
    ctx.fit(data, MODEL, TRAIN, recorders=(EpochSeconds(),))
    ctx.fit(data, MODEL, TrainConfig(epochs=3, batch_size=16, seed=1), recorders=(EpochSeconds(),))
    assert ctx.n_fits == 2 and ctx.n_cached == 0


def test_the_machine_fingerprint_follows_the_torch_threads():
    from whydl.engine.device import torch_threads

    with torch_threads(1):
        one = engine_recorders.machine_fingerprint()
    with torch_threads(2):
        two = engine_recorders.machine_fingerprint()
    assert one["torch_threads"] == 1 and two["torch_threads"] == 2
    assert one["torch"] == torch.__version__


def test_a_worker_refuses_a_timing_job(data):
    spec = member_specs(data, MODEL, TRAIN)
    job = Job("timed", data, MODEL, TRAIN, {}, spec, cache_version=CACHE_VERSION)
    timed = Job("timed", data, MODEL, TRAIN, {}, spec, CACHE_VERSION, recorders=(EpochSeconds(),))
    assert not job.local_only and timed.local_only
    with pytest.raises(RuntimeError, match="train it in the client"):
        run_job(timed)


# Dask ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_executor():
    pytest.importorskip("distributed")
    from whydl.runtime.dask import DaskExecutor

    with DaskExecutor(n_workers=2) as ex:
        yield ex


def submitted(executor, monkeypatch) -> list[str]:
    """The names of the jobs `executor` sends to its cluster from now on."""
    names = []
    run = executor.run

    def spy(jobs, on_result, log=print):
        names.extend(job.name for job in jobs)
        return run(jobs, on_result, log=log)

    monkeypatch.setattr(executor, "run", spy)
    return names


def test_a_gradient_recorder_call_runs_on_a_worker_bit_for_bit(data, dask_executor, monkeypatch):
    sent = submitted(dask_executor, monkeypatch)
    store = Store(":memory:")
    ctx = CachedContext(store, executor=dask_executor)
    remote = ctx.fit(data, MODEL, TRAIN, tag="flows", recorders=RECORDERS)
    assert sent == ["flows"] and ctx.n_fits == 1 and store.count_members() == 3
    local = fit(data, MODEL, TRAIN, recorders=RECORDERS)
    assert_same_records(remote.records, local.records)
    np.testing.assert_array_equal(remote.history.val_loss, local.history.val_loss)


def test_a_timing_call_never_goes_to_a_worker(data, dask_executor, monkeypatch):
    sent = submitted(dask_executor, monkeypatch)
    ctx = CachedContext(Store(":memory:"), executor=dask_executor)
    calls = {
        "timed": TrainCall(data, MODEL, TRAIN, "timed", recorders=(EpochSeconds(),)),
        "plain": TrainCall(data, MODEL, TRAIN, "plain"),
    }
    fits = ctx.fit_many(calls)
    assert sent == ["plain"] and ctx.n_fits == 2  # the timed call trained here
    assert fits["timed"].records["epoch_seconds"].shape == (3, 3)
    np.testing.assert_array_equal(fits["timed"].history.val_loss, fits["plain"].history.val_loss)
