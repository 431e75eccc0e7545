"""whydl.links: a config as the playground's URL hash, and two configs as one A/B compare
hash, read back here as the page reads it (`readHash` in web/static/app.js): A's settings,
then B's as A's but for each `b.<key>`."""

import doctest
from urllib.parse import parse_qsl

import pytest

import whydl.links
from whydl.config import ModelConfig, RunConfig, article_config
from whydl.links import (
    MAX_LAYERS,
    MAX_NEURONS,
    MAX_POINTS,
    SHARED,
    compare_hash,
    playground_hash,
)
from whydl.web import validate


def page_setups(hash_: str) -> tuple[dict, dict | None]:
    """A hash's setups as the page reads them: A's, and B's when compare is on."""
    pairs = parse_qsl(hash_.removeprefix("#"), keep_blank_values=True)
    own = {k: v for k, v in pairs if not k.startswith("b.") and k != "compare"}
    if dict(pairs).get("compare") != "true":
        return own, None
    return own, own | {k.removeprefix("b."): v for k, v in pairs if k.startswith("b.")}


def test_the_modules_examples_hold():
    assert doctest.testmod(whydl.links).failed == 0


def test_a_compare_hash_opens_a_with_b_as_the_compared_setup():
    a = article_config()
    b = a.replace(
        model={"hidden": (4, 4, 4), "batch_norm": True}, train={"lr": 0.03, "optimizer": "sgd"}
    )
    hash_ = compare_hash(a, b)
    assert hash_.startswith(playground_hash(a) + "&compare=true&")  # A's own link, then B's
    own, compared = page_setups(hash_)
    assert own == page_setups(playground_hash(a))[0]
    assert compared == page_setups(playground_hash(b))[0]
    changed = {k for k, _ in parse_qsl(hash_) if k.startswith("b.")}
    assert changed == {"b.hidden", "b.batch_norm", "b.lr", "b.optimizer"}  # nothing else
    assert (compared["hidden"], compared["batch_norm"]) == ("4,4,4", "true")


def test_b_with_no_hidden_layer_says_so():
    a = article_config()
    own, compared = page_setups(compare_hash(a, a.replace(model={"hidden": ()})))
    assert own["hidden"] == "10,10" and compared["hidden"] == ""


@pytest.mark.parametrize(
    "a_features, b_features, shown",
    [(("x1", "x2", "x1sq"), None, "x1,x2"), (None, ("x1", "x2", "sin_x1"), "x1,x2,sin_x1")],
)
def test_features_left_to_their_default_are_the_pages_default(a_features, b_features, shown):
    """A hash leaves out features a run does not set; the page then takes x1, x2. Where only
    one setup sets them, B's hash must still say what B's are."""
    base = article_config()
    a = base.replace(data={"features": a_features})
    b = base.replace(data={"features": b_features})
    hash_ = compare_hash(a, b)
    assert f"&b.features={shown}" in hash_


def test_the_same_setup_twice_compares_a_copy():
    a = article_config()
    assert compare_hash(a, a) == playground_hash(a) + "&compare=true"


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"dataset": "xor"}},
        {"data": {"noise": 0.3}},
        {"data": {"n_samples": 500}},
        {"data": {"test_size": 0.5}},
        {"data": {"data_seed": 7}},
        {"train": {"seed": 1}},
        {"train": {"n_seeds": 3}},
    ],
)
def test_setups_on_other_data_or_seeds_are_not_compared(change):
    """The page trains both setups on A's data and seeds: a link to B on other ones would
    open something else than B."""
    a = article_config()
    assert compare_hash(a, a.replace(**change)) is None


def test_a_setup_the_page_cannot_show_is_not_compared():
    a = article_config()
    wide = a.replace(model={"hidden": (MAX_NEURONS + 1,)})
    cnn = RunConfig(a.data, ModelConfig(architecture="cnn"), a.train)
    for b in (wide, cnn):
        assert compare_hash(a, b) is None and compare_hash(b, a) is None


def test_two_setups_over_a_tabs_work_are_not_compared():
    biggest = {"hidden": (MAX_NEURONS,) * MAX_LAYERS}
    a = article_config().replace(data={"n_samples": MAX_POINTS}, train={"n_seeds": 1})
    assert compare_hash(a, a.replace(model={"hidden": (4,)})) is not None
    assert compare_hash(a.replace(model=biggest), a.replace(model={"hidden": (4,)})) is None


def test_the_shared_settings_and_work_are_the_servers():
    """web.validate enforces what compare_hash assumes."""
    assert validate.SHARED == SHARED
    assert validate.MAX_WORK == whydl.links.MAX_WORK
