"""Would `torch.compile` pay for the article's experiment on a CPU? Its compile cost against
what it saves per step, measured in one run.

    python benchmarks/bench_compile.py [--seeds 1 100] [--steps 200]

The engine's training step for the article's network (2-10-10-1 ReLU, sigmoid output via
the logistic loss, Adam, batch 32) is the stacked model's hand-written forward and backward
(`StackedMLP.gradients`) followed by the stacked Adam update. The benchmark times that step
eagerly, then compiled with `torch.compile` (inductor, default mode) around `gradients`:
the first compiled call's seconds (tracing and C++ code generation), and the steady step
time after it. A compiled path is worth keeping only when its compile seconds are recovered
within the run that pays them: the article's run is 2,200 steps, so the break-even is
compile seconds / (eager step - compiled step) steps. Printed per member count.

Then the same step through `torch.export`: `gradients` exported as a program of ATen ops
(its export seconds), run as the exported program's module (no inductor), its gradients
checked against the eager ones after a real update, and its steady step time.
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from whydl.config import ModelConfig, TrainConfig
from whydl.data import article_moons
from whydl.engine import Trainer

ARTICLE_STEPS = 2200  # 100 epochs of 22 batches of 32 (700 training points)


def trainer(n_seeds: int) -> Trainer:
    return Trainer(article_moons(), ModelConfig(), TrainConfig(n_seeds=n_seeds))


def batch(t: Trainer):
    return t.X_fit[:32].expand(t.net.M, 32, -1), t.y_fit[:32].expand(t.net.M, 32, -1)


def step_seconds(t: Trainer, gradients, steps: int) -> float:
    """Mean seconds of one training step (gradients and the optimiser's update)."""
    xb, yb = batch(t)
    start = time.perf_counter()
    for _ in range(steps):  # step 0 each time: no dropout here, and a changing int would recompile
        t.opt.step(gradients(xb, yb, t.task, 0))
    return (time.perf_counter() - start) / steps


class _GradientStep(torch.nn.Module):
    """`gradients` as a module, so `torch.export` can trace it (clones: an exported program
    returns new tensors, not views of the engine's gradient buffer)."""

    def __init__(self, t: Trainer):
        super().__init__()
        self.net, self.task = t.net, t.task

    def forward(self, xb, yb):
        return tuple(g.clone() for g in self.net.gradients(xb, yb, self.task, 0))


def exported_path(t: Trainer, steps: int) -> tuple[float, float, float]:
    """(export seconds, largest |gradient difference| from eager after an update, seconds
    a step) of the exported program."""
    xb, yb = batch(t)
    start = time.perf_counter()
    with warnings.catch_warnings():  # the stack's weights are views, lifted as constants
        warnings.simplefilter("ignore")
        program = torch.export.export(_GradientStep(t), (xb, yb)).module()
    export_s = time.perf_counter() - start
    t.opt.step(t.net.gradients(xb, yb, t.task, 0))  # the weights move: does the program see it?
    eager = [g.clone() for g in t.net.gradients(xb, yb, t.task, 0)]
    difference = max((a - b).abs().max().item() for a, b in zip(eager, program(xb, yb)))

    def gradients(xb, yb, task, step):  # into the optimiser's flat buffer, as the engine does
        torch.cat([g.reshape(-1) for g in program(xb, yb)], out=t.net.flat_grad)
        return t.net.grad_list

    step_seconds(t, gradients, 20)
    return export_s, difference, step_seconds(t, gradients, steps)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 100])
    p.add_argument("--steps", type=int, default=200, help="timed steps per path (200)")
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for n in args.seeds:
        t = trainer(n)
        step_seconds(t, t.net.gradients, 20)  # warm
        eager = step_seconds(t, t.net.gradients, args.steps)
        compiled = torch.compile(t.net.gradients)
        xb, yb = batch(t)
        start = time.perf_counter()
        t.opt.step(compiled(xb, yb, t.task, 0))  # the first call compiles
        compile_s = time.perf_counter() - start
        step_seconds(t, compiled, 20)
        fused = step_seconds(t, compiled, args.steps)
        saved = eager - fused
        even = compile_s / saved if saved > 0 else float("inf")
        print(
            f"{n:>4} member(s): eager {eager * 1e6:7.1f} us/step, compiled {fused * 1e6:7.1f} "
            f"us/step ({eager / fused:.2f}x), compile {compile_s:.1f} s; break-even after "
            f"{even:,.0f} steps (the article's run: {ARTICLE_STEPS:,})"
        )
        t = trainer(n)
        eager = step_seconds(t, t.net.gradients, args.steps)
        export_s, difference, exported = exported_path(t, args.steps)
        print(
            f"{n:>4} member(s): eager {eager * 1e6:7.1f} us/step, torch.export program "
            f"{exported * 1e6:7.1f} us/step ({eager / exported:.2f}x), export {export_s:.1f} s, "
            f"largest gradient difference {difference:.1e}"
        )


if __name__ == "__main__":
    main()
