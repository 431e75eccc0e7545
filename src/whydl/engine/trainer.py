"""The training loop: M members, one vectorised computation, from top to bottom.

Each member is what it would be if trained alone: its own initial weights (seed s), its own
shuffling (a generator derived from s) and its own dropout masks (hashed from s and the
step). Only the arithmetic is shared.

Members may also differ by lr, weight decay, momentum, dropout probability, initial weight
scale and label-noise rate (`member_lr`, ... `member_label_noise`), and a seed may repeat
(`member_seeds`): each changes only that member's own arithmetic, while the rest sets the
shapes and schedule all share. The runtime uses this to train a sweep's calls as one stack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from whydl.config import ModelConfig, TrainConfig
from whydl.data import Dataset
from whydl.engine import tasks
from whydl.engine.data import member_data
from whydl.engine.device import derive_seed, resolve_device, threads_for
from whydl.engine.diagnosis import diverged_summary, divergence_message, divergence_threshold
from whydl.engine.history import History
from whydl.engine.members import (
    build_members,
    check_memory,
    member_dropouts,
    scale_initial_weights,
    seeds_of,
)
from whydl.engine.optim import StackedOptimizer, member_hyperparameters
from whydl.engine.progress import Progress
from whydl.engine.recorders import Records
from whydl.engine.stacked import Stacked, stack
from whydl.errors import DivergedError, WhydlError
from whydl.models import make_generator

SHUFFLE_STREAM = 1  # derive_seed streams: 2 is the validation split (engine.data), 3 label noise


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
    # member index -> message: the same as `diverged`, but exact where a stack repeats a seed
    # (the runtime trains several configs' members as one stack); filled from `diverged`
    # when not given
    diverged_members: dict[int, str] | None = None

    def __post_init__(self):
        if self.diverged_members is None:
            self.diverged_members = {
                i: self.diverged[s] for i, s in enumerate(self.seeds) if s in self.diverged
            }

    @property
    def ok(self) -> np.ndarray:
        """(M,) True for members that did not diverge."""
        return np.array([i not in self.diverged_members for i in range(len(self.seeds))])


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
    member_seeds=None,
    member_dropout=None,
    member_init_scale=None,
    member_label_noise=None,
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
    - `member_seeds`: each member's seed instead of `train.seeds` (`train.n_seeds` of them;
      a seed may repeat), so calls that differ only in per-member values train as one
      stack (`whydl.runtime.grouping`). `Fit.diverged_members` then tells members apart.
    - `member_dropout`: one dropout probability per member (MLP only) instead of
      `model.dropout`; each member draws the masks it would draw alone.
    - `member_init_scale`: one factor per member by which its initial weight matrices (not
      biases or batch-norm scales) are multiplied, e.g. to show vanishing gradients.
    - `member_label_noise`: one rate per member of training labels made wrong, drawn from
      its seed (`whydl.engine.label_noise`); classification only, without early stopping.

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
            member_seeds=member_seeds,
            member_dropout=member_dropout,
            member_init_scale=member_init_scale,
            member_label_noise=member_label_noise,
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
    `member_lr`, `member_weight_decay`, `member_momentum`, `member_seeds`,
    `member_dropout`, `member_init_scale`, `member_label_noise`: per-member values (see
    `fit`).
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
        member_seeds=None,
        member_dropout=None,
        member_init_scale=None,
        member_label_noise=None,
    ):
        self.started = time.perf_counter()
        if train.task is not None:
            try:
                dataset = dataset.with_task(train.task)
            except ValueError as e:
                raise WhydlError(str(e)) from None
        self.train, self.task = train, dataset.task
        self.dataset = dataset  # recorders take their probe rows from it
        self.seeds, self.device = seeds_of(train, member_seeds), resolve_device(train.device)
        M = len(self.seeds)
        check_memory(dataset, model, train, members, (train_rows, test_rows))
        members = members if members is not None else build_members(dataset, model, self.seeds)
        self.net = stack(members, keys=self.seeds, device=self.device)
        if member_dropout is not None:
            self.net.set_member_dropout(member_dropouts(model, M, member_dropout))
        if member_init_scale is not None:
            scale_initial_weights(self.net, member_init_scale)
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
            flat_grad=getattr(self.net, "flat_grad", None) if everything else None,
        )
        self.track_gradients = track_gradients
        self.grad_norms: dict[str, np.ndarray] = {}  # last step's per-member gradient norms

        # data on the device; validation is the test split unless early stopping needs its own
        self.X_fit, self.y_fit, self.X_eval, self.y_eval = member_data(
            dataset, train, self.seeds, self.device, train_rows, test_rows, member_label_noise
        )
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
        self.diverged: dict[int, str] = {}  # seed -> message
        self.diverged_members: dict[int, str] = {}  # member index -> message
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
        # forward backward update; the minibatches as views made once per epoch
        n_batches = len(self.starts)  # a dropped last batch of one row is left out
        batches = zip(X_epoch.split(self.batch, 1), y_epoch.split(self.batch, 1))
        for _, (xb, yb) in zip(range(n_batches), batches):
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
            message = divergence_message(seed, epoch + 1, rows[0][m], self.initial_loss[m], own)
            self.diverged[seed] = self.diverged_members[int(m)] = message
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
        if len(self.diverged_members) == len(self.seeds) and not keep_diverged:
            raise DivergedError(diverged_summary(self.diverged, len(self.seeds)))
        if self.train.early_stopping:  # members keep their best validation-loss weights
            ok = ~np.isin(np.arange(len(self.seeds)), list(self.diverged_members))
            self.net.restore(self.best, torch.as_tensor(ok, device=self.device))
        self.history.truncate(int(self.epochs_run.max()))
        return Fit(
            stack=self.net,
            history=self.history,
            task=self.task,
            seeds=self.seeds,
            epochs_run=self.epochs_run,
            diverged=self.diverged,
            diverged_members=dict(self.diverged_members),
            train_seconds=time.perf_counter() - self.started,
            device=str(self.device),
            held_out="validation" if self.train.early_stopping else "test",
            records=self.records,
        )
