import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from whydl.cli import main
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine import fit as engine_fit
from whydl.errors import WhydlError
from whydl.runtime import CachedContext
from whydl.store import (
    MissingResults,
    Store,
    dataset_fingerprint,
    member_key,
    member_specs,
)

MODEL = ModelConfig(hidden=(6,))
TRAIN = TrainConfig(epochs=3, n_seeds=3, batch_size=50)


@pytest.fixture(scope="module")
def data():
    return load_dataset("moons", n_samples=200)


def same_members(a, b, atol=0.0):
    assert a.seeds == b.seeds and a.task == b.task
    for i in range(len(a.seeds)):
        sa, sb = a.stack.state_dict(i), b.stack.state_dict(i)
        assert sa.keys() == sb.keys()
        for name in sa:
            torch.testing.assert_close(sa[name], sb[name], atol=atol, rtol=0)
    for column in ("train_loss", "val_loss", "train_metric", "val_metric"):
        np.testing.assert_allclose(
            getattr(a.history, column), getattr(b.history, column), atol=atol, rtol=0
        )
    np.testing.assert_array_equal(a.epochs_run, b.epochs_run)


def test_store_round_trips_a_run(tmp_path, data):
    path = tmp_path / "whydl.db"
    with Store(path) as store:
        fresh = CachedContext(store, claim="c").fit(data, MODEL, TRAIN, tag="t")
    with Store(path) as store:  # a new connection: everything came from the file
        ctx = CachedContext(store)
        cached = ctx.fit(data, MODEL, TRAIN)
        members = store.members()
    assert ctx.n_fits == 0 and ctx.n_cached == 3
    same_members(fresh, cached)
    x = torch.as_tensor(data.X_test)
    for i in range(3):  # the rebuilt members predict exactly as the trained ones
        torch.testing.assert_close(cached.stack.member(i)(x), fresh.stack.member(i)(x))
    assert [m["seed"] for m in members] == [0, 1, 2]
    m = members[0]
    assert m["claim"] == "c" and m["tag"] == "t" and m["dataset"] == "moons"
    assert m["config"]["model"]["hidden"] == [6] and "seed" not in m["config"]["train"]
    assert len(m["history"]["val_loss"]) == 3 and m["final"]["epochs_run"] == 3
    assert m["final"]["val_metric"] == pytest.approx(fresh.history.val_metric[0, -1])
    assert {"torch", "numpy", "whydl", "device"} <= set(m["environment"])


def test_cached_rerun_trains_nothing(tmp_path, data):
    def sweep(ctx):
        for width in (3, 5):
            ctx.fit(data, ModelConfig(hidden=(width,)), TRAIN, tag=f"w{width}")

    with Store(tmp_path / "s.db") as store:
        first, second = CachedContext(store), CachedContext(store)
        sweep(first)
        sweep(second)
        assert (first.n_fits, first.n_members) == (2, 6)
        assert (second.n_fits, second.n_members, second.n_cached) == (0, 0, 6)
        assert store.count_members() == 6


def test_only_missing_seeds_are_trained(tmp_path, data):
    with Store(tmp_path / "s.db") as store:
        ctx = CachedContext(store)
        ctx.fit(data, MODEL, TrainConfig(epochs=3, n_seeds=2, batch_size=50))
        grown = ctx.fit(data, MODEL, TrainConfig(epochs=3, n_seeds=4, batch_size=50))
        assert ctx.n_members == 2 + 2 and ctx.n_cached == 2
        assert store.count_members() == 4
    # each member is what it would be if trained alone (up to summation order)
    same_members(
        grown, engine_fit(data, MODEL, TrainConfig(epochs=3, n_seeds=4, batch_size=50)), 1e-5
    )


def test_key_covers_what_determines_a_member(data):
    spec = lambda *a, **k: member_key(member_specs(*a, **k)[0])  # noqa: E731
    base = spec(data, MODEL, TRAIN)
    assert base == spec(data, MODEL, TrainConfig(epochs=3, n_seeds=7, seed=4, batch_size=50))
    assert base != spec(data, MODEL, TrainConfig(epochs=4, n_seeds=3, batch_size=50))
    assert base != spec(data, ModelConfig(hidden=(7,)), TRAIN)
    assert base != spec(data, MODEL, TRAIN, frozen=("out.bias",))
    other = load_dataset("moons", n_samples=200, noise=0.3)
    assert dataset_fingerprint(other) != dataset_fingerprint(data)
    assert dataset_fingerprint(load_dataset("moons", n_samples=200)) == dataset_fingerprint(data)


def test_initial_members_are_part_of_the_key(tmp_path, data):
    from whydl.engine import build_members

    train = TrainConfig(epochs=2, n_seeds=2, batch_size=50)
    with Store(tmp_path / "s.db") as store:
        ctx = CachedContext(store)
        a = build_members(data, MODEL, [10, 11])
        first = ctx.fit(data, MODEL, train, members=a, frozen=("hidden.0.weight",))
        again = ctx.fit(
            data,
            MODEL,
            train,
            members=build_members(data, MODEL, [10, 11]),
            frozen=("hidden.0.weight",),
        )  # same initial weights: cached
        assert (ctx.n_fits, ctx.n_cached) == (1, 2)
        same_members(first, again)
        ctx.fit(
            data,
            MODEL,
            train,
            members=build_members(data, MODEL, [20, 21]),
            frozen=("hidden.0.weight",),
        )
        assert ctx.n_fits == 2


def test_training_rows_are_part_of_the_key(tmp_path, data):
    rng = np.random.default_rng(0)
    rows = np.stack([rng.choice(len(data.X_train), 60, replace=False) for _ in range(3)])
    with Store(tmp_path / "s.db") as store:
        ctx = CachedContext(store)
        ctx.fit(data, MODEL, TrainConfig(epochs=2, n_seeds=2), train_rows=rows[:2])
        grown = ctx.fit(data, MODEL, TrainConfig(epochs=2, n_seeds=3), train_rows=rows)
        assert (ctx.n_members, ctx.n_cached) == (2 + 1, 2)  # only the third member trained
        ctx.fit(data, MODEL, TrainConfig(epochs=2, n_seeds=3), train_rows=rows[::-1])
        assert ctx.n_fits == 3
    fresh = engine_fit(data, MODEL, TrainConfig(epochs=2, n_seeds=3), train_rows=rows)
    same_members(grown, fresh, 1e-5)


def test_callback_calls_bypass_the_store(tmp_path, data):
    seen = []
    with Store(tmp_path / "s.db") as store:
        ctx = CachedContext(store)
        for _ in range(2):
            ctx.fit(data, MODEL, TRAIN, callback=lambda epoch, net: seen.append(epoch))
        assert ctx.n_fits == 2 and store.count_members() == 0 and seen == [1, 2, 3] * 2


def test_no_training_mode_names_what_is_missing(tmp_path, data):
    with Store(tmp_path / "s.db") as store, pytest.raises(MissingResults, match="lacks 3 member"):
        CachedContext(store, claim="c", train=False).fit(data, MODEL, TRAIN, tag="t")


def test_interrupted_sweep_keeps_finished_calls(tmp_path, data):
    """Ctrl-C mid-sweep: finished calls stay, the next run trains only the rest."""
    calls = []

    def interrupting_fit(*args, **hooks):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return engine_fit(*args, **hooks)

    widths = (3, 4, 5)
    with Store(tmp_path / "s.db") as store:
        ctx = CachedContext(store, fit=interrupting_fit)
        with pytest.raises(KeyboardInterrupt):
            for w in widths:
                ctx.fit(data, ModelConfig(hidden=(w,)), TRAIN)
        assert store.count_members() == 3
        again = CachedContext(store)
        for w in widths:
            again.fit(data, ModelConfig(hidden=(w,)), TRAIN)
        assert again.n_fits == 2 and again.n_cached == 3 and store.count_members() == 9


def test_each_member_is_stored_once(tmp_path, data):
    from whydl.runtime import fit_rows

    fit = engine_fit(data, MODEL, TRAIN)
    rows = fit_rows(fit, member_specs(data, MODEL, TRAIN))
    with Store(tmp_path / "s.db") as store:
        assert store.put_members(rows) == 3
        assert store.put_members(rows) == 0  # UNIQUE (key, seed): the first write stays
        assert store.count_members() == 3
        with pytest.raises(sqlite3.IntegrityError):  # the constraint itself, not our check
            store._conn.execute(
                "INSERT INTO members SELECT NULL, key, seed, run, claim, tag, dataset, task, "
                "metric, config, history, final, environment, weights, train_seconds, created "
                "FROM members LIMIT 1"
            )


# -- resume after kill -9 --------------------------------------------------------------------
SWEEP = textwrap.dedent(
    """
    import os, sys, time
    from whydl.config import ModelConfig, TrainConfig
    from whydl.data import load_dataset
    from whydl.engine import fit as engine_fit
    from whydl.runtime import CachedContext
    from whydl.store import Store

    def slow_fit(*args, **hooks):  # after the first finished call, training "takes minutes"
        if store.count_members() > 0:
            print("training call 2", flush=True)
            time.sleep(120)
        return engine_fit(*args, **hooks)

    data = load_dataset("moons", n_samples=200)
    store = Store(sys.argv[1])
    ctx = CachedContext(store, fit=slow_fit if os.environ.get("SLOW") else None)
    for width in WIDTHS:
        ctx.fit(data, ModelConfig(hidden=(width,)), TrainConfig(epochs=3, n_seeds=3, batch_size=50))
    """
)
WIDTHS = (3, 4, 5, 6)


def stored_rows(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, key, seed, created, weights FROM members").fetchall()


def test_sweep_resumes_after_kill_9(tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP.replace("WIDTHS", repr(WIDTHS)))
    db = tmp_path / "whydl.db"
    child = subprocess.Popen(
        [sys.executable, str(script), str(db)],
        env={**os.environ, "SLOW": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()  # the first call is committed; the second is training
        assert line.startswith("training call 2"), child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    before = stored_rows(db)
    assert len(before) == 3  # the finished call, whole; nothing of the unfinished one
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    with Store(db) as store:  # the same sweep again, here
        ctx = CachedContext(store)
        data = load_dataset("moons", n_samples=200)
        for width in WIDTHS:
            ctx.fit(data, ModelConfig(hidden=(width,)), TRAIN)  # the script's config
    assert (ctx.n_fits, ctx.n_cached) == (len(WIDTHS) - 1, 3)  # not the finished call again
    after = stored_rows(db)
    assert len(after) == 3 * len(WIDTHS)
    assert len({(key, seed) for _, key, seed, _, _ in after}) == len(after)  # each once
    assert after[:3] == before  # finished members untouched: same ids, times and weights


# -- CLI ---------------------------------------------------------------------------------------
@pytest.fixture
def filled_store(tmp_path, data):
    path = tmp_path / "whydl.db"
    with Store(path) as store:
        CachedContext(store, claim="toy").fit(data, MODEL, TRAIN, tag="width=6")
        run = store.runs()[0]["run"]
    return path, run


def test_runs_ls_show_export(filled_store, capsys):
    path, run = filled_store
    assert main(["runs", "ls", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert run in out and "width=6" in out and "toy" in out
    assert main(["runs", "show", run[:6], "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"run {run}" in out and "model:" in out and out.count("\n") >= 3 + 3
    assert main(["runs", "export", "--format", "json", "--store", str(path)]) == 0
    members = json.loads(capsys.readouterr().out)
    assert [m["seed"] for m in members] == [0, 1, 2] and "weights" not in members[0]
    assert len(members[0]["history"]["train_loss"]) == 3
    assert main(["runs", "export", "--format", "csv", "--store", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and "final_val_metric" in lines[0] and "model_hidden" in lines[0]


def test_runs_errors_exit_2(filled_store, tmp_path, capsys):
    path, _ = filled_store
    assert main(["runs", "ls", "--store", str(tmp_path / "none.db")]) == 2
    assert "No results store" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()  # reading never creates a store
    assert main(["runs", "show", "zzzz", "--store", str(path)]) == 2
    assert "No run 'zzzz'" in capsys.readouterr().err
    assert main(["runs"]) == 2


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite at all, just text " * 100)
    with pytest.raises(WhydlError, match="not a whydl results store"):
        Store(bad)


def test_per_seed_test_rows_are_part_of_a_members_key_and_replay():
    from whydl.evidence.protocol import per_seed_data

    data = per_seed_data("moons", [0, 1], n_samples=60)
    train = TrainConfig(epochs=2, n_seeds=2, batch_size=20)
    with Store(":memory:") as store:
        ctx = CachedContext(store)
        own = ctx.fit(data.pool, MODEL, train, **data.hooks)
        shared = ctx.fit(data.pool, MODEL, train, train_rows=data.train_rows)
        assert ctx.n_fits == 2 and ctx.n_cached == 0  # other test rows: other members
        again = ctx.fit(data.pool, MODEL, train, **data.hooks)
        assert ctx.n_fits == 2 and ctx.n_cached == 2
    np.testing.assert_allclose(own.history.val_loss, again.history.val_loss)
    assert not np.allclose(own.history.val_loss, shared.history.val_loss)


def test_a_members_own_learning_rate_is_its_key_as_if_it_trained_alone(tmp_path, data):
    """A grid of learning rates in one stack stores each member under the key it would
    have trained alone with its rate: a later call of that rate reuses it."""
    grid = [0.003, 0.03, 0.3]
    with Store(tmp_path / "s.db") as store:
        ctx = CachedContext(store)
        stacked = ctx.fit(data, MODEL, TRAIN, member_lr=grid)
        assert (ctx.n_fits, ctx.n_members) == (1, 3)
        alone = ctx.fit(
            data, MODEL, TrainConfig(epochs=3, seed=1, n_seeds=1, lr=0.03, batch_size=50)
        )
        assert (ctx.n_fits, ctx.n_cached) == (1, 1)  # reused, not trained
        ctx.fit(data, MODEL, TRAIN, member_lr=grid[::-1])  # seeds 0 and 2: new rates
        assert store.count_members() == 3 + 2  # seed 1 at 0.03 is the same member again
    fresh = engine_fit(
        data, MODEL, TrainConfig(epochs=3, seed=1, n_seeds=1, lr=0.03, batch_size=50)
    )
    same_members(alone, fresh, 1e-5)
    torch.testing.assert_close(
        stacked.stack.state_dict(1), fresh.stack.state_dict(0), atol=1e-5, rtol=0
    )


def test_init_scale_and_label_noise_are_keyed_and_their_defaults_keep_the_plain_key(tmp_path):
    from whydl.data import article_moons
    from whydl.store import member_key, member_specs

    ds, model, train = article_moons(), ModelConfig(), TrainConfig(n_seeds=2)
    plain = [member_key(s) for s in member_specs(ds, model, train)]
    for hook in ("member_init_scale", "member_label_noise"):
        default = 1.0 if hook == "member_init_scale" else 0.0
        keys = [
            member_key(s) for s in member_specs(ds, model, train, values={hook: [default, 0.5]})
        ]
        assert keys[0] == plain[0] and keys[1] != plain[1]
