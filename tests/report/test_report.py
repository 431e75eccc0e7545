import json
import re
import sqlite3
from contextlib import closing

import pytest

from whydl import evidence
from whydl.cli import main
from whydl.evidence import Claim
from whydl.make_report import build_report
from whydl.store import Store

from . import browser
from .selfcontained import external_references, playground_links
from .toy_claim import CLAIM as TOY

SEEDS = "2"  # claims and demo: keeps the test quick


@pytest.fixture(scope="module")
def registry():
    """The toy claim as the only registered claim."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evidence, "CLAIM_MODULES", {"toy": "tests.report.toy_claim"})
        yield


@pytest.fixture(scope="module")
def report(registry, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    code = main(["report", "--preset", "quick", "--seeds", SEEDS, "--out", str(out)])
    return code, out


def page(out) -> str:
    return (out / "report" / "index.html").read_text(encoding="utf-8")


def count_members(out) -> int:
    with closing(sqlite3.connect(out / "whydl.db")) as conn:
        return conn.execute("SELECT COUNT(*) FROM members").fetchone()[0]


def test_report_has_every_section(report):
    code, out = report
    assert code == 0
    html = page(out)
    for anchor in ("summary", "demo", "claim-toy", "environment"):
        assert f'id="{anchor}"' in html and f'href="#{anchor}"' in html  # and in the contents
    summary = html[html.index('id="summary"') : html.index('id="demo"')]
    assert "A toy claim" in summary and "width 16 minus width 2" in summary
    assert re.search(r"\d+\.\d s", summary)  # run time
    assert "test accuracy" in html[html.index('id="demo"') :]  # the article's experiment
    demo = html[html.index('id="demo"') : html.index('id="claim-toy"')]
    assert 'href="http://127.0.0.1:8000/#dataset=moons&amp;noise=0.1' in demo  # the playground
    assert "Open this setup in the playground" in demo
    card = html[html.index('id="claim-toy"') : html.index('id="environment"')]
    for part in (
        "Hypothesis.",
        TOY.hypothesis,
        "Method: data, models, seeds",
        "<svg",
        "The wide network&#x27;s band sits above",  # the figure's caption
        "95% confidence intervals",
        "Mean ± 95% CI",
        "Decision rule and verdict",
        "not supported when it lies below 0.01",  # the rule with its threshold
        "minimum effect of interest</b>: 0.01: a point of accuracy",
        "<b>calibration</b>: false-positive rate",  # the rule's measured rates
        "evaluation seeds</b>: 2 (0, 1)",
        "each seed draws its own data sample",
        "Nobody et al. 2024",
        "Three epochs is far too few",
        f"whydl claim toy --preset quick --seeds {SEEDS}",
    ):
        assert part in card, part
    assert re.search(r'class="badge [a-z-]+">[^<]*(supported|inconclusive)', card)
    env = html[html.index('id="environment"') :]
    for key in (
        "whydl",
        "torch",
        "numpy",
        "python",
        "cpu",
        "device",
        "torch_threads",
        "total time",
    ):
        assert f"<th>{key}</th>" in env, key
    verdict = json.loads((out / "claims" / "toy" / "verdict.json").read_text())
    assert verdict["claim"] == "toy" and (out / "claims" / "toy" / "accuracy.svg").is_file()


def test_report_makes_no_external_reference(report):
    html = page(report[1])
    # the one link out is the demo's, to the playground on this machine (the toy claim is no
    # claim the report knows the setups of): a link, not a loaded resource
    assert len(playground_links(html)) == 1
    assert external_references(html) == []


def test_rerun_trains_nothing(report):
    _, out = report
    before = count_members(out)
    assert main(["report", "--preset", "quick", "--seeds", SEEDS, "--out", str(out)]) == 0
    with Store(out / "whydl.db") as store:
        record = store.get_result("toy", "quick", int(SEEDS))
    assert record["trained_members"] == 0 and record["cached_members"] == 2 * int(SEEDS)
    assert count_members(out) == before


def test_no_train_renders_from_the_store(report, capsys):
    _, out = report
    (out / "report" / "index.html").unlink()
    assert (
        main(["report", "--no-train", "--preset", "quick", "--seeds", SEEDS, "--out", str(out)])
        == 0
    )
    html = page(out)
    assert 'id="claim-toy"' in html and "Nobody et al. 2024" in html and "<svg" in html
    assert main(["report", "--no-train", "--preset", "full", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "toy (full, 3 seeds)" in err and "demo (10 seeds)" in err and "--preset full" in err


def test_no_train_with_an_empty_store_exits_2(registry, tmp_path, capsys):
    assert main(["report", "--no-train", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--no-train" in err and "no results store" in err
    assert not (tmp_path / "whydl.db").exists() and not (tmp_path / "report").exists()


class BrokenClaim(Claim):
    name, title, hypothesis = "broken", "A broken claim", "Code has bugs."
    presets = {"quick": {"n_seeds": 2}}

    def experiment(self, ctx, params):
        raise RuntimeError("a bug in the claim")


def test_a_failing_claim_gets_an_error_card_and_the_rest_still_renders(report, tmp_path):
    _, out = report
    path, failed = build_report(
        "quick", int(SEEDS), tmp_path, store=out / "whydl.db", claims=[TOY, BrokenClaim()]
    )
    html = path.read_text()
    assert failed == ["broken"]
    assert "RuntimeError: a bug in the claim" in html and 'id="claim-toy"' in html


def test_jupyter_shows_the_same_card(report):
    result = TOY.run("quick", int(SEEDS))
    html = result._repr_html_()
    assert html.startswith('<div class="whydl"><style>')
    for part in ("Hypothesis.", "Decision rule and verdict", "Nobody et al. 2024", "<svg"):
        assert part in html


@pytest.mark.skipif(
    not browser.available(), reason="chromium is not installed (.ci/run installs it)"
)
def test_report_renders_in_a_real_browser(report, tmp_path):
    _, out = report
    shot = tmp_path / "report.png"
    seen = browser.check_page(out / "report" / "index.html", screenshot=shot)
    assert len(seen["figures"]) >= 3 and all(seen["figures"]), seen["figures"]
    assert seen["errors"] == [] and seen["console"] == []
    assert seen["resources"] == []  # nothing fetched: the page is one file
    assert shot.stat().st_size > 20_000


@pytest.mark.slow
def test_quick_report_covers_every_available_claim(tmp_path, request):
    """The real claims' quick presets through the report (about a minute: run with -m slow)."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: runs every claim's quick preset; select it with -m slow")
    path, failed = build_report("quick", out=tmp_path)
    assert failed == []
    html = path.read_text()
    for name in evidence.available_claims():
        assert f'id="claim-{name}"' in html
    if browser.available():
        seen = browser.check_page(path)
        assert all(seen["figures"]) and seen["errors"] == [] and seen["resources"] == []


def test_claim_command_uses_the_store(registry, tmp_path, capsys):
    args = ["claim", "toy", "--seeds", SEEDS, "--out", str(tmp_path / "toy")]
    assert main(args) == 0
    assert "4 member(s) trained, 0 reused" in capsys.readouterr().out
    assert (tmp_path / "toy" / "whydl.db").is_file()  # with --out DIR: DIR/whydl.db
    assert main(args) == 0
    assert "0 member(s) trained, 4 reused" in capsys.readouterr().out


@pytest.mark.skipif(
    not browser.available(), reason="chromium is not installed (.ci/run installs it)"
)
def test_the_browser_check_catches_a_broken_figure(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><script>console.error("boom")</script></head><body>'
        '<figure><img src="missing.png"></figure><figure><svg width="100" height="100">'
        '<path d="M0 0 L90 90" stroke="black"/></svg></figure>'
        '<img src="https://example.invalid/x.png" alt="an external request"></body></html>'
    )
    seen = browser.check_page(bad)
    assert seen["figures"] == [False, True]
    assert any("boom" in e for e in seen["errors"]) and any(
        "missing.png" in e for e in seen["errors"]
    )
    # file:// loads are not timed; http(s) requests are, even when they fail
    assert seen["resources"] == ["https://example.invalid/x.png"]


def test_a_quick_report_says_at_its_top_that_it_is_a_smoke_run():
    from whydl.report.page import render_page

    quick = render_page([], None, {"preset": "quick"})
    full = render_page([], None, {"preset": "full"})
    top = quick[: quick.index("</header>")]
    assert "Smoke run." in top and "mostly <i>inconclusive</i>" in top
    assert "Smoke run." not in full
