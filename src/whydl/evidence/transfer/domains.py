"""The two domains of the transfer claim, each a source task to pretrain on and a target task
to learn from k labels per class, drawn afresh for every seed.

- digits: sklearn digits 0-4 (source) and 5-9 (target, relabelled 0-4), from seed s's own
  stratified train/test split (`whydl.evidence.protocol.per_seed_data` does the same);
- shifted moons: a moons sample (source) and another one rotated and rescaled (target), both
  drawn with seed s's own data seeds.

Each side is pooled over the seeds (`pool_unique`), so one engine call trains every seed,
member m on its own rows (`train_rows`) and scored on its own test rows (`test_rows`).

Example
-------
>>> spec = DomainSpec("shifted moons", "moons", (8,), moons_samples=200)
>>> data = domain_data(spec, (0, 1))
>>> data.target.train_rows.shape, data.target.member(1).X_train.shape
((2, 140), (140, 2))
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from whydl.config import ModelConfig
from whydl.data import Dataset, load_dataset
from whydl.data.glyphs import glyphs
from whydl.data.subsets import select_classes
from whydl.evidence.protocol import SeedData, data_seed, pool_datasets
from whydl.evidence.transfer.table import ALL

SOURCE_DIGITS, TARGET_DIGITS = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
MOONS_NOISE = 0.2
MOONS_TARGET_DATA_OFFSET = 500_000  # seed s's target moons: data seed data_seed(s) + this
ROTATION_DEGREES, SCALE = 45.0, 1.5  # the shifted domain: x -> SCALE * R(ROTATION) x
GLYPHS_SAMPLES, GLYPHS_DATA_SEED = 20_000, 0  # one glyph source, shared by every seed


@dataclass(frozen=True)
class DomainSpec:
    """What a domain is, without its data: `kind` "digits" or "moons", the hidden widths,
    the architecture ("mlp" or "cnn"). Hashable, so its data is built once per seed set."""

    name: str
    kind: str
    hidden: tuple[int, ...] = ()
    architecture: str = "mlp"
    moons_samples: int = 1000
    glyph_samples: int = GLYPHS_SAMPLES

    @property
    def model(self) -> ModelConfig:
        if self.architecture == "cnn":
            return ModelConfig(architecture="cnn")
        return ModelConfig(hidden=tuple(self.hidden))

    @property
    def layers(self) -> tuple[str, ...]:
        """The feature layers, input side first; the head is "out"."""
        if self.architecture == "cnn":
            return ("conv1", "conv2")
        return tuple(f"hidden.{i}" for i in range(len(self.hidden)))

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def copy_head(self) -> bool:
        """The labels mean the same in both tasks (moons): fine-tuning keeps the head."""
        return self.kind == "moons"

    @property
    def layer_sweep(self) -> bool:
        """Also copy the first n layers for every n, frozen and fine-tuned (the MLP digits)."""
        return self.kind == "digits" and self.architecture == "mlp"


@dataclass(frozen=True)
class DomainData:
    """The source and target of every seed, each pooled into one `SeedData`."""

    spec: DomainSpec
    source: SeedData
    target: SeedData


def shift(dataset: Dataset, degrees: float, scale: float) -> Dataset:
    """The dataset with every input x replaced by scale * R(degrees) x (about the origin)."""
    t = np.deg2rad(degrees)
    R = scale * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], dtype=np.float32)
    return replace(dataset, X_train=dataset.X_train @ R.T, X_test=dataset.X_test @ R.T)


@lru_cache(maxsize=1)
def glyph_source(n_samples: int = GLYPHS_SAMPLES) -> Dataset:
    """The one glyph set every seed pretrains on (drawn once: it takes seconds)."""
    return glyphs(n_samples, data_seed=GLYPHS_DATA_SEED)


def seed_tasks(spec: DomainSpec, seed: int) -> tuple[Dataset, Dataset]:
    """(source, target) of one seed: its own split of digits, or its own moons samples."""
    if spec.kind == "digits":
        digits = load_dataset("digits", data_seed=data_seed(seed))
        return select_classes(digits, SOURCE_DIGITS), select_classes(digits, TARGET_DIGITS)
    if spec.kind == "moons":
        moons = {"n_samples": spec.moons_samples, "noise": MOONS_NOISE}
        source = load_dataset("moons", data_seed=data_seed(seed), **moons)
        target = load_dataset(
            "moons", data_seed=data_seed(seed) + MOONS_TARGET_DATA_OFFSET, **moons
        )
        return source, shift(target, ROTATION_DEGREES, SCALE)
    if spec.kind == "glyphs":  # a broad source (24 glyph classes) -> all 10 digits
        source = glyph_source(spec.glyph_samples)
        return source, load_dataset("digits", data_seed=data_seed(seed))
    raise ValueError(f"kind={spec.kind!r} is not a domain; expected 'digits', 'moons' or 'glyphs'.")


def pool_unique(datasets, seeds) -> SeedData:
    """`protocol.pool_datasets`, with each distinct row held once.

    The seeds' splits of one bundled dataset are the same images in other orders, so a
    plain pool holds every image once per seed; the engine's memory estimate counts every
    pool row for every member, and a target call trains up to 3 members per seed (with 10
    seeds a plain pool of the digits is estimated at 35 GiB, over the 8 GiB budget)."""
    pooled = pool_datasets(datasets, seeds)
    X, y = pooled.pool.X_train, pooled.pool.y_train  # every seed's rows, train then test
    _, first, where = np.unique(
        np.column_stack([X, y]), axis=0, return_index=True, return_inverse=True
    )
    where = where.reshape(-1)  # pooled row -> its distinct row
    X, y = X[first], y[first]
    pool = replace(pooled.pool, X_train=X, y_train=y, X_test=X, y_test=y)
    return replace(
        pooled, pool=pool, train_rows=where[pooled.train_rows], test_rows=where[pooled.test_rows]
    )


def shared_pool(dataset: Dataset, seeds) -> SeedData:
    """One dataset that every seed trains on (the glyph source), pooled once: member m's
    train and test rows are the dataset's own (its pretraining still shuffles and
    initialises by its seed)."""
    seeds = tuple(int(s) for s in seeds)
    X = np.concatenate([dataset.X_train, dataset.X_test])
    y = np.concatenate([dataset.y_train, dataset.y_test])
    pool = replace(dataset, X_train=X, y_train=y, X_test=X, y_test=y)
    n_train, n_test = len(dataset.X_train), len(dataset.X_test)
    train_rows = np.tile(np.arange(n_train), (len(seeds), 1))
    test_rows = np.tile(n_train + np.arange(n_test), (len(seeds), 1))
    return SeedData(pool, seeds, train_rows, test_rows, (dataset,) * len(seeds))


@lru_cache(maxsize=8)
def domain_data(spec: DomainSpec, seeds: tuple[int, ...]) -> DomainData:
    """Every seed's source and target, pooled (built once per spec and seeds: training and
    the analysis of its fits read the same arrays)."""
    pairs = [seed_tasks(spec, s) for s in seeds]
    sources = [source for source, _ in pairs]
    if all(source is sources[0] for source in sources):  # one shared source (glyphs)
        source = shared_pool(sources[0], seeds)
    else:
        source = pool_unique(sources, seeds)
    return DomainData(spec, source, pool_unique([target for _, target in pairs], seeds))


@dataclass(frozen=True)
class KLevel:
    """Labels per class: `value` (a count; "all" as the target's mean per-class count) and
    `label` ("1", "5", "all")."""

    value: int
    label: str

    @property
    def is_all(self) -> bool:
        return self.label == ALL


def k_levels(ks, target: Dataset) -> list[KLevel]:
    """The sweep's k values for this target (`target`: one seed's dataset)."""
    all_k = int(round(len(target.y_train) / target.n_classes))
    return [KLevel(all_k, ALL) if k == ALL else KLevel(int(k), str(k)) for k in ks]
