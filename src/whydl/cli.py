"""The `whydl` command line: parse, build a config, call the library, print.

Heavy libraries (torch, matplotlib) are imported inside the commands, so `whydl --help`
stays fast. `main(argv)` returns the exit code: 0 ok, 2 bad input or diverged training.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import sys
import time
from dataclasses import fields

from whydl.config import (
    ACTIVATION_NAMES,
    ARCHITECTURES,
    DEVICE_NAMES,
    INIT_NAMES,
    OPTIMIZER_NAMES,
    TASK_NAMES,
    DataConfig,
    ModelConfig,
    TrainConfig,
)
from whydl.data import DATASETS
from whydl.errors import did_you_mean
from whydl.paths import check_output_dir, check_output_file

EXIT_USAGE = 2
_CONFIGS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line with a hint, raised rather than printed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        wrong = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        hint = ""
        if wrong:  # argparse lists the choices; add the near miss
            hint = did_you_mean(wrong.group(1), re.findall(r"'([^']*)'", wrong.group(2)))
        raise UsageError(f"{self.prog}: {message}.{hint} Run '{self.prog} --help' for the options.")


def _default(section: str, name: str) -> str:
    """'(default X)' from the config dataclass, so help and behaviour cannot disagree."""
    value = next(f.default for f in fields(_CONFIGS[section]) if f.name == name)
    if isinstance(value, tuple):
        value = ",".join(map(str, value))
    return f"(default {value})"


def _int_list(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip() != "")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 10,10, got {text!r}"
        ) from None
    return widths


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"expected a port number 0..65535 (0 = any free port), got {text!r}"
        )
    return port


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """Flags shared by `train` (all) and `demo` (seeds, device, out)."""
    d = p.add_argument_group("data")
    # validated by `load_dataset` (with a did-you-mean), so its message is the API's too
    d.add_argument(
        "--dataset",
        metavar="NAME",
        help=f"a generated or bundled dataset: {', '.join(DATASETS)} "
        + _default("data", "dataset"),
    )
    d.add_argument("--data", metavar="FILE.csv", help="your own CSV file (use with --target)")
    d.add_argument("--target", metavar="COLUMN", help="the CSV column to predict")
    d.add_argument(
        "--n",
        "--n-samples",
        dest="n_samples",
        type=int,
        metavar="N",
        help="points of a generated dataset " + _default("data", "n_samples"),
    )
    d.add_argument(
        "--noise", type=float, help="noise level of a generated dataset (default 0.1; teacher 0)"
    )
    d.add_argument(
        "--data-seed",
        type=int,
        metavar="SEED",
        help="seed of data generation and split " + _default("data", "data_seed"),
    )
    d.add_argument(
        "--test-size",
        type=float,
        metavar="FRACTION",
        help="fraction held out for testing " + _default("data", "test_size"),
    )
    d.add_argument(
        "--n-classes",
        type=int,
        metavar="K",
        help="classes of gaussians / arms of spiral (default 3 / 2)",
    )
    m = p.add_argument_group("model")
    m.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        help="an MLP, or the small CNN for 8x8 images " + _default("model", "architecture"),
    )
    m.add_argument(
        "--hidden",
        type=_int_list,
        metavar="W1,W2,...",
        help="hidden layer widths " + _default("model", "hidden"),
    )
    m.add_argument("--activation", choices=ACTIVATION_NAMES, help=_default("model", "activation"))
    m.add_argument(
        "--dropout",
        type=float,
        metavar="P",
        help="dropout probability " + _default("model", "dropout"),
    )
    m.add_argument(
        "--batch-norm",
        action="store_true",
        default=None,
        help="batch norm after each hidden layer (default off)",
    )
    m.add_argument(
        "--residual",
        action="store_true",
        default=None,
        help="skip connections between equal-width layers (default off)",
    )
    m.add_argument("--init", choices=INIT_NAMES, help=_default("model", "init"))
    t = p.add_argument_group("training")
    t.add_argument(
        "--task",
        choices=TASK_NAMES,
        help="override the task inferred from the data (default inferred)",
    )
    t.add_argument("--optimizer", choices=OPTIMIZER_NAMES, help=_default("train", "optimizer"))
    t.add_argument("--lr", type=float, help="learning rate " + _default("train", "lr"))
    t.add_argument(
        "--momentum",
        type=float,
        help="for optimizer momentum/nesterov only " + _default("train", "momentum"),
    )
    t.add_argument(
        "--weight-decay",
        type=float,
        metavar="L2",
        help="L2 penalty; decoupled for adamw " + _default("train", "weight_decay"),
    )
    t.add_argument(
        "--batch-size",
        type=int,
        metavar="N",
        help="minibatch size, 0 = full batch " + _default("train", "batch_size"),
    )
    t.add_argument(
        "--epochs", type=int, help="passes over the training data " + _default("train", "epochs")
    )
    t.add_argument(
        "--early-stopping",
        action="store_true",
        default=None,
        help="stop on validation loss (10%% of the training split held out; default off)",
    )
    t.add_argument(
        "--patience",
        type=int,
        help="with --early-stopping: epochs without improvement " + _default("train", "patience"),
    )
    _add_common(p)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seeds",
        type=int,
        dest="n_seeds",
        metavar="N",
        help="members trained at once " + _default("train", "n_seeds"),
    )
    p.add_argument("--seed", type=int, help="seed of the first member " + _default("train", "seed"))
    p.add_argument(
        "--device", choices=DEVICE_NAMES, help="where to train " + _default("train", "device")
    )
    p.add_argument("--out", metavar="DIR", help="output directory")


def _add_executor_options(p: argparse.ArgumentParser) -> None:
    """--executor/--scheduler, on every command that sweeps (validated in `_open_executor`)."""
    p.add_argument(
        "--executor",
        default="local",
        metavar="{local,dask}",
        help="where training runs: local (this process, default) or dask (a local cluster "
        "with one worker per core, or the cluster at --scheduler; needs whydl[dask])",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:8786",
        help="with --executor dask: the address of an existing Dask scheduler",
    )
    p.add_argument(
        "--split",
        action="store_true",
        help="with --executor dask: cut calls that would hold up the sweep into parts across "
        "workers (faster on many workers; members then differ from the local run's by float32 "
        "rounding, which long training can grow to a test point, instead of bit for bit)",
    )


def build_parser() -> Parser:
    parser = Parser(
        prog="whydl",
        description="Measured evidence for why deep learning works.",
        epilog="Start with 'whydl demo' (the article's experiment), then 'whydl train --help'.",
    )
    parser.add_argument("--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    for name, helptext in (
        ("demo", "the article's experiment: two-moons, 2-10-10-1 ReLU MLP, Adam, 100 epochs"),
        ("seed", "the same as 'demo' (the article's seed experiment)"),
    ):
        p = sub.add_parser(name, help=helptext, description=helptext)
        _add_common(p)
    p = sub.add_parser(
        "train",
        help="train any model on any dataset, from flags or a config",
        description="Train members on a dataset. Flags override --config.",
    )
    p.add_argument(
        "--config", metavar="FILE.toml", help="a config file with [data] [model] [train] sections"
    )
    _add_run_options(p)
    sub.add_parser(
        "claims",
        help="list the article's claims with their hypotheses",
        description="List the claims whydl tests, with their hypotheses.",
    )
    p = sub.add_parser(
        "claim",
        help="run one claim's experiment and print its verdict",
        description="Run one claim: sweep, statistics, figures, verdict.",
    )
    p.add_argument("name", help="the claim's name (see 'whydl claims')")
    p.add_argument(
        "--preset",
        choices=["quick", "full"],
        default="quick",
        help="quick: seconds; full: the report's settings (default quick)",
    )
    p.add_argument("--seeds", type=int, dest="n_seeds", help="override the preset's seeds")
    p.add_argument("--out", metavar="DIR", help="output directory (runs/claims/NAME)")
    p.add_argument(
        "--store",
        metavar="PATH",
        help="results store: trained members are reused from it and saved to it "
        "(default runs/whydl.db, or DIR/whydl.db with --out DIR)",
    )
    _add_executor_options(p)
    _add_report_parsers(sub)
    _add_serve_parser(sub)
    return parser


def _add_report_parsers(sub) -> None:
    """`whydl report` and `whydl runs ls|show|export`."""
    p = sub.add_parser(
        "report",
        help="run every claim (reusing stored results) and write one HTML report",
        description="Run every available claim through the results store, then write "
        "OUT/report/index.html: one self-contained page (figures inline, opens offline).",
    )
    p.add_argument(
        "--preset",
        choices=["quick", "full"],
        default="quick",
        help="quick: about a minute; full: the real evidence, up to 15 minutes (default quick)",
    )
    p.add_argument(
        "--seeds", type=int, dest="n_seeds", metavar="N", help="override every preset's seeds"
    )
    p.add_argument("--out", metavar="DIR", default="runs", help="output directory (runs)")
    p.add_argument("--store", metavar="PATH", help="results store (default OUT/whydl.db)")
    p.add_argument(
        "--no-train",
        action="store_true",
        help="render from the store alone; fail if a result is missing",
    )
    _add_executor_options(p)
    runs = sub.add_parser(
        "runs",
        help="list, show and export the runs in the results store",
        description="Inspect the results store: every trained member with its config, "
        "history, final metrics and environment.",
    )
    runs_sub = runs.add_subparsers(dest="runs_command", parser_class=Parser, metavar="ACTION")
    store_help = "results store (default runs/whydl.db)"
    p = runs_sub.add_parser("ls", help="one line per stored run", description="List the runs.")
    p.add_argument("--store", metavar="PATH", default="runs/whydl.db", help=store_help)
    p = runs_sub.add_parser(
        "show", help="one run's config and members", description="Show one run in full."
    )
    p.add_argument("id", metavar="ID", help="a run id (or its first characters) from 'runs ls'")
    p.add_argument("--store", metavar="PATH", default="runs/whydl.db", help=store_help)
    p = runs_sub.add_parser(
        "export",
        help="every member as CSV or JSON, or to MLflow",
        description="Export every stored member (without weights) as CSV (one row per "
        "member, final metrics) or JSON (with config, history and environment), or write "
        "every member, training call and claim result to MLflow (--mlflow; needs whydl[mlflow]).",
    )
    p.add_argument("--format", choices=["csv", "json"], help="(csv)")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument(
        "--mlflow",
        nargs="?",
        const="sqlite:///mlflow.db",
        metavar="URI",
        help="write to the MLflow tracking URI (default sqlite:///mlflow.db); view with "
        "'mlflow ui --backend-store-uri sqlite:///mlflow.db'",
    )
    p.add_argument(
        "--experiment",
        metavar="PREFIX",
        help="with --mlflow: experiment names are PREFIX/CLAIM (default whydl)",
    )
    p.add_argument("--store", metavar="PATH", default="runs/whydl.db", help=store_help)


# flag name -> (config section, field)
_FIELDS = {
    "dataset": ("data", "dataset"),
    "n_samples": ("data", "n_samples"),
    "noise": ("data", "noise"),
    "data_seed": ("data", "data_seed"),
    "test_size": ("data", "test_size"),
    "n_classes": ("data", "n_classes"),
    "data": ("data", "csv"),
    "target": ("data", "target"),
    "architecture": ("model", "architecture"),
    "hidden": ("model", "hidden"),
    "activation": ("model", "activation"),
    "dropout": ("model", "dropout"),
    "batch_norm": ("model", "batch_norm"),
    "residual": ("model", "residual"),
    "init": ("model", "init"),
    "task": ("train", "task"),
    "optimizer": ("train", "optimizer"),
    "lr": ("train", "lr"),
    "momentum": ("train", "momentum"),
    "weight_decay": ("train", "weight_decay"),
    "batch_size": ("train", "batch_size"),
    "epochs": ("train", "epochs"),
    "early_stopping": ("train", "early_stopping"),
    "patience": ("train", "patience"),
    "n_seeds": ("train", "n_seeds"),
    "seed": ("train", "seed"),
    "device": ("train", "device"),
}


def _flag(field: str) -> str:
    """The flag a config field is set by: ("data", "csv") -> --data."""
    name = next(f for f, (_, key) in _FIELDS.items() if key == field)
    return {"n_samples": "--n", "n_seeds": "--seeds", "data": "--data"}.get(
        name, "--" + name.replace("_", "-")
    )


def config_from_args(args, base=None, file_keys=frozenset(), source: str = ""):
    """Flags override the config file, which overrides the defaults. An option the run would
    ignore (noise on digits, momentum with Adam) is refused, whichever of the two set it."""
    from whydl.config import RunConfig

    config = base if base is not None else RunConfig()
    changes: dict[str, dict] = {"data": {}, "model": {}, "train": {}}
    flags = set()
    for flag, (section, field) in _FIELDS.items():
        value = getattr(args, flag, None)
        if value is not None:
            changes[section][field] = value
            flags.add(f"{section}.{field}")
    if getattr(args, "data", None) and getattr(args, "dataset", None):
        raise UsageError("whydl train: use either --dataset NAME or --data FILE.csv, not both.")
    if getattr(args, "data", None):
        changes["data"]["dataset"] = "csv"
    elif getattr(args, "dataset", None):
        changes["data"]["csv"] = changes["data"]["target"] = None  # a flag beats the file's CSV
    if getattr(args, "target", None) and not getattr(args, "data", None) and not config.data.csv:
        raise UsageError("whydl train: --target needs --data FILE.csv (your own CSV file).")
    config = config.replace(**changes)

    def name_of(key: str) -> str:
        section, field = key.split(".")
        return _flag(field) if key in flags else f"{source}: [{section}] {field}"

    config.check_used(flags | set(file_keys), name_of)
    return config


def _train_and_save(config, out, figure_name: str) -> int:
    from whydl.api import run

    result = run(config)
    for message in result.warnings():
        print(f"warning: {message}", file=sys.stderr)
    saved = result.save(out, figure_name=figure_name)
    m = result.metrics
    print(result.summary())
    print(f"trained {m['n_members']} member(s) in {m['train_seconds']:.2f} s on {m['device']}")
    print(f"wrote {saved}/: {', '.join(result.saved_files_)}")
    return 0


def cmd_demo(args) -> int:
    from whydl.config import article_config

    out = check_output_dir(args.out or "runs/demo")
    return _train_and_save(config_from_args(args, article_config()), out, "demo")


def cmd_train(args) -> int:
    from whydl.config import RunConfig, given_keys, read_toml

    out = check_output_dir(args.out or "runs/train")
    base, keys = None, set()
    if args.config:
        table = read_toml(args.config)
        base, keys = RunConfig.from_dict(table, source=args.config), given_keys(table)
    config = config_from_args(args, base, keys, args.config or "")
    return _train_and_save(config, out, "result")


def cmd_claims(args) -> int:
    from whydl.evidence import available_claims, get_claim

    for name in available_claims():
        claim = get_claim(name)
        print(f"{name:12s} {claim.title}\n{'':12s} {claim.hypothesis}")
    return 0


def cmd_claim(args) -> int:
    from whydl.evidence import get_claim
    from whydl.report.card import claim_record
    from whydl.store import CachedContext, Store

    claim = get_claim(args.name)
    claim.params(args.preset, args.n_seeds)  # bad --seeds fail before a cluster starts
    out = check_output_dir(args.out or f"runs/claims/{args.name}")
    store = args.store or (f"{args.out}/whydl.db" if args.out else "runs/whydl.db")
    check_output_file(store, "--store")
    with _open_executor(args) as executor, Store(store) as db:
        print(f"claim {args.name} ({args.preset} preset): {claim.hypothesis}", flush=True)
        ctx = CachedContext(db, claim=args.name, verbose=True, executor=executor)
        try:
            result = claim.run(args.preset, args.n_seeds, ctx)
        except KeyboardInterrupt:
            print(f"finished trainings are saved in {store}: run again to resume.", file=sys.stderr)
            raise
        saved = result.save(out)
        record = claim_record(result, claim, ctx.n_members, ctx.n_cached, saved)
        n_seeds = result.params.get("n_seeds", result.verdict.seeds)
        db.put_result(args.name, args.preset, n_seeds, record)
    print(result.summary(hypothesis=False))
    print(f"wrote {saved}/: {', '.join(result.saved_files_)}")
    print(f"store {store}: {ctx.n_members} member(s) trained, {ctx.n_cached} reused")
    return 0


def cmd_report(args) -> int:
    from whydl.report import build_report

    store = args.store or f"{args.out}/whydl.db"
    if args.no_train and (args.executor != "local" or args.split):
        raise UsageError(
            "whydl report: --no-train trains nothing, so it takes no --executor or --split. "
            f"Run '{_without(args.command_line, '--executor', '--scheduler', '--split')}'."
        )
    check_output_dir(args.out)
    if not args.no_train:
        check_output_file(store, "--store")
    try:
        with _open_executor(args) as executor:
            path, failed = build_report(
                args.preset,
                args.n_seeds,
                args.out,
                args.store,
                not args.no_train,
                verbose=True,
                executor=executor,
            )
    except KeyboardInterrupt:
        print(f"finished trainings are saved in {store}: run again to resume.", file=sys.stderr)
        raise
    print(f"wrote {path}")
    if failed:
        print(f"error: these claims failed (see above): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _without(command_line: str, *flags: str) -> str:
    """The user's command line without `flags` (and the value each takes, if any)."""
    words, kept, skip = shlex.split(command_line), [], False
    for word in words:
        if skip:
            skip = False
            continue
        name = word.split("=")[0]
        if name in flags:
            skip = "=" not in word and name != "--split"
            continue
        kept.append(word)
    return shlex.join(kept)


class _open_executor:
    """The executor that --executor/--scheduler name (None: local), closed on the way out."""

    def __init__(self, args):
        from whydl.executor import check_options

        # before any run; a hint repeats the user's own command line with the fix
        check_options(args.executor, args.scheduler, args.command_line, args.split)
        self.args = args

    def __enter__(self):
        from whydl.executor import make_executor

        args = self.args
        self.executor = make_executor(args.executor, args.scheduler, split=args.split)
        if self.executor is not None:
            print(f"executor: {self.executor.description}", flush=True)
        return self.executor

    def __exit__(self, *exc):
        if self.executor is not None:
            self.executor.close()


def cmd_runs(args) -> int:
    from whydl.store import Store

    if args.runs_command is None:
        raise UsageError("whydl runs: choose an action: ls, show ID or export.")
    if args.runs_command == "export":
        if args.mlflow is not None and (args.format or args.output):
            raise UsageError(
                "whydl runs export: --mlflow writes to MLflow, so it takes no --format or "
                "--output. Run either 'whydl runs export --mlflow [URI]' or "
                "'whydl runs export --format csv --output FILE'."
            )
        if args.experiment is not None and args.mlflow is None:
            raise UsageError("whydl runs export: --experiment needs --mlflow [URI].")
        if args.mlflow is not None:
            return _export_mlflow(args)
    output = None
    if args.runs_command == "export" and args.output:
        output = check_output_file(args.output, "--output")
    with Store(args.store, create=False) as db:
        if args.runs_command == "ls":
            print(_runs_table(db.runs()))
        elif args.runs_command == "show":
            print(_run_details(db, db.resolve_run(args.id)))
        else:
            text = _export(db.members(), args.format or "csv")
            if output is not None:
                _write_atomically(output, text)
                print(f"wrote {output}", file=sys.stderr)
            else:
                sys.stdout.write(text)
    return 0


def _write_atomically(path, text: str) -> None:
    """Write `text` to `path` (making its folders) so a reader never sees half a file."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _export_mlflow(args) -> int:
    from whydl.mlflow_export import DEFAULT_PREFIX, export_mlflow, require_mlflow
    from whydl.store import Store

    require_mlflow()  # before the store is opened: the clear message comes first
    with Store(args.store, create=False) as db:
        counts = export_mlflow(db, args.mlflow, args.experiment or DEFAULT_PREFIX)
    print(
        f"wrote {counts['member']} member run(s), {counts['call']} training call(s) and "
        f"{counts['claim']} claim result(s) to {args.mlflow}; {counts['skipped']} were "
        "already there"
    )
    if args.mlflow.startswith("sqlite:///"):
        print(f"view them with: mlflow ui --backend-store-uri {args.mlflow}")
    return 0


def _runs_table(runs) -> str:
    if not runs:
        return "the store holds no runs yet"
    lines = [
        f"{'RUN':12s}  {'CREATED':19s}  {'CLAIM':12s}  {'TAG':24s}  {'MODEL':14s}  SEEDS  HELD-OUT"
    ]
    for r in runs:
        model = r["config"]["model"]
        arch = "cnn" if model["architecture"] == "cnn" else "-".join(map(str, model["hidden"]))
        value = "-" if r["val_metric_mean"] is None else f"{r['val_metric_mean']:.4f}"
        tag = r["tag"] or r["dataset"]
        lines.append(
            f"{r['run']:12s}  {r['created']:19s}  {r['claim'] or '-':12s}  {tag[:24]:24s}  "
            f"{arch[:14]:14s}  {len(r['seeds']):5d}  {value}"
        )
    lines.append(
        f"{len(runs)} run(s); HELD-OUT: the last epoch's metric on the held-out split (the test "
        "split; a validation split with early stopping), mean over seeds"
    )
    return "\n".join(lines)


def _run_details(db, run: str) -> str:
    import json

    members = db.members(run)
    first = members[0]
    lines = [
        f"run {run}: claim {first['claim'] or '-'}, tag {first['tag'] or '-'}, "
        f"dataset {first['dataset']} ({first['task']}), created {first['created']}",
        f"trained in {first['train_seconds']:.2f} s",
        *(f"{k}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(first["config"].items())),
        "environment: " + json.dumps(first["environment"], sort_keys=True),
        f"{'member':>8}  {'seed':>5}  {'epochs':>6}  {'train loss':>10}  {'val loss':>10}  "
        f"{'val ' + first['metric']:>12}  key",
    ]
    for m in members:
        f = m["final"]
        num = lambda v: "nan" if v is None else f"{v:.4f}"  # noqa: E731
        lines.append(
            f"{m['id']:>8}  {m['seed']:>5}  {f['epochs_run']:>6}  {num(f['train_loss']):>10}  "
            f"{num(f['val_loss']):>10}  {num(f['val_metric']):>12}  {m['key'][:16]}"
            + (f"  DIVERGED: {f['diverged']}" if f["diverged"] else "")
        )
    return "\n".join(lines)


def _export(members, fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps(members, indent=1) + "\n"
    import csv
    import io

    rows = []
    for m in members:
        row = {k: m[k] for k in ("id", "run", "key", "seed", "claim", "tag", "dataset", "task")}
        row |= {"metric": m["metric"], "train_seconds": m["train_seconds"], "created": m["created"]}
        row |= {f"final_{k}": v for k, v in m["final"].items()}
        row |= {f"model_{k}": v for k, v in m["config"]["model"].items()}
        row |= {f"train_{k}": v for k, v in m["config"]["train"].items()}
        rows.append(row)
    buf = io.StringIO()
    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["id"]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _add_serve_parser(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="the browser playground: train a network live and watch it learn",
        description="Start the playground web app and print its URL (needs the web extra: "
        "pip install 'whydl[web]').",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 = any free)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")


def cmd_serve(args) -> int:
    try:  # the web extra is optional: say how to get it rather than fail with a traceback
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        print(
            f"whydl serve: needs the web extra ({e.name} is not installed). Install it with:\n"
            "    pip install 'whydl[web]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from whydl.web.app import serve

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a server stops: no error
        serve(args.host, args.port, open_browser=args.open)
    print("whydl playground stopped", flush=True)
    return 0


COMMANDS = {
    "demo": cmd_demo,
    "seed": cmd_demo,
    "train": cmd_train,
    "claims": cmd_claims,
    "claim": cmd_claim,
    "report": cmd_report,
    "runs": cmd_runs,
    "serve": cmd_serve,
}


def main(argv=None) -> int:
    started = time.perf_counter()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        args.command_line = shlex.join(["whydl", *argv])  # hints repeat it with their fix
        if args.version:
            from whydl import __version__

            print(f"whydl {__version__}")
            return 0
        if args.command is None:
            parser.print_help()
            return 0
        code = COMMANDS[args.command](args)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: nothing was written for the unfinished run.", file=sys.stderr)
        return 130
    except Exception as e:  # user errors become one clean line; real bugs keep their traceback
        message = _user_error(e)
        if message is None:
            raise
        command = getattr(args, "command", None) or ""
        print(f"whydl {command}: error: {message}".replace("  ", " "), file=sys.stderr)
        return 1 if type(e).__name__ == "SweepFailed" else EXIT_USAGE
    if getattr(args, "command", None):
        sys.stdout.flush()  # every line of the command's own output before the timing line
        print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return code


def _user_error(e: Exception) -> str | None:
    """The one-line message for an error that is the user's input or machine, not a bug:
    bad input, diverged training, a failed sweep job (exit 1), and every OS, SQLite,
    socket and out-of-memory error. None for anything else, which keeps its traceback."""
    import sqlite3

    from whydl.errors import DivergedError, WhydlError

    if isinstance(e, WhydlError | DivergedError) or type(e).__name__ == "SweepFailed":
        return str(e)
    if isinstance(e, OSError):
        where = f" ({e.filename})" if e.filename else ""
        return f"{e.strerror or e}{where}. Check the path, its permissions and free disk space."
    if isinstance(e, sqlite3.Error):
        return f"the results store failed: {e}. Pass another --store PATH, or free disk space."
    if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError":
        return (
            f"out of memory ({type(e).__name__}: {e}). Use smaller --hidden widths, fewer "
            "--seeds or a smaller --batch-size."
        )
    return None


def entry_point() -> None:
    """The console script. After flushing, leave with os._exit: torch's interpreter teardown
    takes about a second here and has nothing left to clean up (every file is closed)."""
    import os

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry_point()
