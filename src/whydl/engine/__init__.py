"""The engine: many members trained as one vectorised computation.

Building blocks, usable on their own: `stack` (M modules -> one stacked model),
`StackedOptimizer`, `tasks` (losses/metrics), and `fit`, the loop that ties them together;
recorders (`GradientNorms`, `EpochSeconds`) declare what `fit` measures while it trains.
"""

from whydl.engine.history import History
from whydl.engine.optim import OPTIMIZERS, StackedOptimizer
from whydl.engine.recorders import EpochSeconds, GradientNorms, Recorder
from whydl.engine.stacked import Stacked, StackedCNN, StackedMLP, stack
from whydl.engine.trainer import Fit, Trainer, build_members, evaluate, fit

__all__ = [
    "OPTIMIZERS",
    "EpochSeconds",
    "Fit",
    "GradientNorms",
    "History",
    "Recorder",
    "Stacked",
    "StackedCNN",
    "StackedMLP",
    "StackedOptimizer",
    "Trainer",
    "build_members",
    "evaluate",
    "fit",
    "stack",
]
