"""One module per claim of the article; each holds its sweep, statistics, figures and rule.

Example
-------
>>> from whydl.evidence import CLAIM_NAMES
>>> "hierarchy" in CLAIM_NAMES
True
"""

from __future__ import annotations

import importlib

from whydl.errors import WhydlError, did_you_mean
from whydl.evidence.calls import Context, TrainCall
from whydl.evidence.claim import Claim
from whydl.evidence.decide import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.experiment import Experiment, ExperimentRun, Rule
from whydl.evidence.outcome import ClaimResult
from whydl.evidence.verdict import Verdict, combine

# claim name -> module; modules are imported on first use
CLAIM_MODULES = {
    "hierarchy": "whydl.evidence.hierarchy",
    "data": "whydl.evidence.data_scaling",
    "compute": "whydl.evidence.compute",
    "innovations": "whydl.evidence.innovations",
    "transfer": "whydl.evidence.transfer",
    "flexibility": "whydl.evidence.flexibility",
}
CLAIM_NAMES = tuple(CLAIM_MODULES)

__all__ = [
    "CLAIM_NAMES",
    "INCONCLUSIVE",
    "NOT_SUPPORTED",
    "SUPPORTED",
    "Claim",
    "ClaimResult",
    "Context",
    "Experiment",
    "ExperimentRun",
    "Rule",
    "TrainCall",
    "Verdict",
    "available_claims",
    "combine",
    "get_claim",
]


def available_claims() -> list[str]:
    """Every claim, in the article's order. All six ship with the package, so there is
    nothing to look up (an `importlib.util` lookup once crashed fresh installs)."""
    return list(CLAIM_MODULES)


def get_claim(name: str) -> Claim:
    """The claim object by name (e.g. 'hierarchy')."""
    if name not in CLAIM_MODULES:
        raise WhydlError(
            f"Unknown claim {name!r}. Expected one of: {', '.join(CLAIM_MODULES)}."
            f"{did_you_mean(name, CLAIM_MODULES)} Run 'whydl claims' to list them."
        )
    return importlib.import_module(CLAIM_MODULES[name]).CLAIM
