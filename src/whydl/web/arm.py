"""One setup training in a tab: the tab's own (A) or, while comparing, the second one (B).

An arm owns its `Trainer` and what its frames are computed from: the grids its network is
evaluated on (the plane's points, or the features made of them), the target's colour range
and its gradient history. Both arms of a tab train on the same data and the same member
seeds, so member i of A and member i of B are a paired comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import torch

from whydl.config import TrainConfig, option_of
from whydl.data.features import with_features
from whydl.engine import Trainer
from whydl.web import export, frames
from whydl.web.datasets import with_points
from whydl.web.validate import Settings

# TrainConfig's most epochs: the playground trains until paused
EPOCH_LIMIT = option_of(next(f for f in fields(TrainConfig) if f.name == "epochs")).bounds.high


@dataclass
class Arm:
    settings: Settings
    trainer: Trainer
    widths: list[int]  # inputs, hidden layers, outputs
    expand: object  # the plane's points -> the network's inputs (`Dataset.expand`)
    values: list | None  # a regression target's [low, high]: its colour scale
    boundary_grid: torch.Tensor
    member_grid: torch.Tensor
    trained_on: object  # the Dataset: generated or uploaded, clicked points, features
    grad_history: list = field(default_factory=list)  # per epoch, member 0's per layer

    @classmethod
    def start(cls, settings: Settings, upload, dataset, added, box) -> Arm:
        """A fresh network for `settings` on `dataset` plus the `added` points, paused at
        epoch 0 (the same seed gives the same initial weights)."""
        config = export.run_config(settings, EPOCH_LIMIT, upload)  # what an export trains
        trained_on = with_features(with_points(dataset, added), config.data.features)
        trainer = Trainer(trained_on, config.model, config.train, track_gradients=True)
        expand = trained_on.expand
        return cls(
            settings=settings,
            trainer=trainer,
            widths=[trained_on.n_features, *settings.hidden, trained_on.n_outputs],
            expand=expand,
            values=frames.value_range(trained_on),
            boundary_grid=frames.plane(box, frames.BOUNDARY_RESOLUTION, expand),
            member_grid=frames.plane(box, frames.MEMBER_RESOLUTION, expand),
            trained_on=trained_on,
        )

    def train_epoch(self) -> None:
        self.trainer.run_epoch()
        n_hidden = len(self.widths) - 2
        self.grad_history.append(frames.layer_grad_norms(self.trainer.grad_norms, n_hidden))

    @property
    def ok(self) -> np.ndarray:
        """Per member: not diverged."""
        gone = self.trainer.diverged_members
        return np.array([i not in gone for i in range(self.trainer.net.M)])

    def test_scores(self) -> np.ndarray:
        """Each member's test accuracy (R² for a regression) at the last epoch trained."""
        t = self.trainer
        return t.history.val_metric[:, t.epoch - 1] if t.epoch else np.array([])

    def view(self) -> dict:
        """What a frame shows of this arm whichever member is selected: the members' mean
        picture, their ensemble view, the curves and the test score's CI over members."""
        t = self.trainer
        ensemble = frames.ensemble_view(
            t.net, self.boundary_grid, self.member_grid, t.task, self.ok, self.values
        )
        all_gone = len(t.diverged) == len(t.seeds)
        return {
            "epoch": t.epoch,
            "step": t.step,
            "done": t.done,
            "diverged": next(iter(t.diverged.values()), None) if all_gone else None,
            "n_diverged": len(t.diverged),
            "curves": frames.encode_curves(frames.curves(t.history, t.epoch, self.grad_history)),
            "boundary": ensemble.pop("mean"),  # the members' mean: one member's own is below
            "ensemble": ensemble,
            "accuracy_ci": frames.accuracy_ci(self.test_scores()),
        }
