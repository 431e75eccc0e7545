"""Every command of the README's CLI reference, run as the installed `whydl` script in a
subprocess, in a temporary folder, with a minimal environment (see tests/commands.py).

Each test checks the exit code, the files written (none on an error) and the key lines
printed; none may print a traceback.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.commands import (
    PRESET,
    WHYDL,
    assert_ok,
    assert_refused,
    files_under,
    minimal_env,
    whydl,
)

CLAIMS = ("hierarchy", "data", "compute", "innovations", "transfer", "flexibility")
SUBCOMMANDS = (
    ("demo",),
    ("seed",),
    ("train",),
    ("claims",),
    ("claim",),
    ("report",),
    ("runs",),
    ("runs", "ls"),
    ("runs", "show"),
    ("runs", "export"),
    ("serve",),
)
DEMO_FILES = {"demo.png", "demo.svg", "metrics.json", "config.json", "history.csv"}
DEMO_FILES |= {"environment.json"}


def test_the_console_script_is_installed():
    assert WHYDL.is_file(), f"{WHYDL} is missing: install with pip install -e '.[test]'"


# -- help --------------------------------------------------------------------------------------
def test_help_at_the_top_lists_every_command(tmp_path):
    ran = assert_ok(whydl("--help", cwd=tmp_path))
    for name in ("demo", "seed", "train", "claims", "claim", "report", "runs", "serve"):
        assert re.search(rf"^\s+{name}\s", ran.out, re.M), name
    assert files_under(tmp_path) == set()


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=" ".join)
def test_help_of_every_subcommand(tmp_path, words):
    ran = assert_ok(whydl(*words, "--help", cwd=tmp_path))
    assert ran.out.startswith(f"usage: whydl {' '.join(words)}")
    assert files_under(tmp_path) == set()


def test_train_help_shows_defaults_and_choices(tmp_path):
    out = assert_ok(whydl("train", "--help", cwd=tmp_path)).out
    flat = " ".join(out.split())
    for text in ("learning rate (default 0.01)", "(default 100)", "(default 10,10)"):
        assert text in flat, text
    assert "{sgd,momentum,nesterov,rmsprop,adam,adamw}" in flat
    assert "breast_cancer" in flat


def test_version(tmp_path):
    assert re.fullmatch(r"whydl \d+\.\d+\.\d+\n", assert_ok(whydl("--version", cwd=tmp_path)).out)


# -- demo and seed -----------------------------------------------------------------------------
def _check_demo_output(ran, folder):
    assert ran.lines[0].startswith("test accuracy: ")
    assert re.fullmatch(r"trained \d+ member\(s\) in [\d.]+ s on cpu", ran.lines[1])
    assert ran.lines[2] == f"wrote {folder}/: " + ", ".join(
        ["demo.svg", "demo.png", "metrics.json", "config.json", "environment.json", "history.csv"]
    )
    assert len(ran.lines) == 3 and ran.out.endswith("\n")
    assert re.fullmatch(r"done in [\d.]+ s\n", ran.err), ran.err


def test_demo_without_out_writes_runs_demo(tmp_path):
    ran = assert_ok(whydl("demo", cwd=tmp_path))
    _check_demo_output(ran, "runs/demo")
    assert files_under(tmp_path / "runs" / "demo") == DEMO_FILES
    metrics = json.loads((tmp_path / "runs/demo/metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.97


def test_seed_with_out_and_seeds_as_python_dash_m(tmp_path):
    ran = assert_ok(whydl("seed", "--seeds", 3, "--out", "mine", cwd=tmp_path, module=True))
    _check_demo_output(ran, "mine")
    assert "95% CI" in ran.lines[0] and " to " in ran.lines[0] and "±" not in ran.lines[0]
    assert files_under(tmp_path) == {"mine", *(f"mine/{f}" for f in DEMO_FILES)}
    config = json.loads((tmp_path / "mine/config.json").read_text())
    assert config["train"]["n_seeds"] == 3 and config["train"]["task"] == "binary"
    header = (tmp_path / "mine/history.csv").read_text().splitlines()[0]
    assert header == "seed,epoch,train_loss,test_loss,train_accuracy,test_accuracy"


def test_seed_without_out(tmp_path):
    assert_ok(whydl("seed", cwd=tmp_path))
    assert files_under(tmp_path / "runs/demo") == DEMO_FILES


# -- train -------------------------------------------------------------------------------------
def test_train_with_flags_records_what_ran(tmp_path):
    ran = whydl(
        "train", "--dataset", "circles", "--hidden", "8,8", "--optimizer", "momentum",
        "--momentum", 0.8, "--lr", 0.05, "--epochs", 5, "--seeds", 2, "--early-stopping",
        "--patience", 3, "--out", "c", cwd=tmp_path,
    )  # fmt: skip
    assert_ok(ran)
    config = json.loads((tmp_path / "c/config.json").read_text())
    assert config["data"]["dataset"] == "circles" and config["data"]["noise"] == 0.1
    assert config["model"]["hidden"] == [8, 8]
    assert config["train"]["momentum"] == 0.8 and config["train"]["patience"] == 3
    # early stopping carves a validation split: now the curve is named so
    header = (tmp_path / "c/history.csv").read_text().splitlines()[0]
    assert header == "seed,epoch,train_loss,val_loss,train_accuracy,val_accuracy"


def test_train_records_none_for_what_a_bundled_dataset_ignores(tmp_path):
    assert_ok(whydl("train", "--dataset", "iris", "--epochs", 3, "--out", "i", cwd=tmp_path))
    config = json.loads((tmp_path / "i/config.json").read_text())
    assert config["data"]["n_samples"] is None and config["data"]["noise"] is None
    assert config["train"]["momentum"] is None and config["train"]["patience"] is None
    assert config["train"]["task"] == "multiclass"


def test_train_with_a_toml_config_and_a_flag_on_top(tmp_path):
    (tmp_path / "spiral.toml").write_text(
        '[data]\ndataset = "spiral"\nnoise = 0.2\n[model]\nhidden = [16, 16]\n'
        "[train]\nepochs = 4\nn_seeds = 2\n"
    )
    ran = assert_ok(whydl("train", "--config", "spiral.toml", "--lr", 0.02, cwd=tmp_path))
    assert ran.lines[0].startswith("test accuracy: ")
    config = json.loads((tmp_path / "runs/train/config.json").read_text())
    assert config["data"]["noise"] == 0.2 and config["train"]["lr"] == 0.02
    assert config["train"]["n_seeds"] == 2 and config["model"]["hidden"] == [16, 16]


def test_train_on_a_csv_file(tmp_path):
    rows = [
        f"{i % 7 / 7:.3f},{(i * 3) % 11 / 11:.3f},{'yes' if i % 2 else 'no'}" for i in range(60)
    ]
    (tmp_path / "mine.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    ran = assert_ok(
        whydl("train", "--data", "mine.csv", "--target", "label", "--epochs", 3, cwd=tmp_path)
    )
    assert ran.lines[0].startswith("test accuracy: ")
    config = json.loads((tmp_path / "runs/train/config.json").read_text())
    assert config["data"]["csv"] == "mine.csv" and config["data"]["noise"] is None


# -- claims, claim, report, runs ---------------------------------------------------------------
def test_claims_lists_the_six(tmp_path):
    ran = assert_ok(whydl("claims", cwd=tmp_path))
    names = [line.split()[0] for line in ran.lines if line and not line.startswith(" ")]
    assert names == list(CLAIMS)
    assert files_under(tmp_path) == set()


@pytest.mark.parametrize("name", CLAIMS)
def test_claim_runs_and_lists_every_file_it_writes(claim_cli, name):
    tmp_path, ran = claim_cli(name)  # `whydl claim NAME --preset quick --out c` (conftest)
    assert ran.lines[0].startswith(f"claim {name} ({PRESET} preset): ")
    hypothesis = ran.lines[0].split(": ", 1)[1]
    assert ran.out.count(hypothesis) == 1  # printed once
    assert re.search(r"^verdict: (SUPPORTED|NOT SUPPORTED|INCONCLUSIVE) ", ran.out, re.M)
    wrote = next(line for line in ran.lines if line.startswith("wrote c/: "))
    listed = set(wrote.removeprefix("wrote c/: ").split(", "))
    assert listed == files_under(tmp_path / "c") - {"whydl.db", "whydl.db-wal", "whydl.db-shm"}
    assert {"verdict.json", "results.csv", "config.json", "environment.json"} <= listed
    verdict = json.loads((tmp_path / "c/verdict.json").read_text())
    assert verdict["claim"] == name


@pytest.mark.parametrize("name", CLAIMS)
def test_claim_calibrate_prints_every_rules_rates_and_trains_nothing(tmp_path, name):
    ran = assert_ok(whydl("claim", name, "--calibrate", "--preset", "full", cwd=tmp_path))
    assert ran.lines[0] == f"claim {name}: each rule's rates on simulated experiments (full preset)"
    rates = [line for line in ran.lines[1:] if not line.startswith(" ")]
    assert rates and all(
        re.fullmatch(
            r"\S.*: false-positive rate [\d.]+%, false negatives at the minimum effect [\d.]+%, "
            r"power \d+% at (10 evaluation seeds|7 repeats) \(1,000 simulations per condition\)",
            line,
        )
        for line in rates
    ), ran.out
    assert all(line.startswith("  minimum effect of interest ") for line in ran.lines[2::2])
    assert files_under(tmp_path) == set()


def test_claim_calibrate_refuses_flags_that_do_not_apply(tmp_path):
    ran = whydl("claim", "data", "--calibrate", "--out", "x", cwd=tmp_path)
    assert_refused(ran, "--calibrate", "takes no --out", "whydl claim data --calibrate")
    assert files_under(tmp_path) == set()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """`whydl report --preset smoke` once, in its own folder, for the tests that read it."""
    folder = tmp_path_factory.mktemp("report")
    ran = assert_ok(whydl("report", "--preset", PRESET, cwd=folder))
    return folder, ran


def test_report_writes_the_page_and_every_claim(report):
    folder, ran = report
    assert ran.lines[-1] == "wrote runs/report/index.html"
    page = (folder / "runs/report/index.html").read_text()
    assert page.startswith("<!DOCTYPE html>") or page.lstrip().startswith("<!doctype html>")
    for name in CLAIMS:
        assert (folder / f"runs/claims/{name}/verdict.json").is_file(), name
    assert (folder / "runs/whydl.db").is_file()


def test_report_no_train_renders_from_the_same_store(report):
    folder, _ = report
    before = (folder / "runs/whydl.db").stat().st_size
    ran = assert_ok(whydl("report", "--preset", PRESET, "--no-train", cwd=folder))
    assert ran.lines[-1] == "wrote runs/report/index.html"
    assert "training" not in ran.out
    assert (folder / "runs/whydl.db").stat().st_size == before


def test_runs_ls_and_show(report):
    folder, _ = report
    ran = assert_ok(whydl("runs", "ls", cwd=folder))
    assert ran.lines[0].startswith("RUN ")
    run_id = ran.lines[1].split()[0]
    shown = assert_ok(whydl("runs", "show", run_id[:6], cwd=folder))
    assert shown.lines[0].startswith(f"run {run_id}")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_runs_export(report, fmt):
    folder, _ = report
    ran = assert_ok(whydl("runs", "export", "--format", fmt, cwd=folder))
    if fmt == "json":
        members = json.loads(ran.out)
        assert members and {"seed", "config", "history"} <= set(members[0])
    else:
        assert ran.lines[0].startswith("id,run,key,seed,") and len(ran.lines) > 1
    # --output into a folder that does not exist yet: made, and the file written whole
    ran = assert_ok(
        whydl("runs", "export", "--format", fmt, "--output", f"new/x.{fmt}", cwd=folder)
    )
    assert (folder / f"new/x.{fmt}").stat().st_size > 0 and ran.out == ""


def test_runs_export_mlflow(hinted_store, tmp_path):
    # one claim's store: MLflow logs a run at a time (about 0.1 s each), and the report's
    # store of every claim would take half a minute to export for the same check
    pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    ran = assert_ok(whydl("runs", "export", "--mlflow", uri, "--store", hinted_store, cwd=tmp_path))
    assert re.match(r"wrote \d+ member run\(s\), \d+ training call\(s\)", ran.lines[0])
    assert (tmp_path / "mlflow.db").is_file()


# -- serve -------------------------------------------------------------------------------------
def test_serve_answers_and_stops_cleanly_on_sigint(tmp_path):
    pytest.importorskip("fastapi")
    proc = subprocess.Popen(
        [str(WHYDL), "serve", "--port", "0"],
        cwd=tmp_path,
        env=minimal_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://\S+", line).group(0)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=60) as page:
            assert page.status == 200 and b"whydl playground" in page.read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert files_under(tmp_path) == set()


def test_serve_on_a_taken_port_blames_the_port(tmp_path):
    pytest.importorskip("fastapi")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_refused(whydl("serve", "--port", port, cwd=tmp_path), "--port 0")


# -- Dask, through a hint that must run as printed ---------------------------------------------
def test_split_without_dask_hints_a_command_that_runs(tmp_path):
    pytest.importorskip("distributed")
    # innovations: its quick preset is among the shortest that trains many calls
    args = ("claim", "innovations", "--preset", PRESET, "--split", "--out", "f")
    ran = assert_refused(whydl(*args, cwd=tmp_path), "needs --executor dask")
    hint = re.search(r"Run '([^']+)'", ran.err).group(1)
    assert files_under(tmp_path) == set()
    words = shlex.split(hint)
    assert words[0] == "whydl" and "--executor" in words
    ran = assert_ok(whydl(*words[1:], cwd=tmp_path, timeout=900))
    assert "executor: dask" in ran.out
    assert (tmp_path / "f/verdict.json").is_file()


# -- bad input: one line, exit 2, nothing written ----------------------------------------------
@pytest.fixture
def afile(tmp_path):
    path = tmp_path / "F"
    path.write_text("keep me")
    return path


@pytest.mark.parametrize(
    "args, expected",
    [
        (("demo", "--seeds", 200, "--out", "F"), "is a file, not a folder"),
        (("demo", "--out", "F/sub"), "is a file, so no folder"),
        (("train", "--out", "/proc/x"), "cannot write in '/proc'"),
        (("claim", "compute", "--out", "F"), "is a file, not a folder"),
        (("report", "--out", "F"), "is a file, not a folder"),
        (("claim", "compute", "--store", "/proc/x.db"), "--store /proc/x.db: cannot write"),
        (("claim", "compute", "--store", "F/x.db"), "is a file, so no folder"),
        (("runs", "export", "--output", "F/x.csv"), "is a file, so no folder"),
        (("serve", "--port", 70000), "expected a port number 0..65535"),
        (("serve", "--host", "999.1.1.1"), "--host '999.1.1.1' is not an address"),
        (("train", "--hidden", "100000,100000"), "over the memory budget of 8 GiB"),
        (("train", "--n", 20, "--test-size", 0.99), "leaves 0 training and 20 test points"),
        (("train", "--dataset", "digits", "--n", 50, "--noise", 0.5), "would ignore --n, --noise"),
        (("train", "--momentum", 0.5, "--optimizer", "adam"), "--momentum only applies to"),
        (("train", "--architecture", "cnn", "--dataset", "digits", "--hidden", "5"), "--hidden"),
        (("train", "--patience", 3), "--patience only applies with early stopping"),
        (("train", "--dataset", "moosn"), "Did you mean 'moons'?"),
        (("train", "--optimizer", "adm"), "Did you mean 'adam'?"),
        (("claim", "hierachy"), "Did you mean 'hierarchy'?"),
        (("claim", "data", "--preset", "ful"), "Did you mean 'full'?"),
        (("report", "--no-train", "--executor", "dask"), "Run 'whydl report --no-train'"),
        (("report", "--jobs", 0), "expected a number of processes >= 1"),
        (("report", "--no-train", "--jobs", 2), "takes no --jobs"),
        (("report", "--executor", "dask", "--jobs", 2), "Run 'whydl report --executor dask'"),
        (("runs", "ls", "--store", "none.db"), "'whydl claim hierarchy --store none.db'"),
    ],
    ids=lambda v: " ".join(map(str, v)) if isinstance(v, tuple) else None,
)
def test_bad_input_is_refused_before_any_work(tmp_path, afile, args, expected):
    ran = assert_refused(whydl(*args, cwd=tmp_path), expected)
    assert "trained" not in ran.out and "Pass another --port" not in ran.err
    assert files_under(tmp_path) == {"F"} and afile.read_text() == "keep me"


def test_a_config_key_typo_gets_a_did_you_mean(tmp_path):
    (tmp_path / "c.toml").write_text("[train]\nseeds = 3\n")
    assert_refused(whydl("train", "--config", "c.toml", cwd=tmp_path), "Did you mean 'n_seeds'?")
    assert files_under(tmp_path) == {"c.toml"}


def test_a_config_value_that_does_not_apply_is_refused(tmp_path):
    (tmp_path / "c.toml").write_text('[data]\ndataset = "wine"\nnoise = 0.3\n')
    assert_refused(whydl("train", "--config", "c.toml", cwd=tmp_path), "c.toml: [data] noise")


@pytest.fixture(scope="module")
def hinted_store(tmp_path_factory):
    """The store that `whydl runs ls`'s hint for a missing store creates, made by running
    the hint as printed (one claim, quick preset)."""
    folder = tmp_path_factory.mktemp("hint")
    ran = assert_refused(whydl("runs", "ls", "--store", "s.db", cwd=folder), "s.db")
    hint = shlex.split(re.search(r"Create it with '([^']+)'", ran.err).group(1))
    assert hint[0] == "whydl" and "--store" in hint
    assert_ok(whydl(*hint[1:], "--preset", PRESET, cwd=folder))
    return folder / "s.db"


def test_the_store_hint_runs_as_printed(hinted_store):
    folder = hinted_store.parent
    assert assert_ok(whydl("runs", "ls", "--store", "s.db", cwd=folder)).lines[0].startswith("RUN")


# -- runs that do not learn say so -------------------------------------------------------------
def test_exploding_members_count_as_diverged_and_numbers_stay_readable(tmp_path):
    args = ("train", "--dataset", "sine", "--optimizer", "sgd", "--lr", 1, "--seeds", 8)
    ran = assert_ok(whydl(*args, cwd=tmp_path))
    assert re.search(r"warning: \d of 8 members diverged", ran.err), ran.err
    assert not re.search(r"\d{12}", ran.out + ran.err)  # no 29-digit numbers anywhere
    metrics = json.loads((tmp_path / "runs/train/metrics.json").read_text())
    assert len(metrics["diverged"]) >= 6


def test_all_members_diverging_names_them_all(tmp_path):
    args = ("train", "--dataset", "sine", "--optimizer", "sgd", "--lr", 100, "--seeds", 8)
    assert_refused(
        whydl(*args, cwd=tmp_path), "all 8 members diverged (seeds 0, 1, 2, 3, 4, 5, 6, 7)"
    )
    assert files_under(tmp_path) == set()


def test_a_run_at_chance_level_warns_with_the_likely_cause(tmp_path):
    args = ("train", "--dataset", "moons", "--optimizer", "sgd", "--lr", 100)
    ran = assert_ok(whydl(*args, cwd=tmp_path))
    assert "is at chance level" in ran.err and "lr=100 is likely too high" in ran.err


def test_a_reader_that_leaves_early_is_no_error(report):
    """`whydl runs export --format json | head -1`: the pipe closes after one line of
    megabytes (more than a pipe buffers); no traceback, no message."""
    folder, _ = report
    proc = subprocess.Popen(
        [str(WHYDL), "runs", "export", "--format", "json"],
        cwd=folder,
        env=minimal_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().startswith("[")
    proc.stdout.close()  # the reader leaves
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "Broken pipe" not in err and "error" not in err, err


def test_serve_without_the_web_extra_is_one_line(tmp_path):
    # a venv without fastapi: here, by hiding it from the subprocess
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "fastapi.py").write_text("raise ImportError('hidden', name='fastapi')\n")
    env = minimal_env(PYTHONPATH=str(hide))
    assert_refused(whydl("serve", cwd=tmp_path, env=env), "pip install 'whydl[web]'")


def test_module_and_script_agree(tmp_path):
    a = assert_ok(whydl("claims", cwd=tmp_path))
    b = assert_ok(whydl("claims", cwd=tmp_path, module=True))
    assert a.out == b.out and sys.executable
