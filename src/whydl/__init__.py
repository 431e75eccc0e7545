"""whydl: measured evidence for why deep learning works.

The public surface is re-exported lazily, so `whydl --help` does not import torch.

Example
-------
>>> import whydl
>>> result = whydl.train("moons", epochs=5, seeds=3)
>>> sorted(result.metrics)[:2]
['device', 'diverged']
"""

__version__ = "0.1.0"

_EXPORTS = {
    "train": "whydl.api",
    "run": "whydl.api",
    "claim": "whydl.api",
    "TrainResult": "whydl.result",
    "load_data": "whydl.result",
    "RunConfig": "whydl.config",
    "DataConfig": "whydl.config",
    "ModelConfig": "whydl.config",
    "TrainConfig": "whydl.config",
    "Dataset": "whydl.data",
    "load_dataset": "whydl.data",
    "load_csv": "whydl.data",
    "MLP": "whydl.models",
    "SmallCNN": "whydl.models",
    "fit": "whydl.engine",
    "stack": "whydl.engine",
    "WhydlError": "whydl.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        import importlib  # lazily: the point of this module is to import nothing up front

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'whydl' has no attribute {name!r}")
