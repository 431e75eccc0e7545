"""End to end in a real headless browser: Debian's chromium, driven by Playwright.

Skipped, with the reason, when Playwright or chromium is missing (`apt-get install -y
chromium`; `pip install playwright`, never `playwright install`: the system chromium is
used through `executable_path`). Set WHYDL_PLAYGROUND_SCREENSHOT=PATH to also save a
screenshot of the running playground (docs/images/playground.png is made that way).
"""

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("WHYDL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
WAIT = 90  # seconds: generous, the test machine is shared


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("fastapi", reason="the playground needs the web extra")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: pip install playwright"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, url):
    page = browser.new_page(viewport=VIEWPORT)
    page.errors = []  # script errors fail the test
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-state=ready]", timeout=WAIT * 1000)
    until(page, lambda: epoch(page) == 0 and page.text_content("#speed") == "0", "first frame")
    return page


def until(page, condition, what: str):
    """Poll `condition` (Python, reading the page) until it holds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}; page errors: {page.errors}")


def settled(page, ms: int = 400) -> bool:
    """The epoch counter did not move during `ms` milliseconds."""
    before = epoch(page)
    page.wait_for_timeout(ms)
    return epoch(page) == before


def epoch(page) -> int:
    return int(page.text_content("#epoch").replace(",", ""))


def number(page, selector) -> float | None:
    text = page.text_content(selector).strip().rstrip("%")
    return None if text in ("", "\u2013") else float(text)


def boundary(page) -> str:
    return page.evaluate("() => document.getElementById('boundary').toDataURL()")


def toggle_redraws_the_boundary(page, name: str) -> None:
    """Checking the view toggle `name` changes the boundary picture and puts itself in the
    URL; unchecking it brings the same picture back."""
    before = boundary(page)
    page.check(f"#{name}")
    until(page, lambda: boundary(page) != before, f"the picture with {name}")
    assert f"{name}=true" in page.url
    page.uncheck(f"#{name}")
    until(page, lambda: boundary(page) == before, f"the picture without {name}")


def playing(page) -> bool:
    return page.get_attribute("#play", "aria-label") == "Pause"


def blobs_csv(rows: int = 200) -> bytes:
    """Two separable blobs with text labels."""
    lines = ["width,height,species"]
    for i in range(rows):
        right = i % 2
        lines.append(
            f"{right * 3 + (i % 7) * 0.1:.2f},{right * 2 - (i % 5) * 0.1:.2f},{'ab'[right]}"
        )
    return ("\n".join(lines) + "\n").encode()


def test_train_change_share_and_upload_in_a_real_browser(browser, server):
    # 1. load the page
    page = open_page(browser, server)
    assert "moons" in page.text_content("#data-info")
    before = boundary(page)

    # 2-3. one step, then play: the epoch counter rises, the test loss falls, the boundary
    # changes. The first loss comes from a single step, not from whichever frame the page
    # drew first: on a busy machine the server trains faster than the page shows, and a
    # late first reading would already be the converged loss.
    page.click("#step")
    until(page, lambda: epoch(page) == 1 and number(page, "#test-loss") is not None, "epoch 1")
    early = number(page, "#test-loss")
    page.click("#play")
    until(page, lambda: epoch(page) >= 15, "epoch 15")
    assert number(page, "#test-loss") < early
    assert number(page, "#test-accuracy") > 80
    assert boundary(page) != before
    page.click("#play")  # pause
    until(page, lambda: not playing(page), "pause")
    # frames that left the server before the pause may still arrive (seen on a loaded CI
    # machine: 62, then 66); once the counter settles it must stay: paused means paused
    until(page, lambda: settled(page), "the epoch counter to settle after the pause")
    paused = epoch(page)
    page.wait_for_timeout(1000)
    assert epoch(page) == paused  # paused means paused

    # 4. change the activation (a new setup starts at epoch 0), train a step, reset
    page.select_option("#activation", "tanh")
    until(page, lambda: "activation=tanh" in page.url and epoch(page) == 0, "tanh setup")
    page.click("#add-layer")
    until(page, lambda: "hidden=10%2C10%2C4" in page.url, "a third layer")
    page.click("#step")
    until(page, lambda: epoch(page) == 1, "one step")
    page.click("#reset")
    until(page, lambda: epoch(page) == 0, "reset")
    assert page.text_content("#layers-label") == "3 hidden layers"

    # 5. the shared URL opens the same setup: same controls, same data, same network
    shared = open_page(browser, page.url)
    assert shared.input_value("#activation") == "tanh"
    assert shared.text_content("#layers-label") == "3 hidden layers"
    assert shared.input_value("#lr") == page.input_value("#lr")
    assert shared.text_content("#data-info") == page.text_content("#data-info")
    until(page, lambda: boundary(page) == boundary(shared), "the same initial boundary")

    # 6. upload a small CSV and train on it
    csv = {"name": "blobs.csv", "mimeType": "text/csv", "buffer": blobs_csv()}
    shared.set_input_files("#csv-file", files=[csv])
    until(shared, lambda: "blobs: binary" in shared.text_content("#data-info"), "the CSV data")
    assert "dataset=csv" in shared.url
    shared.click("#play")
    until(shared, lambda: epoch(shared) >= 5, "training on the CSV")
    until(shared, lambda: (number(shared, "#test-accuracy") or 0) > 90, "learning the CSV")
    shared.click("#play")
    bad = {"name": "bad.csv", "mimeType": "text/csv", "buffer": b"a,b,c,label\n1,2,3,x\n"}
    shared.set_input_files("#csv-file", files=[bad])
    until(shared, lambda: shared.is_visible("#message"), "the error message")
    assert "bad.csv has 4 columns" in shared.text_content("#message-text")
    assert "blobs: binary" in shared.text_content("#data-info")  # the last good data stays

    assert page.errors == [] and shared.errors == []
    page.close()
    shared.close()


def test_an_old_link_opens_with_the_configs_names(browser, server):
    """Links made before the settings took the configs' names still open the same setup."""
    page = open_page(browser, server + "#dataset=circles&n_points=300&train_ratio=0.8")
    until(page, lambda: "n_samples=300" in page.url, "the new names in the URL")
    assert "test_size=0.2" in page.url and "n_points" not in page.url
    assert "240 training / 60 test points" in page.text_content("#data-info")
    assert page.text_content("#test_size-value") == "20%"
    assert page.errors == []
    page.close()


def test_screenshot_of_the_running_playground(browser, server):
    """Only with WHYDL_PLAYGROUND_SCREENSHOT=PATH: the README's pictures (PATH, and beside
    it the many-seeds, compare and regression views, as PATH's stem + "-seeds" and so on)."""
    path = os.environ.get("WHYDL_PLAYGROUND_SCREENSHOT")
    if not path:
        pytest.skip("set WHYDL_PLAYGROUND_SCREENSHOT=PATH to save a screenshot")
    page = open_page(browser, server + "#dataset=circles&hidden=8,8,4&n_samples=600")
    page.click("#play")
    until(page, lambda: epoch(page) >= 60, "epoch 60")
    page.screenshot(path=path, full_page=True)
    page.close()
    # and many seeds at once: their disagreement, their CI and every member's boundary
    seeds = open_page(
        browser, server + "#dataset=spiral&hidden=8,8&n_seeds=16&show_disagreement=true"
    )
    seeds.click("#play")
    until(seeds, lambda: epoch(seeds) >= 150, "epoch 150")
    seeds.click("#play")
    stem = Path(path)
    seeds.screenshot(path=str(stem.with_name(stem.stem + "-seeds" + stem.suffix)), full_page=True)
    seeds.close()
    # A/B: sigmoid against ReLU at depth 6, the same data and seeds, side by side
    ab = open_page(
        browser,
        server + "#dataset=spiral&hidden=8,8,8,8,8,8&activation=sigmoid&n_seeds=8"
        "&compare=true&b.activation=relu",
    )
    until(ab, lambda: ab.is_visible("#compare-panel"), "the compare view")
    ab.click("#play")
    until(ab, lambda: epoch(ab) >= 200, "epoch 200")
    ab.click("#play")
    ab.screenshot(path=str(stem.with_name(stem.stem + "-compare" + stem.suffix)), full_page=True)
    ab.close()
    # regression with hand-made features, and a hidden layer's warp of the plane
    reg = open_page(
        browser,
        server + "#dataset=multi_gaussian&hidden=8,8&n_seeds=4&features=x1,x2,sin_x1,sin_x2&warp=2",
    )
    reg.click("#play")
    until(reg, lambda: epoch(reg) >= 300, "epoch 300")
    reg.click("#play")
    reg.screenshot(
        path=str(stem.with_name(stem.stem + "-regression" + stem.suffix)), full_page=True
    )
    reg.close()


def ci_width(page) -> float | None:
    """The width, in percentage points, of the test-accuracy CI the page shows."""
    text = page.text_content("#test-accuracy-ci")
    if " to " not in text:
        return None
    low, high = text.split("(")[1].split(")")[0].split(" to ")
    return float(high.rstrip("%")) - float(low.rstrip("%"))


def test_many_seeds_show_a_narrowing_ci_their_disagreement_and_each_member(browser, server):
    """Eight seeds train as one stack: the CI over seeds narrows as they learn, the
    disagreement view is its own picture, and a member picked in the strip is the one
    whose neurons are drawn."""
    page = open_page(browser, server + "#dataset=moons&n_seeds=8&lr=0.003")
    assert page.input_value("#n_seeds") == "8"
    page.click("#step")
    until(page, lambda: epoch(page) == 1 and ci_width(page) is not None, "a CI after epoch 1")
    early = ci_width(page)
    assert "8 seeds" in page.text_content("#test-accuracy-ci")
    assert page.locator("#members canvas").count() == 8
    page.click("#play")
    until(page, lambda: epoch(page) >= 60, "epoch 60")
    page.click("#play")
    until(page, lambda: not playing(page) and settled(page), "pause")
    assert ci_width(page) < early  # the seeds converge: their spread narrows

    toggle_redraws_the_boundary(page, "show_disagreement")

    network = page.evaluate("() => document.getElementById('network').toDataURL()")
    page.click("#members canvas >> nth=3")
    selected = lambda: page.get_attribute("#members canvas.selected", "title") or ""  # noqa: E731
    until(page, lambda: selected().startswith("seed 3 "), "member 3 selected")
    assert page.locator("#members canvas.selected").count() == 1
    until(
        page,
        lambda: page.evaluate("() => document.getElementById('network').toDataURL()") != network,
        "member 3's neurons",
    )
    assert page.errors == []
    page.close()


def test_discretize_and_the_charts_hover_read_outs(browser, server):
    page = open_page(browser, server + "#dataset=circles&n_samples=300")
    for _ in range(3):
        page.click("#step")
    until(page, lambda: epoch(page) == 3, "epoch 3")
    toggle_redraws_the_boundary(page, "discretize")

    box = page.locator("#loss-chart").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.6)
    until(page, lambda: page.is_visible("#chart-tooltip"), "the loss chart's read-out")
    text = page.text_content("#chart-tooltip")
    assert text.startswith("epoch 3: training ") and ", test " in text, text
    page.mouse.move(box["x"] - 30, box["y"] - 30)  # leaving the chart hides it
    until(page, lambda: not page.is_visible("#chart-tooltip"), "the read-out to hide")

    # the layer warp: layer 2's view of the plane, drawn on its own canvas, kept in the URL
    assert page.is_hidden("#warp")
    page.select_option("#warp-layer", "2")
    until(page, lambda: page.is_visible("#warp"), "the warp view")
    assert "warp=2" in page.url and "Layer 2 seen in 2-D" in page.text_content("#warp-title")
    page.select_option("#warp-layer", "0")
    until(page, lambda: page.is_hidden("#warp"), "the warp view to go")
    assert page.errors == []
    page.close()


def test_clicking_a_link_edits_its_weight_and_the_boundary_follows(browser, server):
    page = open_page(browser, server + "#dataset=moons&hidden=4")
    page.click("#step")
    until(page, lambda: epoch(page) == 1, "epoch 1")
    before = boundary(page)
    page.once("dialog", lambda dialog: dialog.accept("9"))
    x, y = page.evaluate("() => document.getElementById('network').linkMidpoint(1, 0, 2)")
    box = page.locator("#network").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    until(page, lambda: boundary(page) != before, "the boundary with the edited weight")
    assert epoch(page) == 1  # an edit, not a training step
    assert page.errors == []
    page.close()


def test_a_clicked_point_appears_in_the_training_data(browser, server):
    page = open_page(browser, server + "#dataset=moons&n_samples=200")
    assert "140 training / 60 test points" in page.text_content("#data-info")
    box = page.locator("#boundary").bounding_box()
    page.keyboard.down("Shift")
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.keyboard.up("Shift")
    until(page, lambda: "141 training" in page.text_content("#data-info"), "the added point")
    assert "1 point added by clicking" in page.text_content("#data-info")
    assert page.errors == []
    page.close()


def test_the_reports_playground_link_opens_the_cards_setup(browser, server):
    """The report's demo card links to the playground; the link's hash, opened on a running
    server, is the card's setup: the article's data, network, optimiser and seeds."""
    import re

    from whydl.config import article_config
    from whydl.report.demo import playground_link

    config = article_config().replace(train={"n_seeds": 10}).to_dict()
    href = re.search(r'href="([^"]+)"', playground_link(config)).group(1).replace("&amp;", "&")
    assert href.startswith("http://127.0.0.1:8000/#")
    page = open_page(browser, server + href[href.index("#") :])
    assert page.input_value("#n_seeds") == "10" and page.input_value("#lr") == "0.01"
    assert page.input_value("#optimizer") == "adam"
    assert page.text_content("#layers-label") == "2 hidden layers"
    assert "moons" in page.text_content("#data-info") and "700 training" in page.text_content(
        "#data-info"
    )
    assert page.errors == []
    page.close()


def test_an_input_feature_toggle_changes_the_first_layer_and_the_command(browser, server):
    """Ticking sin X1 gives the network a third input, drawn as a third input map, and the
    exported command trains on the same features."""
    page = open_page(browser, server + "#dataset=circles&n_samples=300")
    assert page.is_checked("[data-feature=x1]") and not page.is_checked("[data-feature=sin_x1]")
    before = page.evaluate("() => document.getElementById('network').toDataURL()")
    page.check("[data-feature=sin_x1]")
    until(page, lambda: "features=x1%2Cx2%2Csin_x1" in page.url, "sin X1 in the URL")
    assert page.text_content("#layer-controls .col >> nth=0") == "3 inputs"
    until(
        page,
        lambda: page.evaluate("() => document.getElementById('network').toDataURL()") != before,
        "the network with three inputs",
    )
    page.click("#export-command")
    until(page, lambda: "--features" in page.text_content("#export-text"), "the command")
    assert "--features x1,x2,sin_x1" in page.text_content("#export-text")
    page.uncheck("[data-feature=x1]")
    page.uncheck("[data-feature=x2]")
    # none left: refused, and the page shows the last setup again, so the box may be ticked
    # again before a state check could see it unticked: click, do not uncheck
    page.click("[data-feature=sin_x1]")
    until(page, lambda: page.is_visible("#message"), "the refusal")
    assert "at least one feature" in page.text_content("#message-text")
    until(page, lambda: page.is_checked("[data-feature=sin_x1]"), "the setup shown again")
    assert page.errors == []
    page.close()


def test_a_regression_dataset_trains_and_shows_a_regression_loss(browser, server):
    page = open_page(browser, server + "#dataset=multi_gaussian&n_samples=400&hidden=8,8")
    assert "multi_gaussian: regression of y" in page.text_content("#data-info")
    assert page.text_content("#test-accuracy").strip() == "\u2013"
    assert "R²" in page.text_content(".numbers")
    page.click("#play")
    until(page, lambda: epoch(page) >= 40, "epoch 40")
    page.click("#play")
    until(page, lambda: not playing(page) and settled(page), "pause")
    r2 = number(page, "#test-accuracy")
    assert r2 is not None and -1 < r2 <= 1  # R², not a percentage
    box = page.locator("#loss-chart").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.6)
    until(page, lambda: page.is_visible("#chart-tooltip"), "the loss chart's read-out")
    assert page.get_attribute("#loss-chart", "aria-label") == "Loss (mean squared error)"
    assert page.get_attribute("#accuracy-chart", "aria-label") == "R² (1 = perfect)"
    assert page.errors == []
    page.close()


def test_compare_trains_both_columns_and_the_shared_url_restores_both(browser, server):
    """Compare copies the setup into B; with the controls on B, batch norm changes B only;
    both train in step, the paired difference shows, and the link opens both again."""
    page = open_page(browser, server + "#dataset=moons&n_samples=300&n_seeds=4")
    assert page.is_hidden("#compare-panel")
    page.click("#compare-toggle")
    until(page, lambda: page.is_visible("#compare-panel"), "B's column")
    assert "B is a copy of A" in page.text_content("#compare-diff")
    page.check("#edit-b")
    page.check("#batch_norm")
    until(page, lambda: "b.batch_norm=true" in page.url, "B's batch norm in the URL")
    assert "batch_norm = true (A: false)" in page.text_content("#compare-diff")
    page.check("#edit-a")
    assert not page.is_checked("#batch_norm")  # A's own setting, unchanged
    page.click("#play")
    until(page, lambda: epoch(page) >= 20, "epoch 20")
    page.click("#play")
    until(page, lambda: not playing(page) and settled(page), "pause")
    until(page, lambda: "paired over 4 seeds" in page.text_content("#difference-label"), "B - A")
    assert "95% CI" in page.text_content("#difference")
    assert number(page, "#b-test-accuracy") is not None and number(page, "#test-accuracy")
    box = page.locator("#loss-chart").bounding_box()  # both setups' curves, shared axes
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.6)
    until(page, lambda: page.is_visible("#chart-tooltip"), "the loss chart's read-out")
    text = page.text_content("#chart-tooltip")
    assert "A test " in text and "B test " in text and "B training " in text, text

    shared = open_page(browser, page.url)
    until(shared, lambda: shared.is_visible("#compare-panel"), "both columns from the link")
    assert "batch_norm = true (A: false)" in shared.text_content("#compare-diff")
    assert not shared.is_checked("#batch_norm")  # the controls show A
    page.click("#compare-toggle")  # stop comparing: back to A alone
    until(page, lambda: page.is_hidden("#compare-panel") and "compare" not in page.url, "A alone")
    assert page.errors == [] and shared.errors == []
    page.close()
    shared.close()
