"""The protocol no claim can skip: selection seeds apart from evaluation seeds, and a data
draw per seed.

Every choice made from data (a learning rate per arm, dropout's p, a power-law region, the
frontier's configs) is made on *selection seeds*; a rule sees only *evaluation seeds*,
never used for any choice. The two sets never overlap: evaluation seeds are 0..n-1 and
selection seeds start at SELECTION_SEED_BASE. A seed fixes a member's initial weights, its
shuffling and, through `per_seed_data`, its own data draw (generated data) or its own
stratified train/test split (bundled data), so a CI over seeds holds the luck of the data
sample as well as of the initialisation.

Example
-------
>>> plan = seed_plan(n_evaluation=3, n_selection=2)
>>> plan.evaluation, plan.selection
((0, 1, 2), (10000, 10001))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whydl.data import Dataset, load_dataset
from whydl.errors import WhydlError

SELECTION_SEED_BASE = 10_000  # selection seeds: 10000, 10001, ...; never an evaluation seed
DATA_SEED_BASE = 42  # seed s draws its data with data seed 42 + s (seed 0: the article's draw)


class SelectionLeak(WhydlError):
    """An experiment's rule would read a seed that was also used to make a choice."""


@dataclass(frozen=True)
class SeedPlan:
    """The seeds of one claim run: `selection` for choices, `evaluation` for the rules."""

    evaluation: tuple[int, ...]
    selection: tuple[int, ...] = ()

    def __post_init__(self):
        shared = set(self.evaluation) & set(self.selection)
        if shared:
            raise SelectionLeak(
                f"seeds {sorted(shared)} are both selection and evaluation seeds; a choice "
                "made on a seed must never be tested on it."
            )

    def to_dict(self) -> dict:
        return {"evaluation": list(self.evaluation), "selection": list(self.selection)}


def seed_plan(n_evaluation: int, n_selection: int = 0) -> SeedPlan:
    """Evaluation seeds 0..n_evaluation-1, selection seeds from SELECTION_SEED_BASE."""
    return SeedPlan(
        tuple(range(n_evaluation)),
        tuple(range(SELECTION_SEED_BASE, SELECTION_SEED_BASE + n_selection)),
    )


def data_seed(seed: int) -> int:
    """The data seed of a member seed: its own sample of generated data, its own split."""
    return DATA_SEED_BASE + int(seed)


def check_rows(name: str, rows: list[dict], plan: SeedPlan) -> None:
    """Refuse rows a rule would read that come from a selection seed, or from no seed of
    this plan: an experiment's rows must be per evaluation seed."""
    leaked = sorted({r["seed"] for r in rows if "seed" in r} & set(plan.selection))
    if leaked:
        raise SelectionLeak(
            f"experiment {name!r}: its rule would read selection seeds {leaked}, which made "
            f"its choices. Rules see evaluation seeds only ({_span(plan.evaluation)})."
        )
    strangers = sorted({r["seed"] for r in rows if "seed" in r} - set(plan.evaluation))
    if strangers:
        raise SelectionLeak(
            f"experiment {name!r}: rows carry seeds {strangers}, which are not evaluation "
            f"seeds of this run ({_span(plan.evaluation)})."
        )


def check_calls(name: str, calls, seeds, role: str) -> None:
    """Refuse training calls whose members are not all among `seeds` (the role's set)."""
    allowed = set(seeds)
    for key, call in calls.items():
        outside = sorted(set(call.train.seeds) - allowed)
        if outside:
            raise SelectionLeak(
                f"experiment {name!r}: call {key!r} trains seeds {outside}, which are not "
                f"{role} seeds ({_span(seeds)})."
            )


def _span(seeds) -> str:
    seeds = sorted(seeds)
    return f"{seeds[0]}..{seeds[-1]}" if len(seeds) > 2 else ", ".join(map(str, seeds)) or "none"


@dataclass(frozen=True)
class SeedData:
    """Every seed's own dataset, pooled into one so the engine trains them in one stack.

    `pool` holds all seeds' rows (train and test alike, as both of its splits);
    `train_rows[m]` and `test_rows[m]` index seed m's own train and test rows in it. Pass
    `hooks` to `ctx.fit` (with `TrainConfig(seed=seeds[0], n_seeds=len(seeds))`);
    `member(m)` is seed m's dataset, for an analysis of member m."""

    pool: Dataset
    seeds: tuple[int, ...]
    train_rows: np.ndarray  # (M, n_train)
    test_rows: np.ndarray  # (M, n_test)
    members: tuple[Dataset, ...]

    @property
    def hooks(self) -> dict:
        return {"train_rows": self.train_rows, "test_rows": self.test_rows}

    def member(self, m: int) -> Dataset:
        return self.members[m]

    def subsample(self, n_train: int) -> SeedData:
        """The same seeds on the first `n_train` of each seed's training rows (each seed's
        rows are already in its own random order), for learning curves."""
        if not 1 <= n_train <= self.train_rows.shape[1]:
            raise ValueError(f"n_train={n_train}; expected 1..{self.train_rows.shape[1]}.")
        return SeedData(
            self.pool, self.seeds, self.train_rows[:, :n_train], self.test_rows, self.members
        )


def pool_datasets(datasets, seeds) -> SeedData:
    """Pool per-seed datasets of equal shapes into one `SeedData`."""
    datasets, seeds = tuple(datasets), tuple(int(s) for s in seeds)
    shapes = {(len(d.X_train), len(d.X_test), d.n_features) for d in datasets}
    if len(shapes) != 1:
        raise ValueError(f"per-seed datasets must share one shape; got {sorted(shapes)}.")
    n_train, n_test, _ = shapes.pop()
    X = np.concatenate([np.concatenate([d.X_train, d.X_test]) for d in datasets])
    y = np.concatenate([np.concatenate([d.y_train, d.y_test]) for d in datasets])
    first = datasets[0]
    pool = Dataset(
        name=first.name,
        X_train=X,
        y_train=y,
        X_test=X,
        y_test=y,
        task=first.task,
        n_classes=max(d.n_classes for d in datasets),
        feature_names=first.feature_names,
        target_name=first.target_name,
        class_names=first.class_names,
        image_shape=first.image_shape,
    )
    size = n_train + n_test
    starts = np.arange(len(datasets))[:, None] * size
    train_rows = starts + np.arange(n_train)[None, :]
    test_rows = starts + n_train + np.arange(n_test)[None, :]
    return SeedData(pool, seeds, train_rows, test_rows, datasets)


def per_seed_data(name: str, seeds, **load_kwargs) -> SeedData:
    """`load_dataset(name, data_seed=data_seed(s), **load_kwargs)` for every seed s, pooled:
    generated data gets its own sample per seed, bundled data its own stratified split."""
    return pool_datasets(
        [load_dataset(name, data_seed=data_seed(s), **load_kwargs) for s in seeds], seeds
    )
