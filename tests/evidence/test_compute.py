import json

import numpy as np
import pytest

from whydl.evidence import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from whydl.evidence.compute import (
    NOT_MEASURED,
    frontier_points,
    frontier_verdict,
    parallel_verdict,
    time_to_target,
)


def timings(slow_seconds, fast_seconds, experiment="vectorised"):
    return [
        {"experiment": experiment, "setting": setting, "repeat": i, "seconds": s}
        for setting, values in (("looped", slow_seconds), ("vectorised", fast_seconds))
        for i, s in enumerate(values)
    ]


def test_parallel_rule_gives_each_outcome():
    fast = parallel_verdict(
        timings([2.0, 2.1, 1.9, 2.0], [0.5, 0.5, 0.52, 0.49]), "vectorised", "looped", "vectorised"
    )
    assert fast.verdict == SUPPORTED and fast.numbers["speedup"] == pytest.approx(4.0, rel=0.05)
    assert fast.seeds == 4 and "CI above 1" in fast.rule
    slow = parallel_verdict(
        timings([1.0, 1.0, 1.1], [2.0, 2.1, 2.0]), "vectorised", "looped", "vectorised"
    )
    assert slow.verdict == NOT_SUPPORTED
    noisy = parallel_verdict(
        timings([1.0, 3.0, 1.0], [2.0, 1.0, 2.0]), "vectorised", "looped", "vectorised"
    )
    assert noisy.verdict == INCONCLUSIVE


def test_an_unmeasured_gpu_is_inconclusive_and_says_so():
    rows = [{"experiment": "gpu", "setting": "cuda", "status": NOT_MEASURED}]
    v = parallel_verdict(rows, "gpu", "cpu", "cuda")
    assert v.verdict == INCONCLUSIVE and v.numbers == {"status": "not measured on this machine"}


def frontier_table(loss_of, widths=(4, 16, 64), epochs=5, seeds=8, noise=0.01):
    """Rows for every (width, epoch, seed); FLOPs grow with width and epoch."""
    rng = np.random.default_rng(0)
    rows = []
    for width in widths:
        for epoch in range(1, epochs + 1):
            flops = 1e6 * width * epoch
            for seed in range(seeds):
                loss = loss_of(flops, width, epoch) * np.exp(rng.normal(0, noise))
                rows.append(
                    {
                        "experiment": "frontier",
                        "width": width,
                        "epoch": epoch,
                        "seed": seed,
                        "flops": flops,
                        "test_loss": float(loss),
                        "test_accuracy": float(1 - loss),
                        "seconds": 0.1 * width * epoch,
                    }
                )
    return rows


def test_frontier_rule_gives_each_outcome():
    falling = frontier_verdict(frontier_table(lambda f, w, e: 50 * f**-0.3))
    assert falling.verdict == SUPPORTED
    assert falling.numbers["slope"] == pytest.approx(-0.3, abs=0.02)
    # a barely falling frontier drowned in seed noise
    barely = frontier_verdict(
        frontier_table(lambda f, w, e: 0.5 - 1e-3 * np.log(f), noise=0.2, seeds=4)
    )
    assert barely.verdict == NOT_SUPPORTED and barely.numbers["slope_ci_high"] >= 0
    # loss rises with compute: the frontier never leaves the cheapest config
    rising = frontier_verdict(frontier_table(lambda f, w, e: 1e-3 * f**0.2))
    assert rising.verdict == INCONCLUSIVE and len(rising.numbers["frontier_widths"]) == 1


def test_the_envelope_is_the_best_loss_affordable():
    # width 16 overfits after epoch 2, so the envelope must not follow it up
    rows = frontier_table(lambda f, w, e: 1.0 / (w * min(e, 2)) + 0.01 * e, noise=0.0)
    points = frontier_points(rows)
    assert np.all(np.diff(points["envelope_loss"]) <= 0)
    assert np.all(np.diff(points["envelope_flops"]) >= 0)
    assert points["configs"][0] == (4, 1)  # the cheapest budget affords only the cheapest run


def test_time_to_target_per_width():
    rows = frontier_table(lambda f, w, e: 0.2 if (w >= 16 and e >= 3) else 0.5, noise=0.0)
    found = {t["width"]: t for t in time_to_target(rows, target=0.75)}
    assert found[4]["seeds_reaching"] == 0 and np.isnan(found[4]["seconds_to_target"])
    assert found[16]["seconds_to_target"] == pytest.approx(0.1 * 16 * 3)
    assert found[64]["flops_to_target"] == pytest.approx(1e6 * 64 * 3)


def test_claim_compute_runs_end_to_end(tmp_path):
    from whydl.cli import main

    assert main(["claim", "compute", "--preset", "quick", "--out", str(tmp_path)]) == 0
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert set(saved) >= {"claim", "verdict", "hypothesis", "rule", "numbers", "seeds"}
    assert saved["claim"] == "compute"
    parts = {p["claim"]: p for p in saved["parts"]}
    assert set(parts) == {"frontier", "vectorised", "threads", "gpu", "throughput"}
    rows = json.loads((tmp_path / "results.json").read_text())
    gpu = [r for r in rows if r["experiment"] == "gpu"]
    import torch

    if not torch.cuda.is_available():  # never estimated
        assert gpu == [{"experiment": "gpu", "setting": "cuda", "status": NOT_MEASURED}]
    vectorised = [r for r in rows if r["experiment"] == "vectorised"]
    assert max(r["max_loss_difference"] for r in vectorised) < 1e-4  # the same members
    for stem in ("throughput", "parallel", "frontier", "time_to_target"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}.png").exists()
