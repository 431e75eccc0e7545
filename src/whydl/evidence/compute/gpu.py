"""GPU: the same vectorised fit on CUDA and on the CPU, where a GPU is present.

Without one the row reads "not measured on this machine": it is never estimated, and the
part, like every timing, does not decide the claim.
"""

from __future__ import annotations

import torch

from whydl.config import TrainConfig
from whydl.evidence.compute.speedup import NOT_MEASURED, SpeedupRule
from whydl.evidence.compute.timing import LR, TimingExperiment, timed_fit, timing_data, timing_row

HIDDEN = (64, 64)
BATCH = 256
DEVICES = ("cpu", "cuda")


class Gpu(TimingExperiment):
    name = "gpu"

    def __init__(self, params: dict):
        self.rule = SpeedupRule(self.name, *DEVICES, params["repeats"])

    def train(self, ctx, params, seeds, chosen):
        if not torch.cuda.is_available():
            return {}
        data, fits = timing_data(), {}
        M, epochs = params["gpu_members"], params["vector_epochs"]
        for repeat in range(params["repeats"] + 1):  # the first CUDA run pays for warm-up
            for device in DEVICES:  # the CPU side on the default threads
                train = TrainConfig(
                    lr=LR, batch_size=BATCH, epochs=epochs, n_seeds=M, device=device
                )
                fit = timed_fit(ctx, data, HIDDEN, train, f"gpu {device}", repeat)
                if repeat > 0:
                    fits[device, repeat - 1] = fit
        return fits

    def rows(self, run):
        if not run.fits:
            return [{"setting": "cuda", "status": NOT_MEASURED}]
        name = torch.cuda.get_device_name(0)
        M, epochs = run.params["gpu_members"], run.params["vector_epochs"]
        samples = M * len(timing_data().X_train) * epochs
        return [
            timing_row(
                device,
                repeat,
                fit,
                samples,
                device_name=name if device == "cuda" else "cpu",
                members=M,
            )
            for (device, repeat), fit in run.fits.items()
        ]

    def notes(self, run):
        v = run.verdict.numbers
        if "speedup" not in v:
            return [f"GPU: {v.get('status', NOT_MEASURED)}."]
        name = next(r["device_name"] for r in run.rows if r["setting"] == "cuda")
        return [
            f"GPU: {v['speedup']:.1f}x the CPU's throughput (95% CI {v['speedup_ci_low']:.1f} "
            f"to {v['speedup_ci_high']:.1f}x; {name})."
        ]
