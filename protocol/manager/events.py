"""What the cluster manager tells its application (and its runtime), as event values.

They travel in `Effects.events` beside the Node's own notifications (protocol/events.py's
`Event` includes them), so a runtime traces them with the rest, and an application reads them
through a bounded `EventStream` (`ClusterManager.events`), where a slow consumer sees
`EventsDropped(n)` instead of a silent gap.

`LeaseRequest` is not news for the application but a request to the runtime: the lease lives
in the scenario's outside world (lease.py), and the runtime answers with
`ClusterManager.lease_reply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..messages import NodeId


class MemberStatus(StrEnum):
    """A member as the application sees it. UP and UNREACHABLE members count as members; DOWN
    ones were excluded by a downing decision (their own side's or ours); REMOVED ones are gone
    (left gracefully, forgotten, or downed longer than the removal margin)."""

    UP = "up"
    UNREACHABLE = "unreachable"
    DOWN = "down"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class MemberStatusChanged:
    """The application view now holds `member` (never this node itself) as `status`."""

    member: NodeId
    status: MemberStatus


@dataclass(frozen=True, slots=True)
class ServingChanged:
    """This node starts (joined and up) or stops serving (downed, left); `reason` says why."""

    serving: bool
    reason: str


@dataclass(frozen=True, slots=True)
class DowningDecision:
    """The strategy decided (Akka's decision names: down-unreachable, down-reachable, down-all,
    down-indirectly-connected, ...) and these members are downed (this node among them if its
    side loses); `reachable`/`unreachable` are the side sizes it decided on."""

    strategy: str
    decision: str
    down: tuple[NodeId, ...]
    reachable: int
    unreachable: int


@dataclass(frozen=True, slots=True)
class PartitionStatusChanged:
    """The PartitionDetector's verdict on this node's view: healthy, suspected or partitioned."""

    status: str


@dataclass(frozen=True, slots=True)
class LeaseRequest:
    """Ask the lease in the outside world for `owner` (this node's side, named by its leader)."""

    owner: NodeId


@dataclass(frozen=True, slots=True)
class LeaseResult:
    """What became of a LeaseRequest: `granted`, `denied`, or `timeout` (no answer in time)."""

    owner: NodeId
    outcome: str


ManagerEvent = (
    MemberStatusChanged
    | ServingChanged
    | DowningDecision
    | PartitionStatusChanged
    | LeaseRequest
    | LeaseResult
)
APPLICATION_EVENTS = (MemberStatusChanged, ServingChanged, DowningDecision, PartitionStatusChanged)
"""The events an application reads from `ClusterManager.events`."""
