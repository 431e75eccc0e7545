"""The hierarchy claim on the frame: its calls (each seed its own data, nothing trained
twice, no selection seeds), its helpers, and the claim end to end at the quick preset."""

import json

import numpy as np
import pytest

from whydl.engine.memory import mlp_n_parameters
from whydl.evidence.hierarchy import CLAIM, REQUIRED
from whydl.evidence.hierarchy.common import (
    DEEP_DEPTH,
    SHALLOW_DEPTH,
    depth_models,
    seed_data,
    width_for_budget,
)
from whydl.evidence.hierarchy.compositional import LR_GRID, arm_models
from whydl.evidence.protocol import seed_plan

QUICK, FULL = CLAIM.params("quick"), CLAIM.params("full")
OLD = ("depth_smooth_sine", "probes_spiral", "probes_moons")  # reported, not deciding


def test_equal_budget_architectures():
    budget = mlp_n_parameters(2, 1, (16,) * 4)
    assert budget == 881
    for depth in (1, 2, 4, 8):
        width = width_for_budget(budget, depth)
        others = [mlp_n_parameters(2, 1, (w,) * depth) for w in (width - 1, width + 1)]
        mine = mlp_n_parameters(2, 1, (width,) * depth)
        assert all(abs(mine - budget) <= abs(o - budget) for o in others)
    models = depth_models(FULL)
    assert models[DEEP_DEPTH].hidden == (16,) * 4 and models[SHALLOW_DEPTH].hidden == (220,)


def test_depth_models_refuse_a_sweep_without_the_compared_depths():
    with pytest.raises(ValueError, match="SHALLOW_DEPTH"):
        depth_models({**FULL, "depths": (2, 4)})
    with pytest.raises(ValueError, match="share its fits"):
        depth_models({**FULL, "n_hidden": 3})


def test_every_call_gives_each_seed_its_own_data_and_nothing_trains_twice():
    plan = seed_plan(FULL["n_seeds"], FULL["n_selection_seeds"])
    seeds = plan.evaluation
    experiments = CLAIM.experiments(FULL)
    cells = []
    for e in experiments:
        chosen = {}
        if e.selects:
            selection = e.selection_calls(FULL, plan.selection)
            assert len(selection) == 2 * len(LR_GRID)  # two arms, one grid each
            assert all(tuple(c.train.seeds) == plan.selection for c in selection.values())
            chosen = {"lr_deep": LR_GRID[0], "lr_shallow": LR_GRID[-1]}
        else:
            assert e.selection_calls(FULL, ()) == {}
        for call in e.calls(FULL, seeds, chosen).values():
            assert set(call.hooks) == {"train_rows", "test_rows"}
            assert call.hooks["test_rows"].shape[0] == len(seeds)
            assert tuple(call.train.seeds) == seeds
            cells.append((call.tag, call.model))
    assert len(cells) == len(set(cells))  # the 4x16 on spiral is borrowed, not retrained
    assert ("spiral 4x16", depth_models(FULL)[DEEP_DEPTH]) in cells
    # compositional targets and control (two arms each), plane probes, spiral depths but
    # one, checkerboard, digits; the parity probes train nothing
    assert len(cells) == 3 * 2 + 2 + 3 + 4 + 2


def test_arms_share_one_parameter_budget():
    for target, n_inputs in (("sawtooth", 1), ("nested_parity", 8), ("smooth_sine", 2)):
        models = arm_models(target, FULL)
        deep, shallow = (mlp_n_parameters(n_inputs, 1, m.hidden) for m in models.values())
        assert models["deep"].hidden == (16,) * 4 and len(models["shallow"].hidden) == 1
        assert abs(deep - shallow) <= n_inputs + 2  # one unit of the shallow layer


def test_seeds_draw_different_data():
    data = seed_data("spiral", QUICK, (0, 1))
    a, b = data.member(0), data.member(1)
    assert a.X_train.shape == b.X_train.shape and not np.allclose(a.X_train, b.X_train)
    digits = seed_data("digits", QUICK, (0, 1))
    assert digits.train_rows.shape[1] == QUICK["digits_train"]


@pytest.fixture(scope="module")
def quick_run(claim_cli):
    """The files of the installed `whydl claim hierarchy --preset quick` (conftest, which
    checks that it exits 0 without a traceback)."""
    return claim_cli("hierarchy")[0] / "c"


def test_claim_runs_end_to_end_and_writes_its_verdict(quick_run):
    out = quick_run
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["claim"] == "hierarchy" and verdict["seeds"] == 3
    parts = {p["claim"]: p for p in verdict["parts"]}
    assert set(parts) == {
        *REQUIRED,
        *OLD,
        "regions_training",
        "regions_depth",
        "depth_vs_width_spiral",
        "depth_vs_width_checkerboard",
        "probes_digits_cnn",
        "probes_digits_mlp",
    }
    assert all(name in verdict["rule"] for name in REQUIRED)
    for part in parts.values():
        assert part["calibration"]["n_evaluation_seeds"] == 3
        assert part["protocol"]["evaluation_seeds"] == [0, 1, 2] and part["minimum_effect"]
        selects = part["claim"].startswith("depth_") and "vs" not in part["claim"]
        assert part["protocol"]["selection_seeds"] == ([10000, 10001] if selects else [])
        assert part["protocol"]["deciding"] == (part["claim"] in REQUIRED)
    chosen = parts["depth_sawtooth"]["protocol"]["chosen"]
    assert chosen["lr_deep"] in LR_GRID and chosen["lr_shallow"] in LR_GRID


def test_claim_writes_every_figure_and_a_tidy_table(quick_run):
    out = quick_run
    meta = json.loads((out / "claim.json").read_text())
    assert len(meta["figures"]) == 7 + 4  # the old ones; three depth panels, parity probes
    for stem in meta["figures"]:
        assert (out / f"{stem}.svg").is_file() and (out / f"{stem}.png").is_file(), stem
    assert any("own data" in n for n in meta["notes"])
    assert any("one fixed dataset" in n for n in meta["notes"])
    assert meta["headline"].startswith("deep minus shallow at equal parameters and tuning")
    rows = json.loads((out / "results.json").read_text())
    assert {r["experiment"] for r in rows} == {
        *REQUIRED,
        *OLD,
        "regions_training",
        "regions_depth",
        "depth_vs_width_spiral",
        "depth_vs_width_checkerboard",
        "probes_digits_cnn",
        "probes_digits_mlp",
    }
    assert {r["seed"] for r in rows} == {0, 1, 2}
    probes = [r for r in rows if r["experiment"] == "probes_spiral"]
    assert {r["depth"] for r in probes} == {0, 1, 2, 3, 4}
    assert all(0.0 <= r["value"] <= 1.0 for r in probes)
    inputs = {r["value"] for r in probes if r["depth"] == 0 and r["state"] == "trained"}
    assert len(inputs) > 1  # each seed's own data: the input's probe varies by seed
    depths = [r for r in rows if r["experiment"] == "depth_vs_width_spiral"]
    assert {r["architecture"] for r in depths} == {"1x220", "4x16"}
