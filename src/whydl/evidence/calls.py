"""Training calls as data, and the context that trains them.

Training goes through `Context.fit` and `Context.fit_many` (several independent calls at
once), the single door where the results store (caching and resuming) and executors (Dask)
plug in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whydl.errors import DivergedError


@dataclass(frozen=True)
class TrainCall:
    """One `Context.fit` call, described rather than made, so a sweep can hand many to
    `Context.fit_many` at once (and an executor can train them side by side).

    `hooks` pass through to `whydl.engine.fit` (members, frozen, train_rows, callback);
    `recorders` (see `whydl.engine.recorders`) say what the engine measures while it trains:
    plain data, so a results store caches such a call and a worker can train it.
    """

    dataset: object
    model: object
    train: object
    tag: str = ""
    hooks: dict = field(default_factory=dict)
    recorders: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "recorders", tuple(self.recorders))

    @property
    def name(self) -> str:
        """How progress lines and failure reports name this call."""
        return self.tag or getattr(self.dataset, "name", "fit")


class Context:
    """What a sweep may use: `fit` (the engine, or a cache in front of it) and progress.

    Example
    -------
    >>> ctx = Context()
    >>> from whydl.data import article_moons
    >>> from whydl.config import ModelConfig, TrainConfig
    >>> ctx.fit(article_moons(), ModelConfig(), TrainConfig(epochs=1)).history.n_epochs
    1
    """

    def __init__(self, verbose: bool = False, fit=None):
        self.verbose = verbose
        self._fit = fit
        self.n_fits = 0
        self.n_members = 0

    def fit(self, dataset, model, train, tag: str = "", recorders=(), **hooks):
        """Train `train.n_seeds` members (one vectorised run). `tag` names the sweep cell;
        `recorders` and `hooks` (members, frozen, callback) pass through to
        `whydl.engine.fit`."""
        return self._train(TrainCall(dataset, model, train, tag, hooks, recorders))

    def fit_many(self, calls, errors: str = "raise"):
        """The fits of several independent `TrainCall`s: a list in the calls' order, or a dict
        with the same keys when `calls` is a dict. Here they train one after the other; an
        executor (see `whydl.runtime.CachedContext`) trains them side by side.

        `errors="return"` puts a call's `DivergedError` (every member diverged) in its place
        instead of raising it, so one unstable setting does not stop a sweep.
        """
        if errors not in ("raise", "return"):
            raise ValueError(f"errors={errors!r}; expected 'raise' or 'return'.")
        if isinstance(calls, dict):
            return dict(zip(calls, self._fit_list(list(calls.values()), errors)))
        return self._fit_list(list(calls), errors)

    def _fit_list(self, calls: list, errors: str) -> list:
        out = []
        for call in calls:
            try:
                out.append(
                    self.fit(
                        call.dataset,
                        call.model,
                        call.train,
                        call.tag,
                        recorders=call.recorders,
                        **call.hooks,
                    )
                )
            except DivergedError as e:
                if errors == "raise":
                    raise
                out.append(e)
        return out

    def _train(self, call: TrainCall):
        """Train one call in this process: the engine, or the `fit` given at construction."""
        from whydl.engine import fit as engine_fit  # lazily: the rules need no torch

        self.n_fits += 1
        self.n_members += call.train.n_seeds
        if self.verbose:
            print(f"  training {call.name}: {call.train.n_seeds} member(s)", flush=True)
        hooks = dict(call.hooks)
        if call.recorders:  # only then: a stand-in `fit` need not know the argument
            hooks["recorders"] = call.recorders
        return (self._fit or engine_fit)(call.dataset, call.model, call.train, **hooks)

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"  {message}", flush=True)
