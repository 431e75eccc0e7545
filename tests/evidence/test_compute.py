import json
from types import SimpleNamespace

import numpy as np
import pytest

from whydl.errors import DivergedError
from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, get_claim
from whydl.evidence.compute import CLAIM
from whydl.evidence.compute.frontier import Frontier, grid, seed_data
from whydl.evidence.compute.frontier_rule import (
    MIN_FALL,
    N_BUDGETS,
    FrontierRule,
    affordable,
    budgets,
    frontier_indices,
    frontier_row,
)
from whydl.evidence.compute.gpu import DEVICES, Gpu
from whydl.evidence.compute.speedup import MIN_SPEEDUP, NOT_MEASURED, SpeedupRule
from whydl.evidence.compute.time_to_target import summary, time_to_target
from whydl.evidence.protocol import seed_plan

RULE = SpeedupRule("vectorised", "looped", "vectorised", repeats=4)


def timings(slow_seconds, fast_seconds):
    return [
        {"setting": setting, "repeat": i, "seconds": s}
        for setting, values in (("looped", slow_seconds), ("vectorised", fast_seconds))
        for i, s in enumerate(values)
    ]


def test_speedup_rule_gives_each_outcome():
    fast = RULE.decide(timings([2.0, 2.1, 1.9, 2.0], [0.5, 0.5, 0.52, 0.49]))
    assert fast.verdict == SUPPORTED and fast.numbers["speedup"] == pytest.approx(4.0, rel=0.05)
    assert fast.seeds == 4 and "CI lies above 1" in fast.rule
    # 1.05x, tightly measured: a real but negligible speedup is evidence against the claim
    small = RULE.decide(timings([1.05, 1.06, 1.04, 1.05], [1.0, 1.0, 1.0, 1.0]))
    assert small.verdict == NOT_SUPPORTED and small.numbers["speedup_ci_high"] < MIN_SPEEDUP
    slow = RULE.decide(timings([1.0, 1.0, 1.1], [2.0, 2.1, 2.0]))
    assert slow.verdict == NOT_SUPPORTED
    noisy = RULE.decide(timings([1.0, 3.0, 1.0], [2.0, 1.0, 2.0]))
    assert noisy.verdict == INCONCLUSIVE
    assert "1.1x" in RULE.minimum_text()


def test_two_repeats_cannot_decide():
    assert RULE.decide(timings([2.0, 2.1], [0.5, 0.5])).verdict == INCONCLUSIVE


def test_an_unmeasured_gpu_is_inconclusive_and_says_so():
    rule = SpeedupRule("gpu", "cpu", "cuda", repeats=5)
    v = rule.decide([{"setting": "cuda", "status": NOT_MEASURED}])
    assert v.verdict == INCONCLUSIVE and v.numbers == {"status": "not measured on this machine"}


# -- the frontier ----------------------------------------------------------------------------
WIDTHS, EPOCHS = (4, 16, 64), 6


def frontier_rows(log_loss_of, seeds=8, seed_sd=0.01, seed=0):
    """Rows like the experiment's: every (width, epoch, seed), and the frontier picked on
    the noise-free losses (as selection seeds with no luck of their own would)."""
    rng = np.random.default_rng(seed)
    rule = FrontierRule(WIDTHS, EPOCHS)
    configs = sorted(rule.grid(), key=lambda g: g[2])
    flops = np.array([f for *_, f in configs])
    true = np.array([log_loss_of(f, w, e) for w, e, f in configs])
    loss = np.exp(true + rng.normal(0.0, seed_sd, (seeds, len(configs))))
    rows = [
        {
            "kind": "config",
            "seed": s,
            "width": w,
            "epoch": e,
            "flops": f,
            "seconds": 0.1 * w * e,
            "test_loss": float(loss[s, j]),
            "test_accuracy": float(1 - loss[s, j]),
        }
        for s in range(seeds)
        for j, (w, e, f) in enumerate(configs)
    ]
    picked = frontier_indices(affordable(flops), true[None])[0]
    for k, (budget, j) in enumerate(zip(budgets(flops), picked)):
        w, e, f = configs[j]
        rows += [frontier_row(s, k, budget, w, e, f, loss[s, j]) for s in range(seeds)]
    return rows


def test_frontier_rule_gives_each_outcome():
    rule = FrontierRule(WIDTHS, EPOCHS)
    falling = rule.decide(frontier_rows(lambda f, w, e: 5 - 0.3 * np.log(f)))
    assert falling.verdict == SUPPORTED
    assert falling.numbers["slope"] == pytest.approx(-0.3, abs=0.02)
    assert falling.numbers["slope_ci_high"] < 0 < falling.numbers["fall_ci_low"]
    # barely falling (a slope of -0.01), tightly measured: not the claim's scaling
    rng = np.random.default_rng(1)
    configs = [(w, e) for w in WIDTHS for e in range(1, EPOCHS + 1)]
    luck = dict(zip(configs, rng.normal(0, 0.002, len(configs))))
    flat = rule.decide(frontier_rows(lambda f, w, e: -1 - 0.01 * np.log(f) + luck[w, e]))
    assert flat.verdict == NOT_SUPPORTED and flat.numbers["fall_ci_high"] < MIN_FALL
    assert flat.numbers["frontier_configs"] >= 3
    # the same with large luck per configuration and per seed: cannot tell
    luck = {k: 200 * v for k, v in luck.items()}
    noisy = rule.decide(frontier_rows(lambda f, w, e: -1 + luck[w, e], seed_sd=0.5, seeds=4))
    assert noisy.verdict == INCONCLUSIVE
    # loss rises with compute: the frontier never leaves the cheapest configuration
    rising = rule.decide(frontier_rows(lambda f, w, e: 0.2 * np.log(f)))
    assert rising.verdict == INCONCLUSIVE and rising.numbers["frontier_configs"] == 1


def test_frontier_rule_needs_three_seeds():
    rows = frontier_rows(lambda f, w, e: 5 - 0.3 * np.log(f), seeds=2)
    assert FrontierRule(WIDTHS, EPOCHS).decide(rows).verdict == INCONCLUSIVE


def test_the_frontier_is_the_best_configuration_affordable():
    flops = np.array([1.0, 2.0, 3.0, 10.0, 30.0, 100.0])
    values = np.array([[5.0, 4.0, 6.0, 1.0, 2.0, np.nan]])
    picked = frontier_indices(affordable(flops), values)[0]
    assert len(picked) == N_BUDGETS and picked[0] == 0  # the cheapest budget: one choice
    assert picked[-1] == 3  # the best overall, never the missing one
    assert np.all(values[0, picked][1:] <= values[0, picked][:-1])  # never worse with more


def fake_fit(seeds, losses, accuracy=0.5):
    """A stand-in for a Fit: (members, epochs) test losses, timings of 0.1 s per epoch."""
    losses = np.asarray(losses, dtype=float)
    return SimpleNamespace(
        seeds=list(seeds),
        history=SimpleNamespace(val_loss=losses, val_metric=np.full(losses.shape, accuracy)),
        records={
            "epoch_seconds": np.tile(0.1 * np.arange(1, losses.shape[1] + 1), (len(seeds), 1))
        },
    )


def test_the_frontier_is_chosen_on_selection_seeds_and_measured_on_evaluation_seeds():
    params = CLAIM.params("quick")  # widths 4 and 16, 3 epochs
    plan = seed_plan(params["n_seeds"], params["n_selection_seeds"])
    experiment = Frontier(params)
    calls = experiment.selection_calls(params, plan.selection)
    assert {s for c in calls.values() for s in c.train.seeds} == set(plan.selection)
    # on the selection seeds width 16 is worse than width 4 at every epoch
    selection = {
        4: fake_fit(plan.selection, np.full((3, 3), [2.0, 1.5, 1.0])),
        16: fake_fit(plan.selection, np.full((3, 3), 3.0)),
    }
    chosen = experiment.choose(params, selection)
    assert set(chosen["widths"]) == {4} and chosen["epochs"][-1] == 3
    assert len(chosen["budget_flops"]) == N_BUDGETS
    evaluation = {w: fake_fit(plan.evaluation, np.full((3, 3), 0.5)) for w in (4, 16)}
    evaluation[16] = DivergedError("every member diverged")
    run = SimpleNamespace(params=params, plan=plan, chosen=chosen, fits=evaluation)
    rows = experiment.rows(run)
    assert {r["seed"] for r in rows} == set(plan.evaluation)
    assert {r["width"] for r in rows if r["kind"] == "config"} == {4}  # 16 diverged
    front = [r for r in rows if r["kind"] == "frontier"]
    assert len(front) == N_BUDGETS * len(plan.evaluation)
    configs = grid(params["widths"], 3, seed_data(plan.evaluation))
    assert configs[0][:2] == (4, 1) and configs == sorted(configs, key=lambda g: g[2])


def test_the_gpu_rows_name_the_device(monkeypatch):
    params = CLAIM.params("quick")
    gpu = Gpu(params)
    run = SimpleNamespace(params=params, fits={})
    assert gpu.rows(run) == [{"setting": "cuda", "status": NOT_MEASURED}]
    monkeypatch.setattr("torch.cuda.get_device_name", lambda i: "Some GPU")
    fits = {(d, r): fake_fit(range(16), np.ones((16, 1))) for d in DEVICES for r in range(3)}
    rows = gpu.rows(SimpleNamespace(params=params, fits=fits))
    assert {r["device_name"] for r in rows} == {"cpu", "Some GPU"} and len(rows) == 6
    assert gpu.rule.decide(rows).numbers["speedup"] == pytest.approx(1.0)


def test_time_to_target_per_seed_and_width():
    rows = frontier_rows(lambda f, w, e: np.log(0.2 if (w >= 16 and e >= 3) else 0.5))
    found = time_to_target(rows, target=0.75)
    assert {r["seed"] for r in found} == set(range(8))
    per_width = {t["width"]: t for t in summary(found)}
    assert per_width[4]["seeds_reaching"] == 0 and np.isnan(per_width[4]["seconds"])
    assert per_width[16]["seconds"] == pytest.approx(0.1 * 16 * 3)
    assert per_width[64]["seeds_reaching"] == 8 and per_width[64]["seconds_ci"] == 0.0


def test_the_claim_keeps_its_import_path_and_parts():
    assert get_claim("compute") is CLAIM
    names = [e.name for e in CLAIM.experiments(CLAIM.params("full"))]
    assert names == [
        "throughput",
        "vectorised",
        "frontier",
        "trade_off",
        "time_to_target",
        "threads",
        "gpu",
    ]


def test_claim_compute_runs_end_to_end(claim_cli):
    tmp_path = claim_cli("compute")[0] / "c"  # the installed `whydl claim compute` (conftest)
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert set(saved) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert saved["claim"] == "compute"
    parts = {p["claim"]: p for p in saved["parts"]}
    assert set(parts) == {"frontier", "trade_off", "vectorised", "threads", "gpu", "throughput"}
    # the timings are measurements of this machine: only the frontier decides (issue 16)
    deciding = {name for name, p in parts.items() if p["protocol"]["deciding"]}
    assert deciding == {"frontier"}
    assert "frontier" in saved["rule"] and "threads" not in saved["rule"].split("Deciding:")[1]
    frontier = parts["frontier"]["protocol"]
    assert frontier["selection_seeds"] and frontier["chosen"]["widths"]
    assert parts["frontier"]["calibration"]["n_selection_seeds"] == 3
    rows = json.loads((tmp_path / "results.json").read_text())
    gpu = [r for r in rows if r["experiment"] == "gpu"]
    import torch

    if not torch.cuda.is_available():  # never estimated
        assert gpu == [{"experiment": "gpu", "setting": "cuda", "status": NOT_MEASURED}]
        assert parts["gpu"]["protocol"]["deciding"] is False
    vectorised = [r for r in rows if r["experiment"] == "vectorised"]
    assert max(r["max_loss_difference"] for r in vectorised) < 1e-4  # the same members
    seeds = {r["seed"] for r in rows if "seed" in r}
    assert seeds == {0, 1, 2}  # evaluation seeds only
    for stem in ("throughput", "parallel", "frontier", "time_to_target"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}.png").exists()
