"""What a downing strategy sees, what it may decide, and which members each decision downs.

This module owns the rules every strategy shares (Akka's `DowningStrategy`):

- The situation is one node's: the `members` it counts (its view's UP and UNREACHABLE members,
  itself included; DOWN and REMOVED ones are no longer members), and the unreachability
  `records` known to it: (observer, subject) pairs, its own and those its peers gossiped.
- Its side: the members joined to it by pairs that hold no record either way (they can still
  talk, directly or through others: SWIM's indirect probes and the gossip travel through third
  parties). Only records between members of the side count. `unreachable`: every member
  outside the side (a clean split, seen from either side), and every member of the side that
  some member of the side observes unreachable (a crash, a view still catching up, a bridge);
  the rest are `reachable`.
- Indirectly connected members: among the counted records, members both observing someone
  unreachable and observed unreachable themselves (Akka's cycle in the unreachability graph):
  they cannot talk to each other yet share a side through third parties, as behind a bridge
  node. A clean split, a crash or a node that hears nobody never produces one. A strategy that
  finds any decides DOWN_INDIRECTLY_CONNECTED first.
- Akka aggregates every record it has heard; its transports need both directions, so it never
  hears a record across a one-way cut. Our gossip is datagrams and does cross one: restricting
  the records to this node's side is what keeps a one-way cut, or one deaf node, from looking
  like everyone is indirectly connected. With records that only cross where both directions
  work, the two rules agree.
- Member order: by name, naturally (n2 before n10), Akka's "lowest address"; age order (for
  keep-oldest): by `up_number` (lower is older, unknown is youngest), then by name.
- Which members a decision downs (`nodes_to_down`), from the members still downable:
  DOWN_UNREACHABLE: the unreachable; DOWN_REACHABLE: the reachable (this node's own side);
  DOWN_ALL: all; DOWN_INDIRECTLY_CONNECTED: the indirectly connected, plus what the strategy
  decides once the records between indirectly connected members are set aside (if it then
  finds indirectly connected members again: all, as Akka does); REVERSE_DOWN_INDIRECTLY_
  CONNECTED (a lease was refused): the indirectly connected and the reachable.
- A lease decision (`LeaseDecision`) says: try to acquire the lease after `acquire_delay_s`;
  got it: act on `decision`; refused or no answer: act on its reverse (DOWN_UNREACHABLE ->
  DOWN_REACHABLE, DOWN_INDIRECTLY_CONNECTED -> REVERSE_DOWN_INDIRECTLY_CONNECTED).

Akka's extra check for a membership change racing the partition (counting joining members on
the other side) has no counterpart: this manager has no joining/leaving states, a member is UP
once it has settled in SWIM's view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Protocol

from ..messages import NodeId


class Decision(StrEnum):
    DOWN_UNREACHABLE = "down-unreachable"
    DOWN_REACHABLE = "down-reachable"
    DOWN_ALL = "down-all"
    DOWN_INDIRECTLY_CONNECTED = "down-indirectly-connected"
    REVERSE_DOWN_INDIRECTLY_CONNECTED = "reverse-down-indirectly-connected"


@dataclass(frozen=True, slots=True)
class LeaseDecision:
    decision: Decision  # DOWN_UNREACHABLE or DOWN_INDIRECTLY_CONNECTED, if the lease is ours
    acquire_delay_s: float

    @property
    def reverse(self) -> Decision:
        if self.decision is Decision.DOWN_UNREACHABLE:
            return Decision.DOWN_REACHABLE
        return Decision.REVERSE_DOWN_INDIRECTLY_CONNECTED


def by_name(name: NodeId) -> tuple[int, NodeId]:
    """Natural order of node names: n2 before n10 (Akka orders members by address)."""
    return (len(name), name)


@dataclass(frozen=True)
class Situation:
    """One node's side of the story (see the module docstring)."""

    self_name: NodeId
    members: frozenset[NodeId]
    records: frozenset[tuple[NodeId, NodeId]] = frozenset()  # (observer, subject) unreachable
    up_numbers: Mapping[NodeId, int] = field(default_factory=dict)  # missing: not known yet

    @cached_property
    def side(self) -> frozenset[NodeId]:
        """The members joined to this node by pairs with no record either way."""
        members = self.members
        apart: dict[NodeId, set[NodeId]] = {m: set() for m in members}
        for o, s in self.records:
            if o in members and s in members:
                apart[o].add(s)
                apart[s].add(o)
        if self.self_name not in members:
            return frozenset()
        unvisited = set(members) - {self.self_name}
        side, frontier = {self.self_name}, [self.self_name]
        while frontier and unvisited:
            joined = unvisited - apart[frontier.pop()]  # set arithmetic: the complement graph's BFS
            unvisited -= joined
            side |= joined
            frontier.extend(joined)
        return frozenset(side)

    @cached_property
    def counted(self) -> frozenset[tuple[NodeId, NodeId]]:
        """The records that count: those between members of this node's side."""
        side = self.side
        return frozenset((o, s) for o, s in self.records if o in side and s in side)

    @cached_property
    def unreachable(self) -> frozenset[NodeId]:
        return (self.members - self.side) | frozenset(s for _, s in self.counted)

    @cached_property
    def reachable(self) -> frozenset[NodeId]:
        return self.members - self.unreachable

    @cached_property
    def indirectly_connected(self) -> frozenset[NodeId]:
        counted = self.counted
        return frozenset(o for o, _ in counted) & frozenset(s for _, s in counted)

    def by_address(self) -> list[NodeId]:
        return sorted(self.members, key=by_name)

    def by_age(self) -> list[NodeId]:
        """Oldest first: lowest up_number (unknown: youngest), then by name."""
        unknown = 1 << 64
        return sorted(self.members, key=lambda m: (self.up_numbers.get(m, unknown), *by_name(m)))

    def without_records_among(self, nodes: Iterable[NodeId]) -> Situation:
        among = frozenset(nodes)
        kept = frozenset((o, s) for o, s in self.records if not (o in among and s in among))
        return Situation(self.self_name, self.members, kept, self.up_numbers)


class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    def decide(self, situation: Situation) -> Decision | LeaseDecision | None:
        """The decision for this side; None: this strategy never downs anyone."""
        ...


def nodes_to_down(strategy: Strategy, situation: Situation, decision: Decision) -> frozenset[NodeId]:
    """The members `decision` downs in `situation` (rules in the module docstring)."""
    downable = situation.members
    if decision is Decision.DOWN_UNREACHABLE:
        return downable & situation.unreachable
    if decision is Decision.DOWN_REACHABLE:
        return downable & situation.reachable
    if decision is Decision.DOWN_ALL:
        return downable
    indirect = situation.indirectly_connected
    if decision is Decision.REVERSE_DOWN_INDIRECTLY_CONNECTED:
        return (downable & indirect) | (downable & situation.reachable)
    # DOWN_INDIRECTLY_CONNECTED: the cycle's members, plus the ordinary decision without it.
    rest = situation.without_records_among(indirect)
    if not rest.unreachable:
        return downable & indirect
    again = strategy.decide(rest)
    if isinstance(again, LeaseDecision):
        again = again.decision  # the lease was already acquired for this decision
    if again is None or again in (
        Decision.DOWN_INDIRECTLY_CONNECTED,
        Decision.REVERSE_DOWN_INDIRECTLY_CONNECTED,
    ):
        return downable  # Akka: a second indirectly-connected decision downs all instead
    return downable & (indirect | nodes_to_down(strategy, rest, again))
