"""Choosing where a sweep's training calls run: `local` (this process) or `dask` (a cluster).

Example
-------
>>> make_executor("local").description
'local (this process)'
"""

from __future__ import annotations

import re

from whydl.errors import WhydlError, did_you_mean
from whydl.runtime.local import LocalExecutor

EXECUTORS = ("local", "dask")
_ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss|inproc)://\S+$")


def check_options(executor: str, scheduler: str | None, command: str, split=False) -> None:
    """Validate --executor/--scheduler/--split before anything runs (a clear WhydlError).
    `command` is the user's command line, so a hint is that line with the fix added."""
    if executor not in EXECUTORS:
        raise WhydlError(
            f"--executor {executor!r} is not valid. Expected one of: {', '.join(EXECUTORS)}."
            f"{did_you_mean(executor, EXECUTORS)}"
        )
    if scheduler is not None and executor != "dask":
        raise WhydlError(
            f"--scheduler {scheduler} needs --executor dask. Run '{command} --executor dask'."
        )
    if split and executor != "dask":
        raise WhydlError(
            "--split cuts calls across Dask workers, so it needs --executor dask. "
            f"Run '{command} --executor dask'."
        )
    if scheduler is not None and not _ADDRESS.match(scheduler):
        raise WhydlError(
            f"--scheduler {scheduler!r} is not a Dask scheduler address. Expected "
            "one such as tcp://HOST:8786 (what 'dask scheduler' prints)."
        )
    if executor == "dask":
        require_dask()


def require_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as e:
        raise WhydlError(
            f"--executor dask needs the dask extra ({e.name} is not installed). "
            "Install it with: pip install 'whydl[dask]'"
        ) from None


def make_executor(
    name: str = "local", scheduler: str | None = None, n_workers=None, split: bool = False
):
    """A `LocalExecutor` or a `DaskExecutor` (close it when done)."""
    check_options(name, scheduler, "whydl", split)
    if name == "local":
        return LocalExecutor()
    from whydl.runtime.dask import DaskExecutor  # lazily: dask takes a second to import

    return DaskExecutor(scheduler, n_workers, split)
