"""The cards' "open in the playground" links: a claim's 2-D experiments, arm by arm, as URLs
whose hash (`whydl.links.playground_hash`) a running `whydl serve` opens; and where a rule
compares two arms on the same data and seeds, one link that opens both side by side (A/B
compare, `whydl.links.compare_hash`).

A claim package keeps its setups in its own code and is not edited for the report (an edit
would invalidate its calibrated rates), so the setups are read here from what each package
exposes: its preset's params (in the record), its experiments, helpers and constants.
`playground_hash` decides what the page can show (2-D data it draws, an MLP); a claim with
no such experiment (innovations and compute train on digits) gets no links. The tests check
every setup against the claim's own training calls.

The claims give each seed its own data draw; a link trains the card's seeds (at most the
page's 32) on seed 0's draw, until it is stopped rather than for the claim's epochs.

Example
-------
>>> from whydl.evidence import get_claim
>>> params = get_claim("hierarchy").params("quick")
>>> [s.label for s in claim_setups("hierarchy", params)][:2]
['spiral, 4x16', 'moons, 4x16']
>>> [(c.a.label, c.b.label) for c in claim_comparisons("flexibility", params)][0]
('moons, deep (64-64)', 'moons, linear (no hidden layer)')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from whydl.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from whydl.evidence.protocol import data_seed
from whydl.links import MAX_PLAYGROUND_SEEDS, SERVE_URL, compare_hash, playground_hash

FIRST_SEED = 0  # a link draws seed 0's data and trains seeds 0, 1, ... on it


def _seeds(params: dict) -> range:
    """The evaluation seeds of a claim's params: those a link trains."""
    return range(FIRST_SEED, FIRST_SEED + params["n_seeds"])


@dataclass(frozen=True)
class Setup:
    """One arm of a card's experiment: its name as a teacher says it, the experiment it
    belongs to and its whole setup."""

    label: str  # "spiral, 1x220"
    experiment: str  # "depth_vs_width_spiral"
    config: RunConfig


@dataclass(frozen=True)
class Comparison:
    """Two arms a rule compares, trained on the same data and seeds: the claim's network (A)
    and its alternative (B), as the page's A/B compare shows them."""

    a: Setup
    b: Setup
    experiment: str  # the experiment whose rule compares them: "model_size"


def link_html(config: RunConfig, text: str) -> str:
    """`text` as a link that opens `config` in the playground, or "" when the playground
    cannot show it."""
    return _anchor(playground_hash(config), text)


def compare_link_html(c: Comparison) -> str:
    """A link that opens `c`'s two arms side by side, or "" when the page cannot."""
    text = f"Compare {c.a.label!r} with {c.b.label!r} side by side in the playground"
    return _anchor(compare_hash(c.a.config, c.b.config), text)


def _anchor(hash_: str | None, text: str) -> str:
    if hash_ is None:
        return ""
    return f'<a class="playground" href="{escape(SERVE_URL + hash_)}">{escape(text)}</a>'


def setup(label, experiment, dataset, model, train, **data) -> Setup:
    """A Setup on the first seed's draw of `dataset` (`data`: the other DataConfig
    fields)."""
    config = RunConfig(
        DataConfig(dataset=dataset, data_seed=data_seed(FIRST_SEED), **data), model, train
    )
    return Setup(label, experiment, config)


def training_points(n_train: int, test_size: float) -> int:
    """The fewest points whose split keeps `n_train` for training (the split holds out
    ceil(test_size * n), as `whydl.data.split.train_test_split`)."""
    n = n_train
    while n - math.ceil(test_size * n) < n_train:
        n += 1
    return n


# -- each claim's 2-D setups -------------------------------------------------------------------
# Each function imports its claim's package lazily, for start-up time only: a claim package
# imports torch, and `whydl runs ls` imports this package (through `whydl.report`).


def hierarchy_setups(params: dict) -> list[Setup]:
    """The probed network on spiral and moons, and every depth at one parameter budget on
    spiral and checkerboard (1x220 against 4x16 in both presets)."""
    from whydl.evidence.hierarchy import CLAIM
    from whydl.evidence.hierarchy.common import train_config
    from whydl.evidence.hierarchy.depth_width import DepthWidth
    from whydl.evidence.hierarchy.probes import Probes

    out = []
    for e in CLAIM.experiments(params):
        if isinstance(e, Probes):
            train = train_config(params, _seeds(params), params[e.epochs])
            out.append(_hierarchy_setup(params, e, e.model, train))
        elif isinstance(e, DepthWidth):
            out += _depth_setups(params, e).values()
        # else: compositional targets, and analyses of the fits above
    return out


def hierarchy_comparisons(params: dict) -> list[Comparison]:
    """The depth rules' two arms at one budget on each dataset of the sweep: DEEP_DEPTH (A)
    against SHALLOW_DEPTH (B). None fits the page in either preset yet (the shallow arm's
    220 neurons are over its 64 a layer), so the card links none."""
    from whydl.evidence.hierarchy import CLAIM
    from whydl.evidence.hierarchy.common import DEEP_DEPTH, SHALLOW_DEPTH
    from whydl.evidence.hierarchy.depth_width import DepthWidth

    out = []
    for e in CLAIM.experiments(params):
        if isinstance(e, DepthWidth):
            arms = _depth_setups(params, e)
            out.append(Comparison(arms[DEEP_DEPTH], arms[SHALLOW_DEPTH], e.name))
    return out


def _depth_setups(params: dict, e) -> dict[int, Setup]:
    """depth -> the Setup of that depth in the one-budget sweep `e` (a DepthWidth)."""
    from whydl.evidence.hierarchy.common import depth_models, train_config

    train = train_config(params, _seeds(params))
    return {d: _hierarchy_setup(params, e, m, train) for d, m in depth_models(params).items()}


def _hierarchy_setup(params: dict, e, model: ModelConfig, train: TrainConfig) -> Setup:
    from whydl.evidence.hierarchy.common import label

    # points as `hierarchy.common.seed_data` draws them
    n = params["checkerboard_samples" if e.dataset == "checkerboard" else "n_samples"]
    return setup(f"{e.dataset}, {label(model)}", e.name, e.dataset, model, train, n_samples=n)


def data_setups(params: dict) -> list[Setup]:
    """The spiral's learning curve at its smallest and largest n, for the main and the small
    model (`model_size` compares them): n training points and the page's own test split."""
    comparisons = data_comparisons(params)
    return [c.a for c in comparisons] + [c.b for c in comparisons]


def data_comparisons(params: dict) -> list[Comparison]:
    """`model_size`'s two models at each linked n: the main model (A) against the small one
    (B), on the same n training points and seeds."""
    curves = _curve_setups(params)
    return [Comparison(curves["main"][n], curves["small"][n], "model_size") for n in curves["main"]]


def _curve_setups(params: dict) -> dict[str, dict[int, Setup]]:
    """model ("main", "small") -> n -> its Setup, at the largest and the smallest n."""
    from whydl.evidence.data_scaling.curves import LR as CURVE_LR
    from whydl.evidence.data_scaling.curves import MODELS, SPIRAL_NOISE, curve_sizes, schedule

    test_size = DataConfig().test_size
    sizes = curve_sizes("spiral", params)
    out = {}
    for model, experiment in (("main", "spiral"), ("small", "model_size")):
        hidden = MODELS[model]
        out[model] = {}
        for n in dict.fromkeys((sizes[-1], sizes[0])):
            batch_size, epochs = schedule(n, params["min_steps"], params["min_epochs"])
            train = TrainConfig(
                lr=CURVE_LR,
                batch_size=batch_size,
                epochs=epochs,
                seed=FIRST_SEED,
                n_seeds=params["n_seeds"],
            )
            out[model][n] = setup(
                f"spiral, {'-'.join(map(str, hidden))}, {n} training points",
                experiment,
                "spiral",
                ModelConfig(hidden=hidden),
                train,
                noise=SPIRAL_NOISE,
                n_samples=training_points(n, test_size),
                test_size=test_size,
            )
    return out


def flexibility_setups(params: dict) -> list[Setup]:
    """The one recipe (a ReLU MLP 64-64) and the linear model on each 2-D task."""
    return [arm for c in flexibility_comparisons(params) for arm in (c.a, c.b)]


def flexibility_comparisons(params: dict) -> list[Comparison]:
    """On each 2-D task, the one recipe (A) against the linear model (B)."""
    from whydl.evidence.flexibility.recipe import (
        DEEP_MODEL,
        LINEAR,
        LINEAR_MODEL,
        TASKS,
        RecipeExperiment,
        recipe_train,
    )

    train = recipe_train(params, _seeds(params))

    def arm(task, name, model):
        widths = "-".join(map(str, model.hidden)) or "no hidden layer"
        label = f"{task.name}, {name} ({widths})"
        return setup(
            label, RecipeExperiment.name, task.dataset, model, train, n_samples=params["n_samples"]
        )

    return [
        Comparison(
            arm(task, DEEP_MODEL, task.deep), arm(task, LINEAR_MODEL, LINEAR), RecipeExperiment.name
        )
        for task in TASKS
        if not task.load  # data arguments the page has no control for (spiral's 3 arms)
    ]


def transfer_setups(params: dict) -> list[Setup]:
    """The shifted-moons domain's source task, as each seed pretrains on it. Its target (the
    moons rotated and rescaled, k labels per class) is nothing the page can draw."""
    from whydl.evidence.transfer import CLAIM
    from whydl.evidence.transfer.domains import MOONS_NOISE
    from whydl.evidence.transfer.experiments import DomainExperiment
    from whydl.evidence.transfer.sweep import LR as PRETRAIN_LR
    from whydl.evidence.transfer.sweep import PRETRAIN_BATCH

    train = TrainConfig(
        lr=PRETRAIN_LR,
        batch_size=PRETRAIN_BATCH,
        epochs=params["pretrain_epochs"],
        seed=FIRST_SEED,
        n_seeds=params["n_seeds"],
    )
    return [
        setup(
            f"{e.spec.kind}, {'-'.join(map(str, e.spec.hidden))} (the source task)",
            e.name,
            e.spec.kind,
            e.spec.model,
            train,
            noise=MOONS_NOISE,
            n_samples=e.spec.moons_samples,
        )
        for e in CLAIM.experiments(params)
        if isinstance(e, DomainExperiment) and e.spec.kind == "moons"
    ]


SETUPS = {
    "hierarchy": hierarchy_setups,
    "data": data_setups,
    "flexibility": flexibility_setups,
    "transfer": transfer_setups,
}


COMPARISONS = {  # transfer has none: its arms differ on the target task, which the page lacks
    "hierarchy": hierarchy_comparisons,
    "data": data_comparisons,
    "flexibility": flexibility_comparisons,
}


def claim_setups(name: str, params: dict) -> list[Setup]:
    """The setups of a claim's 2-D experiments that the playground can show, each once
    (several experiments may share one: the probed network is also a depth of the sweep)."""
    if name not in SETUPS:
        return []
    seen, out = set(), []
    for s in SETUPS[name](params):
        hash_ = playground_hash(s.config)
        if hash_ is not None and hash_ not in seen:
            seen.add(hash_)
            out.append(s)
    return out


def claim_comparisons(name: str, params: dict) -> list[Comparison]:
    """The arm pairs of a claim's 2-D experiments that the page can compare side by side
    (`compare_hash` is not None), each once."""
    if name not in COMPARISONS:
        return []
    seen, out = set(), []
    for c in COMPARISONS[name](params):
        hash_ = compare_hash(c.a.config, c.b.config)
        if hash_ is not None and hash_ not in seen:
            seen.add(hash_)
            out.append(c)
    return out


def claim_links_html(record: dict) -> str:
    """A card's "open in the playground" section, or "" when no experiment of its claim is
    one the playground can show."""
    try:
        name, params = record["name"], dict(record.get("params") or {})
        setups, comparisons = claim_setups(name, params), claim_comparisons(name, params)
    except (KeyError, TypeError, ValueError):  # a record from another whydl version
        return ""
    if not setups:
        return ""
    items = "".join(
        f"<li>{link_html(s.config, 'Open ' + repr(s.label) + ' in the playground')} "
        f"<span class='muted'>({escape(s.experiment)})</span></li>"
        for s in setups
    )
    items += "".join(
        f"<li>{compare_link_html(c)} <span class='muted'>({escape(c.experiment)})</span></li>"
        for c in comparisons
    )
    return (
        "<h3>Open in the playground</h3>"
        "<p class='muted'>With <code>whydl serve</code> running, each link opens one arm of a "
        "2-D experiment: its data, network and optimiser, and this card's seeds (at most "
        f"{MAX_PLAYGROUND_SEEDS}), all on seed {FIRST_SEED}'s data draw (here each seed drew "
        "its own), trained until you stop it. A compare link opens two arms side by side on "
        "the same data and seeds, with the paired difference B &minus; A.</p>"
        f'<ul class="playground">{items}</ul>'
    )
