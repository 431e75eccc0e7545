"""The engine: many members trained as one vectorised computation.

Building blocks, usable on their own: `stack` (M modules -> one stacked model),
`StackedOptimizer`, `tasks` (losses/metrics), and `fit`, the loop that ties them together.
"""

from whydl.engine.history import History
from whydl.engine.optim import OPTIMIZERS, StackedOptimizer
from whydl.engine.stacked import Stacked, StackedCNN, StackedMLP, stack
from whydl.engine.trainer import Fit, Trainer, build_members, evaluate, fit

__all__ = [
    "OPTIMIZERS",
    "Fit",
    "History",
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
