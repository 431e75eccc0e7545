"""A report card's compare link, followed in a real headless browser: the playground opens
A's network with B beside it (skipped, as tests/web/test_browser.py, without Playwright or
chromium). The cards are built from the recorded quick fixture; nothing trains."""

import pytest

from tests.report.test_playground import compare_links, record, setup_of
from tests.web.test_browser import browser, open_page, until  # noqa: F401
from whydl.links import SERVE_URL
from whydl.report.card import card_html


@pytest.mark.parametrize(
    "name, changed, width",
    [
        ("data", "hidden = 8,8 (A: 32,32)", "32 neurons"),
        ("flexibility", "hidden = none (A: 64,64)", "64 neurons"),  # B: linear, no hidden layer
    ],
)
def test_a_cards_compare_link_opens_a_with_b_beside_it(
    browser,  # noqa: F811 (the fixture, imported above)
    server,
    name,
    changed,
    width,
):
    links = compare_links(card_html(record(name)))
    href = min(links, key=lambda h: setup_of(h)["n_samples"])  # the fewest points: quick to draw
    page = open_page(browser, server + href.removeprefix(SERVE_URL))
    until(page, lambda: page.is_visible("#compare-panel"), "B's column from the link")
    diff = page.text_content("#compare-diff")
    assert "hidden = " in diff and changed in diff, diff
    assert all(key not in diff for key in ("lr", "batch_size", "seed")), diff  # only the network
    assert page.text_content("#layers-label") == "2 hidden layers"  # the controls show A's
    assert page.text_content("#layer-controls").count(width) == 2
    assert "b.hidden=" in page.url and "compare=true" in page.url  # the page keeps both
    assert page.errors == []
    page.close()
