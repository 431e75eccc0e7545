"""The evidence frame every claim shares, in one import.

- `verdict`: `Verdict` and `combine`;
- `decide`: effects with CIs, paired and unpaired, the three-way verdict, Holm;
- `protocol`: selection seeds apart from evaluation seeds, a data draw per seed;
- `calibration`: each rule's rates measured on simulated experiments;
- `calls`: `TrainCall` and `Context`, the door to the engine, store and executors;
- `experiment`: `Rule`, `Experiment` and the protocol that runs them;
- `outcome`: `ClaimResult`, what a claim produced; `claim`: `Claim`.
"""

from whydl.evidence.calls import Context, TrainCall
from whydl.evidence.claim import Claim
from whydl.evidence.decide import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, VERDICTS
from whydl.evidence.experiment import Experiment, ExperimentRun, Rule, run_experiments
from whydl.evidence.outcome import ClaimResult
from whydl.evidence.verdict import Verdict, combine

PRESETS = ("quick", "full")

__all__ = [
    "INCONCLUSIVE",
    "NOT_SUPPORTED",
    "PRESETS",
    "SUPPORTED",
    "VERDICTS",
    "Claim",
    "ClaimResult",
    "Context",
    "Experiment",
    "ExperimentRun",
    "Rule",
    "TrainCall",
    "Verdict",
    "combine",
    "run_experiments",
]
