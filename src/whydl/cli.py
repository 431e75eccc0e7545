"""The `whydl` command line: parse, build a config, call the library, print.

Heavy libraries (torch, matplotlib) are imported inside the commands, so `whydl --help`
stays fast. `main(argv)` returns the exit code: 0 ok, 2 bad input or diverged training.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sqlite3
import sys
import time

from whydl import __version__
from whydl.config import RunConfig, article_config, given_keys, read_toml
from whydl.errors import DivergedError, WhydlError
from whydl.flags import UsageError, config_from_args, given_flags, without
from whydl.parser import build_parser
from whydl.paths import check_output_dir, check_output_file

EXIT_USAGE = 2


def _train_and_save(config, out, figure_name: str) -> int:
    # lazily, so `whydl --help` stays fast (torch)
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

    out = check_output_dir(args.out or "runs/demo")
    return _train_and_save(config_from_args(args, article_config()), out, "demo")


def cmd_train(args) -> int:

    out = check_output_dir(args.out or "runs/train")
    base, keys = None, set()
    if args.config:
        table = read_toml(args.config)
        base, keys = RunConfig.from_dict(table, source=args.config), given_keys(table)
    config = config_from_args(args, base, keys, args.config or "")
    return _train_and_save(config, out, "result")


def cmd_claims(args) -> int:
    # lazily, so `whydl --help` stays fast (the claims import torch)
    from whydl.evidence import available_claims, get_claim

    for name in available_claims():
        claim = get_claim(name)
        print(f"{name:12s} {claim.title}\n{'':12s} {claim.hypothesis}")
    return 0


def cmd_claim(args) -> int:
    if not args.calibrate:  # bad paths are refused before the imports below (torch: ~1.5 s)
        out = check_output_dir(args.out or f"runs/claims/{args.name}")
        store = args.store or (f"{args.out}/whydl.db" if args.out else "runs/whydl.db")
        check_output_file(store, "--store")
    # lazily, so `whydl --help` stays fast (torch)
    from whydl.evidence import get_claim
    from whydl.runtime import run_claim
    from whydl.store import Store

    claim = get_claim(args.name)
    params = claim.params(args.preset, args.n_seeds)  # bad --seeds fail before any work
    if args.calibrate:
        return _calibrate(args, claim, params)
    with _open_executor(args) as executor, Store(store) as db:
        print(f"claim {args.name} ({args.preset} preset): {claim.hypothesis}", flush=True)
        try:
            run = run_claim(claim, args.preset, args.n_seeds, db, out, executor, verbose=True)
        except KeyboardInterrupt:
            print(f"finished trainings are saved in {store}: run again to resume.", file=sys.stderr)
            raise
    print(run.result.summary(hypothesis=False))
    print(f"wrote {out}/: {', '.join(run.result.saved_files_)}")
    print(f"store {store}: {run.trained} member(s) trained, {run.cached} reused")
    return 0


def _calibrate(args, claim, params) -> int:
    given = given_flags(args.command_line, "--out", "--store", "--executor", "--split")
    if given:
        raise UsageError(
            f"whydl claim --calibrate simulates and trains nothing, so it takes no "
            f"{', '.join(given)}. Run '{without(args.command_line, *given, '--scheduler')}'."
        )
    print(f"claim {args.name}: each rule's rates on simulated experiments ({args.preset} preset)")
    print("\n".join(claim.calibration(params)))
    return 0


def cmd_report(args) -> int:
    store = args.store or f"{args.out}/whydl.db"
    if args.no_train and (args.executor != "local" or args.split):
        raise UsageError(
            "whydl report: --no-train trains nothing, so it takes no --executor or --split. "
            f"Run '{without(args.command_line, '--executor', '--scheduler', '--split')}'."
        )
    if args.jobs is not None:
        _check_jobs(args)
    check_output_dir(args.out)
    if not args.no_train:
        check_output_file(store, "--store")
    # lazily, and after the checks above: `whydl --help` and a refusal stay fast (torch)
    from whydl.make_report import build_report

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
                jobs=args.jobs,
            )
    except KeyboardInterrupt:
        print(f"finished trainings are saved in {store}: run again to resume.", file=sys.stderr)
        raise
    print(f"wrote {path}")
    if failed:
        print(f"error: these claims failed (see above): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _check_jobs(args) -> None:
    """--jobs runs claims side by side in this machine's processes: nothing else takes it."""
    if args.no_train or args.executor != "local":
        what = "--no-train trains nothing" if args.no_train else "--executor dask trains there"
        raise UsageError(
            f"whydl report: {what}, so it takes no --jobs. "
            f"Run '{without(args.command_line, '--jobs')}'."
        )


class _open_executor:
    """The executor that --executor/--scheduler name, closed on the way out."""

    def __init__(self, args):
        # lazily, so `whydl --help` stays fast (the runtime imports torch)
        from whydl.runtime import check_options

        # before any run; a hint repeats the user's own command line with the fix
        check_options(args.executor, args.scheduler, args.command_line, args.split)
        self.args = args

    def __enter__(self):
        # lazily, so `whydl --help` stays fast (the runtime imports torch)
        from whydl.runtime import make_executor

        args = self.args
        self.executor = make_executor(args.executor, args.scheduler, split=args.split)
        if args.executor != "local":
            print(f"executor: {self.executor.description}", flush=True)
        return self.executor

    def __exit__(self, *exc):
        self.executor.close()


def cmd_runs(args) -> int:
    from whydl.report.listing import export_members, run_details, runs_table
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
            print(runs_table(db.runs()))
        elif args.runs_command == "show":
            print(run_details(db, db.resolve_run(args.id)))
        else:
            text = export_members(db.members(), args.format or "csv")
            if output is not None:
                _write_atomically(output, text)
                print(f"wrote {output}", file=sys.stderr)
            else:
                sys.stdout.write(text)
    return 0


def _write_atomically(path, text: str) -> None:
    """Write `text` to `path` (making its folders) so a reader never sees half a file."""

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _export_mlflow(args) -> int:
    # lazily, so `whydl --help` stays fast (mlflow is an extra)
    from whydl.mlflow_export import DEFAULT_PREFIX, export_mlflow, require_mlflow
    from whydl.store import Store  # the store imports no torch

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


def cmd_serve(args) -> int:
    try:  # the web extra is optional: say how to get it rather than fail with a traceback
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise WhydlError(
            f"needs the web extra ({e.name} is not installed). Install it with: "
            "pip install 'whydl[web]'"
        ) from None
    # lazily, so `whydl --help` stays fast (fastapi is an extra)
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
    except BrokenPipeError:  # `whydl runs export | head`: the reader left, which is no error
        return _reader_left()
    except Exception as e:  # user errors become one clean line; real bugs keep their traceback
        message = _user_error(e)
        if message is None:
            raise
        command = getattr(args, "command", None) or ""
        print(f"whydl {command}: error: {message}".replace("  ", " "), file=sys.stderr)
        return 1 if type(e).__name__ == "SweepFailed" else EXIT_USAGE
    if getattr(args, "command", None):
        try:
            sys.stdout.flush()  # every line of the command's own output before the timing line
        except BrokenPipeError:
            return _reader_left()
        print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return code


def _reader_left() -> int:
    """The reader of our output closed the pipe (`| head`): stop quietly, as Python's docs
    advise, pointing stdout at /dev/null so the interpreter's own flush cannot fail too."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1


def _user_error(e: Exception) -> str | None:
    """The one-line message for an error that is the user's input or machine, not a bug:
    bad input, diverged training, a failed sweep job (exit 1), and every OS, SQLite,
    socket and out-of-memory error. None for anything else, which keeps its traceback."""

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
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = _reader_left()
    os._exit(code)


if __name__ == "__main__":
    entry_point()
