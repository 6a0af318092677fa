"""`ManagerCluster`: a PureCluster whose members are ClusterManagers (each wrapping a Node).

Same heap, same explicit time, every message through the real codec (ManagerGossip included);
the strategy may differ per node (`settings_for`), which lets a test build a side that never
decides. Lease requests are answered by an in-memory `LeaseService` next to `lease_near`,
reachable subject to the cluster's cuts.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from swimlab.protocol.config import Config, local
from swimlab.protocol.effects import Effects
from swimlab.protocol.manager.config import ManagerConfig
from swimlab.protocol.manager.events import LeaseRequest
from swimlab.protocol.manager.lease import LeaseService
from swimlab.protocol.manager.manager import ClusterManager
from swimlab.protocol.messages import NodeId
from swimlab.protocol.node import Node

from .pure_cluster import PureCluster

FAST = local().replace(probe_interval_s=0.5, probe_timeout_s=0.2, gossip_interval_s=0.1)
"""A quick SWIM: suspicion within a second or two, so tests stay short in simulated time."""


def settings(**changes: object) -> ManagerConfig:
    base = ManagerConfig(strategy="keep-majority", stable_after_s=5.0, settle_s=0.5, tick_s=0.25)
    return base.replace(**changes)


class ManagerCluster(PureCluster):
    def __init__(
        self,
        n: int,
        settings_for: Callable[[NodeId], ManagerConfig] | None = None,
        config: Config | None = None,
        seed: int = 0,
        events_capacity: int = 0,
        lease_near: NodeId | None = None,
    ) -> None:
        self.settings_for = settings_for or (lambda name: settings())
        self.events_capacity = events_capacity
        self.lease: LeaseService | None = None
        super().__init__(n, config or FAST, seed)
        if lease_near is not None:
            self.lease = LeaseService(
                lease_near,
                ttl_s=60.0,
                now=lambda: self.now,
                schedule=self._later,
                cut=lambda src, dst: (src, dst) in self.cut,
            )

    def _new_node(self, name: NodeId) -> Node:
        life = self.epoch.get(name, 0)
        node = Node(name, self.config, random.Random(f"{self.seed}:{name}:{life}"))
        manager = ClusterManager(
            node, self.settings_for(name), random.Random(f"{self.seed}:m:{name}:{life}"), self.events_capacity
        )
        self.nodes[name] = manager  # type: ignore[assignment]
        self.epoch[name] = life + 1
        self.lives[name] = self.lives.get(name, 0) + 1
        return manager  # type: ignore[return-value]

    def manager(self, name: NodeId) -> ClusterManager:
        m = self.nodes[name]
        assert isinstance(m, ClusterManager)
        return m

    def apply(self, name: NodeId, effects: Effects) -> None:
        super().apply(name, effects)
        if self.lease is not None:
            for event in effects.events:
                if isinstance(event, LeaseRequest):
                    self.lease.request(name, event.owner, self._answer(name, self.epoch[name]))

    def _answer(self, name: NodeId, epoch: int) -> Callable[[bool], None]:
        def answer(granted: bool) -> None:
            if self.epoch[name] == epoch and name not in self.crashed:
                self.apply(name, self.manager(name).lease_reply(granted, self.now))

        return answer

    def _later(self, delay_s: float, fn: Callable[[], None]) -> None:
        # Runs at the next run_until step at or after now + delay (a test-side timer heap entry).
        self._callbacks.append((self.now + delay_s, fn))

    _callbacks: list[tuple[float, Callable[[], None]]]

    def run_until(self, t: float) -> None:
        if not hasattr(self, "_callbacks"):
            self._callbacks = []
        step = 0.05
        while self.now < t:
            target = min(t, self.now + step)
            super().run_until(target)
            due = [cb for cb in self._callbacks if cb[0] <= self.now]
            self._callbacks = [cb for cb in self._callbacks if cb[0] > self.now]
            for _, fn in due:
                fn()

    def serving(self) -> set[NodeId]:
        return {n for n in self.names if n not in self.crashed and self.manager(n).serving}
