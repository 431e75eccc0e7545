"""The `whydl` command's parser: every subcommand and its flags. The training flags come
from `whydl.flags`, which takes them from the config dataclasses.
"""

from __future__ import annotations

import argparse
import re

from whydl.errors import did_you_mean
from whydl.flags import UsageError, add_common, add_run_options, parse_jobs, parse_port


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
        add_common(p)
    p = sub.add_parser(
        "train",
        help="train any model on any dataset, from flags or a config",
        description="Train members on a dataset. Flags override --config.",
    )
    p.add_argument(
        "--config", metavar="FILE.toml", help="a config file with [data] [model] [train] sections"
    )
    add_run_options(p)
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
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="train nothing: print each rule's false-positive rate, false negatives at its "
        "minimum effect and power, measured on simulated experiments at the preset's seeds",
    )
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
        default="full",
        help="full: the real evidence, 10 evaluation seeds per config (about 4.5 minutes on "
        "2 cores, claims side by side; the default); quick: a smoke run of about a minute "
        "whose 3 seeds decide little",
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
    p.add_argument(
        "--jobs",
        type=parse_jobs,
        metavar="N",
        help="claims run side by side, each in its own process on one core (default: one per "
        "core; 1: one after the other; not with --executor dask, whose workers share the work)",
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


def _add_serve_parser(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="the browser playground: train a network live and watch it learn",
        description="Start the playground web app and print its URL (needs the web extra: "
        "pip install 'whydl[web]').",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=parse_port, default=8000, help="port (default 8000; 0 = any free)"
    )
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
