"""What machine and versions produced a result (saved next to every output)."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import version  # not `import sklearn`: that alone takes ~1.5 s

import numpy

import whydl


def environment(device: str = "cpu") -> dict:
    # lazily: torch takes ~1 s to import, and the light commands (`whydl runs`) never ask
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if "model name" in ln), cpu)
    except OSError:
        pass
    env = {
        "whydl": whydl.__version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": version("scikit-learn"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
    }
    if device.startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return env
