from whydl.report.card import badge, compact_table, decision_html, fmt


def test_per_seed_rows_become_mean_and_ci_per_configuration():
    rows = [
        {"width": w, "seed": s, "accuracy": 0.5 + w / 100 + s / 1000}
        for w in (2, 16)
        for s in range(4)
    ]
    columns, table, note = compact_table(rows)
    assert columns == ["width", "seeds", "accuracy"]
    assert [r[:2] for r in table] == [["2", 4], ["16", 4]]
    assert table[0][2].startswith("0.5215 ± ") and "95% CI" in note


def test_tables_that_do_not_shrink_are_shown_as_they_are():
    rows = [{"depth": d, "probe": 0.1 * d} for d in range(3)]
    assert compact_table(rows) == (["depth", "probe"], [[0, 0.0], [1, 0.1], [2, 0.2]], "")
    unique = [{"seed": s, "lr": 0.1 * s, "name": f"n{s}", "acc": 0.5} for s in range(3)]
    assert compact_table(unique)[0] == ["seed", "lr", "name", "acc"]


def test_badges_say_the_verdict_in_words_not_colour_alone():
    for verdict in ("supported", "not supported", "inconclusive"):
        assert f"{verdict}</span>" in badge(verdict)
    assert 'class="badge not-supported"' in badge("not supported")


def test_numbers_are_short_and_rules_show_every_part():
    assert fmt(0.123456) == "0.1235" and fmt([1, 2.0]) == "1, 2" and fmt(None) == "—"
    part = {
        "claim": "a",
        "verdict": "supported",
        "rule": "x > 0.5",
        "numbers": {"x": 0.7},
        "seeds": 3,
        "parts": [],
    }
    html = decision_html({**part, "claim": "c", "rule": "all parts", "parts": [part]})
    assert "all parts" in html and "x &gt; 0.5" in html and "x = 0.7" in html
