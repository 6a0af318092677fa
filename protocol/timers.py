"""Typed timers. A timer says what it was set for; a stale one that fires is a no-op.

Nothing is ever cancelled (SimPy cannot cancel, and not cancelling keeps runtimes thin): the
Node checks, when a timer fires, that the thing it was set for is still current (the probe
`seq`, the suspicion `token`, the member's `incarnation`) and ignores it otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from .messages import NodeId


@dataclass(frozen=True, slots=True)
class ProbeTick:
    """Start the next probe round (only the first is a tick; later rounds chain from ProbeRoundEnd)."""


@dataclass(frozen=True, slots=True)
class ProbeTimeout:
    """The direct ping of probe `seq` got no Ack in time: ask relays."""

    seq: int


@dataclass(frozen=True, slots=True)
class ProbeRoundEnd:
    """The probe period of `seq` is over: judge the target, start the next round."""

    seq: int


@dataclass(frozen=True, slots=True)
class RelayTimeout:
    """As a relay, the target never acked our ping `seq`: nack the origin."""

    seq: int


@dataclass(frozen=True, slots=True)
class SuspicionTimeout:
    """`member`, suspected at `incarnation`, is declared dead unless `token` has been superseded."""

    member: NodeId
    incarnation: int
    token: int


@dataclass(frozen=True, slots=True)
class GossipTick:
    """Send queued news to `gossip_nodes` random members."""


@dataclass(frozen=True, slots=True)
class PushPullTick:
    """Exchange full state with one random live member."""


@dataclass(frozen=True, slots=True)
class ReconnectTick:
    """Try a full-state exchange with one dead member, so healed partitions re-merge (Serf's reconnect)."""


@dataclass(frozen=True, slots=True)
class ReclaimDead:
    """Forget `member`, dead or left at `incarnation`, unless it has come back since."""

    member: NodeId
    incarnation: int


Timer = (
    ProbeTick
    | ProbeTimeout
    | ProbeRoundEnd
    | RelayTimeout
    | SuspicionTimeout
    | GossipTick
    | PushPullTick
    | ReconnectTick
    | ReclaimDead
)
