"""One module per claim of the article; each holds its sweep, statistics, figures and rule.

Example
-------
>>> from whydl.evidence import CLAIM_NAMES
>>> "hierarchy" in CLAIM_NAMES
True
"""

from __future__ import annotations

import importlib

from whydl.errors import WhydlError
from whydl.evidence.frame import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    Claim,
    ClaimResult,
    Context,
    TrainCall,
    Verdict,
    combine,
)

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
    "TrainCall",
    "Verdict",
    "available_claims",
    "combine",
    "get_claim",
]


def available_claims() -> list[str]:
    """The claims whose module exists in this installation, in the article's order."""
    found = []
    for name, module in CLAIM_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            found.append(name)
    return found


def get_claim(name: str) -> Claim:
    """The claim object by name (e.g. 'hierarchy')."""
    if name not in available_claims():
        raise WhydlError(
            f"Unknown claim {name!r}. Expected one of: {', '.join(available_claims())}. "
            "Run 'whydl claims' to list them."
        )
    return importlib.import_module(CLAIM_MODULES[name]).CLAIM
