"""The stacked MLP's batched products: torch.baddbmm against a grouped 1-D convolution.

    python benchmarks/bench_products.py [--steps 2000]

`StackedMLP` multiplies each member's (H, K) weights by its (K, B) activations, for M
members at once. A grouped convolution (`conv1d(..., groups=M)`, channels member x feature,
length the batch) computes the same products in one oneDNN call; this times both at the
article network's shapes (H x K = 10 x 2, 10 x 10, 1 x 10; a batch of 32) for 10, 50 and
100 members, microseconds per call (one process, after 50 warm-up calls), and prints the
largest difference between their results.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F


def per_call_us(f, steps: int) -> float:
    for _ in range(50):
        f()
    start = time.perf_counter()
    for _ in range(steps):
        f()
    return (time.perf_counter() - start) / steps * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000, help="timed calls per case (2000)")
    args = p.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"cpu capability {torch.backends.cpu.get_cpu_capability()}")  # fmt: skip
    print(f"{'members':>7s} {'H x K':>7s} {'baddbmm us':>11s} {'conv1d us':>10s} {'max diff':>9s}")
    batch = 32
    for M in (10, 50, 100):
        for H, K in ((10, 2), (10, 10), (1, 10)):
            W, h, b = torch.randn(M, H, K), torch.randn(M, K, batch), torch.randn(M, H, 1)
            Wc, hc, bc = W.reshape(M * H, K, 1), h.reshape(1, M * K, batch), b.reshape(M * H)
            t_bmm = per_call_us(lambda: torch.baddbmm(b, W, h), args.steps)  # noqa: B023
            t_conv = per_call_us(lambda: F.conv1d(hc, Wc, bc, groups=M), args.steps)  # noqa: B023
            diff = torch.baddbmm(b, W, h) - F.conv1d(hc, Wc, bc, groups=M).view(M, H, batch)
            print(f"{M:7d} {f'{H} x {K}':>7s} {t_bmm:11.1f} {t_conv:10.1f} "
                  f"{diff.abs().max().item():9.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
