"""Claims side by side (`run_claims(jobs=N)`): each claim in its own process, on one store,
gives exactly the results it gives alone (the recorded quick-preset fixture); a claim that
times this machine, and a claim a worker could not import, run in this process."""

import json

from tests.evidence.test_behaviour import _close
from tests.fixtures.record_claims import FIXTURE, PINNED_KERNELS, is_timing
from whydl.evidence import get_claim
from whydl.evidence.claim import Claim
from whydl.runtime import run_claims
from whydl.runtime.pipeline import _runs_apart
from whydl.store import Store

CHEAP = ("innovations", "hierarchy")  # two claims of a few seconds each at the quick preset


def test_side_by_side_gives_the_recorded_results(tmp_path, monkeypatch):
    for name, value in PINNED_KERNELS.items():  # the spawned workers round as the fixture did
        monkeypatch.setenv(name, value)
    claims = [get_claim(name) for name in CHEAP]
    with Store(tmp_path / "whydl.db") as store:
        records, failed = run_claims(claims, "quick", None, store, tmp_path, jobs=2)
        assert failed == [] and store.count_members() > 0
    assert [r["name"] for r in records] == list(CHEAP)  # the claims' order, not finishing order
    recorded = json.loads(FIXTURE.read_text())
    for name in CHEAP:
        rows = json.loads((tmp_path / name / "results.json").read_text())
        rows = [{k: v for k, v in r.items() if not is_timing(k)} for r in rows]
        expected = recorded[name]["table"]
        assert len(rows) == len(expected), name
        for a, b in zip(expected, rows):
            assert set(a) == set(b) and all(_close(a[k], b[k]) for k in a), (name, a, b)


def test_a_timing_claim_and_one_a_worker_cannot_import_run_here():
    assert not _runs_apart(get_claim("compute"))  # its timings must not share the cores
    assert _runs_apart(get_claim("data"))

    class Local(Claim):
        name = "data"  # the registry's name, but not any module's CLAIM

    assert not _runs_apart(Local())


def test_a_worker_that_dies_fails_its_claim_and_the_report_still_returns(tmp_path, capsys):
    from tests.report.dying_claim import CLAIM as DYING

    with Store(tmp_path / "whydl.db") as store:
        records, failed = run_claims([DYING], "quick", None, store, tmp_path, jobs=2)
    assert failed == ["dying"]
    assert "worker process died" in records[0]["error"] and "--jobs 1" in records[0]["error"]
    assert "claim dying: its worker process died" in capsys.readouterr().err
