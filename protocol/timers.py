"""Typed timers. A timer says what it was set for; a stale one that fires is a no-op.

Nothing is ever cancelled (SimPy cannot cancel, and not cancelling keeps runtimes thin): the
Node checks, when a timer fires, that the thing it was set for is still current (the probe
`seq`, the suspicion `token`, the member's `incarnation`) and ignores it otherwise.

Everything that decides what a due timer does lives here too: `TIMER_DISPATCH` maps each timer
type to the Node handler that runs it and to the lifecycle input it counts as (lifecycle.py
says in which phase that input runs; a node that left still runs its gossip ticks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .lifecycle import Input
from .messages import NodeId


@dataclass(frozen=True, slots=True)
class ProbeTick:
    """A tick of the probe ticker (phase + k × probe_interval_s): start a probe unless one runs.
    Set only for the next tick after a probe that ended early (node.py: the probe loop)."""


@dataclass(frozen=True, slots=True)
class ProbeTimeout:
    """The direct ping of probe `seq` got no Ack in time: ask relays."""

    seq: int


@dataclass(frozen=True, slots=True)
class ProbeRoundEnd:
    """The deadline of probe `seq` (start + awareness-scaled interval): judge the target, and
    start the next probe at once (the ticker fired while it ran)."""

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
    """Retry the join seeds while no live member is known (Serf's retry_join), and try a full-state
    exchange with one dead member, so healed partitions re-merge (Serf's reconnect)."""


@dataclass(frozen=True, slots=True)
class ReclaimDead:
    """Forget `member`, dead or left at `incarnation`, unless it has come back since."""

    member: NodeId
    incarnation: int


@dataclass(frozen=True, slots=True)
class ManagerTick:
    """The cluster manager's periodic look (protocol/manager/): it handles this timer itself and
    never passes it to its Node, so it has no row in TIMER_DISPATCH."""


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
    | ManagerTick
)

# timer → (Node handler, lifecycle input). Each handler starts by checking that what its timer
# was set for is still current (the probe seq, the suspicion token, the member's incarnation).
TIMER_DISPATCH: Final[dict[type[Timer], tuple[str, Input]]] = {
    ProbeTick: ("on_probe_tick", Input.TIMER),  # stale while a probe runs
    ProbeTimeout: ("on_probe_timeout", Input.TIMER),  # stale unless probe `seq` runs
    ProbeRoundEnd: ("on_probe_round_end", Input.TIMER),  # stale unless probe `seq` runs
    RelayTimeout: ("on_relay_timeout", Input.TIMER),  # stale once the relayed ping was acked
    SuspicionTimeout: ("on_suspicion_timeout", Input.TIMER),  # stale once `token` is superseded
    GossipTick: ("on_gossip_tick", Input.GOSSIP_TICK),
    PushPullTick: ("on_push_pull_tick", Input.TIMER),
    ReconnectTick: ("on_reconnect_tick", Input.TIMER),
    ReclaimDead: ("on_reclaim_dead", Input.TIMER),  # stale once the member came back
}
