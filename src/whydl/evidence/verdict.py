"""A verdict and everything needed to audit it, and how a claim's parts combine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from whydl.evidence.decide import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, VERDICTS


@dataclass(frozen=True)
class Verdict:
    """A decision and everything needed to audit it.

    `rule` states the rule in words with its thresholds; `numbers` holds the values the rule
    compared; `minimum_effect` the minimum effect of interest with its reason. The frame
    adds `calibration` (the rule's measured rates, `whydl.evidence.calibration`) and
    `protocol` (the selection and evaluation seeds, what was chosen, whether the part
    decides). `parts` are the sub-experiments' verdicts when this is a claim's overall one.
    """

    claim: str
    verdict: str
    hypothesis: str
    rule: str
    numbers: dict
    seeds: int
    parts: tuple[Verdict, ...] = ()
    minimum_effect: str = ""
    calibration: dict | None = None
    protocol: dict | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict={self.verdict!r} is not one of {VERDICTS}.")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["parts"] = [p.to_dict() for p in self.parts]
        return d

    def line(self) -> str:
        return f"{self.claim}: {self.verdict.upper()}"

    def with_(self, **changes) -> Verdict:
        return replace(self, **changes)


def combine(claim: str, hypothesis: str, parts, seeds: int, required=None) -> Verdict:
    """The overall verdict of a claim from its sub-experiments' verdicts.

    Rule: `supported` when every required part is supported; `not supported` when any
    required part is not supported; otherwise `inconclusive`. `required` names the parts
    that carry the claim (default: all); the others are reported but do not decide.
    """
    parts = tuple(parts)
    names = set(required) if required is not None else {p.claim for p in parts}
    deciding = [p for p in parts if p.claim in names]
    if deciding and all(p.verdict == SUPPORTED for p in deciding):
        verdict = SUPPORTED
    elif any(p.verdict == NOT_SUPPORTED for p in deciding):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    rule = (
        "supported when every deciding sub-experiment is supported; not supported when any "
        f"deciding one is not; otherwise inconclusive. Deciding: {', '.join(sorted(names))}."
    )
    numbers = {p.claim: p.verdict for p in parts}
    return Verdict(claim, verdict, hypothesis, rule, numbers, seeds, parts)
