"""Run totals that belong to no concern above: notifications lost by a slow consumer (the
views may then miss transitions) and the kernel events the runtime processed."""

from __future__ import annotations

from swimlab.protocol.trace_schema import EndRecord

from .observer import Observer


class Totals(Observer):
    def __init__(self) -> None:
        self.events_dropped = 0
        self.events = 0

    def on_events_dropped(self, t: float, node: str, count: int) -> None:
        self.events_dropped += count

    def on_end(self, record: EndRecord) -> None:
        self.events = record["events"]
