"""Per-epoch history of every member, as (members, epochs) arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLUMNS = ("train_loss", "val_loss", "train_metric", "val_metric")


@dataclass
class History:
    """`train_loss[m, e]` is member m's loss on the full training split after epoch e+1.

    Epochs after a member stopped (early stopping) or diverged are NaN. `metric` is
    "accuracy" or "r2".
    """

    seeds: list[int]
    metric: str
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_metric: np.ndarray
    val_metric: np.ndarray

    @classmethod
    def empty(cls, seeds, epochs: int, metric: str) -> History:
        nan = lambda: np.full((len(seeds), epochs), np.nan)  # noqa: E731
        return cls(list(seeds), metric, nan(), nan(), nan(), nan())

    def truncate(self, n_epochs: int) -> None:
        for c in COLUMNS:
            setattr(self, c, getattr(self, c)[:, :n_epochs])

    @property
    def n_epochs(self) -> int:
        return self.train_loss.shape[1]

    def rows(self, held_out: str = "val"):
        """Long format: one dict per (seed, epoch), as written to history.csv. `held_out`
        names the second split's columns: "test" when it is the test split (no early
        stopping), "val" when early stopping carved a validation split."""
        for m, seed in enumerate(self.seeds):
            for e in range(self.n_epochs):
                if np.isnan(self.train_loss[m, e]):
                    continue
                yield {
                    "seed": seed,
                    "epoch": e + 1,
                    "train_loss": float(self.train_loss[m, e]),
                    f"{held_out}_loss": float(self.val_loss[m, e]),
                    f"train_{self.metric}": float(self.train_metric[m, e]),
                    f"{held_out}_{self.metric}": float(self.val_metric[m, e]),
                }

    def to_dict(self) -> dict:
        tolist = lambda a: [[None if np.isnan(v) else float(v) for v in row] for row in a]  # noqa: E731
        return {"seeds": self.seeds, "metric": self.metric} | {
            c: tolist(getattr(self, c)) for c in COLUMNS
        }

    @classmethod
    def from_dict(cls, d: dict) -> History:
        arr = lambda k: np.array(d[k], dtype=float)  # noqa: E731  (None -> nan)
        return cls(d["seeds"], d["metric"], *(arr(c) for c in COLUMNS))
