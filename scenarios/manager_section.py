"""The scenario's `[manager]` table: run every node under a cluster manager (protocol/manager/).

One frozen dataclass, validated like every other section (fields.py), then turned into the
protocol's `ManagerConfig`. Rules stated here:

- `strategy` picks the downing strategy; a key that only one strategy reads (quorum_size,
  down_if_alone, referee, down_all_if_less_than_nodes, the lease_* keys) given with another
  strategy is an error naming the strategy it belongs to.
- Omitted strategy keys take: quorum_size = a majority of cluster.nodes; referee = n0;
  lease_near = n0 (the node the lease sits beside, as reachable as it); the rest Akka's
  defaults (protocol/manager/config.py).
- The manager's checks (reports/checks.py: no_split_brain, min_availability, ...) need a
  `[manager]` table; schema.py refuses them without one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from swimlab.protocol.errors import ConfigError
from swimlab.protocol.faults import ABOVE_0, AT_LEAST_0, AT_LEAST_1, PROBABILITY, param
from swimlab.protocol.manager.config import STRATEGIES, STRATEGY_KEYS, ManagerConfig, Strategy, UnreachableOn

from .errors import ScenarioError
from .fields import build
from .nodesets import node_names

LEASE_PLACEMENT_KEYS = ("lease_near", "lease_rtt_ms")


@dataclass(frozen=True, kw_only=True)
class ManagerSection:
    strategy: Strategy = param("keep-majority", choices=STRATEGIES, doc="the downing strategy")
    stable_after_s: float = param(
        20.0, bound=AT_LEAST_0, doc="no decision until nothing changed for this long"
    )
    settle_s: float = param(1.0, bound=AT_LEAST_0, doc="a member's reachability must hold this long to show")
    tick_s: float = param(1.0, bound=ABOVE_0, doc="how often each manager looks and gossips")
    unreachable_on: UnreachableOn = param("suspect", doc="the SWIM state that makes a member unreachable")
    down_all_when_unstable_s: float | None = param(
        None,
        bound=AT_LEAST_0,
        doc="instability beyond stable_after_s + this downs all (omit: 3/4 of it; 0: off)",
    )
    removal_margin_s: float | None = param(
        None, bound=AT_LEAST_0, doc="down -> removed after (omit: stable_after_s)"
    )
    leave_when_downed: bool = param(True, doc="a downed node leaves SWIM (Akka's coordinated shutdown)")
    partition_threshold: float = param(0.5, bound=PROBABILITY, doc="the PartitionDetector's threshold")
    gossip_fanout: int = param(1, bound=AT_LEAST_1, doc="members sent the manager's state each tick")
    quorum_size: int | None = param(
        None, bound=AT_LEAST_1, doc="static-quorum (omit: a majority of the nodes)"
    )
    down_if_alone: bool | None = param(None, doc="keep-oldest (omit: true)")
    referee: str | None = param(None, doc="keep-referee: the referee node (omit: n0)")
    down_all_if_less_than_nodes: int | None = param(None, bound=AT_LEAST_1, doc="keep-referee (omit: 1)")
    lease_acquire_delay_for_minority_s: float | None = param(
        None, bound=AT_LEAST_0, doc="lease-majority (omit: 2)"
    )
    lease_timeout_s: float | None = param(None, bound=ABOVE_0, doc="lease-majority (omit: 5)")
    lease_ttl_s: float | None = param(None, bound=ABOVE_0, doc="lease-majority (omit: 120)")
    lease_near: str | None = param(
        None, doc="lease-majority: the lease is as reachable as this node (omit: n0)"
    )
    lease_rtt_ms: float | None = param(None, bound=AT_LEAST_0, doc="lease-majority: round trip (omit: 2)")

    def settings(self, n: int) -> ManagerConfig:
        """The protocol's ManagerConfig for a cluster of `n` initial nodes."""
        given = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        given.pop("lease_near", None)
        given.pop("lease_rtt_ms", None)
        if self.strategy == "static-quorum":
            given.setdefault("quorum_size", n // 2 + 1)
        if self.strategy == "keep-referee":
            given.setdefault("referee", "n0")
        return ManagerConfig(**given)

    @property
    def lease_placement(self) -> tuple[str, float]:
        """(the node the lease sits beside, its round trip in seconds)."""
        near = self.lease_near if self.lease_near is not None else "n0"
        return near, (2.0 if self.lease_rtt_ms is None else self.lease_rtt_ms) / 1000.0


def validate_manager(source: str, raw: Mapping[str, Any], n: int) -> ManagerSection:
    section = build(ManagerSection, source, "manager", raw)
    for key in raw:
        owner = STRATEGY_KEYS.get(key) or ("lease-majority" if key in LEASE_PLACEMENT_KEYS else None)
        if owner is not None and owner != section.strategy:
            expected = f"no such key for strategy = {section.strategy!r} (it applies to {owner!r})"
            raise ScenarioError(source, f"manager.{key}", expected, raw[key])
    names = node_names(n)
    for key in ("referee", "lease_near"):
        value = getattr(section, key)
        if value is not None and value not in names:
            raise ScenarioError(source, f"manager.{key}", f"a node name n0..n{n - 1}", value)
    if section.quorum_size is not None and section.quorum_size > n:
        raise ScenarioError(source, "manager.quorum_size", f"<= cluster.nodes ({n})", section.quorum_size)
    try:
        section.settings(n)
    except ConfigError as exc:
        raise ScenarioError(source, "manager", "valid manager settings", str(exc)) from None
    return section
