"""A run's setup as a link to the playground: the URL hash that `whydl serve`'s page opens.

The page keeps its whole setup in the hash, named as the configs name their fields
(`dataset=moons&hidden=10,10&lr=0.01...`), so a config from anywhere (the report's cards,
a `whydl train` run) becomes a link that opens the same data, network and optimiser.

Example
-------
>>> from whydl.config import article_config
>>> playground_hash(article_config()).split("&")[:3]
['#dataset=moons', 'noise=0.1', 'n_samples=1000']
"""

from __future__ import annotations

from urllib.parse import urlencode

from whydl.config import RunConfig

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


def playground_hash(config: RunConfig) -> str | None:
    """'#dataset=...&...' for `config`, or None when the playground cannot show the run: data
    it cannot draw, an architecture or option it lacks (it trains MLPs without residual
    connections, with batches and one task per dataset), sizes beyond the page's (layers,
    widths, points) or settings it has no control for (n_classes). Seeds above its limit
    are capped."""
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
            values[name] = value
    return "#" + urlencode(values, safe=",")
