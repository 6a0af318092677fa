"""Fault intervals per node, for shading figures Jepsen-style: from when a fault (or being down)
starts affecting a node until it stops, by cause. Overlapping faults of one cause on one node
make one interval; intervals still open at the end close at the end of the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from swimlab.protocol.trace_schema import HostHow, ImpairRecord

from ..schema import FaultInterval
from .observer import Observer


@dataclass
class _Interval:
    node: str
    cause: str
    start: float
    end: float | None = None


class Intervals(Observer):
    def __init__(self) -> None:
        self.intervals: list[_Interval] = []
        self._open: dict[tuple[str, str], _Interval] = {}

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        self._start(name, "down", t)

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        self._stop(name, "down", t)

    def on_impair(self, t: float, record: ImpairRecord) -> None:
        if record["on"]:
            self._start(record["node"], record["cause"], t)
        else:
            self._stop(record["node"], record["cause"], t)

    def _start(self, name: str, cause: str, t: float) -> None:
        if (name, cause) not in self._open:
            interval = _Interval(name, cause, t)
            self._open[(name, cause)] = interval
            self.intervals.append(interval)

    def _stop(self, name: str, cause: str, t: float) -> None:
        interval = self._open.pop((name, cause), None)
        if interval is not None:
            interval.end = t

    def finish(self, end_t: float) -> None:
        for interval in self.intervals:
            if interval.end is None:
                interval.end = end_t

    def result(self) -> list[FaultInterval]:
        return [FaultInterval(node=i.node, cause=i.cause, start=i.start, end=i.end) for i in self.intervals]
