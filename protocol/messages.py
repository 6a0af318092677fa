"""The messages nodes exchange, and the membership news they carry.

Everything here is immutable so one decoded object can be shared by many receivers (the
simulator does this) and a member record can be referenced from thousands of views at the cost
of a pointer. The wire form lives in `codec.py`; its message-type table is append-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

NodeId = str
"""A node's name, which is also its transport address (the runtime maps it to a socket)."""


class MemberState(IntEnum):
    """What a node believes about a member; also the kind of a news item (`Update.state`).

    The numeric values are part of the wire format: only append.
    """

    ALIVE = 0
    SUSPECT = 1
    DEAD = 2
    LEFT = 3  # dead by its own graceful leave


@dataclass(frozen=True, slots=True)
class Update:
    """One piece of membership news: `member` is `state` at `incarnation`, said by `origin`.

    A node's view stores the Update it last accepted about each member, so the view entry and
    the news are one shared object.
    """

    state: MemberState
    member: NodeId
    incarnation: int
    origin: NodeId

    @property
    def is_down(self) -> bool:
        return self.state >= MemberState.DEAD


@dataclass(frozen=True, slots=True)
class Ping:
    """Direct probe. `target` guards against a stale address reaching the wrong node."""

    seq: int
    target: NodeId
    updates: tuple[Update, ...] = ()


@dataclass(frozen=True, slots=True)
class Ack:
    """Answer to a Ping; a relay forwards the target's Ack to the origin under the origin's seq."""

    seq: int
    updates: tuple[Update, ...] = ()


@dataclass(frozen=True, slots=True)
class Nack:
    """Lifeguard: a relay tells the origin it got no Ack from the target in time."""

    seq: int
    updates: tuple[Update, ...] = ()


@dataclass(frozen=True, slots=True)
class PingReq:
    """Ask the receiver to probe `target` on our behalf and forward the result under `seq`."""

    seq: int
    target: NodeId
    updates: tuple[Update, ...] = ()


@dataclass(frozen=True, slots=True)
class Gossip:
    """News only, sent to a few random members every gossip interval."""

    updates: tuple[Update, ...]


@dataclass(frozen=True, slots=True)
class PushPull:
    """Full-state anti-entropy. `join` marks a join request; the receiver answers with `reply`."""

    members: tuple[Update, ...]
    join: bool = False
    reply: bool = False


# The cluster manager's message (protocol/manager/): rows of its tables, then the message. ------
class MemberLife(NamedTuple):
    """`member`'s current life (a random id drawn when its manager started) and its age rank
    (`up_number`: lower is older; ties broken by name)."""

    member: NodeId
    life: int
    up_number: int


class Downing(NamedTuple):
    """`member`, in its life `life` (0: not known to the decider), was downed by `by`."""

    member: NodeId
    life: int
    by: NodeId


class Observation(NamedTuple):
    """The version of `observer`'s (in its life `life`) set of members it finds unreachable."""

    observer: NodeId
    life: int
    version: int


class Unreachability(NamedTuple):
    """`observer` finds `subject` unreachable (at the version its `Observation` row gives)."""

    observer: NodeId
    subject: NodeId


@dataclass(frozen=True, slots=True)
class ManagerGossip:
    """A cluster manager's full state, exchanged push-pull style: the receiver of one that is not
    a `reply` answers with its own. Nodes without a manager ignore it."""

    members: tuple[MemberLife, ...]
    downs: tuple[Downing, ...]
    observations: tuple[Observation, ...]
    unreachable: tuple[Unreachability, ...]
    reply: bool = False


@dataclass(frozen=True, slots=True)
class StreamPing:
    """The fallback probe (memberlist's TCP ping), sent on the reliable channel: the target
    answers with a `StreamAck` on the same channel. No news rides on either (memberlist's TCP
    ping carries none)."""

    seq: int
    target: NodeId


@dataclass(frozen=True, slots=True)
class StreamAck:
    """Answer to a `StreamPing`, under its `seq`, on the reliable channel."""

    seq: int


Message = Ping | Ack | Nack | PingReq | Gossip | PushPull | ManagerGossip | StreamPing | StreamAck
"""Every message a node can send or receive."""

PIGGYBACKING = (Ping, Ack, Nack, PingReq, Gossip)

RELIABLE = (PushPull, StreamPing, StreamAck)
"""Message types always sent on the reliable channel (a stream), whatever their size."""
"""Message types whose `updates` field carries piggybacked news."""
