"""The CLI end to end, called as `main(argv)`: outputs, exit codes and messages."""

import json
import subprocess
import sys

import pytest

from whydl.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_is_the_articles_experiment_and_writes_its_outputs(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "demo", "--out", str(tmp_path))
    assert code == 0 and "test accuracy" in out
    for name in (
        "demo.png",
        "demo.svg",
        "metrics.json",
        "config.json",
        "history.csv",
        "environment.json",
    ):
        assert (tmp_path / name).is_file(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.97
    assert metrics["seeds"] == [0] and len(metrics["test_accuracy_per_seed"]) == 1
    assert metrics["train_seconds"] > 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["data"] == {
        "dataset": "moons",
        "n_samples": 1000,
        "noise": 0.1,
        "data_seed": 42,
        "test_size": 0.3,
        "n_classes": None,
        "csv": None,
        "target": None,
        "features": None,
    }
    assert config["model"]["hidden"] == [10, 10] and config["model"]["activation"] == "relu"
    assert config["train"]["optimizer"] == "adam" and config["train"]["lr"] == 0.01
    assert config["train"]["epochs"] == 100 and config["train"]["batch_size"] == 32
    header = (tmp_path / "history.csv").read_text().splitlines()[0]
    # no early stopping: the held-out curve is the test split, and is named so
    assert header == "seed,epoch,train_loss,test_loss,train_accuracy,test_accuracy"
    assert "<svg" in (tmp_path / "demo.svg").read_text()[:500]


def test_seed_is_an_alias_of_demo(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "seed", "--out", str(tmp_path), "--seeds", "2")
    assert code == 0 and (tmp_path / "demo.png").exists()


def test_demo_with_seeds_reports_spread(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "demo", "--seeds", "4", "--out", str(tmp_path))
    assert code == 0 and "95% CI" in out and "sd" in out and "min" in out and "max" in out
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["seeds"] == [0, 1, 2, 3] and len(m["test_accuracy_per_seed"]) == 4
    s = m["test_accuracy_summary"]
    assert s["ci_low"] <= s["mean"] <= s["ci_high"] and s["min"] <= s["max"]


def test_same_config_twice_gives_identical_metrics(tmp_path, capsys):
    args = ["train", "--dataset", "circles", "--epochs", "5", "--seeds", "2"]
    run_cli(capsys, *args, "--out", str(tmp_path / "a"))
    run_cli(capsys, *args, "--out", str(tmp_path / "b"))
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())
    for key in ("test_accuracy_per_seed", "test_loss_per_seed"):
        assert a[key] == b[key]


def test_train_with_the_documented_flags(tmp_path, capsys):
    code, out, err = run_cli(
        capsys,
        "train",
        "--dataset",
        "moons",
        "--noise",
        "0.1",
        "--n",
        "300",
        "--hidden",
        "10,10",
        "--activation",
        "relu",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "5",
        "--batch-size",
        "32",
        "--seeds",
        "2",
        "--device",
        "auto",
        "--out",
        str(tmp_path),
    )
    assert code == 0, err
    assert (tmp_path / "result.svg").exists()


def test_train_multiclass_regression_and_cnn(tmp_path, capsys):
    for args in (
        ["--dataset", "gaussians"],
        ["--dataset", "sine"],
        ["--dataset", "digits", "--architecture", "cnn"],
        ["--dataset", "iris", "--batch-norm", "--dropout", "0.1"],
    ):
        code, _, err = run_cli(capsys, "train", *args, "--epochs", "3", "--out", str(tmp_path))
        assert code == 0, err


def test_config_file_and_flag_override(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        '[data]\ndataset = "xor"\nn_samples = 200\n[model]\nhidden = [8]\n'
        "[train]\nepochs = 3\nn_seeds = 2\n"
    )
    code, _, err = run_cli(
        capsys, "train", "--config", str(cfg), "--epochs", "4", "--out", str(tmp_path / "o")
    )
    assert code == 0, err
    saved = json.loads((tmp_path / "o" / "config.json").read_text())
    assert saved["data"]["dataset"] == "xor" and saved["model"]["hidden"] == [8]
    assert saved["train"]["epochs"] == 4 and saved["train"]["n_seeds"] == 2


def test_csv_data_through_the_cli(tmp_path, capsys):
    rows = ["a,b,label"] + [f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}" for i in range(40)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    code, out, err = run_cli(
        capsys,
        "train",
        "--data",
        str(tmp_path / "d.csv"),
        "--target",
        "label",
        "--epochs",
        "3",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 0, err


BAD_FLAGS = [
    (["train", "--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
    (["train", "--lr", "-1"], "lr=-1.0 must be in (0, 100]"),
    (["train", "--optimizer", "adamx"], "invalid choice: 'adamx'"),
    (["train", "--hidden", "10,x"], "expected comma-separated layer widths"),
    (["train", "--hidden", "0"], "hidden=(0,) is not valid"),
    (["train", "--dataset", "mnist"], "Unknown dataset 'mnist'"),
    (["train", "--epochs", "0"], "epochs=0 must be in 1..100000"),
    (["train", "--seeds", "0"], "n_seeds=0 must be in 1..10000"),
    (["train", "--dropout", "1.5"], "dropout=1.5 must be in [0, 1)"),
    (["train", "--batch-size", "-4"], "batch_size=-4 must be >= 1"),
    (["train", "--test-size", "2"], "test_size=2.0 must be in (0, 1)"),
    (["train", "--data", "x.csv"], "needs a target column: add --target COLUMN"),
    (["train", "--target", "y"], "--target needs --data FILE.csv"),
    (["train", "--data", "missing.csv", "--target", "y"], "CSV file 'missing.csv' does not exist"),
    (["train", "--dataset", "moons", "--architecture", "cnn"], "architecture='cnn' needs image"),
    (["train", "--config", "nope.toml"], "Config file 'nope.toml' not found"),
    (["train", "--task", "multiclass", "--dataset", "sine"], "needs integer class labels"),
    (
        ["train", "--lr", "50", "--optimizer", "sgd", "--dataset", "plane", "--epochs", "20"],
        "learning rate lr=50 is too high",
    ),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["demo", "--seeds", "many"], "invalid int value: 'many'"),
]


@pytest.mark.parametrize("argv,message", BAD_FLAGS)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, capsys, argv, message):
    out_dir = tmp_path / "out"
    code, out, err = (
        run_cli(capsys, *argv, "--out", str(out_dir))
        if argv[0] in ("train", "demo")
        else run_cli(capsys, *argv)
    )
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out_dir.exists() or not any(out_dir.iterdir())  # nothing half-written


@pytest.mark.parametrize(
    "content,message",
    [
        ("a;b;y\n1;2;0\n", "delimiter"),
        ("", "empty"),
        ("a,b,y\n" + "1,2,0\n" * 30, "same class"),
        ("a,b,y\n" + "".join(f"{i},,{i % 2}\n" for i in range(30)), "missing value"),
        ("a,b,y\n" + "".join(f"{i},x{i},{i % 2}\n" for i in range(30)), "non-numeric"),
        ("a,b,y\n1,2,0\n3,4,1\n", "rows"),
    ],
)
def test_bad_csv_exits_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, _, err = run_cli(
        capsys, "train", "--data", str(path), "--target", "y", "--out", str(tmp_path / "o")
    )
    assert code == 2 and message in err.lower() and "Traceback" not in err


@pytest.mark.parametrize(
    "content,message",
    [
        ("[train]\nepochs = 'ten'\n", "epochs = 'ten': expected a value of type int"),
        ("[train]\nepoch = 3\n", "unknown key(s) ['epoch'] in [train]"),
        ("[nonsense]\n", "unknown section(s) ['nonsense']"),
        ("[train\n", "not valid TOML"),
    ],
)
def test_bad_config_file_exits_2(tmp_path, capsys, content, message):
    cfg = tmp_path / "c.toml"
    cfg.write_text(content)
    code, _, err = run_cli(capsys, "train", "--config", str(cfg))
    assert code == 2 and message in err


def test_help_does_not_import_torch():
    code = (
        "import sys; from whydl.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported by --help'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_python_module_entry_point(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "whydl", "train", "--epochs", "2", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "test accuracy" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "whydl", "train", "--lr", "nan?"], capture_output=True, text=True
    )
    assert r.returncode == 2 and "invalid float value" in r.stderr
