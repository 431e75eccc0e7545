"""The training loop: M members, one vectorised computation, from top to bottom.

Each member is what it would be if trained alone: its own initial weights (seed s), its own
shuffling (a generator derived from s) and its own dropout masks (hashed from s and the
step). Only the arithmetic is shared.

Members may also differ by lr, weight decay and momentum (`member_lr`, ...): these only
scale each member's own update, while the rest sets the shapes and schedule all share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from whydl.config import ModelConfig, TrainConfig
from whydl.data import Dataset
from whydl.engine import tasks
from whydl.engine.device import derive_seed, resolve_device, threads_for
from whydl.engine.diagnosis import diverged_summary, divergence_message, divergence_threshold
from whydl.engine.history import History
from whydl.engine.members import build_members, check_memory
from whydl.engine.optim import StackedOptimizer, member_hyperparameters
from whydl.engine.progress import Progress
from whydl.engine.recorders import Records
from whydl.engine.stacked import Stacked, stack
from whydl.errors import DivergedError, WhydlError
from whydl.models import make_generator

SHUFFLE_STREAM, VALIDATION_STREAM = 1, 2


@dataclass
class Fit:
    """What `fit` learned: the stacked members, their history and how each run ended."""

    stack: Stacked
    history: History
    task: str
    seeds: list[int]
    epochs_run: np.ndarray  # (M,) epochs each member trained before stopping
    diverged: dict[int, str] = field(default_factory=dict)  # seed -> message
    train_seconds: float = 0.0
    device: str = "cpu"
    held_out: str = "test"  # what `history.val_*` measured: "test", or "validation" (early stop)
    records: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (M, E, ...)

    @property
    def ok(self) -> np.ndarray:
        """(M,) True for members that did not diverge."""
        return np.array([s not in self.diverged for s in self.seeds])


@torch.no_grad()
def evaluate(model: Stacked, X: torch.Tensor, y: torch.Tensor, task: str):
    """Loss and metric of every member on (X, y), in eval mode. Returns two (M,) tensors."""
    out = model.forward(X, train=False)
    yy = y.expand(model.M, *y.shape)
    return tasks.loss(out, yy, task), tasks.metric(out, yy, task)


@torch.no_grad()
def _scores(model: Stacked, X: torch.Tensor, y: torch.Tensor, n_fit: int, task: str):
    """[train loss, val loss, train metric, val metric] as (M,) numpy arrays, from one
    forward pass over the training rows X[:n_fit] followed by the validation rows."""
    out = model.forward(X, train=False)
    yy = y if X.dim() == 3 else y.expand(model.M, *y.shape)  # 3-D: per-member `train_rows`
    parts = ((out[:, :n_fit], yy[:, :n_fit]), (out[:, n_fit:], yy[:, n_fit:]))
    losses = [tasks.loss(o, t, task) for o, t in parts]
    metrics = [tasks.metric(o, t, task) for o, t in parts]
    return [v.cpu().numpy().astype(float) for v in (*losses, *metrics)]


def fit(
    dataset: Dataset,
    model: ModelConfig,
    train: TrainConfig,
    progress=None,
    *,
    members: list[torch.nn.Module] | None = None,
    frozen: tuple[str, ...] = (),
    callback=None,
    train_rows=None,
    test_rows=None,
    keep_diverged: bool = False,
    recorders=(),
    member_lr=None,
    member_weight_decay=None,
    member_momentum=None,
) -> Fit:
    """Train `train.n_seeds` members of `model` on `dataset`, all at once.

    Advanced hooks, for experiments built on the engine:
    - `members`: one ready-made module per seed (e.g. pretrained weights with a new head)
      instead of fresh ones built from `model`; all must share one architecture.
    - `frozen`: parameter names (as in `module.named_parameters()`) that are not updated.
    - `recorders`: what to measure during training, declared as data (see
      `whydl.engine.recorders`: e.g. `GradientNorms()`, `EpochSeconds()`); the measurements
      come back in `Fit.records`, and a results store caches them with the members.
    - `callback(epoch, stacked_model)`: called after each epoch (1-based), for your own
      code; it must not modify the model. A results store never caches a callback's call.
    - `train_rows`: an (M, n) array of training-row indices; member m trains on
      `dataset.X_train[train_rows[m]]` (e.g. each seed its own subsample of one pool, for
      learning curves). The test split is shared. Not combinable with early stopping.
    - `test_rows`: with `train_rows`, an (M, n_test) array of test-row indices; member m is
      scored on `dataset.X_test[test_rows[m]]`, so each member can have its own data draw
      or split (`whydl.evidence.protocol.per_seed_data` pools them into one dataset).
    - `keep_diverged`: return the `Fit` even when every member diverged, instead of raising
      `DivergedError` (an executor that trains one call in parts needs every part's members).
    - `member_lr`, `member_weight_decay`, `member_momentum`: one value per member instead of
      the config's one (None), e.g. a grid of lr x seeds; each member trains as if alone.

    Example
    -------
    >>> from whydl.data import article_moons
    >>> f = fit(article_moons(), ModelConfig(), TrainConfig(epochs=2, n_seeds=3))
    >>> f.history.train_loss.shape
    (3, 2)
    """
    if members is not None and len(members) != train.n_seeds:
        raise ValueError(f"got {len(members)} members for {train.n_seeds} seeds; pass one each.")
    check_memory(dataset, model, train, members, (train_rows, test_rows))
    probe = members[0] if members else build_members(dataset, model, [0])[0]
    unknown = set(frozen) - {n for n, _ in probe.named_parameters()}
    if unknown:
        raise ValueError(f"frozen names {sorted(unknown)} are not parameters of the model.")
    n_params = sum(p.numel() for p in probe.parameters())
    batch = train.batch_size or len(dataset.X_train)
    with threads_for(train.n_seeds * batch * n_params):
        trainer = Trainer(
            dataset,
            model,
            train,
            members=members,
            frozen=frozen,
            train_rows=train_rows,
            test_rows=test_rows,
            recorders=recorders,
            member_lr=member_lr,
            member_weight_decay=member_weight_decay,
            member_momentum=member_momentum,
        )
        return _run(trainer, progress, callback, keep_diverged)


def _run(trainer: Trainer, progress, callback, keep: bool) -> Fit:
    """Drive `trainer` to the end: epochs, the callback after each, the progress bar."""
    bar = Progress(trainer.train.epochs, enabled=progress)
    try:
        while not trainer.done:
            rows = trainer.run_epoch()
            if callback is not None:
                callback(trainer.epoch, trainer.net)
            note = f"loss {np.nanmean(rows[0]):.4f}" if trainer.active.any() else ""
            bar.update(trainer.epoch, note)
    finally:  # an error mid-run too: the bar's timer must not draw after it
        bar.close()
    return trainer.finish(keep_diverged=keep)


class Trainer:
    """The training loop as a steppable object: `run_epoch()` until `done`, then `finish()`.

    `fit` drives it to the end; the browser playground steps it one epoch at a time.
    `recorders` measure after each epoch (see `fit`); `records` holds what they measured.
    `member_lr`, `member_weight_decay`, `member_momentum`: per-member values (see `fit`).
    """

    def __init__(
        self,
        dataset: Dataset,
        model: ModelConfig,
        train: TrainConfig,
        *,
        members=None,
        frozen=(),
        track_gradients: bool = False,
        train_rows=None,
        test_rows=None,
        recorders=(),
        member_lr=None,
        member_weight_decay=None,
        member_momentum=None,
    ):
        self.started = time.perf_counter()
        if train.task is not None:
            try:
                dataset = dataset.with_task(train.task)
            except ValueError as e:
                raise WhydlError(str(e)) from None
        self.train, self.task = train, dataset.task
        self.dataset = dataset  # recorders take their probe rows from it
        self.seeds, self.device = train.seeds, resolve_device(train.device)
        M = len(self.seeds)
        check_memory(dataset, model, train, members, (train_rows, test_rows))
        members = members if members is not None else build_members(dataset, model, self.seeds)
        self.net = stack(members, keys=self.seeds, device=self.device)
        self.trainable = [i for i, name in enumerate(self.net.names) if name not in frozen]
        self.hyperparameters = member_hyperparameters(  # name -> a float, or one per member
            train, member_lr, member_weight_decay, member_momentum
        )
        everything = len(self.trainable) == len(self.net.names)  # nothing frozen: one buffer
        self.opt = StackedOptimizer(
            [self.net.params[i] for i in self.trainable],
            train.optimizer,
            **self.hyperparameters,
            flat=getattr(self.net, "flat", None) if everything else None,
        )
        self.track_gradients = track_gradients
        self.grad_norms: dict[str, np.ndarray] = {}  # last step's per-member gradient norms

        # data on the device; validation is the test split unless early stopping needs its own
        X_fit, y_fit = dataset.X_train, dataset.y_train
        X_val, y_val = dataset.X_test, dataset.y_test
        if train_rows is not None:  # each member its own training rows: a member axis
            train_rows = np.asarray(train_rows, dtype=np.int64)
            if train_rows.ndim != 2 or len(train_rows) != M or train.early_stopping:
                raise ValueError(
                    f"train_rows has shape {train_rows.shape}; expected ({M}, n), one row of "
                    "training-row indices per member, and early_stopping=False."
                )
            X_fit, y_fit = X_fit[train_rows], y_fit[train_rows]  # (M, n, D), (M, n)
        if test_rows is not None:  # each member its own test rows, too
            test_rows = np.asarray(test_rows, dtype=np.int64)
            if train_rows is None or test_rows.ndim != 2 or len(test_rows) != M:
                raise ValueError(
                    f"test_rows has shape {test_rows.shape}; expected ({M}, n_test), one row "
                    "of test-row indices per member, given together with train_rows."
                )
            X_val, y_val = X_val[test_rows], y_val[test_rows]  # (M, n_test, D), (M, n_test)
        if train.early_stopping:
            rng = np.random.default_rng(derive_seed(0, VALIDATION_STREAM))  # same split for all
            order = rng.permutation(len(X_fit))
            n_val = max(1, int(round(train.validation_fraction * len(X_fit))))
            X_val, y_val = X_fit[order[:n_val]], y_fit[order[:n_val]]
            X_fit, y_fit = X_fit[order[n_val:]], y_fit[order[n_val:]]
        device = self.device
        self.X_fit = torch.as_tensor(X_fit, device=device)
        y_fit = tasks.prepare_targets(y_fit.reshape(-1), self.task, device)
        self.y_fit = y_fit.view(*self.X_fit.shape[:-1], *y_fit.shape[1:])
        X_val = torch.as_tensor(X_val, device=device)
        y_val_flat = tasks.prepare_targets(y_val.reshape(-1), self.task, device)
        y_val = y_val_flat.view(*X_val.shape[:-1], *y_val_flat.shape[1:])
        if train_rows is not None and test_rows is None:
            X_val, y_val = X_val.expand(M, *X_val.shape), y_val.expand(M, *y_val.shape)
        # one forward pass evaluates both splits
        self.X_eval = torch.cat([self.X_fit, X_val], dim=self.X_fit.dim() - 2)
        self.y_eval = torch.cat([self.y_fit, y_val], dim=self.X_fit.dim() - 2)
        n = self.n = self.X_fit.shape[-2]
        self.batch = n if train.batch_size == 0 else min(train.batch_size, n)
        self.starts = list(range(0, n, self.batch))
        if model.batch_norm and n - self.starts[-1] == 1 and len(self.starts) > 1:
            self.starts.pop()  # batch norm cannot normalise a batch of one sample
        self.shufflers = [make_generator(derive_seed(s, SHUFFLE_STREAM)) for s in self.seeds]

        # each member's loss before any step: divergence is judged against it
        self.initial_loss = _scores(self.net, self.X_eval, self.y_eval, n, self.task)[0]
        self.history = History.empty(self.seeds, train.epochs, tasks.metric_name(self.task))
        self.active = np.ones(M, dtype=bool)  # neither diverged nor early-stopped
        self.epochs_run = np.zeros(M, dtype=int)
        self.diverged: dict[int, str] = {}
        self.best_loss = np.full(M, np.inf)
        self.since_best = np.zeros(M, dtype=int)
        self.best = self.net.snapshot() if train.early_stopping else None
        self.epoch = self.step = 0
        self._records = Records(recorders, self)

    @property
    def records(self) -> dict[str, np.ndarray]:
        """What the recorders measured so far: name -> (M, E, ...), NaN where not yet."""
        return self._records.arrays

    @property
    def done(self) -> bool:
        return self.epoch >= self.train.epochs or not self.active.any()

    def run_epoch(self) -> list[np.ndarray]:
        """One pass over the training data; returns [train loss, val loss, train metric,
        val metric], each (M,)."""
        net, train, epoch = self.net, self.train, self.epoch
        # shuffle: each member's own permutation, gathered into (M, n, D)
        perm = torch.stack([torch.randperm(self.n, generator=g) for g in self.shufflers])
        perm = perm.to(self.device)
        if self.X_fit.dim() == 3:  # per-member rows: member m gathers from its own
            m = torch.arange(len(self.seeds), device=self.device).unsqueeze(1)
            X_epoch, y_epoch = self.X_fit[m, perm], self.y_fit[m, perm]
        else:
            X_epoch, y_epoch = self.X_fit[perm], self.y_fit[perm]
        # forward backward update
        for i in self.starts:
            xb, yb = X_epoch[:, i : i + self.batch], y_epoch[:, i : i + self.batch]
            grads = net.gradients(xb, yb, self.task, self.step)
            if len(self.trainable) < len(grads):
                grads = [grads[j] for j in self.trainable]
            self.opt.step(grads)
            self.step += 1
        if self.track_gradients:  # norms of the epoch's last step, per parameter and member
            names = [net.names[j] for j in self.trainable]
            self.grad_norms = {
                n: g.flatten(1).norm(dim=1).cpu().numpy() for n, g in zip(names, grads)
            }
        # evaluate both splits; .cpu() is the one sync point per epoch
        rows = _scores(net, self.X_eval, self.y_eval, self.n, self.task)
        active, history = self.active, self.history
        for name, values in zip(("train_loss", "val_loss", "train_metric", "val_metric"), rows):
            getattr(history, name)[active, epoch] = values[active]
        self.epochs_run[active] = epoch + 1
        # divergence (not finite, or orders of magnitude above the start): stop the member,
        # keep the others going
        finite = np.isfinite(rows[0]) & np.isfinite(rows[1])
        exploded = np.where(finite, rows[0], np.inf) > divergence_threshold(self.initial_loss)
        bad = active & (~finite | exploded)
        for m in np.flatnonzero(bad):
            seed, lr = self.seeds[m], self.hyperparameters["lr"]
            own = train if np.isscalar(lr) else replace(train, lr=lr[m])
            self.diverged[seed] = divergence_message(
                seed, epoch + 1, rows[0][m], self.initial_loss[m], own
            )
            history.train_loss[m, epoch] = history.val_loss[m, epoch] = np.nan
            self.epochs_run[m] = epoch
        active &= ~bad
        if train.early_stopping:
            improved = active & (rows[1] < self.best_loss)
            self.best_loss[improved] = rows[1][improved]
            self.since_best = np.where(improved, 0, self.since_best + 1)
            if improved.any():
                current = {**net.tensors, **net.buffers}
                mask = torch.as_tensor(improved, device=self.device)
                for name, t in self.best.items():
                    shaped = mask.view(-1, *[1] * (t.dim() - 1))
                    self.best[name] = torch.where(shaped, current[name], t)
            active &= self.since_best < train.patience
        self.epoch += 1
        self._records.after_epoch(self, grads)  # the state a callback sees after this epoch
        return rows

    def finish(self, keep_diverged: bool = False) -> Fit:
        """Restore early-stopped members' best weights and package the result. Raises
        `DivergedError` when every member diverged, unless `keep_diverged`."""
        if len(self.diverged) == len(self.seeds) and not keep_diverged:
            raise DivergedError(diverged_summary(self.diverged, len(self.seeds)))
        if self.train.early_stopping:  # members keep their best validation-loss weights
            ok = ~np.isin(self.seeds, list(self.diverged))
            self.net.restore(self.best, torch.as_tensor(ok, device=self.device))
        self.history.truncate(int(self.epochs_run.max()))
        return Fit(
            stack=self.net,
            history=self.history,
            task=self.task,
            seeds=self.seeds,
            epochs_run=self.epochs_run,
            diverged=self.diverged,
            train_seconds=time.perf_counter() - self.started,
            device=str(self.device),
            held_out="validation" if self.train.early_stopping else "test",
            records=self.records,
        )
