"""How a runtime runs a ClusterManager: the Driver that serves its lease requests, and factories.

The Driver is the one adapter both runtimes use (protocol/driver.py); a manager needs one thing
more, because its lease lives in the outside world: `ManagerDriver` hands each `LeaseRequest`
event to the runtime's `LeaseService` and feeds the answer back as `lease_reply`, on the same
loop, only while the process that asked still runs (not crashed, not replaced by a new life,
not paused: a paused process would take it late, and the manager's timeout covers that).

`manager_factories` gives the runtime its `node_factory` (a Node wrapped in a manager, with the
manager's own random stream split from the node's) and `driver_factory`; `lease_service` builds
the lease next to node `near` from the runtime's partition state (`Links`: `grudges`, dst ->
the sources it drops, and `blackholed`, nodes that hear nothing: the simulator's `Network` and
the live `LiveNetwork` both have them).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping
from typing import Protocol

from ..config import Config
from ..driver import Driver
from ..effects import Effects
from ..events import Event
from ..messages import NodeId
from ..node import Node
from ..transport import Clock, Transport
from .config import ManagerConfig
from .events import LeaseRequest
from .lease import LeaseService, Schedule
from .manager import ClusterManager


class ManagerDriver(Driver):
    def __init__(
        self,
        manager: ClusterManager,
        transport: Transport,
        clock: Clock,
        on_event: Callable[[Event], None] | None = None,
        lease: LeaseService | None = None,
    ) -> None:
        super().__init__(manager, transport, clock, on_event)
        self.manager = manager
        self.lease = lease

    def apply(self, effects: Effects) -> None:
        super().apply(effects)
        lease = self.lease
        if lease is not None:
            for event in effects.events:
                if isinstance(event, LeaseRequest):
                    lease.request(self.manager.name, event.owner, self._lease_answer)

    def _lease_answer(self, granted: bool) -> None:
        host = self.transport  # the runtime's host: its `driver`, `up` and `paused` say who runs
        if getattr(host, "driver", self) is not self or not getattr(host, "up", True):
            return
        if getattr(host, "paused", False):
            return
        self.apply(self.manager.lease_reply(granted, self.clock.now()))


NodeFactory = Callable[[NodeId, Config, random.Random], ClusterManager]
DriverFactory = Callable[..., ManagerDriver]


def manager_factories(
    settings: ManagerConfig, lease: LeaseService | None = None, events_capacity: int = 0
) -> tuple[NodeFactory, DriverFactory]:
    def node_factory(name: NodeId, config: Config, rng: random.Random) -> ClusterManager:
        manager_rng = random.Random(rng.getrandbits(64))
        return ClusterManager(Node(name, config, rng), settings, manager_rng, events_capacity)

    def driver_factory(
        manager: ClusterManager,
        transport: Transport,
        clock: Clock,
        on_event: Callable[[Event], None] | None = None,
    ) -> ManagerDriver:
        return ManagerDriver(manager, transport, clock, on_event, lease)

    return node_factory, driver_factory


class Links(Protocol):
    @property
    def grudges(self) -> Mapping[NodeId, Collection[NodeId]]: ...

    @property
    def blackholed(self) -> Collection[NodeId]: ...


def lease_service(
    settings: ManagerConfig,
    near: NodeId,
    links: Links,
    now: Callable[[], float],
    schedule: Schedule,
    rtt_s: float = 0.002,
) -> LeaseService:
    def cut(src: NodeId, dst: NodeId) -> bool:
        return src in links.grudges.get(dst, ()) or dst in links.blackholed

    return LeaseService(near, settings.lease_ttl_s, now, schedule, cut, rtt_s)
