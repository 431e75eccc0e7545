import json

import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, ClaimResult, Verdict, combine


def v(name, verdict):
    return Verdict(name, verdict, "h", "r", {}, 10)


@pytest.mark.parametrize(
    "parts,expected",
    [
        ([SUPPORTED, SUPPORTED], SUPPORTED),
        ([SUPPORTED, NOT_SUPPORTED], NOT_SUPPORTED),
        ([SUPPORTED, INCONCLUSIVE], INCONCLUSIVE),
        ([INCONCLUSIVE, NOT_SUPPORTED], NOT_SUPPORTED),
    ],
)
def test_combine_gives_each_outcome(parts, expected):
    verdicts = [v(f"p{i}", x) for i, x in enumerate(parts)]
    assert combine("c", "h", verdicts, 10).verdict == expected


def test_combine_only_counts_required_parts():
    parts = [v("a", SUPPORTED), v("b", NOT_SUPPORTED)]
    assert combine("c", "h", parts, 10, required=["a"]).verdict == SUPPORTED
    assert combine("c", "h", parts, 10, required=["a"]).numbers == {
        "a": SUPPORTED,
        "b": NOT_SUPPORTED,
    }


def test_verdict_rejects_unknown_outcomes():
    with pytest.raises(ValueError, match="not one of"):
        Verdict("c", "probably", "h", "r", {}, 1)


def test_claim_result_saves_everything(tmp_path):
    from whydl.plots.style import new_figure

    fig, ax = new_figure()
    ax.plot([1, 2], [3, 4])
    verdict = combine("demo", "h", [v("a", SUPPORTED)], 3)
    result = ClaimResult(
        "demo",
        "Demo",
        "h",
        "quick",
        {"n_seeds": 3},
        [{"x": 1, "y": 2.0}, {"x": 2, "y": 3.0}],
        verdict,
        {"fig_one": (fig, "what to see")},
        1.5,
    )
    result.save(tmp_path)
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert set(saved) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert saved["verdict"] == SUPPORTED and saved["parts"][0]["claim"] == "a"
    assert (tmp_path / "results.csv").read_text().splitlines()[0] == "x,y"
    assert (tmp_path / "fig_one.svg").exists() and (tmp_path / "fig_one.png").exists()
    assert "verdict: SUPPORTED" in result.summary()
    assert "<svg" in result._repr_html_() or "svg+xml" in result._repr_html_()


# -- fit_many: several independent calls at once -----------------------------------------
def _calls():
    from whydl.config import ModelConfig, TrainConfig
    from whydl.data import load_dataset
    from whydl.evidence import TrainCall

    data = load_dataset("moons", n_samples=120)
    plane = load_dataset("plane", n_samples=200, noise=0.1, data_seed=0)
    good = TrainCall(data, ModelConfig(hidden=(3,)), TrainConfig(epochs=2, n_seeds=2), "good")
    wide = TrainCall(data, ModelConfig(hidden=(7,)), TrainConfig(epochs=3), "wide")
    train = TrainConfig(optimizer="sgd", lr=50, epochs=20, n_seeds=2)
    bad = TrainCall(plane, ModelConfig(hidden=(16,)), train, "bad")
    return good, wide, bad


@pytest.mark.parametrize("cached", [False, True])
def test_fit_many_keeps_order_and_keys_and_can_return_divergence(cached):
    from whydl.errors import DivergedError
    from whydl.evidence import Context
    from whydl.runtime import CachedContext
    from whydl.store import Store

    good, wide, bad = _calls()
    ctx = CachedContext(Store(":memory:")) if cached else Context()
    fits = ctx.fit_many([wide, good])
    assert [f.history.n_epochs for f in fits] == [3, 2] and fits[1].seeds == [0, 1]
    named = ctx.fit_many({"b": good, "a": wide})
    assert list(named) == ["b", "a"] and named["a"].history.n_epochs == 3
    returned = ctx.fit_many([good, bad], errors="return")
    assert isinstance(returned[1], DivergedError) and returned[0].history.n_epochs == 2
    with pytest.raises(DivergedError, match="learning rate"):
        ctx.fit_many([bad])
    with pytest.raises(ValueError, match="errors='ignore'"):
        ctx.fit_many([good], errors="ignore")


def test_fit_many_trains_the_same_members_as_one_fit_each():
    import numpy as np

    from whydl.evidence import Context

    good, wide, _ = _calls()
    together = Context().fit_many([good, wide])
    for call, fit in zip((good, wide), together):
        alone = Context().fit(call.dataset, call.model, call.train, call.tag)
        np.testing.assert_array_equal(alone.history.val_loss, fit.history.val_loss)
