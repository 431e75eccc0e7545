"""Claim 3, more compute: loss falls along a compute frontier, and parallel hardware buys it.

Two halves. Throughput: samples per second against batch size; the engine's vectorised
training of M members against the same M members trained one by one (both through
`ctx.fit`); one thread against two; CUDA against the CPU when a GPU is present (otherwise
the row says "not measured on this machine": it is never estimated). The compute frontier:
MLPs of several widths trained on digits, test loss against training FLOPs counted from
layer shapes (`whydl.analysis.flops`), the lower envelope over all (width, epoch) points,
and the wall time each width needs to reach a target accuracy.

Timed fits record `EpochSeconds` (`whydl.engine.recorders`): the engine stamps the wall
clock at the end of every epoch, which gives each fit's seconds and the time to the target.
What a results store caches, and why: a timing measures THIS machine, so the recorder is
`local_only` (a timed call trains in this process, never on a Dask worker, after any
workers' jobs), and its key holds this machine's fingerprint (host, CPU, platform, torch
version and threads, device), the call's seeds and the repeat. A rerun on the same machine
replays the timings it measured there, so a report rebuilds without retraining; on another
machine, or with other threads, nothing matches and every timing is measured afresh.

Example
-------
>>> from whydl.evidence import get_claim
>>> result = get_claim("compute").run("quick")  # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np
import torch

from whydl.analysis.flops import forward_flops, training_flops
from whydl.config import ModelConfig, TrainConfig
from whydl.data import load_dataset
from whydl.engine.device import torch_threads
from whydl.engine.recorders import EpochSeconds
from whydl.evidence.frame import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    Claim,
    Context,
    Verdict,
    combine,
)
from whydl.evidence.rules import mean_ci, slope_ci
from whydl.plots.style import CYCLE, PALETTE, new_figure

DATASET = "digits"  # real data, 64 inputs, 10 classes; every timing and the frontier use it
THROUGHPUT_HIDDEN = (64, 64)
VECTOR_HIDDEN = (32, 32)
VECTOR_BATCH = 64
THREADS_BATCH = 256
LR = 0.01  # Adam
NOT_MEASURED = "not measured on this machine"

# decision thresholds
MIN_SPEEDUP = 1.0  # parallel execution must beat this ratio beyond its 95% CI
MIN_FRONTIER_POINTS = 3  # distinct frontier configs a slope needs
N_BUDGETS = 8  # compute budgets, log-spaced, at which the frontier is read
TARGET_ACCURACY = 0.95  # test accuracy for the time-to-target report
HYPOTHESIS = (
    "More training compute gives lower test loss along the compute frontier, and parallel "
    "execution (vectorisation, threads, GPU) raises training throughput."
)


# -- decision rules: pure functions of the results table -------------------------------------
def parallel_verdict(table, experiment: str, slow: str, fast: str) -> Verdict:
    """Does the `fast` setting of `experiment` train faster than the `slow` one?

    Rows: {"experiment", "setting", "repeat", "seconds"}; repeats pair the two settings.
    The speedup is the geometric mean of slow seconds / fast seconds over repeats, its 95% CI
    the t-interval of the log ratios, exponentiated (a ratio's CI stays positive).
    Rule: `supported` when the speedup's 95% CI lies entirely above MIN_SPEEDUP; `not
    supported` when it lies entirely below; `inconclusive` otherwise, or when the
    experiment was not measured on this machine.
    """
    hypothesis = f"{fast} trains faster than {slow}."
    rule = (
        f"supported when the speedup ({slow} seconds / {fast} seconds, geometric mean over "
        f"repeats) has a 95% CI above {MIN_SPEEDUP:g}; not supported when it lies below "
        f"{MIN_SPEEDUP:g}; "
        "otherwise inconclusive (also when not measured on this machine)."
    )
    rows = [r for r in table if r.get("experiment") == experiment]
    timed = [r for r in rows if "seconds" in r]  # a "not measured" row has no timing
    times = {
        setting: {r["repeat"]: r["seconds"] for r in timed if r.get("setting") == setting}
        for setting in (slow, fast)
    }
    repeats = sorted(set(times[slow]) & set(times[fast]))
    if not repeats:
        status = next((r.get("status") for r in rows if r.get("status")), NOT_MEASURED)
        return Verdict(experiment, INCONCLUSIVE, hypothesis, rule, {"status": status}, 0)
    log_ratio, half = mean_ci([np.log(times[slow][i] / times[fast][i]) for i in repeats])
    speedup, low, high = (float(np.exp(v)) for v in (log_ratio, log_ratio - half, log_ratio + half))
    if low > MIN_SPEEDUP:
        verdict = SUPPORTED
    elif high < MIN_SPEEDUP:
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    numbers = {
        "speedup": speedup,
        "speedup_ci_low": low,
        "speedup_ci_high": high,
        f"seconds_{slow}": float(np.mean([times[slow][i] for i in repeats])),
        f"seconds_{fast}": float(np.mean([times[fast][i] for i in repeats])),
        "repeats": len(repeats),
    }
    return Verdict(experiment, verdict, hypothesis, rule, numbers, len(repeats))


def frontier_points(table) -> dict:
    """The lower envelope of test loss against training FLOPs, read at N_BUDGETS budgets.

    Rows: {"experiment": "frontier", "width", "epoch", "seed", "flops", "test_loss"}. At each
    log-spaced budget, the frontier config is the (width, epoch) with the lowest mean test
    loss among those that cost at most the budget. Returns the configs (in budget order,
    each once), their FLOPs, per-seed losses (seeds, configs) and the whole envelope.
    """
    rows = [r for r in table if r.get("experiment") == "frontier"]
    if not rows:
        raise ValueError("No 'frontier' rows in the table: expected width, epoch, seed, flops.")
    configs = sorted({(r["width"], r["epoch"]) for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    loss = np.full((len(seeds), len(configs)), np.nan)
    flops = np.zeros(len(configs))
    for r in rows:
        j = configs.index((r["width"], r["epoch"]))
        loss[seeds.index(r["seed"]), j] = r["test_loss"]
        flops[j] = r["flops"]
    mean = np.nanmean(loss, axis=0)
    order = np.argsort(flops)
    envelope = np.minimum.accumulate(mean[order])  # best loss affordable at each cost
    budgets = np.geomspace(flops.min(), flops.max(), N_BUDGETS)
    chosen = []
    for budget in budgets:
        affordable = np.flatnonzero(flops <= budget * (1 + 1e-9))
        best = int(affordable[np.nanargmin(mean[affordable])])
        if best not in chosen:
            chosen.append(best)
    return {
        "configs": [configs[j] for j in chosen],
        "flops": flops[chosen],
        "loss": loss[:, chosen],
        "envelope_flops": flops[order],
        "envelope_loss": envelope,
    }


def frontier_verdict(table) -> Verdict:
    """Along the compute frontier, does more compute give lower test loss beyond noise?

    Rule: `supported` when the per-seed least-squares slope of log(test loss) against
    log(training FLOPs), over the frontier configs read at N_BUDGETS log-spaced budgets,
    has a 95% CI entirely below 0; `not supported` when its CI reaches 0; `inconclusive`
    with fewer than MIN_FRONTIER_POINTS distinct frontier configs or fewer than 2 seeds.
    """
    rule = (
        f"supported when the log-log slope of test loss against training FLOPs over the "
        f"frontier (best mean loss affordable at {N_BUDGETS} log-spaced budgets; >= "
        f"{MIN_FRONTIER_POINTS} distinct configs) has a 95% CI below 0 over seeds; not "
        "supported when the CI reaches 0; otherwise inconclusive."
    )
    hypothesis = "Along the compute frontier, more training compute gives lower test loss."
    points = frontier_points(table)
    loss = points["loss"][np.isfinite(points["loss"]).all(axis=1)]
    numbers = {
        "frontier_widths": [w for w, _ in points["configs"]],
        "frontier_epochs": [e for _, e in points["configs"]],
        "frontier_flops": points["flops"].tolist(),
        "frontier_loss": np.mean(loss, axis=0).tolist() if len(loss) else [],
    }
    if len(points["configs"]) < MIN_FRONTIER_POINTS or len(loss) < 2:
        return Verdict("frontier", INCONCLUSIVE, hypothesis, rule, numbers, len(loss))
    slope = slope_ci(np.log(points["flops"]), np.log(loss))
    numbers |= {"slope": slope["slope"], "slope_ci_low": slope["ci_low"]}
    numbers |= {"slope_ci_high": slope["ci_high"]}
    verdict = SUPPORTED if slope["ci_high"] < 0 else NOT_SUPPORTED
    return Verdict("frontier", verdict, hypothesis, rule, numbers, len(loss))


# -- measurements --------------------------------------------------------------------------
def timed_fit(ctx: Context, data, hidden, train: TrainConfig, tag: str, repeat: int = 0):
    """(fit, wall seconds of its training, seconds at the end of each epoch) for one ctx.fit,
    timed by the engine from the start of training. `repeat` tells repeated timings of one
    call apart (each is its own measurement, and its own entry in a results store)."""
    recorder = EpochSeconds(repeat=repeat)
    fit = ctx.fit(data, ModelConfig(hidden=hidden), train, tag=tag, recorders=(recorder,))
    stamps = fit.records[recorder.name][0]  # the same for every member: they train together
    return fit, float(stamps[-1]), stamps


def measure_throughput(ctx, data, params) -> list[dict]:
    """Samples per second of one model against batch size (one thread: no threading mixed in)."""
    rows = []
    n = len(data.X_train)
    for repeat in range(params["repeats"]):
        for batch in params["batch_sizes"]:
            train = TrainConfig(lr=LR, batch_size=batch, epochs=params["throughput_epochs"])
            tag = f"batch {batch}"
            _, seconds, _ = timed_fit(ctx, data, THROUGHPUT_HIDDEN, train, tag, repeat)
            rows.append(
                {
                    "experiment": "throughput",
                    "setting": f"batch {batch}",
                    "batch_size": batch,
                    "repeat": repeat,
                    "seconds": seconds,
                    "samples_per_second": n * train.epochs / seconds,
                }
            )
    return rows


def measure_vectorised(ctx, data, params) -> list[dict]:
    """M members as one vectorised fit against M fits of one member each (same seeds)."""
    M, epochs, n = params["members"], params["vector_epochs"], len(data.X_train)
    rows = []
    for repeat in range(params["repeats"]):
        train = TrainConfig(lr=LR, batch_size=VECTOR_BATCH, epochs=epochs, n_seeds=M)
        together, t_vec, _ = timed_fit(ctx, data, VECTOR_HIDDEN, train, f"vectorised {M}", repeat)
        t_loop, alone = 0.0, []
        for s in range(M):
            one = TrainConfig(lr=LR, batch_size=VECTOR_BATCH, epochs=epochs, seed=s)
            fit, seconds, _ = timed_fit(ctx, data, VECTOR_HIDDEN, one, f"looped seed {s}", repeat)
            t_loop += seconds
            alone.append(fit.history.val_loss[0, -1])
        # the same members either way: only the arithmetic is shared
        difference = float(np.max(np.abs(together.history.val_loss[:, -1] - np.array(alone))))
        for setting, seconds in (("looped", t_loop), ("vectorised", t_vec)):
            rows.append(
                {
                    "experiment": "vectorised",
                    "setting": setting,
                    "members": M,
                    "repeat": repeat,
                    "seconds": seconds,
                    "samples_per_second": M * n * epochs / seconds,
                    "max_loss_difference": difference,
                }
            )
    return rows


def measure_threads(ctx, data, params) -> list[dict]:
    """The vectorised fit of `members` members on 1 torch thread against 2."""

    if (os.cpu_count() or 1) < 2:
        return [{"experiment": "threads", "setting": "2 threads", "status": "one CPU core only"}]
    M, epochs, n = params["members"], params["vector_epochs"], len(data.X_train)
    train = TrainConfig(lr=LR, batch_size=THREADS_BATCH, epochs=epochs, n_seeds=M)
    rows = []
    for repeat in range(params["repeats"]):
        for threads in (1, 2):
            with torch_threads(threads):
                tag = f"{threads} thr"
                _, seconds, _ = timed_fit(ctx, data, THROUGHPUT_HIDDEN, train, tag, repeat)
            rows.append(
                {
                    "experiment": "threads",
                    "setting": f"{threads} thread" + ("s" if threads > 1 else ""),
                    "members": M,
                    "repeat": repeat,
                    "seconds": seconds,
                    "samples_per_second": M * n * epochs / seconds,
                }
            )
    return rows


def measure_gpu(ctx, data, params) -> list[dict]:
    """The same vectorised fit on CUDA and on the CPU, or a row saying it was not measured."""

    if not torch.cuda.is_available():
        return [{"experiment": "gpu", "setting": "cuda", "status": NOT_MEASURED}]
    name = torch.cuda.get_device_name(0)
    M, epochs, n = params["gpu_members"], params["vector_epochs"], len(data.X_train)
    rows = []
    for repeat in range(params["repeats"] + 1):  # the first CUDA run pays for warm-up
        for device in ("cpu", "cuda"):
            train = TrainConfig(
                lr=LR, batch_size=THREADS_BATCH, epochs=epochs, n_seeds=M, device=device
            )
            tag = f"gpu {device}"
            _, seconds, _ = timed_fit(ctx, data, THROUGHPUT_HIDDEN, train, tag, repeat)
            if repeat == 0:
                continue
            rows.append(
                {
                    "experiment": "gpu",
                    "setting": device,
                    "device_name": name if device == "cuda" else "cpu",
                    "members": M,
                    "repeat": repeat - 1,
                    "seconds": seconds,
                    "samples_per_second": M * n * epochs / seconds,
                }
            )
    return rows


def measure_frontier(ctx, data, params) -> list[dict]:
    """Test loss and accuracy after every epoch for each width, with FLOPs and wall time."""
    rows = []
    n = len(data.X_train)
    for width in params["widths"]:
        model = ModelConfig(hidden=(width, width))
        per_sample = forward_flops(model, data.n_features, data.n_outputs)
        train = TrainConfig(
            lr=LR,
            batch_size=VECTOR_BATCH,
            epochs=params["frontier_epochs"],
            n_seeds=params["n_seeds"],
        )
        fit, _, stamps = timed_fit(ctx, data, model.hidden, train, f"frontier width {width}")
        history = fit.history
        for m, seed in enumerate(fit.seeds):
            for e in range(history.n_epochs):
                rows.append(
                    {
                        "experiment": "frontier",
                        "width": width,
                        "epoch": e + 1,
                        "seed": seed,
                        "flops": training_flops(per_sample, n, e + 1),
                        "seconds": float(stamps[e]),
                        "test_loss": float(history.val_loss[m, e]),
                        "test_accuracy": float(history.val_metric[m, e]),
                    }
                )
    return rows


def time_to_target(table, target: float = TARGET_ACCURACY) -> list[dict]:
    """Per width: the epoch, wall seconds and FLOPs at which each seed first reaches the
    target test accuracy (NaN when it never does), summarised over seeds."""
    rows = [r for r in table if r.get("experiment") == "frontier"]
    out = []
    for width in sorted({r["width"] for r in rows}):
        mine = [r for r in rows if r["width"] == width]
        seconds, flops = [], []
        for seed in sorted({r["seed"] for r in mine}):
            reached = sorted(
                (r["epoch"], r["seconds"], r["flops"])
                for r in mine
                if r["seed"] == seed and r["test_accuracy"] >= target
            )
            seconds.append(reached[0][1] if reached else np.nan)
            flops.append(reached[0][2] if reached else np.nan)
        ok = np.isfinite(seconds)
        s_mean, s_half = mean_ci(np.asarray(seconds)[ok]) if ok.any() else (np.nan, np.nan)
        f_mean, _ = mean_ci(np.asarray(flops)[ok]) if ok.any() else (np.nan, np.nan)
        out.append(
            {
                "experiment": "time_to_target",
                "width": width,
                "target_accuracy": target,
                "seeds_reaching": int(ok.sum()),
                "seeds": len(seconds),
                "seconds_to_target": s_mean,
                "seconds_to_target_ci": s_half,
                "flops_to_target": f_mean,
            }
        )
    return out


class ComputeClaim(Claim):
    name = "compute"
    title = "More compute: throughput and the compute frontier"
    hypothesis = HYPOTHESIS
    literature = (
        "Kaplan et al. 2020: test loss falls as a power law in training compute along the "
        "compute-efficient frontier, where larger models become optimal at larger budgets",
        "Raina et al. 2009: GPUs trained large networks up to ~70x faster than a CPU",
        "Hestness et al. 2017: growing data and models need compute to grow with them",
    )
    presets = {
        "quick": {
            "n_seeds": 3,
            "repeats": 3,
            "batch_sizes": [32, 256],
            "throughput_epochs": 1,
            "members": 4,
            "gpu_members": 16,
            "vector_epochs": 1,
            "widths": [4, 16],
            "frontier_epochs": 3,
        },
        "full": {
            "n_seeds": 10,
            "repeats": 5,
            "batch_sizes": [16, 64, 256, 1024],
            "throughput_epochs": 3,
            "members": 16,
            "gpu_members": 64,
            "vector_epochs": 2,
            "widths": [4, 8, 16, 32, 64, 128],
            "frontier_epochs": 40,
        },
    }

    def experiment(self, ctx: Context, params: dict):

        data = load_dataset(DATASET)
        table = []
        # one thread, except where threads are the question: batch size, vectorisation and
        # the frontier's timings are then not mixed with threading
        with torch_threads(1):
            table += measure_throughput(ctx, data, params)
            table += measure_vectorised(ctx, data, params)
            table += measure_frontier(ctx, data, params)
        table += measure_threads(ctx, data, params)
        table += measure_gpu(ctx, data, params)  # the CPU side on the default threads
        targets = time_to_target(table)
        table += targets

        parts = [
            frontier_verdict(table),
            parallel_verdict(table, "vectorised", "looped", "vectorised"),
            parallel_verdict(table, "threads", "1 thread", "2 threads"),
            parallel_verdict(table, "gpu", "cpu", "cuda"),
            parallel_verdict(
                table,
                "throughput",
                f"batch {min(params['batch_sizes'])}",
                f"batch {max(params['batch_sizes'])}",
            ),
        ]
        gpu_measured = parts[3].numbers.get("status") is None
        required = ["frontier", "vectorised", "threads"] + (["gpu"] if gpu_measured else [])
        overall = combine(self.name, self.hypothesis, parts, params["n_seeds"], required)
        figures = {
            "throughput": _plot_throughput(table),
            "parallel": _plot_parallel(parts[1:4]),
            "frontier": _plot_frontier(table, parts[0]),
            "time_to_target": _plot_time_to_target(targets),
        }
        return self.result(
            params, table, overall, figures, _notes(table, parts, targets), _headline(parts)
        )


def _headline(parts) -> str:
    frontier, vectorised = parts[0].numbers, parts[1].numbers
    text = []
    if "slope" in frontier:
        half = (frontier["slope_ci_high"] - frontier["slope_ci_low"]) / 2
        text.append(
            f"frontier slope of log loss vs log FLOPs {frontier['slope']:.2f} (95% CI ±{half:.2f})"
        )
    if "speedup" in vectorised:
        text.append(
            f"vectorised {vectorised['speedup']:.1f}x faster than looped (95% CI "
            f"{vectorised['speedup_ci_low']:.1f}–{vectorised['speedup_ci_high']:.1f}x)"
        )
    return "; ".join(text)


def _notes(table, parts, targets) -> list[str]:
    frontier, vectorised, threads, gpu, batch = (p.numbers for p in parts)
    notes = [
        "Timings are wall-clock seconds on whatever else the machine was doing: a shared or "
        "busy CPU inflates them and narrows the speedups. Batch-size, vectorisation and "
        "frontier timings run on one torch thread, so threading does not mix in.",
        "FLOPs are counted from layer shapes (2 per multiply-add, training = 3 x forward x "
        "samples x epochs; biases and activations left out), as Kaplan et al. do; the "
        "frontier is read from every epoch of every width, so longer training and larger "
        "models compete for the same budget.",
    ]
    widths = frontier.get("frontier_widths", [])
    if widths:
        grows = widths[-1] > widths[0] and all(b >= a for a, b in zip(widths, widths[1:]))
        notes.append(
            "The compute-optimal width at increasing budgets: "
            + " -> ".join(f"{w} ({e} ep.)" for w, e in zip(widths, frontier["frontier_epochs"]))
            + (
                ". It grows with the budget, as Kaplan et al. find: small networks are the "
                "best use of little compute, wide ones of much."
                if grows
                else ". It does not grow steadily with the budget as Kaplan et al. find; at "
                "our scale digits saturates early and noise reorders close configs."
            )
        )
    if "speedup" in vectorised:
        difference = max(r["max_loss_difference"] for r in table if "max_loss_difference" in r)
        notes.append(
            f"Vectorised against looped: the same members either way (final test losses "
            f"differ by at most {difference:.1e}); the speedup comes from sharing per-step "
            "overhead and from larger matrix products."
        )
    if "speedup" in threads:
        notes.append(
            f"Two threads against one: {threads['speedup']:.2f}x (95% CI "
            f"{threads['speedup_ci_low']:.2f} to {threads['speedup_ci_high']:.2f}). "
            + (
                "Slower: when the other core is busy (a shared machine), the second thread "
                "waits for it at every step; on an idle machine the same run can gain."
                if threads["speedup"] < 1
                else "Small networks give a thread little work per step, so the gain stays "
                "well below the 2x two cores could give."
            )
        )
    notes.append(
        "GPU: "
        + (
            gpu["status"]
            if "status" in gpu
            else f"{gpu['speedup']:.1f}x the CPU's throughput "
            f"({next(r['device_name'] for r in table if r.get('setting') == 'cuda')})."
        )
    )
    if "speedup" in batch:
        notes.append(
            f"Throughput grows {batch['speedup']:.1f}x from the smallest to the largest batch: "
            "fewer, larger matrix products per sample."
        )
    reached = [t for t in targets if t["seeds_reaching"] == t["seeds"]]
    if reached:
        best = min(reached, key=lambda t: t["seconds_to_target"])
        notes.append(
            f"Fastest to {TARGET_ACCURACY:.0%} test accuracy: width {best['width']} in "
            f"{best['seconds_to_target']:.2f} s (95% CI ±{best['seconds_to_target_ci']:.2f}) "
            f"for all {best['seeds']} seeds at once, {best['flops_to_target']:.2g} FLOPs."
        )
    else:
        notes.append(f"No width reached {TARGET_ACCURACY:.0%} test accuracy on every seed.")
    return notes


# -- figures -------------------------------------------------------------------------------
def _plot_throughput(table):

    fig, ax = new_figure()
    rows = [r for r in table if r["experiment"] == "throughput"]
    batches = sorted({r["batch_size"] for r in rows})
    stats = [
        mean_ci([r["samples_per_second"] for r in rows if r["batch_size"] == b]) for b in batches
    ]
    ax.errorbar(
        batches,
        [s[0] for s in stats],
        yerr=[s[1] for s in stats],
        marker="o",
        color=PALETTE["blue"],
        capsize=3,
        label="mean over repeats, 95% CI",
    )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size (samples per step, log scale)")
    ax.set_ylabel("training throughput (samples / s, log scale)")
    ax.set_title("Bigger batches: more samples per second")
    ax.legend(fontsize=8)
    caption = (
        f"Samples per second of one MLP {THROUGHPUT_HIDDEN} on digits against batch size, on "
        "one thread, including the engine's once-per-epoch evaluation."
    )
    return fig, caption


def _plot_parallel(parts):

    fig, ax = new_figure()
    labels = ["vectorised\nvs looped", "2 threads\nvs 1", "GPU\nvs CPU"]
    colors = [PALETTE["blue"], PALETTE["green"], PALETTE["vermillion"]]
    for i, (part, color) in enumerate(zip(parts, colors)):
        v = part.numbers
        if "speedup" in v:
            err = [[v["speedup"] - v["speedup_ci_low"]], [v["speedup_ci_high"] - v["speedup"]]]
            ax.bar(i, v["speedup"], color=color, yerr=err, capsize=4)
            ax.text(i, v["speedup"], f" {v['speedup']:.1f}x", ha="left", va="bottom", fontsize=9)
        else:
            ax.text(
                i,
                1.0,
                v.get("status", NOT_MEASURED).replace(" on ", "\non "),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.axhline(MIN_SPEEDUP, color="black", lw=1, ls="--", label="no speedup")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylabel("speedup (slower seconds / faster seconds)")
    ax.set_title("Speedup of parallel execution (above 1: faster)")
    ax.legend(fontsize=8)
    caption = (
        "Speedup of each form of parallelism, mean over repeats with 95% CI: the engine's "
        "vectorised members against the same members one by one, two torch threads against "
        "one, CUDA against the CPU (only where a GPU is present)."
    )
    return fig, caption


def _plot_frontier(table, verdict):

    fig, ax = new_figure(size=(6.4, 4.8))
    rows = [r for r in table if r["experiment"] == "frontier"]
    for color, width in zip(CYCLE, sorted({r["width"] for r in rows})):
        mine = [r for r in rows if r["width"] == width]
        epochs = sorted({r["epoch"] for r in mine})
        flops = [next(r["flops"] for r in mine if r["epoch"] == e) for e in epochs]
        stats = [mean_ci([r["test_loss"] for r in mine if r["epoch"] == e]) for e in epochs]
        mean = np.array([s[0] for s in stats])
        half = np.array([s[1] for s in stats])
        ax.plot(flops, mean, color=color, lw=1.2, label=f"width {width} (mean)")
        ax.fill_between(flops, mean - half, mean + half, color=color, alpha=0.2, lw=0)
    points = frontier_points(table)
    ax.step(
        points["envelope_flops"],
        points["envelope_loss"],
        where="post",
        color=PALETTE["black"],
        lw=2,
        label="lower envelope (frontier)",
    )
    ax.scatter(
        points["flops"],
        points["loss"].mean(0),
        color=PALETTE["black"],
        zorder=5,
        s=18,
        label="frontier at log-spaced budgets",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute (FLOPs, log scale)")
    ax.set_ylabel("test loss (cross-entropy, log scale)")
    ax.set_title(f"More compute, lower test loss along the frontier ({verdict.verdict})")
    ax.legend(fontsize=7, ncol=2)
    caption = (
        "Test loss after every epoch of MLPs of several widths on digits against the training "
        "FLOPs spent so far (mean over seeds, 95% CI bands). The black step line is the lower "
        "envelope: the best loss any run reached within that budget."
    )
    return fig, caption


def _plot_time_to_target(targets):

    fig, ax = new_figure()
    widths = [t["width"] for t in targets]
    for i, t in enumerate(targets):
        if t["seeds_reaching"]:
            ci = t["seconds_to_target_ci"] if t["seeds_reaching"] >= 3 else None
            ax.bar(i, t["seconds_to_target"], yerr=ci, capsize=4, color=PALETTE["sky"])
            ax.text(
                i,
                t["seconds_to_target"] + (ci or 0.0),  # above the error bar
                f"{t['seeds_reaching']}/{t['seeds']}",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        else:
            ax.text(i, 0, "not\nreached", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(widths)), [str(w) for w in widths])
    ax.set_xlabel("hidden width (two layers)")
    ax.set_ylabel(f"wall seconds to {TARGET_ACCURACY:.0%} test accuracy")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Wall time to {TARGET_ACCURACY:.0%} test accuracy, by width")
    caption = (
        f"Wall-clock seconds until each seed first reaches {TARGET_ACCURACY:.0%} test accuracy "
        "on digits (mean over the seeds that reach it, 95% CI when at least 3 do; labels: "
        "seeds reaching / seeds). All seeds of a width train at once, on one thread, so this "
        "is the time for all of them."
    )
    return fig, caption


CLAIM = ComputeClaim()
