"""Message load: messages and bytes sent per node per second of up-time, cluster-wide and per
node (Rapid's Table 2: mean, p99 and max over nodes), from the runtime's `end` counters.

Per-node rates divide what a node sent over all its lives (`sent_by_node`) by its own up-time,
so a node that joined late or crashed early is not diluted by time it was not running.
"""

from __future__ import annotations

import numpy as np

from swimlab.protocol.trace_schema import EndRecord

from ..schema import Load as LoadPart
from ..schema import PerNodeLoad, Spread
from .observer import Observer
from .truth import GroundTruth


class Load(Observer):
    def __init__(self, truth: GroundTruth) -> None:
        self.truth = truth
        self.counters: EndRecord | None = None

    def on_end(self, record: EndRecord) -> None:
        self.counters = record

    def result(self, end_t: float) -> LoadPart:
        c = self.counters
        node_seconds = max(self.truth.node_seconds, 1e-9)
        return LoadPart(
            messages_per_node_per_s=round((c["messages_sent"] if c else 0) / node_seconds, 6),
            bytes_per_node_per_s=round((c["bytes_sent"] if c else 0) / node_seconds, 6),
            messages_dropped=c["messages_dropped"] if c else {},
            per_node=self.per_node(end_t),
        )

    def per_node(self, end_t: float) -> PerNodeLoad:
        sent = self.counters["sent_by_node"] if self.counters else None
        if not sent:
            return PerNodeLoad(messages_per_s=None, bytes_per_s=None)
        uptime = self.truth.uptime_until(end_t)
        names = [name for name in sent if uptime.get(name, 0.0) > 0]

        def spread(col: int) -> Spread | None:
            rates = np.array([sent[name][col] / uptime[name] for name in names], dtype=float)
            if rates.size == 0:
                return None
            return Spread(
                mean=round(float(rates.mean()), 6),
                p99=round(float(np.percentile(rates, 99)), 6),
                max=round(float(rates.max()), 6),
            )

        return PerNodeLoad(messages_per_s=spread(0), bytes_per_s=spread(1))
