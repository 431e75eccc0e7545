"""The rule every timing experiment decides with: is the fast setting faster, per repeat?

A timing experiment (`whydl.evidence.compute.timing`) trains a slow and a fast setting in
every repeat (they take turns, so a load on the machine during one repeat slows both), and
the rule reads the speedup per repeat: slow seconds / fast seconds.

Example
-------
>>> import numpy as np
>>> rule = SpeedupRule("vectorised", "looped", "vectorised", repeats=5)
>>> rows = rule.simulate("clear", np.random.default_rng(0), n_evaluation=10, n_selection=0)
>>> rule.decide(rows).verdict
'supported'
"""

from __future__ import annotations

import math

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL
from whydl.evidence.decide import INCONCLUSIVE, mean_effect, three_way
from whydl.evidence.experiment import Rule

NOT_MEASURED = "not measured on this machine"
MIN_SPEEDUP = 1.1  # minimum effect of interest: 10% less wall time
MIN_SPEEDUP_REASON = (
    "a speedup below 1.1x (10% less wall time) is within what wall-clock timings on a "
    "shared machine vary from run to run, and too small to change how anyone trains."
)
CLEAR_SPEEDUP = 1.5  # a clear effect for calibration (the v1 run: vectorised 1.6x)
# the simulator's noise, in log seconds (the v1 full run: sd 0.12 to 0.4 per repeat)
REPEAT_SD = 0.25  # the log speedup of one repeat around the run's
RUN_SD = 0.03  # the run's own offset, shared by its repeats (clock, caches, other jobs then)
LOAD_SD = 0.3  # a repeat's load, shared by its two settings (cancels in the ratio)


class SpeedupRule(Rule):
    """Does the `fast` setting train faster than the `slow` one, per repeat?"""

    minimum_effect = math.log(MIN_SPEEDUP)  # in log speedup
    minimum_effect_reason = MIN_SPEEDUP_REASON
    unit = "repeats"

    def calibration_counts(self, n_evaluation: int, n_selection: int) -> tuple[int, int]:
        return self.repeats, 0  # timings are per repeat, not per seed

    def __init__(self, name: str, slow: str, fast: str, repeats: int):
        self.name, self.slow, self.fast = name, slow, fast
        self.repeats = int(repeats)
        self.hypothesis = f"{fast} trains faster than {slow}."

    def minimum_text(self) -> str:
        return (
            f"a speedup of {MIN_SPEEDUP:g}x (log {self.minimum_effect:.3f}): {MIN_SPEEDUP_REASON}"
        )

    def text(self) -> str:
        return (
            f"speedup = {self.slow} seconds / {self.fast} seconds per repeat; its geometric "
            "mean and 95% CI over repeats (a t-interval of the log ratios, exponentiated). "
            f"Supported when the CI lies above 1; not supported when it lies below "
            f"{MIN_SPEEDUP:g}; otherwise inconclusive (also when not measured on this machine)."
        )

    def decide(self, rows):
        timed = [r for r in rows if "seconds" in r]  # a "not measured" row has no timing
        times = {
            setting: {r["repeat"]: r["seconds"] for r in timed if r["setting"] == setting}
            for setting in (self.slow, self.fast)
        }
        repeats = sorted(set(times[self.slow]) & set(times[self.fast]))
        if not repeats:
            status = next((r["status"] for r in rows if r.get("status")), NOT_MEASURED)
            return self.verdict(INCONCLUSIVE, {"status": status}, 0)
        slow = np.array([times[self.slow][i] for i in repeats])
        fast = np.array([times[self.fast][i] for i in repeats])
        effect = mean_effect(np.log(slow / fast))  # log speedup per repeat, paired
        numbers = effect.numbers("log_speedup") | {
            "speedup": math.exp(effect.estimate),
            "speedup_ci_low": math.exp(effect.ci_low),
            "speedup_ci_high": math.exp(effect.ci_high),
            f"seconds_{self.slow}": float(slow.mean()),
            f"seconds_{self.fast}": float(fast.mean()),
            "repeats": len(repeats),
        }
        return self.verdict(three_way(effect, self.minimum_effect), numbers, len(repeats))

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """Rows of `repeats` repeats (the experiment's; not `n_evaluation`: timings are per
        repeat, not per seed): log seconds = a repeat's load (both settings) + each timing's
        own noise, the fast one less by the true log speedup plus the run's offset."""
        speedup = {NULL: 1.0, MINIMUM: MIN_SPEEDUP, CLEAR: CLEAR_SPEEDUP}[condition]
        offset = rng.normal(0.0, RUN_SD)
        load = rng.normal(0.0, LOAD_SD, self.repeats)
        noise = rng.normal(0.0, REPEAT_SD / math.sqrt(2), (2, self.repeats))
        slow = np.exp(load + noise[0])
        fast = np.exp(load + noise[1] - math.log(speedup) - offset)
        return [
            {"setting": setting, "repeat": i, "seconds": float(seconds[i])}
            for i in range(self.repeats)
            for setting, seconds in ((self.slow, slow), (self.fast, fast))
        ]
