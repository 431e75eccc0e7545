"""`python -m whydl.evidence`: measure every claim's rules on simulated experiments at the
quick and full presets' seed counts and write the rates shipped with the package
(`whydl/evidence/calibration.json`), so a report shows them without simulating again.
Run it after changing a rule or its simulator (`python -m whydl.evidence data compute`
for some claims only); current entries are kept, and a test says when one is stale."""

from __future__ import annotations

import sys
import time

from whydl.evidence import available_claims, get_claim
from whydl.evidence.calibration import STORED, write_stored


def main(argv=None) -> int:
    started = time.perf_counter()
    names = list(argv if argv is not None else sys.argv[1:]) or available_claims()
    jobs = []
    for name in names:
        claim = get_claim(name)
        for preset in claim.presets:
            jobs += claim.rules(claim.params(preset))
    unique = {(type(r).__module__, r.name, e, s): (r, e, s) for r, e, s in jobs}
    written = write_stored(unique.values(), None if names == available_claims() else names)
    print(f"wrote {STORED}: {len(written)} rates in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
