"""Threads: the vectorised fit of M members on 1 torch thread against 2 (restored after)."""

from __future__ import annotations

import os

from whydl.config import TrainConfig
from whydl.engine.device import torch_threads
from whydl.evidence.compute.speedup import SpeedupRule
from whydl.evidence.compute.timing import LR, TimingExperiment, timed_fit, timing_data, timing_row

HIDDEN = (64, 64)
BATCH = 256
THREADS = (1, 2)
ONE_CORE = "one CPU core only"


def setting(threads: int) -> str:
    return f"{threads} thread" + ("s" if threads > 1 else "")


class Threads(TimingExperiment):
    name = "threads"

    def __init__(self, params: dict):
        slow, fast = (setting(t) for t in THREADS)
        self.rule = SpeedupRule(self.name, slow, fast, params["repeats"])

    def train(self, ctx, params, seeds, chosen):
        if (os.cpu_count() or 1) < max(THREADS):
            return {}
        data, fits = timing_data(), {}
        M, epochs = params["members"], params["vector_epochs"]
        train = TrainConfig(lr=LR, batch_size=BATCH, epochs=epochs, n_seeds=M)
        for repeat in range(params["repeats"]):
            for threads in THREADS:
                with torch_threads(threads):
                    tag = f"{threads} thr"
                    fits[threads, repeat] = timed_fit(ctx, data, HIDDEN, train, tag, repeat)
        return fits

    def rows(self, run):
        if not run.fits:
            return [{"setting": setting(max(THREADS)), "status": ONE_CORE}]
        M, epochs = run.params["members"], run.params["vector_epochs"]
        samples = M * len(timing_data().X_train) * epochs
        return [
            timing_row(setting(threads), repeat, fit, samples, members=M)
            for (threads, repeat), fit in run.fits.items()
        ]

    def notes(self, run):
        v = run.verdict.numbers
        if "speedup" not in v:
            return []
        why = (
            "Slower: when the other core is busy (a shared machine), the second thread "
            "waits for it at every step; on an idle machine the same run can gain."
            if v["speedup"] < 1
            else "Small networks give a thread little work per step, so the gain stays "
            "well below the 2x two cores could give."
        )
        return [
            f"Two threads against one: {v['speedup']:.2f}x (95% CI {v['speedup_ci_low']:.2f} "
            f"to {v['speedup_ci_high']:.2f}). {why}"
        ]
