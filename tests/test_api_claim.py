"""`whydl.claim()` runs a claim through the same pipeline as `whydl claim NAME`."""

import json

import whydl
from whydl.store import Store


def test_claim_through_the_api_writes_stores_and_reuses(tmp_path):
    first = whydl.claim("innovations", out=tmp_path)
    assert (tmp_path / "verdict.json").is_file() and (tmp_path / "whydl.db").is_file()
    with Store(tmp_path / "whydl.db") as db:
        n_members = db.count_members()
        assert db.get_result("innovations", "quick", 3) is not None  # recorded for the report
    again = whydl.claim("innovations", out=tmp_path)
    with Store(tmp_path / "whydl.db") as db:
        assert db.count_members() == n_members  # the rerun trained nothing new
    assert again.verdict.to_dict() == first.verdict.to_dict()
    assert json.loads((tmp_path / "verdict.json").read_text())["claim"] == "innovations"
