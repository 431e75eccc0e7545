"""The claim cards' "open in the playground" links: each 2-D experiment's arms, whose hash
is the claim's own setup, read back from the claim's own training calls (drawn, never
trained), and the compare links that open two paired arms side by side; cards of claims on
other data carry none; the page stays self-contained.

The records are the quick preset's, built from the recorded fixture (tables and verdicts)
and each claim's quick params: no claim trains here.
"""

import json
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

from tests.fixtures.record_claims import FIXTURE
from whydl.data import load_dataset
from whydl.evidence import CLAIM_NAMES, get_claim
from whydl.evidence.protocol import seed_plan
from whydl.links import MAX_PLAYGROUND_SEEDS, SHARED
from whydl.report.card import card_html
from whydl.report.page import render_page

from .selfcontained import external_references, playground_links

RECORDED = json.loads(FIXTURE.read_text())
FLAT = {"hidden"}  # the hash's comma-joined values
TYPES = {"n_samples": int, "data_seed": int, "batch_size": int, "seed": int, "n_seeds": int}
TYPES |= dict.fromkeys(("noise", "test_size", "lr", "dropout", "weight_decay"), float)


def record(name: str, seeds: int | None = None, preset: str = "quick") -> dict:
    """A claim's card record: the quick preset's recorded table and verdicts, with the
    params of `preset` (the links read only the params)."""
    claim = get_claim(name)
    params = claim.params(preset, seeds)
    verdicts = RECORDED[name]["verdicts"]
    part = lambda claim_, verdict: {  # noqa: E731
        "claim": claim_,
        "verdict": verdict,
        "hypothesis": "",
        "rule": "",
        "numbers": {},
        "seeds": params["n_seeds"],
        "parts": [],
    }
    parts = [part(k, v) for k, v in verdicts.items() if k != name]
    return {
        "name": name,
        "title": claim.title,
        "hypothesis": claim.hypothesis,
        "preset": preset,
        "params": params,
        "table": RECORDED[name]["table"],
        "verdict": part(name, verdicts[name]) | {"parts": parts},
        "figures": [],
        "notes": [],
        "literature": list(claim.literature),
        "headline": "",
        "seconds": 1.0,
        "command": f"whydl claim {name} --preset {preset}",
    }


def setup_of(href: str) -> dict:
    """A link's hash as typed values: the setup a running `whydl serve` opens (A's, for a
    compare link)."""
    return typed(parse_qsl(urlsplit(href).fragment, keep_blank_values=True))


def compared_setups(href: str) -> tuple[dict, dict]:
    """A compare link's two setups, as the page reads them: A's, and B's (A's but for each
    `b.<key>`)."""
    pairs = parse_qsl(urlsplit(href).fragment, keep_blank_values=True)
    assert ("compare", "true") in pairs, href
    own = [(k, v) for k, v in pairs if not k.startswith("b.") and k != "compare"]
    theirs = [(k.removeprefix("b."), v) for k, v in pairs if k.startswith("b.")]
    return typed(own), typed(own + theirs)


def compare_links(html: str) -> list[str]:
    return [h for h in playground_links(html) if "&compare=true" in h]


def typed(pairs) -> dict:
    """(key, text) pairs as typed values; a later pair wins."""
    out = {}
    for key, text in pairs:
        if key in FLAT:
            out[key] = tuple(int(w) for w in text.split(",") if w)
        elif key == "batch_norm":
            out[key] = text == "true"
        else:
            out[key] = TYPES.get(key, str)(text)
    return out


# -- the claims' own training calls on their evaluation seeds (data drawn, nothing trained) --
def hierarchy_calls(params, seeds):
    from whydl.evidence.hierarchy import CLAIM
    from whydl.evidence.hierarchy.depth_width import DepthWidth
    from whydl.evidence.hierarchy.probes import Probes

    experiments = [e for e in CLAIM.experiments(params) if isinstance(e, Probes | DepthWidth)]
    return [c for e in experiments for c in e.calls(params, seeds, {}).values()]


def data_calls(params, seeds):
    from whydl.evidence.data_scaling.learning_curve import LearningCurve
    from whydl.evidence.data_scaling.model_size import ModelSize

    calls = [*LearningCurve("spiral", params).calls(params, seeds, {}).values()]
    return calls + list(ModelSize().calls(params, seeds, {}).values())


def flexibility_calls(params, seeds):
    from whydl.evidence.flexibility.recipe import RecipeExperiment

    return list(RecipeExperiment().calls(params, seeds, {}).values())


def transfer_calls(params, seeds):
    from whydl.evidence.transfer import CLAIM
    from whydl.evidence.transfer.domains import domain_data
    from whydl.evidence.transfer.experiments import DomainExperiment
    from whydl.evidence.transfer.sweep import pretrain_call

    domains = [e.spec for e in CLAIM.experiments(params) if isinstance(e, DomainExperiment)]
    return [pretrain_call(domain_data(s, seeds), seeds, params["pretrain_epochs"]) for s in domains]


CALLS = {
    "hierarchy": hierarchy_calls,
    "data": data_calls,
    "flexibility": flexibility_calls,
    "transfer": transfer_calls,
}


def first_member_rows(call) -> np.ndarray:
    """The inputs the call's first member (the first evaluation seed) trains on."""
    return call.dataset.X_train[call.hooks["train_rows"][0]]


def opens(setup: dict, call, name: str, params: dict) -> bool:
    """Whether a link's setup is the call's: data, network, optimiser and seeds."""
    model, train = call.model, call.train
    same = (
        call.dataset.name == setup["dataset"]
        and model.architecture == "mlp"
        and tuple(model.hidden) == setup["hidden"]
        and (model.activation, model.dropout, model.batch_norm)
        == (setup["activation"], setup["dropout"], setup["batch_norm"])
        and (train.optimizer, train.lr, train.batch_size, train.weight_decay, train.seed)
        == (setup["optimizer"], setup["lr"], setup["batch_size"], setup["weight_decay"], 0)
        and setup["n_seeds"] == min(train.n_seeds, MAX_PLAYGROUND_SEEDS)
        and setup["seed"] == 0
    )
    if not same:
        return False
    drawn = load_dataset(
        setup["dataset"],
        n_samples=setup["n_samples"],
        noise=setup["noise"],
        data_seed=setup["data_seed"],
        test_size=setup["test_size"],
    )
    rows = first_member_rows(call)
    if name != "data":  # the same points as the claim's first seed
        return np.array_equal(drawn.X_train, rows)
    # a learning curve trains on the first n rows of a larger draw: the link draws n training
    # points from the same generator (checked: at the claim's sizes it is the claim's draw)
    total = params["pool"] + params["n_test"]
    claim_draw = load_dataset(
        setup["dataset"],
        n_samples=total,
        noise=setup["noise"],
        data_seed=setup["data_seed"],
        test_size=params["n_test"] / total,
    )
    return len(drawn.X_train) == len(rows) and np.array_equal(claim_draw.X_train[: len(rows)], rows)


@pytest.mark.parametrize("preset", ["quick", "full"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_2d_cards_links_open_the_claims_own_setups(name, preset):
    rec = record(name, preset=preset)
    links = playground_links(card_html(rec))
    assert links, f"the {name} card has no playground link"
    calls = CALLS[name](rec["params"], seed_plan(rec["params"]["n_seeds"]).evaluation)
    for href in links:
        setup = setup_of(href)
        assert any(opens(setup, c, name, rec["params"]) for c in calls), setup


@pytest.mark.parametrize(
    "name, labels",
    [
        ("hierarchy", ["spiral, 4x16", "moons, 4x16", "checkerboard, 4x16"]),
        ("data", ["spiral, 32-32, 128 training points", "spiral, 8-8, 16 training points"]),
        ("flexibility", ["moons, deep (64-64)", "xor, linear (no hidden layer)"]),
        ("transfer", ["moons, 16-16 (the source task)"]),
    ],
)
def test_each_arm_has_its_own_labelled_link(name, labels):
    html = card_html(record(name))
    for label in labels:
        assert f"Open &#x27;{label}&#x27; in the playground</a>" in html, label
    assert html.index("Open in the playground") > html.index("Reproduce this card")


COMPARED = {  # the claims' compare links at quick: (A, B) of each
    "data": [
        ("spiral, 32-32, 128 training points", "spiral, 8-8, 128 training points"),
        ("spiral, 32-32, 16 training points", "spiral, 8-8, 16 training points"),
    ],
    "flexibility": [
        (f"{task}, deep (64-64)", f"{task}, linear (no hidden layer)")
        for task in ("moons", "circles", "xor")
    ],
}


@pytest.mark.parametrize("preset", ["quick", "full"])
@pytest.mark.parametrize("name", sorted(COMPARED))
def test_a_compare_link_opens_two_of_the_claims_own_calls_side_by_side(name, preset):
    """A and B are each one of the claim's training calls, on the same data and seeds (what
    the page shares between them), and differ in their network."""
    rec = record(name, preset=preset)
    links = compare_links(card_html(rec))
    assert links, f"the {name} card has no compare link"
    calls = CALLS[name](rec["params"], seed_plan(rec["params"]["n_seeds"]).evaluation)
    for href in links:
        a, b = compared_setups(href)
        assert any(opens(a, c, name, rec["params"]) for c in calls), a
        assert any(opens(b, c, name, rec["params"]) for c in calls), b
        assert all(a[k] == b[k] for k in SHARED) and a["hidden"] != b["hidden"]


@pytest.mark.parametrize("name", sorted(COMPARED))
def test_each_comparison_has_its_own_labelled_link(name):
    html = card_html(record(name))
    assert len(compare_links(html)) == len(COMPARED[name])
    for a, b in COMPARED[name]:
        text = f"Compare &#x27;{a}&#x27; with &#x27;{b}&#x27; side by side in the playground"
        assert text + "</a>" in html, text


def test_the_arms_a_card_compares_are_the_ones_it_links():
    """B's network is one the card also opens on its own (8-8 at the same n, linear on the
    same task)."""
    for name in COMPARED:
        html = card_html(record(name))
        pairs = compare_links(html)
        alone = [setup_of(h) for h in playground_links(html) if h not in pairs]
        for href in pairs:
            a, b = compared_setups(href)
            assert a in alone and b in alone


@pytest.mark.parametrize("name", ["hierarchy", "transfer"])
def test_a_card_with_no_pair_the_page_can_show_has_no_compare_link(name):
    """Hierarchy's depth rule compares 4x16 with 1x220, whose 220 neurons the page cannot
    draw; transfer's arms differ on the target task, which it has no dataset for."""
    html = card_html(record(name))
    assert playground_links(html) and compare_links(html) == []


def test_a_setup_beyond_the_pages_sizes_gets_no_link():
    """The shallow arm's 220 neurons are over the page's 64 a layer: a link would open a
    refusal, so there is none (its deep arm is linked)."""
    html = card_html(record("hierarchy"))
    assert "Open &#x27;spiral, 1x220" not in html and "Open &#x27;spiral, 4x16" in html


def test_links_show_only_what_the_playground_draws():
    data = [setup_of(h) for h in playground_links(card_html(record("data")))]
    assert {s["dataset"] for s in data} == {"spiral"}  # neither teacher (20-D) nor digits
    flexibility = [setup_of(h) for h in playground_links(card_html(record("flexibility")))]
    # sine is a regression the page has no dataset for; spiral's 3 arms a setting it lacks
    assert {s["dataset"] for s in flexibility} == {"moons", "circles", "xor"}


@pytest.mark.parametrize("name", ["innovations", "compute"])
def test_a_card_on_other_data_carries_no_link(name):
    html = card_html(record(name))  # every experiment on digits
    assert playground_links(html) == [] and "Open in the playground" not in html


def test_seeds_are_capped_at_the_playgrounds_most():
    links = playground_links(card_html(record("hierarchy", seeds=100)))
    assert {setup_of(h)["n_seeds"] for h in links} == {MAX_PLAYGROUND_SEEDS}


def test_a_record_from_another_version_renders_without_links():
    old = record("hierarchy") | {"params": {"n_seeds": 3}}  # its preset's keys are gone
    html = card_html(old)
    assert 'id="claim-hierarchy"' in html and playground_links(html) == []


def test_the_page_of_every_claim_links_only_to_the_local_playground():
    records = [record(name) for name in CLAIM_NAMES]
    html = render_page(records, None, {"preset": "quick"})
    links = playground_links(html)
    assert len(links) == sum(len(playground_links(card_html(r))) for r in records) > 4
    assert all(h.startswith("http://127.0.0.1:8000/#dataset=") for h in links)
    assert external_references(html) == []
