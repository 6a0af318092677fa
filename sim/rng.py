"""The simulator's random streams: `swimlab.protocol.streams` (one recipe for every layer).

Kept as a module so `from swimlab.sim.rng import stream` keeps working inside sim/.
"""

from __future__ import annotations

from swimlab.protocol.streams import derive_seed, stream

__all__ = ["derive_seed", "stream"]
