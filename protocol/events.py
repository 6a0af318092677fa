"""Notifications a Node emits about membership changes, for applications and traces.

They are values, returned in `Effects.events`; the bounded `EventStream` (event_stream.py)
delivers them to slow consumers without ever blocking the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

from .messages import NodeId


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """A member became known alive (first time, or back after being dead or left)."""

    member: NodeId
    incarnation: int


@dataclass(frozen=True, slots=True)
class MemberSuspected:
    member: NodeId
    incarnation: int
    accuser: NodeId


@dataclass(frozen=True, slots=True)
class MemberAlive:
    """A suspected member proved alive (it refuted with a higher incarnation)."""

    member: NodeId
    incarnation: int


@dataclass(frozen=True, slots=True)
class MemberUpdated:
    """An alive member's incarnation rose without a state change."""

    member: NodeId
    incarnation: int


@dataclass(frozen=True, slots=True)
class MemberFailed:
    """A member was declared dead."""

    member: NodeId
    incarnation: int
    accuser: NodeId


@dataclass(frozen=True, slots=True)
class MemberLeft:
    member: NodeId
    incarnation: int


@dataclass(frozen=True, slots=True)
class MemberRemoved:
    """A dead or left member was forgotten after the reclaim time."""

    member: NodeId
    incarnation: int


@dataclass(frozen=True, slots=True)
class Refuted:
    """This node denied an accusation about itself by raising its incarnation."""

    incarnation: int
    accusation: str  # the refuted state's name: "suspect", "dead", "left" or "alive"
    accuser: NodeId


@dataclass(frozen=True, slots=True)
class EventsDropped:
    """`count` older events were lost because the consumer was too slow."""

    count: int


from .manager.events import ManagerEvent  # noqa: E402  (the cluster manager's, defined with it)

Event = (
    MemberJoined
    | MemberSuspected
    | MemberAlive
    | MemberUpdated
    | MemberFailed
    | MemberLeft
    | MemberRemoved
    | Refuted
    | EventsDropped
    | ManagerEvent
)
