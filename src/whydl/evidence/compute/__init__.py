"""Claim 3, more compute: loss falls along a compute frontier, and parallel hardware buys it.

Two halves, one experiment per module:

- the compute frontier (`frontier`, rule in `frontier_rule`): MLPs of several widths on
  digits, test loss against training FLOPs; the frontier is picked on selection seeds and
  its fall measured on evaluation seeds against permutation references, so that picking
  the best of more configurations at larger budgets does not pass for an effect of compute;
  `trade_off` (rule in `trade_off_rule`), at a matched budget a bigger model for fewer
  epochs against the smallest for more, and the compute-optimal size N_opt against the
  budget (Kaplan et al.'s Figure 14), read from the frontier's fits; and `time_to_target`,
  the wall time each width needs to reach a target accuracy;
- timings of this machine (`timing`, rule in `speedup`): `throughput` (samples per second
  against batch size), `vectorised` (the engine's M members at once against the same M one
  by one), `threads` (one against two) and `gpu` (CUDA against the CPU where a GPU is
  present; otherwise "not measured on this machine", never estimated). Their rows are per
  repeat; their timed fits record `EpochSeconds`, which is `local_only`: trained in this
  process, keyed by this machine's fingerprint, replayed only here.

Example
-------
>>> from whydl.evidence import get_claim
>>> result = get_claim("compute").run("quick")  # doctest: +SKIP
"""

from __future__ import annotations

from whydl.evidence.claim import Claim
from whydl.evidence.compute.frontier import Frontier
from whydl.evidence.compute.gpu import Gpu
from whydl.evidence.compute.threads import Threads
from whydl.evidence.compute.throughput import Throughput
from whydl.evidence.compute.time_to_target import TimeToTarget
from whydl.evidence.compute.trade_off import TradeOff
from whydl.evidence.compute.vectorised import Vectorised

HYPOTHESIS = (
    "More training compute gives lower test loss along the compute frontier. (How much "
    "parallel execution, vectorisation, threads and GPU, raises this machine's training "
    "throughput is measured and reported, but does not decide.)"
)


class ComputeClaim(Claim):
    name = "compute"
    title = "More compute: throughput and the compute frontier"
    hypothesis = HYPOTHESIS
    literature = (
        "Kaplan et al. 2020: test loss falls as a power law in training compute along the "
        "compute-efficient frontier, where larger models become optimal at larger budgets",
        "Raina et al. 2009: GPUs trained large networks up to ~70x faster than a CPU",
        "Hestness et al. 2017: growing data and models need compute to grow with them",
    )
    times_this_machine = True  # its timings: run alone (see Claim)
    presets = {
        "quick": {
            "n_seeds": 3,
            "n_selection_seeds": 3,
            "repeats": 3,
            "batch_sizes": [32, 256],
            "throughput_epochs": 1,
            "members": 4,
            "gpu_members": 16,
            "vector_epochs": 1,
            "widths": [4, 16],
            "frontier_epochs": 3,
        },
        "full": {
            "n_seeds": 10,
            "n_selection_seeds": 5,
            "repeats": 7,
            "batch_sizes": [16, 64, 256, 1024],
            "throughput_epochs": 3,
            "members": 16,
            "gpu_members": 64,
            "vector_epochs": 2,
            "widths": [4, 8, 16, 32, 64, 128],
            "frontier_epochs": 40,
        },
    }

    def experiments(self, params):
        # this order is the old claim's: batch size and vectorisation on one thread first
        return [
            Throughput(params),
            Vectorised(params),
            Frontier(params),
            TradeOff(params),  # after the frontier: its selection calls are the frontier's
            TimeToTarget(),
            Threads(params),
            Gpu(params),
        ]

    def headline(self, runs):
        parts = {run.name: run.verdict.numbers for run in runs if run.verdict}
        frontier, vectorised = parts["frontier"], parts["vectorised"]
        text = []
        if "slope_ci_low" in frontier:
            text.append(
                f"frontier slope of log loss vs log FLOPs {frontier['slope']:.2f} (95% CI "
                f"{frontier['slope_ci_low']:.2f} to {frontier['slope_ci_high']:.2f})"
            )
        if "speedup" in vectorised:
            text.append(
                f"vectorised {vectorised['speedup']:.1f}x faster than looped (95% CI "
                f"{vectorised['speedup_ci_low']:.1f}–{vectorised['speedup_ci_high']:.1f}x)"
            )
        return "; ".join(text)

    def notes(self, runs):
        return [
            "Timings are wall-clock seconds on whatever else the machine was doing: a shared "
            "or busy CPU inflates them and narrows the speedups. Batch-size, vectorisation "
            "and frontier timings run on one torch thread, so threading does not mix in. "
            "Timings need no data draw: they train on one fixed split of digits.",
            "The timing rules are calibrated at the preset's repeats (a timing has repeats, "
            "not seeds), with noise per repeat and an offset shared by a run's repeats.",
        ]


CLAIM = ComputeClaim()
