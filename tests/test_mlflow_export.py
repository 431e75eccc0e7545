"""`whydl runs export --mlflow`: every stored run, read back from MLflow as it was stored."""

import json
import sys
from pathlib import Path

import pytest

from whydl.cli import main
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.mlflow_export import member_params, metric_history
from whydl.runtime import CachedContext
from whydl.store import Store

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'


@pytest.fixture()
def store_path(tmp_path):
    """A store with two training calls (2 and 3 seeds) of one claim and its claim record."""
    path = tmp_path / "whydl.db"
    data = load_dataset("moons", n_samples=200)
    with Store(path) as store:
        ctx = CachedContext(store, claim="toy")
        ctx.fit(data, ModelConfig(hidden=(4,)), TrainConfig(epochs=3, n_seeds=2), tag="small")
        train = TrainConfig(epochs=5, n_seeds=3, early_stopping=True, patience=1)
        ctx.fit(data, ModelConfig(hidden=(8, 8)), train, tag="wide")
        record = {
            "kind": "claim",
            "name": "toy",
            "hypothesis": "wider is better",
            "params": {"n_seeds": 3, "widths": [4, 8]},
            "verdict": {"claim": "toy", "verdict": "supported", "rule": "r", "numbers": {}},
            "headline": "8 beats 4",
            "table": [{"width": 4, "seed": 0, "acc": 0.9}],
            "figures": [{"name": "toy_curve", "caption": "c", "svg": SVG}],
            "seconds": 1.5,
            "trained_members": 5,
        }
        store.put_result("toy", "quick", 3, record)
    return path


def runs_of(client, experiment, kind):
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], f"tags.`whydl.kind` = '{kind}'")


def test_export_round_trips_params_metric_histories_and_figures(store_path, tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert main(["runs", "export", "--store", str(store_path), "--mlflow", uri]) == 0
    assert "wrote 5 member run(s), 2 training call(s) and 1 claim result(s)" in (
        capsys.readouterr().out
    )
    client = MlflowClient(tracking_uri=uri)
    members = runs_of(client, "whydl/toy", "member")
    calls = {r.info.run_id: r for r in runs_of(client, "whydl/toy", "call")}
    assert len(members) == 5 and len(calls) == 2
    with Store(store_path) as store:
        stored = {f"member:{m['key']}:{m['seed']}": m for m in store.members()}
    for run in members:
        m = stored[run.data.tags["whydl.uid"]]
        params = run.data.params
        assert params["seed"] == str(m["seed"]) and params["dataset.name"] == "moons"
        assert params["model.hidden"] == json.dumps(m["config"]["model"]["hidden"])
        assert params["train.epochs"] == str(m["config"]["train"]["epochs"])
        assert params["dataset.fingerprint"] == m["config"]["dataset"]
        assert run.data.tags["env.torch"] == m["environment"]["torch"]
        assert run.data.tags["mlflow.parentRunId"] in calls  # nested under its call
        for name, column in (("val_loss", "val_loss"), ("train_accuracy", "train_metric")):
            history = client.get_metric_history(run.info.run_id, name)
            expected = [(e, v) for e, v in enumerate(m["history"][column], 1) if v is not None]
            got = sorted((h.step, h.value) for h in history)
            assert [e for e, _ in got] == [e for e, _ in expected]
            assert [v for _, v in got] == pytest.approx([v for _, v in expected])
        assert run.data.metrics["epochs_run"] == m["final"]["epochs_run"]
    (claim,) = runs_of(client, "whydl/toy", "claim")
    assert claim.data.tags["verdict"] == "supported"
    assert claim.data.params["widths"] == "[4, 8]" and claim.data.params["preset"] == "quick"
    files = {a.path for a in client.list_artifacts(claim.info.run_id, "figures")}
    assert files == {"figures/toy_curve.svg"}
    local = client.download_artifacts(claim.info.run_id, "figures/toy_curve.svg", str(tmp_path))
    assert Path(local).read_text() == SVG
    assert {a.path for a in client.list_artifacts(claim.info.run_id)} >= {
        "verdict.json",
        "results.json",
    }


def test_a_second_export_adds_only_what_is_new(store_path, tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    argv = ["runs", "export", "--store", str(store_path), "--mlflow", uri]
    assert main(argv) == 0
    with Store(store_path) as store:  # one more call trained after the first export
        data = load_dataset("moons", n_samples=200)
        CachedContext(store, claim="toy").fit(
            data, ModelConfig(hidden=(2,)), TrainConfig(epochs=2, n_seeds=2), tag="tiny"
        )
    capsys.readouterr()
    assert main(argv) == 0
    assert "wrote 2 member run(s), 1 training call(s) and 0 claim result(s)" in (
        capsys.readouterr().out
    )
    client = MlflowClient(tracking_uri=uri)
    assert len(runs_of(client, "whydl/toy", "member")) == 7


def test_the_default_uri_is_mlflow_db_in_the_working_directory(store_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["runs", "export", "--store", str(store_path), "--mlflow"]) == 0
    assert (tmp_path / "mlflow.db").is_file() and (tmp_path / "mlartifacts").is_dir()
    client = MlflowClient(tracking_uri="sqlite:///mlflow.db")
    assert client.get_experiment_by_name("whydl/toy") is not None


def test_metric_history_skips_epochs_after_a_member_stopped():
    member = {
        "metric": "accuracy",
        "history": {
            "train_loss": [0.5, 0.4, None],
            "val_loss": [0.6, None, None],
            "train_metric": [0.7, 0.8, None],
            "val_metric": [0.6, 0.7, None],
        },
    }
    history = metric_history(member)
    assert ("train_loss", 0.4, 2) in history and ("val_accuracy", 0.7, 2) in history
    assert not [h for h in history if h[2] == 3] and len(history) == 7
    assert member_params({"cache_version": 1, "dataset": "abc"}, 4) == {
        "dataset.fingerprint": "abc",
        "seed": "4",
    }


# -- bad input -------------------------------------------------------------------------------
def test_without_the_mlflow_extra_the_message_says_how_to_install_it(
    store_path, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow -> ImportError
    monkeypatch.chdir(tmp_path)
    code = main(["runs", "export", "--store", str(store_path), "--mlflow"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'whydl[mlflow]'" in err and "Traceback" not in err
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--output", "x.csv"], "--mlflow writes to MLflow, so it takes no --format or --output"),
        (["--format", "json"], "--mlflow writes to MLflow, so it takes no --format or --output"),
    ],
)
def test_mlflow_with_file_options_is_a_usage_error(store_path, extra, expected, capsys):
    code = main(["runs", "export", "--store", str(store_path), "--mlflow", *extra])
    assert code == 2 and expected in capsys.readouterr().err


def test_experiment_needs_mlflow(store_path, capsys):
    code = main(["runs", "export", "--store", str(store_path), "--experiment", "x"])
    assert code == 2 and "--experiment needs --mlflow" in capsys.readouterr().err


def test_a_uri_mlflow_cannot_open_is_a_clear_error(store_path, capsys):
    code = main(["runs", "export", "--store", str(store_path), "--mlflow", "bogus://nowhere"])
    err = capsys.readouterr().err
    assert code == 2 and "MLflow cannot open this tracking URI" in err and "Traceback" not in err


def test_a_missing_store_is_a_clear_error_and_creates_nothing(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = main(["runs", "export", "--store", str(tmp_path / "none.db"), "--mlflow", uri])
    assert code == 2 and "No results store at" in capsys.readouterr().err
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "none.db").exists()
