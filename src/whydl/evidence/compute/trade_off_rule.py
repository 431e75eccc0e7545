"""The rule of the compute-matched trade-off: at one fixed budget of training FLOPs, does a
bigger model trained for fewer epochs reach a lower test loss than the smallest model
trained for more?

The two configurations are named before any evaluation seed is read (`trade_off`): the
*smaller* is the narrowest width trained for every epoch of the sweep, and its FLOPs are
the budget; the *bigger* is the configuration of a wider width, at most that budget, with
the lowest mean log test loss on the selection seeds. The rule reads the evaluation seeds'
log test loss of both, paired by seed (each seed has its own split of digits, so the
split's luck cancels):

    gain = mean over evaluation seeds of (log loss of the smaller - log loss of the bigger)

positive: the bigger model for fewer epochs is ahead. Supported when its 95% CI lies above
0; not supported when it lies below MIN_GAIN; otherwise (or with no wider width
affordable at the budget) inconclusive. The widest model the budget affords, trained for
the epochs it affords, is compared with the bigger one the same way and reported
(`widest_gain`), not tested.

Picking the bigger configuration on selection seeds keeps the best-of-many luck of the
selection seeds out of the evaluation. What is left that all seeds of a configuration share
is the configuration's own expected loss on digits, and that is what the rule compares: its
verdict is about these two configurations, not about a law fitted through them (that is the
frontier's rule, with its permutation references).

Example
-------
>>> import numpy as np
>>> rule = TradeOffRule()
>>> rows = rule.simulate("clear", np.random.default_rng(0), n_evaluation=10, n_selection=5)
>>> rule.decide(rows).verdict
'supported'
"""

from __future__ import annotations

import numpy as np

from whydl.evidence.calibration import CLEAR, MINIMUM, NULL, noisy_grid
from whydl.evidence.decide import INCONCLUSIVE, paired_difference, three_way
from whydl.evidence.experiment import Rule
from whydl.evidence.rows import by_seed, select

BIGGER, SMALLER, WIDEST = "bigger", "smaller", "widest"
ARMS = (BIGGER, SMALLER, WIDEST)
MIN_GAIN = 0.05  # minimum effect of interest, in log test loss (5% lower loss)
MIN_GAIN_REASON = (
    "0.05 in log test loss, a 5% lower loss for the same FLOPs: along the shallowest "
    "compute scaling law Kaplan et al. 2020 report (test loss as C^-0.050) that is what "
    "e = 2.7 times the compute buys; a smaller gain is not worth choosing a model size for"
)
CLEAR_GAIN = 0.5  # a clear effect for calibration: under half of the 1.1 the full run saw
# the simulator's noise, in log test loss, from the full run's evaluation seeds (sd of the
# per-seed difference between the two arms 0.36: sqrt(2) x SEED_SD)
SEED_SD = 0.25  # each seed's own, per arm (its initialisation and its split)
SHARED_SD = 0.1  # a seed's own, shared by its arms (its split): pairing cancels it
LEVEL_SD = 0.2  # the budget's level, shared by every seed of both arms: cancels as well
WIDEST_GAP = 0.2  # the widest arm's simulated excess loss over the bigger one


def arm_row(seed, arm: str, width, epoch, flops, budget_flops, test_loss) -> dict:
    """One row the rule reads: an evaluation seed's test loss for one arm (`BIGGER`,
    `SMALLER` or `WIDEST`), a configuration (width, epoch: `flops`) at the matched budget
    (`budget_flops`). The experiment, the simulator and the tests build rows with it."""
    return {
        "seed": seed,
        "arm": arm,
        "width": width,
        "epoch": epoch,
        "flops": float(flops),
        "budget_flops": float(budget_flops),
        "test_loss": float(test_loss),
    }


def _log_losses(rows, arm: str) -> dict:
    """seed -> log test loss of one arm (NaN where the seed diverged)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return {s: float(np.log(v)) for s, v in by_seed(rows, "test_loss", arm=arm).items()}


def _config(rows, arm: str) -> dict:
    """The arm's configuration (width, epoch, FLOPs) as the rows name it; {} when absent."""
    mine = select(rows, arm=arm)
    if not mine:
        return {}
    return {f"{arm}_{k}": mine[0][k] for k in ("width", "epoch", "flops")}


class TradeOffRule(Rule):
    """Rows: one per evaluation seed and arm (`arm_row`)."""

    name = "trade_off"
    hypothesis = (
        "At matched training compute, a bigger model trained for fewer epochs reaches a lower "
        "test loss than the smallest model trained for more."
    )
    minimum_effect = MIN_GAIN
    minimum_effect_reason = MIN_GAIN_REASON

    def text(self) -> str:
        return (
            "at the budget of the narrowest width trained for every epoch, gain = mean over "
            "evaluation seeds of its log test loss minus that of the wider configuration "
            "picked on selection seeds among those costing at most the budget (paired by "
            "seed; positive: the bigger model for fewer epochs is ahead); supported when the "
            f"95% CI of the gain lies above 0; not supported when it lies below {MIN_GAIN:g}; "
            "otherwise (or when no wider width is affordable) inconclusive. The widest "
            "affordable model, trained for fewer epochs still, is compared and reported."
        )

    def decide(self, rows):
        budget = {r["budget_flops"] for r in rows}
        numbers = {"budget_flops": budget.pop() if len(budget) == 1 else float("nan")}
        for arm in ARMS:
            numbers |= _config(rows, arm)
        if not select(rows, arm=BIGGER) or not select(rows, arm=SMALLER):
            return self.verdict(INCONCLUSIVE, numbers, 0)
        bigger, smaller = _log_losses(rows, BIGGER), _log_losses(rows, SMALLER)
        gain = paired_difference(smaller, bigger)
        numbers |= gain.numbers("gain") | {
            "bigger_log_test_loss": float(np.nanmean(list(bigger.values()))),
            "smaller_log_test_loss": float(np.nanmean(list(smaller.values()))),
            "flops_ratio": numbers["bigger_flops"] / numbers["smaller_flops"],
        }
        if select(rows, arm=WIDEST):  # reported beside: the bigger one against the widest
            numbers |= paired_difference(_log_losses(rows, WIDEST), bigger).numbers("widest_gain")
        return self.verdict(three_way(gain, MIN_GAIN), numbers, gain.n)

    def simulate(self, condition, rng, n_evaluation, n_selection):
        """Rows like the experiment's: log loss = the budget's level (shared by all seeds of
        both arms) - gain for the bigger arm + a seed's offset shared by its arms + each
        seed's own noise. The pair is given (its choice on selection seeds happens before
        any evaluation seed is drawn), so `n_selection` plays no part."""
        gain = {NULL: 0.0, MINIMUM: MIN_GAIN, CLEAR: CLEAR_GAIN}[condition]
        level = -1.0 + rng.normal(0.0, LEVEL_SD)
        true = [level - gain, level, level - gain + WIDEST_GAP]  # in ARMS' order
        log_loss = noisy_grid(rng, true, n_evaluation, SEED_SD, 0.0, SHARED_SD)
        loss = np.exp(log_loss)  # (seeds, arms)
        configs = {BIGGER: (16, 8, 8.7e7), SMALLER: (4, 40, 9.4e7), WIDEST: (64, 1, 6.7e7)}
        return [
            arm_row(s, arm, *configs[arm], 9.4e7, loss[s, j])
            for s in range(n_evaluation)
            for j, arm in enumerate(ARMS)
        ]
