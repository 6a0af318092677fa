"""The trace's record kinds, defined once for the runtimes that write them and the reports that read them.

Everything that decides what a trace record holds lives here: each kind's fields, their types,
their closed vocabularies and their order. A record is a plain dict (the trace is JSON lines, and
`swimlab.reports.trace` turns a dict into bytes with its keys in the order given), so key order
is part of the byte format: runtimes build records only through the constructors below, never by
hand, and the same run gives the same bytes whichever runtime or refactoring wrote it.

It lives in `protocol/` because both sides may import it (sim/ and live/ may import only
protocol/, reports/ never a runtime) and because a runtime's trace is a contract of the same kind
as the `Transport`/`Clock` interfaces: stdlib only, no I/O.

Every record starts with `t` (global time in seconds; simulated time in the simulator) and
`kind`. The kinds, in the order a trace usually shows them:

- `meta` (first line): the trace schema version, scenario, seed, runtime, duration_s, nodes (the
  initial cluster), preset, config_overrides;
- `host`: ground truth about a process: node, status (`up` / `down` / `left`), how it got there;
- `impair`: ground truth that a fault starts (`on`) or stops affecting a node, and its cause;
- `grudge`: ground truth about links: the partition now in force, as `cuts` (every node of a
  cut's `nodes` drops every packet from every node of its `drop_from`); it replaces the one
  before, and a heal writes one with no cuts. With `host` and `impair` it tells who could reach
  whom at any instant (reports/metrics/links.py);
- `fault`: a fault operation as the scenario named it: op, nodes, then the operation's parameters;
- `state`: a membership notification that `node` emitted (`suspect`, `dead`, ... about `member`;
  `refuted` about itself; `events_dropped` when its event stream overflowed);
- `send` / `deliver` / `drop`: one message, only when message records are enabled;
- `end` (last line): the runtime's counters.

Readers narrow a `TraceRecord` by its `kind` (and a `state` record by its `event`); a type
checker then knows each record's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict, cast

from .events import (
    Event,
    EventsDropped,
    MemberAlive,
    MemberFailed,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberSuspected,
    MemberUpdated,
    Refuted,
)
from .faults import Cause
from .messages import NodeId

TRACE_SCHEMA_VERSION = 2
"""The `schema` field of a trace's `meta` record; bump it when a record's fields change.
2: the `grudge` record (link state); `impair` causes `duplicate` and `clock`."""

HostStatus = Literal["up", "down", "left"]
HostHow = Literal["boot", "formed", "join", "crash", "restart-kept", "restart-wiped", "leave"]
"""`boot`/`join`: a fresh process joining through the seeds; `formed`: started knowing the whole
initial cluster alive; `restart-kept` resumes the old Node, `restart-wiped` starts a new one."""
ImpairCause = Cause
"""The fault table's causes (swimlab.protocol.faults.Cause), all but `down`: one vocabulary."""
MemberEvent = Literal["joined", "suspect", "alive", "updated", "dead", "left", "removed"]
"""Notifications about another member (or, for `joined`, possibly the node itself)."""
DropReason = Literal["partition", "loss", "down", "unknown"]


class MetaRecord(TypedDict):
    t: float
    kind: Literal["meta"]
    schema: int
    scenario: str
    seed: int
    runtime: str
    duration_s: float
    nodes: list[NodeId]
    preset: str
    config_overrides: dict[str, Any]


class HostRecord(TypedDict):
    t: float
    kind: Literal["host"]
    node: NodeId
    status: HostStatus
    how: HostHow


class ImpairRecord(TypedDict):
    t: float
    kind: Literal["impair"]
    node: NodeId
    cause: ImpairCause
    on: bool


class Cut(TypedDict):
    nodes: list[NodeId]  # these nodes drop every packet ...
    drop_from: list[NodeId]  # ... from these


class GrudgeRecord(TypedDict):
    t: float
    kind: Literal["grudge"]
    cuts: list[Cut]  # empty: no partition in force


class FaultRecord(TypedDict):
    """Followed by the operation's own parameters (`rate`, `duration_s`, ...), as the scenario
    gave them: a reader that needs them reads the scenario's fault table."""

    t: float
    kind: Literal["fault"]
    op: str
    nodes: list[NodeId]


class StateRecord(TypedDict):
    t: float
    kind: Literal["state"]
    node: NodeId
    event: MemberEvent
    member: NodeId
    incarnation: int
    accuser: NodeId | None  # who raised the suspicion or dead verdict; None for other events


class RefutedRecord(TypedDict):
    t: float
    kind: Literal["state"]
    node: NodeId
    event: Literal["refuted"]
    member: NodeId  # the node itself
    incarnation: int  # the new, higher incarnation
    accuser: NodeId
    accusation: str  # the refuted state: "suspect", "dead", "left" or "alive"


class EventsDroppedRecord(TypedDict):
    t: float
    kind: Literal["state"]
    node: NodeId
    event: Literal["events_dropped"]
    count: int


class SendRecord(TypedDict):
    t: float
    kind: Literal["send"]
    src: NodeId
    dst: NodeId
    msg: str  # the message class name
    bytes: int
    reliable: bool


class DeliverRecord(TypedDict):
    t: float
    kind: Literal["deliver"]
    src: NodeId
    dst: NodeId
    msg: str


class DropRecord(TypedDict):
    t: float
    kind: Literal["drop"]
    src: NodeId
    dst: NodeId
    msg: str
    reason: DropReason


class EndRecord(TypedDict):
    t: float
    kind: Literal["end"]
    events: int  # kernel events processed
    messages_sent: int
    bytes_sent: int
    messages_delivered: int
    messages_dropped: dict[str, int]  # reason -> count
    sent_by_node: dict[NodeId, list[int]]  # node -> [messages, bytes] over all its lives


NotificationRecord = StateRecord | RefutedRecord | EventsDroppedRecord
TraceRecord = (
    MetaRecord
    | HostRecord
    | ImpairRecord
    | GrudgeRecord
    | FaultRecord
    | NotificationRecord
    | SendRecord
    | DeliverRecord
    | DropRecord
    | EndRecord
)
TraceSink = Callable[[TraceRecord], None]
"""Where a runtime hands each record, in trace order."""


# Constructors: the one place each kind's key order is written down. ----------------------------
def meta(
    t: float,
    scenario: str,
    seed: int,
    runtime: str,
    duration_s: float,
    nodes: list[NodeId],
    preset: str,
    config_overrides: dict[str, Any],
) -> MetaRecord:
    return {
        "t": t,
        "kind": "meta",
        "schema": TRACE_SCHEMA_VERSION,
        "scenario": scenario,
        "seed": seed,
        "runtime": runtime,
        "duration_s": duration_s,
        "nodes": nodes,
        "preset": preset,
        "config_overrides": config_overrides,
    }


def host(t: float, node: NodeId, status: HostStatus, how: HostHow) -> HostRecord:
    return {"t": t, "kind": "host", "node": node, "status": status, "how": how}


def impair(t: float, node: NodeId, cause: ImpairCause, on: bool) -> ImpairRecord:
    return {"t": t, "kind": "impair", "node": node, "cause": cause, "on": on}


def grudge(t: float, drops: Mapping[NodeId, frozenset[NodeId]]) -> GrudgeRecord:
    """The partition in force from `t`: `drops` maps a node to the nodes whose packets it drops.
    Nodes that drop the same set form one cut (a shape shares one set per side, so a two-sided
    cut is two entries, not N), in the order first seen; each `drop_from` is sorted (n2 before
    n10)."""
    by_set: dict[frozenset[NodeId], list[NodeId]] = {}
    for node, sources in drops.items():
        if sources:
            by_set.setdefault(sources, []).append(node)
    cuts: list[Cut] = [
        {"nodes": nodes, "drop_from": sorted(sources, key=_natural)} for sources, nodes in by_set.items()
    ]
    return {"t": t, "kind": "grudge", "cuts": cuts}


def _natural(name: NodeId) -> tuple[int, NodeId]:
    return (len(name), name)


def fault(t: float, op: str, nodes: Sequence[NodeId], **params: Any) -> FaultRecord:
    return cast(FaultRecord, {"t": t, "kind": "fault", "op": op, "nodes": nodes, **params})


_MEMBER_EVENTS: dict[type, MemberEvent] = {
    MemberJoined: "joined",
    MemberSuspected: "suspect",
    MemberAlive: "alive",
    MemberUpdated: "updated",
    MemberFailed: "dead",
    MemberLeft: "left",
    MemberRemoved: "removed",
}


def notification(t: float, node: NodeId, event: Event) -> NotificationRecord:
    """The `state` record of a notification that `node` emitted."""
    if isinstance(event, Refuted):
        return {
            "t": t,
            "kind": "state",
            "node": node,
            "event": "refuted",
            "member": node,
            "incarnation": event.incarnation,
            "accuser": event.accuser,
            "accusation": event.accusation,
        }
    if isinstance(event, EventsDropped):
        return {"t": t, "kind": "state", "node": node, "event": "events_dropped", "count": event.count}
    return {
        "t": t,
        "kind": "state",
        "node": node,
        "event": _MEMBER_EVENTS[type(event)],
        "member": event.member,
        "incarnation": event.incarnation,
        "accuser": getattr(event, "accuser", None),
    }


def send(t: float, src: NodeId, dst: NodeId, msg: str, size: int, reliable: bool) -> SendRecord:
    return {"t": t, "kind": "send", "src": src, "dst": dst, "msg": msg, "bytes": size, "reliable": reliable}


def deliver(t: float, src: NodeId, dst: NodeId, msg: str) -> DeliverRecord:
    return {"t": t, "kind": "deliver", "src": src, "dst": dst, "msg": msg}


def drop(t: float, src: NodeId, dst: NodeId, msg: str, reason: DropReason) -> DropRecord:
    return {"t": t, "kind": "drop", "src": src, "dst": dst, "msg": msg, "reason": reason}


def end(
    t: float,
    events: int,
    messages_sent: int,
    bytes_sent: int,
    messages_delivered: int,
    messages_dropped: Mapping[str, int],
    sent_by_node: Mapping[NodeId, list[int]],
) -> EndRecord:
    return {
        "t": t,
        "kind": "end",
        "events": events,
        "messages_sent": messages_sent,
        "bytes_sent": bytes_sent,
        "messages_delivered": messages_delivered,
        "messages_dropped": dict(messages_dropped),
        "sent_by_node": dict(sent_by_node),
    }
