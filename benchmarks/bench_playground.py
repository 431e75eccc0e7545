"""The playground's server side, timed: frames a second per tab and bytes per frame.

    python benchmarks/bench_playground.py [--seconds 6]

Each case opens Session objects (what one browser tab gets from `whydl serve`) on the
article's setup, plays them, and takes every frame as soon as it is ready, as the server's
sender does, for --seconds. Prints frames per second per tab, epochs per second and the
mean frame size in bytes (the JSON text sent over the WebSocket). The page's drawing is not
timed here: a browser draws at most one frame per screen refresh.
"""

from __future__ import annotations

import argparse
import threading
import time

import torch

from whydl.web.session import Session

# (name, settings, tabs, the compared setup B or None, view command or None)
CASES = [
    ("article network, 1 seed, 1 tab", {}, 1, None, None),
    ("article network, 8 seeds, 1 tab", {"n_seeds": 8}, 1, None, None),
    ("article network, 1 seed, 4 tabs", {}, 4, None, None),
    ("A/B in 1 tab, 8 seeds per side", {"n_seeds": 8}, 1, {"n_seeds": 8, "batch_norm": True}, None),
    ("article network, 8 seeds, 2 tabs", {"n_seeds": 8}, 2, None, None),
    ("1 seed, neuron maps off screen", {}, 1, None, {"neurons": False}),
    ("1 seed, layer warp of layer 2 on", {}, 1, None, {"warp": 2}),
]


def measure(settings: dict, tabs: int, seconds: float, compare=None, view=None) -> dict:
    ready = threading.Event()
    sessions = [Session(ready.set, name=f"bench{i}") for i in range(tabs)]
    for s in sessions:
        s.start()
        s.submit({"type": "configure", "settings": settings})
        if compare is not None:
            s.submit({"type": "compare", "settings": compare})
        if view is not None:
            s.submit({"type": "view", **view})
    deadline = time.monotonic() + 30
    wanted = 1 if compare is None else 2  # a 'ready' per setup change
    started = [0] * tabs
    while min(started) < wanted and time.monotonic() < deadline:  # each tab's 'ready'
        for i, s in enumerate(sessions):
            messages, _ = s.take()
            started[i] += sum(isinstance(m, dict) and m["type"] == "ready" for m in messages)
        time.sleep(0.01)
    for s in sessions:
        s.submit({"type": "play"})
    frames, sizes = [0] * tabs, []
    start = time.monotonic()
    last_epoch = [0] * tabs
    while time.monotonic() - start < seconds:
        ready.wait(0.05)
        ready.clear()
        for i, s in enumerate(sessions):
            _, frame = s.take()
            if frame is not None:
                frames[i] += 1
                sizes.append(len(frame))
    elapsed = time.monotonic() - start
    for s in sessions:
        epochs = s.trainer.epoch if s.trainer else 0
        last_epoch[sessions.index(s)] = epochs
        s.close()
    return {
        "frames_per_s": [f / elapsed for f in frames],
        "epochs_per_s": sum(last_epoch) / tabs / elapsed,
        "bytes_per_frame": sum(sizes) / max(len(sizes), 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=6.0)
    args = p.parse_args()
    torch.set_num_threads(1)  # as `whydl serve` does
    print(f"{'case':44s} {'frames/s per tab':>18s} {'epochs/s':>9s} {'bytes/frame':>12s}")
    for name, settings, tabs, compare, view in CASES:
        r = measure(settings, tabs, args.seconds, compare, view)
        per_tab = min(r["frames_per_s"])
        print(f"{name:44s} {per_tab:18.1f} {r['epochs_per_s']:9.1f} {r['bytes_per_frame']:12,.0f}")


if __name__ == "__main__":
    main()
