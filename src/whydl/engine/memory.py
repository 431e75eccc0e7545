"""A memory estimate made before anything is allocated, so an impossible run is refused with
its size instead of dying in a 40 GB allocation (`--hidden 100000,100000`).

The estimate counts, per member, every copy of the parameters that training holds at once
(the plain module built from the seed, the stacked parameters, their gradients, the
optimiser's state and an early-stopping snapshot) plus the activations of one evaluation
pass over the training and held-out rows, which is the largest forward pass the loop makes.
"""

from __future__ import annotations

import os

from whydl.errors import WhydlError

DEFAULT_BUDGET_GIB = 8.0  # a third of the 24 GiB machine whydl is developed on
BUDGET_VARIABLE = "WHYDL_MEMORY_BUDGET_GIB"  # raise it on a bigger machine
BYTES_PER_FLOAT = 4  # float32 throughout
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adam": 2, "adamw": 2}
CNN_ACTIVATIONS_PER_ROW = 8 * 8 * 8 * 2  # SmallCNN on 8x8 images: conv1's maps dominate


def budget_bytes() -> float:
    """The budget in bytes: DEFAULT_BUDGET_GIB, or the WHYDL_MEMORY_BUDGET_GIB variable."""
    text = os.environ.get(BUDGET_VARIABLE)
    if text is None:
        return DEFAULT_BUDGET_GIB * 2**30
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise WhydlError(
            f"{BUDGET_VARIABLE}={text!r} is not valid. Expected a positive number of GiB, "
            f"e.g. {BUDGET_VARIABLE}=16, or unset it for the default {DEFAULT_BUDGET_GIB:g}."
        )
    return value * 2**30


def mlp_n_parameters(n_inputs: int, n_outputs: int, hidden, batch_norm: bool = False) -> int:
    """The parameter count of `models.MLP`, computed without building it.

    Example
    -------
    >>> mlp_n_parameters(2, 1, (10, 10))  # the article's 2-10-10-1 network
    151
    """
    widths = (n_inputs, *hidden)
    n = 0
    for a, b in zip(widths, hidden):
        n += a * b + (2 * b if batch_norm else b)  # no bias before batch norm; BN's scale, shift
    return n + widths[-1] * n_outputs + n_outputs


def estimate_bytes(
    n_parameters: int,
    n_members: int,
    n_rows: int,
    activations_per_row: int,
    optimizer: str,
    early_stopping: bool,
) -> int:
    """Peak bytes of a training run (see the module docstring for what is counted)."""
    copies = 3 + OPTIMIZER_STATES.get(optimizer, 2) + int(early_stopping)
    per_member = n_parameters * copies + 2 * n_rows * activations_per_row  # 2: pre- and post-
    return int(BYTES_PER_FLOAT * n_members * per_member)


def check_fits(n_parameters: int, n_members: int, **size) -> None:
    """Raise a `WhydlError` with the run's size when it would exceed the memory budget.
    `size` holds the rest of `estimate_bytes`' arguments."""
    need = estimate_bytes(n_parameters, n_members, **size)
    budget = budget_bytes()
    if need > budget:
        raise WhydlError(
            f"this run needs about {need / 2**30:,.1f} GiB ({n_parameters:,} parameters x "
            f"{n_members} member(s), with gradients, optimiser state and activations), over "
            f"the memory budget of {budget / 2**30:g} GiB. Use smaller --hidden widths or fewer "
            f"--seeds, or raise the budget with {BUDGET_VARIABLE}=N on a machine with more "
            "memory."
        )
