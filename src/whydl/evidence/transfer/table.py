"""The tidy rows of the transfer claim: the methods' names and the shape of one row, shared
by the sweep (which measures them) and the rules (which decide on them and simulate them).

A row is one seed of one (domain, method, layers copied, k):
`{"domain", "method", "n_copied", "head", "k", "k_label", "seed", "test_accuracy"}`.

Example
-------
>>> row("digits", 3, SCRATCH, 0, 1, "1", 0.61234567)["test_accuracy"]
0.612346
"""

from __future__ import annotations

SCRATCH, FROZEN, FINE_TUNED, RANDOM = "scratch", "frozen", "fine-tuned", "random frozen"
METHODS = (SCRATCH, FROZEN, FINE_TUNED, RANDOM)
ZERO_SHOT = "pretrained, no target labels"  # the pretrained network as is (k = 0)
ALL = "all"  # k: every training row of the target


def row(domain, seed, method, n_copied, k, k_label, value, head="new") -> dict:
    """One tidy row; `head` says whether the output layer was copied or is new."""
    return {
        "domain": domain,
        "method": method,
        "n_copied": int(n_copied),
        "head": head,
        "k": int(k),
        "k_label": str(k_label),
        "seed": int(seed),
        "test_accuracy": round(float(value), 6),
    }


def accuracies(rows) -> dict:
    """(method, n_copied, k) -> {seed: test accuracy}, in one pass over the rows."""
    out: dict = {}
    for r in rows:
        out.setdefault((r["method"], r["n_copied"], r["k"]), {})[r["seed"]] = r["test_accuracy"]
    return out
