"""The article's experiment, timed side by side in one run.

    python benchmarks/bench_article.py [--loop-seeds 100] [--keras-python PATH] [--jax-python PATH]

Peers, all on make_moons(1000, noise=0.1, random_state=42) with a 70/30 split, a 2-10-10-1
ReLU network, Adam(lr=0.01), batch 32, 100 epochs:
  - whydl, 1 seed and 100 seeds at once (training time only, imports excluded);
  - a plain per-seed PyTorch loop (nn.Sequential, torch.optim.Adam, randperm minibatches,
    validation loss every epoch); its one-time start-up (the first torch.optim constructor
    imports torch._dynamo) is paid before timing;
  - scikit-learn's MLPClassifier with the same settings;
  - the article's Keras script (benchmarks/article_keras.py), end to end, when an
    interpreter with TensorFlow is available (--keras-python, $WHYDL_KERAS_PYTHON, or this
    one); skipped otherwise;
  - the fused JAX reference (benchmarks/article_jax.py: `lax.scan` + `vmap`, one XLA program)
    at --seeds, its first call (with its compile) and its warm call, when an interpreter
    with jax is given (--jax-python or $WHYDL_JAX_PYTHON); skipped otherwise;
  - `whydl demo` end to end and `whydl --help`, as subprocesses (wall clock).
Single-seed timings are the best of --repeats runs, for every peer alike. Prints a table of
times, mean test accuracies and ratios; --json writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from whydl.config import ModelConfig, TrainConfig
from whydl.data import article_moons
from whydl.engine import fit

HERE = Path(__file__).resolve().parent


def whydl_train(n_seeds: int):
    f = fit(article_moons(), ModelConfig(), TrainConfig(n_seeds=n_seeds))
    return f.train_seconds, float(np.mean(f.history.val_metric[:, -1]))


def plain_loop(seed: int):
    """What a careful user writes by hand: one seed at a time."""
    ds = article_moons()
    X, y = torch.as_tensor(ds.X_train), torch.as_tensor(ds.y_train, dtype=torch.float32)[:, None]
    Xt, yt = torch.as_tensor(ds.X_test), torch.as_tensor(ds.y_test, dtype=torch.float32)[:, None]
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1)
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(100):
        model.train()
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 32):
            idx = perm[i : i + 32]
            opt.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            loss_fn(model(Xt), yt)  # validation loss each epoch, as Keras reports it
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = ((model(Xt) > 0).float() == yt).float().mean().item()
    return seconds, accuracy


def sklearn_mlp(seed: int):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    ds = article_moons()
    clf = MLPClassifier(
        hidden_layer_sizes=(10, 10),
        solver="adam",
        learning_rate_init=0.01,
        batch_size=32,
        max_iter=100,
        early_stopping=False,
        n_iter_no_change=100,
        random_state=seed,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(ds.X_train, ds.y_train)
    return time.perf_counter() - start, float(clf.score(ds.X_test, ds.y_test))


def _loop_many(n_seeds: int):
    loop = [plain_loop(s) for s in range(n_seeds)]
    return sum(t for t, _ in loop), float(np.mean([a for _, a in loop]))


def _demo_wall(repeats: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "whydl", "demo", "--out", out]
        return statistics.median(wall(cmd) for _ in range(repeats))


def wall(cmd, env=None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def keras_python(arg):
    for candidate in (arg, os.environ.get("WHYDL_KERAS_PYTHON"), sys.executable):
        if (
            candidate
            and subprocess.run(
                [candidate, "-c", "import tensorflow"], capture_output=True
            ).returncode
            == 0
        ):
            return candidate
    return None


def keras_script(python: str):
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        r = subprocess.run(
            [python, str(HERE / "article_keras.py"), out],
            check=True,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
    values = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    return seconds, float(values["fit_seconds"]), float(values["test_accuracy"])


def jax_python(arg):
    for candidate in (arg, os.environ.get("WHYDL_JAX_PYTHON")):
        if candidate and subprocess.run([candidate, "-c", "import jax"]).returncode == 0:
            return candidate
    return None


def jax_reference(python: str, n_seeds: int) -> dict:
    """The fused JAX program's (first call with its compile, warm call, accuracy)."""
    r = subprocess.run(
        [python, str(HERE / "article_jax.py"), "--seeds", str(n_seeds)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=100, help="members trained at once (100)")
    p.add_argument("--loop-seeds", type=int, default=100, help="seeds for the per-seed loop")
    p.add_argument("--repeats", type=int, default=3, help="repeats of single-seed timings")
    p.add_argument("--keras-python", help="an interpreter with TensorFlow installed")
    p.add_argument(
        "--jax-python", help="an interpreter with jax installed (the fused reference, optional)"
    )
    p.add_argument("--json", help="write the numbers to this file")
    args = p.parse_args()

    torch.optim.Adam([nn.Parameter(torch.zeros(1))])  # the plain loop's one-time start-up
    whydl_train(1)  # warm both paths once
    plain_loop(0)
    r = {}
    measure = {
        "whydl_1": lambda: min(whydl_train(1) for _ in range(args.repeats)),
        "plain_1": lambda: min(plain_loop(0) for _ in range(args.repeats)),
        "sklearn_1": lambda: min(sklearn_mlp(0) for _ in range(args.repeats)),
        "whydl_many": lambda: whydl_train(args.seeds),
        "plain_many": lambda: _loop_many(args.loop_seeds),
        "demo_wall": lambda: _demo_wall(args.repeats),
        "help_wall": lambda: statistics.median(
            wall([sys.executable, "-m", "whydl", "--help"]) for _ in range(5)
        ),
    }
    for name, run in measure.items():  # printed as measured: a long run still shows progress
        r[name] = run()
        print(f"measured {name}: {r[name]}", flush=True)
    python = keras_python(args.keras_python)
    r["keras"] = keras_script(python) if python else None
    print(f"measured keras: {r['keras']}", flush=True)
    python = jax_python(args.jax_python)
    r["jax"] = jax_reference(python, args.seeds) if python else None
    print(f"measured jax: {r['jax']}", flush=True)

    env = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
    }
    print(f"environment: {env}")
    print(f"{'peer':44s} {'train s':>9s} {'test acc':>9s}")
    rows = [
        ("whydl, 1 seed", *r["whydl_1"]),
        ("plain PyTorch loop, 1 seed", *r["plain_1"]),
        ("sklearn MLPClassifier, 1 seed", *r["sklearn_1"]),
        (f"whydl, {args.seeds} seeds at once", *r["whydl_many"]),
        (f"plain PyTorch loop, {args.loop_seeds} seeds one by one", *r["plain_many"]),
    ]
    if r["keras"]:
        rows.append(("article's Keras script (fit only)", r["keras"][1], r["keras"][2]))
    if r["jax"]:
        rows.append(
            (f"JAX scan + vmap, {args.seeds} seeds, warm", r["jax"]["warm_s"], r["jax"]["accuracy"])
        )
        rows.append(
            (
                f"JAX scan + vmap, {args.seeds} seeds, with compile",
                r["jax"]["first_call_s"],
                r["jax"]["accuracy"],
            )
        )
    for name, seconds, accuracy in rows:
        print(f"{name:44s} {seconds:9.3f} {accuracy:9.4f}")
    print(f"{'whydl demo, end to end (wall)':44s} {r['demo_wall']:9.3f}")
    if r["keras"]:
        print(f"{'Keras script, end to end (wall)':44s} {r['keras'][0]:9.3f}")
    print(f"{'whydl --help (wall)':44s} {r['help_wall']:9.3f}")
    per_seed_loop = r["plain_many"][0] / args.loop_seeds * args.seeds
    ratios = {
        "1 seed: plain loop / whydl (target >= 1.6)": r["plain_1"][0] / r["whydl_1"][0],
        "1 seed: sklearn / whydl": r["sklearn_1"][0] / r["whydl_1"][0],
        # the loop's time over --loop-seeds seeds, scaled to --seeds by its per-seed mean
        f"{args.seeds} seeds: per-seed loop / whydl (target >= 30)": per_seed_loop
        / r["whydl_many"][0],
        f"{args.seeds} vs {args.loop_seeds} seeds: |accuracy difference| (target <= 0.005)": abs(
            r["whydl_many"][1] - r["plain_many"][1]
        ),
    }
    if r["keras"]:
        ratios["end to end: Keras script / whydl demo (target >= 5)"] = (
            r["keras"][0] / r["demo_wall"]
        )
        ratios["fit: Keras / whydl 1 seed"] = r["keras"][1] / r["whydl_1"][0]
    if r["jax"]:
        ratios[f"{args.seeds} seeds: whydl / JAX warm (target <= 1.2)"] = (
            r["whydl_many"][0] / r["jax"]["warm_s"]
        )
        ratios[f"{args.seeds} seeds: JAX with compile / whydl (target > 1)"] = (
            r["jax"]["first_call_s"] / r["whydl_many"][0]
        )
    for name, value in ratios.items():
        print(f"{name:60s} {value:8.3f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"environment": env, "results": r, "ratios": ratios}, indent=2)
        )


if __name__ == "__main__":
    main()
