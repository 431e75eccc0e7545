"""The rates shipped with the package (`calibration.json`) are current, and every deciding
rule meets the frame's requirements at the full preset's seeds."""

import pytest

from whydl.evidence import available_claims, get_claim
from whydl.evidence.calibration import (
    MAX_FALSE_NEGATIVE,
    MAX_FALSE_POSITIVE,
    MIN_POWER,
    N_SIMULATIONS,
    rule_key,
    rule_version,
    stored_rates,
)


def every_rule():
    for name in available_claims():
        claim = get_claim(name)
        for preset in claim.presets:
            params = claim.params(preset)
            deciding = {e.name: e.deciding for e in claim.experiments(params)}
            for rule, n_evaluation, n_selection in claim.rules(params):
                yield name, preset, rule, n_evaluation, n_selection, deciding[rule.name]


RULES = list(every_rule())


@pytest.mark.parametrize(
    "claim,preset,rule,n_evaluation,n_selection,deciding",
    RULES,
    ids=[f"{c}-{p}-{r.name}" for c, p, r, *_ in RULES],
)
def test_the_shipped_rates_are_current(claim, preset, rule, n_evaluation, n_selection, deciding):
    entry = stored_rates().get(rule_key(rule, n_evaluation, n_selection))
    assert entry is not None and entry["version"] == rule_version(rule), (
        f"{claim}.{rule.name} changed since calibration.json was written: "
        "run `python -m whydl.evidence` and commit the file"
    )
    rates = entry["calibration"]
    assert rates["n_simulations"] >= N_SIMULATIONS
    if preset == "full":  # every rule, deciding or not, at the report's seeds
        assert rates["false_positive_rate"] <= MAX_FALSE_POSITIVE
        assert rates["false_negative_rate_at_minimum_effect"] <= MAX_FALSE_NEGATIVE
        assert rates["power"] >= MIN_POWER
