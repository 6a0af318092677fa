"""A minimal runtime that implements `swimlab.scenarios.runtime.FaultRuntime` and nothing else.

It keeps a heap of scheduled calls and a log of every operation, so a test can drive the
nemesis through a scenario's whole fault timeline and see exactly what it asked for. Any
attribute outside the interface raises AttributeError (slots), which is how the tests show that
the nemesis reaches into no runtime's internals.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from swimlab.protocol.faults import ALL_CAPABILITIES, Capability, Direction


class FakeRuntime:
    __slots__ = ("_queue", "_seq", "_time", "capabilities", "left", "log", "name", "up")

    def __init__(self, names: Sequence[str], capabilities: frozenset[Capability] = ALL_CAPABILITIES) -> None:
        self.name = "fake"
        self.capabilities = capabilities
        self.up = dict.fromkeys(names, True)
        self.left: set[str] = set()
        self.log: list[tuple[Any, ...]] = []
        self._queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._time = 0.0

    @property
    def now(self) -> float:
        return self._time

    def at(self, when: float, operation: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._queue, (max(when, self._time), next(self._seq), operation, args))

    def run(self, until: float) -> None:
        while self._queue and self._queue[0][0] < until:
            self._time, _, operation, args = heapq.heappop(self._queue)
            operation(*args)

    def node_names(self) -> list[str]:
        return list(self.up)

    def is_up(self, name: str) -> bool:
        return self.up[name]

    def record_fault(self, op: str, nodes: Sequence[str], **params: Any) -> None:
        self.log.append(("fault", self._time, op, list(nodes), params))

    def add_node(self, name: str, *, offset_s: float = 0.0, drift_ppm: float = 0.0) -> None:
        assert name not in self.up, name
        self.up[name] = False

    def boot(self, name: str, how: str = "boot") -> None:
        self.up[name] = True
        self.log.append(("boot", self._time, name, how))

    def crash(self, name: str) -> None:
        if self.up[name]:
            self.up[name] = False
            self.log.append(("crash", self._time, name))

    def has_left(self, name: str) -> bool:
        return name in self.left

    def restart(self, name: str, wiped: bool) -> None:
        assert wiped or name not in self.left, f"kept restart of {name}, which left"
        self.left.discard(name)
        self.up[name] = True
        self.log.append(("restart", self._time, name, wiped))

    def leave(self, name: str) -> None:
        if self.up[name] and name not in self.left:
            self.left.add(name)
            self.log.append(("leave", self._time, name))
            self.at(self._time + 2.0, self._exit, name)

    def _exit(self, name: str) -> None:
        self.up[name] = False

    def pause(self, name: str, duration_s: float) -> None:
        self.log.append(("pause", self._time, name, duration_s))

    def set_slow(self, names: Sequence[str], delay_s: float) -> None:
        self.log.append(("set_slow", self._time, list(names), delay_s))

    def clock_step(self, name: str, seconds: float) -> None:
        self.log.append(("clock_step", self._time, name, seconds))

    def set_drift(self, name: str, drift_ppm: float) -> None:
        self.log.append(("set_drift", self._time, name, drift_ppm))

    def partition(self, grudge: Mapping[str, frozenset[str]]) -> None:
        self.log.append(("partition", self._time, {k: sorted(v) for k, v in grudge.items()}))

    def heal(self) -> None:
        self.log.append(("heal", self._time))

    def set_default_loss(self, rate: float) -> None:
        self.log.append(("set_default_loss", self._time, rate))

    def set_loss(self, names: Sequence[str], rate: float, direction: Direction = "both") -> None:
        self.log.append(("set_loss", self._time, list(names), rate, direction))

    def set_extra_delay(self, names: Sequence[str], delay_s: float) -> None:
        self.log.append(("set_extra_delay", self._time, list(names), delay_s))

    def set_duplicate(self, names: Sequence[str], rate: float) -> None:
        self.log.append(("set_duplicate", self._time, list(names), rate))

    def set_ingress_drop(self, names: Sequence[str], on: bool) -> None:
        self.log.append(("set_ingress_drop", self._time, list(names), on))
