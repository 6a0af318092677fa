"""Named random streams split from one run seed: the one recipe every layer uses.

Every random decision in a run comes from a stream named by its purpose and owner
(`stream(seed, "net", "n7")`, `stream(seed, "nemesis", 3)`), derived through SHA-256 of
`"seed:part:part..."` rather than `hash()`, so it does not depend on PYTHONHASHSEED or on the
order in which streams are made. Adding a node, a fault or a new purpose never shifts the draws
of another stream. It lives in protocol/ because both the simulator and the scenario layer
(the nemesis) derive streams and protocol/ is the only package both may import.
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
