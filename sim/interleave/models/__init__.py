"""Worked examples from the seed report, each in a buggy and a fixed form with its invariant.

The `-threads` examples are ports to `threading` (run by the controlled thread scheduler).

`EXAMPLES` maps an example name to its variants; variants whose `expect_bug` is true must be
caught by the explorer, the others must survive it. The real `swimlab.live.pool.ConnectionPool` runs
under the same explorer in `tests/interleave/live_pool_model.py`: `sim` never imports `live`.
"""

from __future__ import annotations

from typing import Any

from ..model import Model
from . import (
    conn_health,
    get_or_create,
    gossip_clone,
    partition_detector,
    pool_eviction,
    pool_eviction_threads,
    select_updates,
    select_updates_threads,
)

EXAMPLES: dict[str, dict[str, Model[Any]]] = {
    "pool-eviction": {"buggy": pool_eviction.BUGGY, "fixed": pool_eviction.FIXED},
    "get-or-create": {"buggy": get_or_create.BUGGY, "fixed": get_or_create.FIXED},
    "gossip-clone": {"buggy": gossip_clone.BUGGY, "fixed": gossip_clone.FIXED},
    "select-updates": {"buggy": select_updates.BUGGY, "fixed": select_updates.FIXED},
    "partition-detector": {
        "buggy": partition_detector.BUGGY,
        "naive": partition_detector.NAIVE,
        "fixed": partition_detector.FIXED,
    },
    "conn-health": {"buggy": conn_health.BUGGY, "fixed": conn_health.FIXED},
    "pool-eviction-threads": {"buggy": pool_eviction_threads.BUGGY, "fixed": pool_eviction_threads.FIXED},
    "select-updates-threads": {"buggy": select_updates_threads.BUGGY, "fixed": select_updates_threads.FIXED},
}
