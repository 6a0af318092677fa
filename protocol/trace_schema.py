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
- `view` / `serving` / `decision` / `partition_status` / `lease`: a cluster manager's news
  (protocol/manager/events.py), only in runs with a `[manager]`: a member's status in its
  application view, whether the node serves, a downing decision, the partition detector's
  verdict, a lease request and its outcome;
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
from .manager.events import (
    DowningDecision,
    LeaseRequest,
    LeaseResult,
    MemberStatusChanged,
    PartitionStatusChanged,
    ServingChanged,
)
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
ViewStatus = Literal["up", "unreachable", "down", "removed"]
LeaseOp = Literal["request", "granted", "denied", "timeout"]


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


class ViewRecord(TypedDict):
    t: float
    kind: Literal["view"]
    node: NodeId  # whose application view
    member: NodeId
    status: ViewStatus


class ServingRecord(TypedDict):
    t: float
    kind: Literal["serving"]
    node: NodeId
    serving: bool
    reason: str  # "up", "left", "downed by n3", "downed by own decision down-reachable"


class DecisionRecord(TypedDict):
    t: float
    kind: Literal["decision"]
    node: NodeId  # who decided
    strategy: str
    decision: str  # Akka's decision name, e.g. "down-unreachable"
    down: list[NodeId]  # the members it downs (the decider itself if its side loses)
    reachable: int  # the side sizes it decided on
    unreachable: int


class PartitionStatusRecord(TypedDict):
    t: float
    kind: Literal["partition_status"]
    node: NodeId
    status: str  # healthy, suspected or partitioned


class LeaseRecord(TypedDict):
    t: float
    kind: Literal["lease"]
    node: NodeId  # who asked
    op: LeaseOp
    owner: NodeId  # the side's leader it asked for


ManagerRecord = ViewRecord | ServingRecord | DecisionRecord | PartitionStatusRecord | LeaseRecord


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
    | ManagerRecord
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


def notification(t: float, node: NodeId, event: Event) -> NotificationRecord | ManagerRecord:
    """The record of a notification that `node` emitted: `state`, or a manager's kind."""
    if isinstance(
        event,
        MemberStatusChanged
        | ServingChanged
        | DowningDecision
        | PartitionStatusChanged
        | LeaseRequest
        | LeaseResult,
    ):
        return manager_record(t, node, event)
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


def manager_record(
    t: float,
    node: NodeId,
    event: MemberStatusChanged
    | ServingChanged
    | DowningDecision
    | PartitionStatusChanged
    | LeaseRequest
    | LeaseResult,
) -> ManagerRecord:
    """The record of a cluster manager's event."""
    if isinstance(event, MemberStatusChanged):
        return {"t": t, "kind": "view", "node": node, "member": event.member, "status": event.status.value}
    if isinstance(event, ServingChanged):
        return {"t": t, "kind": "serving", "node": node, "serving": event.serving, "reason": event.reason}
    if isinstance(event, DowningDecision):
        return {
            "t": t,
            "kind": "decision",
            "node": node,
            "strategy": event.strategy,
            "decision": event.decision,
            "down": list(event.down),
            "reachable": event.reachable,
            "unreachable": event.unreachable,
        }
    if isinstance(event, PartitionStatusChanged):
        return {"t": t, "kind": "partition_status", "node": node, "status": event.status}
    if isinstance(event, LeaseRequest):
        return {"t": t, "kind": "lease", "node": node, "op": "request", "owner": event.owner}
    op = cast(LeaseOp, event.outcome)
    return {"t": t, "kind": "lease", "node": node, "op": op, "owner": event.owner}


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
