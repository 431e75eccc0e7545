"""Timings of this machine: what every timing experiment of the claim shares.

Timings measure this machine, not the members: a timing experiment's rows are per repeat
(`per_seed = False`); it trains in this process (its `train`), on the settings' own threads;
each timed call records `EpochSeconds`, which is `local_only` (a results store trains it in
this process, never on a worker, and keys it by this machine's fingerprint and the repeat,
so a rerun here replays it and another machine measures afresh).
"""

from __future__ import annotations

import functools

import numpy as np

from whydl.config import ModelConfig
from whydl.data import load_dataset
from whydl.engine.recorders import EpochSeconds
from whydl.evidence.compute.speedup import NOT_MEASURED
from whydl.evidence.experiment import Experiment

__all__ = ["NOT_MEASURED", "TimingExperiment", "seconds", "timed_fit", "timing_data"]

DATASET = "digits"  # real data, 64 inputs, 10 classes; every timing and the frontier use it
LR = 0.01  # Adam


@functools.lru_cache(maxsize=1)
def timing_data():
    """The dataset every timing trains on (one fixed split: a timing needs no data draw)."""
    return load_dataset(DATASET)


def timed_fit(ctx, data, hidden, train, tag: str, repeat: int = 0, **hooks):
    """One `ctx.fit` timed by the engine (`EpochSeconds`, from the start of training to the
    end of each epoch). `repeat` tells repeated timings of one call apart: each is its own
    measurement and its own stored entry."""
    recorder = EpochSeconds(repeat=repeat)
    return ctx.fit(data, ModelConfig(hidden=hidden), train, tag=tag, recorders=(recorder,), **hooks)


def epoch_seconds(fit) -> np.ndarray:
    """(epochs,) wall seconds at the end of each epoch of a timed fit (the same for every
    member: they train together)."""
    return fit.records[EpochSeconds.name][0]


def seconds(fit) -> float:
    """Wall seconds of a timed fit's training."""
    return float(epoch_seconds(fit)[-1])


def timing_row(setting: str, repeat: int, fit, samples: int, **fields) -> dict:
    """One timed fit as a row: its setting, `fields` (what else names it), the repeat, its
    seconds and its samples per second."""
    return {
        "setting": setting,
        **fields,
        "repeat": repeat,
        "seconds": seconds(fit),
        "samples_per_second": samples / seconds(fit),
    }


class TimingExperiment(Experiment):
    """A measurement of this machine: rows per repeat, not per seed, trained in this process
    by `train`; it has a `SpeedupRule` verdict but does not decide the claim: how busy the
    machine is changes the speedups, so they are reported as measurements of this machine
    (issue 16)."""

    per_seed = False
    deciding = False
