"""A run's setup as a link to the playground: the URL hash that `whydl serve`'s page opens.

The page keeps its whole setup in the hash, named as the configs name their fields
(`dataset=moons&hidden=10,10&lr=0.01...`), so a config from anywhere (the report's cards,
a `whydl train` run) becomes a link that opens the same data, network and optimiser. Two
configs on the same data and seeds become a link that opens A/B compare (`compare_hash`).

Example
-------
>>> from whydl.config import article_config
>>> playground_hash(article_config()).split("&")[:3]
['#dataset=moons', 'noise=0.1', 'n_samples=1000']
"""

from __future__ import annotations

from urllib.parse import urlencode

from whydl.config import RunConfig
from whydl.data.features import RAW

# the 2-D generated datasets the page can draw (the playground's own list, `whydl.web`)
PLAYGROUND_DATASETS = ("moons", "circles", "xor", "gaussians", "spiral", "checkerboard")
PLAYGROUND_REGRESSION = ("plane", "multi_gaussian")  # drawn as a value over the plane
SERVE_URL = "http://127.0.0.1:8000/"  # where `whydl serve` listens by default
FIELDS = {  # config section -> the fields the page holds
    "data": ("dataset", "noise", "n_samples", "test_size", "data_seed", "features"),
    "model": ("hidden", "activation", "dropout", "batch_norm"),
    "train": ("optimizer", "lr", "batch_size", "weight_decay", "seed", "n_seeds"),
}
MAX_PLAYGROUND_SEEDS = 32
# the page's own sizes (narrower than the configs'; `whydl.web.validate` enforces them)
MAX_LAYERS, MAX_NEURONS = 8, 64  # every neuron is drawn
MIN_POINTS, MAX_POINTS = 20, 10_000  # every point is drawn and sent to the page
_TASKS = {False: ("binary", "multiclass"), True: ("regression",)}  # the page's, by data kind
# A/B compare: what the two setups share (the same data, split and member seeds, so member i
# of A and member i of B are a pair), and the work one tab may take, both setups together
# (seeds x points x hidden neurons: the largest one-seed setup's). `whydl.web.validate`
# enforces both; tests/test_links.py checks that its values are these.
SHARED = ("dataset", "noise", "n_samples", "test_size", "data_seed", "seed", "n_seeds")
MAX_WORK = MAX_POINTS * MAX_LAYERS * MAX_NEURONS
_OMITTED = {"features": ",".join(RAW)}  # what the page takes for a field a hash leaves out


def playground_hash(config: RunConfig) -> str | None:
    """'#dataset=...&...' for `config`, or None when the playground cannot show the run: data
    it cannot draw, an architecture or option it lacks (it trains MLPs without residual
    connections, with batches and one task per dataset), sizes beyond the page's (layers,
    widths, points) or settings it has no control for (n_classes). Seeds above its limit
    are capped."""
    values = _page_values(config)
    return None if values is None else "#" + _encode(values)


def compare_hash(a: RunConfig, b: RunConfig) -> str | None:
    """A's hash with A/B compare on and B as the compared setup ('&compare=true&b.<key>=...'
    for each setting where B differs from A), or None when the page cannot compare them:
    either has no `playground_hash`, they differ in a setting the two setups share (`SHARED`:
    data and seeds) or together they are more work than a tab may take.

    Example
    -------
    >>> from whydl.config import article_config
    >>> a = article_config()
    >>> compare_hash(a, a.replace(model={"hidden": (4,)})).split("&")[-2:]
    ['compare=true', 'b.hidden=4']
    >>> compare_hash(a, a.replace(data={"dataset": "xor"})) is None  # other data
    True
    """
    own, compared = _page_values(a), _page_values(b)
    if own is None or compared is None:
        return None
    # as the page reads the hash: a field it leaves out takes the page's default
    own, compared = _OMITTED | own, _OMITTED | compared
    if any(own[name] != compared[name] for name in SHARED):
        return None
    if _work(a) + _work(b) > MAX_WORK:
        return None
    changed = {f"b.{k}": v for k, v in compared.items() if v != own[k]}
    return playground_hash(a) + "&" + _encode({"compare": "true"} | changed)


def _work(config: RunConfig) -> int:
    """What a setup costs a tab: seeds (as the page caps them) x points x hidden neurons."""
    n_seeds = min(config.train.n_seeds, MAX_PLAYGROUND_SEEDS)
    return n_seeds * config.data.n_samples * max(sum(config.model.hidden), 1)


def _encode(values: dict) -> str:
    return urlencode(values, safe=",")  # widths and feature names stay comma-joined


def _page_values(config: RunConfig) -> dict | None:
    """The page's settings for `config` as the hash writes them (lists comma-joined, booleans
    'true'/'false'); a setting the run leaves to its default (None) is left out. None when
    the playground cannot show the run (see `playground_hash`)."""
    used = config.used()
    d, m, t = config.data, config.model, config.train
    if (
        d.dataset not in PLAYGROUND_DATASETS + PLAYGROUND_REGRESSION
        or d.csv is not None
        or m.architecture != "mlp"
        or m.residual
        or m.init != "default"
        or t.early_stopping
        or t.task not in (None, *_TASKS[d.dataset in PLAYGROUND_REGRESSION])
        or d.n_classes is not None  # the page draws each dataset's default number of classes
        or len(m.hidden) > MAX_LAYERS
        or any(w > MAX_NEURONS for w in m.hidden)
        or not MIN_POINTS <= d.n_samples <= MAX_POINTS
    ):
        return None
    values = {}
    for section, names in FIELDS.items():
        for name in names:
            value = used[section][name]
            if value is None:  # an option the run ignores: the page keeps its default
                continue
            if isinstance(value, list | tuple):  # hidden widths, feature names
                value = ",".join(str(w) for w in value)
            elif name == "n_seeds":
                value = min(int(value), MAX_PLAYGROUND_SEEDS)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            values[name] = str(value)
    return values
