"""Recorders: what a training run measures about itself while it trains, declared as data.

A recorder is a frozen dataclass whose fields are its parameters. Being plain data, it
pickles to a Dask worker, and its `spec` goes into a stored member's key, so a call with
recorders is cached and replayed like any other (a callback, being code, could be neither).
`fit(..., recorders=(...))` fills them in and returns `Fit.records`: record name -> array

    (M, E, *entry)   # member, recorded epoch (`schedule`), the entry's own shape

NaN where an epoch was not reached (every member had stopped). Every member is recorded,
so a member's records, like its weights, are what they would be if it trained alone.

Here are the recorders of the engine's own state; measurements defined in the analysis
layer (`whydl.analysis.gradients.GradientFlows`) subclass `Recorder` the same way.

Example
-------
>>> from whydl.config import ModelConfig, TrainConfig
>>> from whydl.data import article_moons
>>> from whydl.engine import fit
>>> f = fit(article_moons(), ModelConfig(), TrainConfig(epochs=4, n_seeds=2),
...         recorders=(GradientNorms(every=2),))
>>> f.records["gradient_norms"].shape  # 2 members, epochs 2 and 4, 3 weight layers
(2, 2, 3)
"""

from __future__ import annotations

import dataclasses
import platform
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from whydl.engine.device import resolve_device
from whydl.environment import environment


@dataclass(frozen=True)
class Recorder:
    """Base class. A subclass sets `name` and implements `shapes` and `measure`.

    - `schedule(n_epochs)`: the 1-based epochs it measures after (default: every one);
    - `shapes(trainer)`: {record name: shape of one member's entry at one epoch};
    - `measure(trainer, grads)`: {record name: (M, *shape) array}, called after each
      scheduled epoch with the `Trainer` and the gradients of the epoch's last step (one
      tensor per trainable parameter, (M, *shape)); it must not change the model.

    `local_only` recorders measure the machine rather than the members (wall-clock time):
    a cache trains their calls in its own process, never on a worker.
    """

    name: ClassVar[str] = ""
    local_only: ClassVar[bool] = False

    def schedule(self, n_epochs: int) -> tuple[int, ...]:
        return tuple(range(1, n_epochs + 1))

    def shapes(self, trainer) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def measure(self, trainer, grads) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def spec(self, train) -> dict:
        """The recorder as plain JSON, for the member key of a call trained with `train`."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"recorder": self.name, **_plain(fields)}


@dataclass(frozen=True)
class GradientNorms(Recorder):
    """Per member and weight layer: the norm of the gradient of the epoch's last step, over
    the layer's trainable parameters (weight and bias together), every `every` epochs.

    Record `gradient_norms`: (M, E, layers), layers in the order of `stacked.names`
    (e.g. hidden.0, hidden.1, norms.0, ..., out). The norms are of the float32 training
    step itself; `whydl.analysis.gradients.GradientFlows` measures a fixed probe batch in
    float64 instead.
    """

    every: int = 1
    name: ClassVar[str] = "gradient_norms"

    def __post_init__(self):
        if self.every < 1:
            raise ValueError(f"GradientNorms(every={self.every}); expected every >= 1.")

    def schedule(self, n_epochs):
        return tuple(range(self.every, n_epochs + 1, self.every))

    def layers(self, trainer) -> list[str]:
        """The layer (module) names, in order: a parameter's name less its last part."""
        names = [trainer.net.names[j] for j in trainer.trainable]
        return list(dict.fromkeys(n.rsplit(".", 1)[0] for n in names))

    def shapes(self, trainer):
        return {self.name: (len(self.layers(trainer)),)}

    def measure(self, trainer, grads):
        names = [trainer.net.names[j].rsplit(".", 1)[0] for j in trainer.trainable]
        layers = self.layers(trainer)
        squares = torch.zeros(len(trainer.seeds), len(layers), device=grads[0].device)
        for name, g in zip(names, grads):  # (M, *shape) each
            squares[:, layers.index(name)] += g.detach().flatten(1).pow(2).sum(1)
        return {self.name: squares.sqrt().cpu().numpy().astype(float)}


@dataclass(frozen=True)
class EpochSeconds(Recorder):
    """Wall-clock seconds from the start of training (the `Trainer`'s construction: data to
    the device, the initial scoring) to the end of each epoch, the same for every member
    (they train together). Record `epoch_seconds`: (M, epochs).

    A timing measures this machine, so `local_only`, and its key holds the machine's
    fingerprint (`machine_fingerprint`: host, CPU, torch version and threads, device) and
    the call's seeds (a timing belongs to the whole call, not to one member): it is replayed
    only for the same call on the same machine. `repeat` tells repeated timings of one call
    apart, so a sweep that times a call three times gets three measurements.
    """

    repeat: int = 0
    name: ClassVar[str] = "epoch_seconds"
    local_only: ClassVar[bool] = True

    def shapes(self, trainer):
        return {self.name: ()}

    def measure(self, trainer, grads):
        return {self.name: np.full(len(trainer.seeds), time.perf_counter() - trainer.started)}

    def spec(self, train):
        call = {"seed": train.seed, "n_seeds": train.n_seeds}
        return super().spec(train) | {"call": call, "machine": machine_fingerprint(train.device)}


def machine_fingerprint(device: str = "cpu") -> dict:
    """What makes a timing this machine's: the host, CPU model and cores, platform, Python,
    torch and numpy versions, the torch threads the caller runs on, and the device (with
    the GPU's name on CUDA)."""

    env = environment(str(resolve_device(device)))
    keep = ("platform", "cpu", "cpu_count", "python", "torch", "numpy", "torch_threads")
    out = {k: env[k] for k in keep} | {"host": platform.node(), "device": env["device"]}
    if "gpu" in env:
        out["gpu"] = env["gpu"]
    return out


def check_recorders(recorders) -> tuple[Recorder, ...]:
    """The recorders as a tuple; a ValueError for anything else, or two of one name."""
    recorders = tuple(recorders)
    for r in recorders:
        if not isinstance(r, Recorder):
            raise ValueError(
                f"recorders holds {r!r}; expected Recorder instances such as "
                "GradientNorms(every=1) or EpochSeconds(). For your own code, pass callback=."
            )
    names = [r.name for r in recorders]
    if len(set(names)) < len(names):
        raise ValueError(f"recorders {names} repeat a name; pass each recorder once.")
    return recorders


class Records:
    """The engine's side: NaN-filled arrays for `recorders`, filled after each epoch, like
    `History`. `arrays` is what `Fit.records` holds."""

    def __init__(self, recorders, trainer):
        M, n_epochs = len(trainer.seeds), trainer.train.epochs
        self.slots = []  # (recorder, {epoch: index on the E axis})
        self.arrays: dict[str, np.ndarray] = {}
        for r in check_recorders(recorders):
            epochs = r.schedule(n_epochs)
            self.slots.append((r, {e: j for j, e in enumerate(epochs)}))
            for name, shape in r.shapes(trainer).items():
                self.arrays[name] = np.full((M, len(epochs), *shape), np.nan)

    def after_epoch(self, trainer, grads) -> None:
        """Measure every recorder scheduled at `trainer.epoch` (1-based, just finished)."""
        for recorder, slot in self.slots:
            j = slot.get(trainer.epoch)
            if j is not None:
                for name, values in recorder.measure(trainer, grads).items():
                    self.arrays[name][:, j] = values


def _plain(value):
    """Tuples to lists, for JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
