"""Deterministic random streams split from a run's one seed.

Every random decision in a simulated run comes from a stream named by its purpose and its
owner (`stream(seed, "net", "n007")`), derived through SHA-256 rather than `hash()` so it does
not depend on PYTHONHASHSEED or on the order in which streams are created. Adding a node or a
new purpose therefore never shifts the draws of another stream.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit integer seed for the stream named `parts` under `seed`."""
    key = ":".join([str(seed), *(str(p) for p in parts)]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def stream(seed: int, *parts: object) -> random.Random:
    """An independent `random.Random` for the purpose named by `parts`."""
    return random.Random(derive_seed(seed, *parts))
