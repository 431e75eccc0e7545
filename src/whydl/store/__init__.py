"""The results store: every trained member, keyed by what determined it, in one SQLite file.

For each member the store keeps its config (JSON), seed, per-epoch history, final metrics,
environment and weights (`torch.save` bytes), so a cached call is rebuilt into the same
`whydl.engine.Fit` by the runtime (`whydl.runtime.codec`). The store also keeps each claim's
rendered result (`put_result`), so `whydl report --no-train` renders without training.

This package is storage alone: keys (`keys`) and the database (`database`). It imports
neither torch nor the engine, so `whydl runs ls` stays fast.

Example
-------
>>> from whydl.store import Store
>>> Store(":memory:").runs()
[]
"""

from whydl.store.database import (
    DEFAULT_STORE,
    HISTORY_COLUMNS,
    SCHEMA_VERSION,
    MissingResults,
    Store,
)
from whydl.store.keys import (
    CACHE_VERSION,
    KEYED_HOOKS,
    MEMBER_VALUES,
    MODEL_VALUES,
    PER_MEMBER_HOOKS,
    SPEC_VALUES,
    config_spec,
    dataset_fingerprint,
    member_key,
    member_rows,
    member_specs,
    rows_hash,
    run_id,
    state_hash,
)

__all__ = [
    "CACHE_VERSION",
    "DEFAULT_STORE",
    "HISTORY_COLUMNS",
    "KEYED_HOOKS",
    "MEMBER_VALUES",
    "MODEL_VALUES",
    "PER_MEMBER_HOOKS",
    "SPEC_VALUES",
    "SCHEMA_VERSION",
    "MissingResults",
    "Store",
    "config_spec",
    "dataset_fingerprint",
    "member_key",
    "member_rows",
    "member_specs",
    "rows_hash",
    "run_id",
    "state_hash",
]
