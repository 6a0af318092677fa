"""The fault vocabulary: every fault operation a scenario may name, in one table (`FAULTS`).

Everything that decides what a fault operation *is* lives here; every layer reads it:

- scenarios/ validates each `[[faults]]` entry against its row (the op's own parameters with
  types, defaults and bounds; how it selects its target nodes) and the nemesis schedules it;
- a runtime (sim/, live/) declares the `Capability`s it implements; a scenario whose faults need
  one it lacks is refused before it starts, naming the operation;
- the `Cause` under which a runtime records the ground truth of a fault's effect (`impair` and
  `host` trace records), and the colour reports shade it with (`CAUSES`).

Rules stated once:
- A row's parameters are a frozen dataclass; each field's annotation is its type, its default
  (none = required) is the value an omitted key takes, and `param(bound=...)` states its range.
  Fields marked `record=False` (node lists) are resolved into the trace's `nodes` or the
  result's fault timeline rather than echoed into the trace's `fault` record.
- An op that `toggles` has an off form: it can be reverted after `duration_s` or toggled by a
  `flip_flop`; its revert is recorded as a `fault` record with op `revert` (`heal`, `loss_off`).
- Partition shapes are a table of their own (`SHAPES`): each names the keys it takes, and any
  other key is an error.

Stdlib only and data only: protocol/ is the one package every layer may import.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal


# Parameter specs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bound:
    """A numeric range a value must lie in; `words` (if given) is how an error states it."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    words: str = ""

    def ok(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))

    def __str__(self) -> str:
        if self.words:
            return self.words
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {self.high}"
        return f"in {'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"


AT_LEAST_0 = Bound(low=0)
AT_LEAST_1 = Bound(low=1)
ABOVE_0 = Bound(low=0, low_open=True)
PROBABILITY = Bound(low=0, high=1, words="a probability in [0, 1]")

REQUIRED: Any = dataclasses.MISSING


def param(
    default: Any = REQUIRED,
    *,
    bound: Bound | None = None,
    choices: tuple[Any, ...] = (),
    doc: str = "",
    record: bool = True,
    nodes: bool = False,
    factory: Any = None,
) -> Any:
    """A dataclass field with its validation spec in `metadata`: `bound` (numbers), `choices`
    (beyond a `Literal` annotation), `doc` (one line, for the README), `record` (echo the value
    into the trace's `fault` record), `nodes` (a list of node references to resolve)."""
    metadata = {"bound": bound, "choices": choices, "doc": doc, "record": record, "nodes": nodes}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def spec_of(field: dataclasses.Field[Any]) -> Mapping[str, Any]:
    """The `param()` metadata of a field (empty defaults for a plain field)."""
    return {"bound": None, "choices": (), "doc": "", "record": True, "nodes": False, **field.metadata}


def recorded(params: object) -> dict[str, Any]:
    """The parameters a `fault` trace record echoes, in declaration order."""
    return {
        f.name: getattr(params, f.name)
        for f in dataclasses.fields(params)  # type: ignore[arg-type]
        if spec_of(f)["record"]
    }


# Operation parameters -------------------------------------------------------------------------
State = Literal["kept", "wiped"]
Direction = Literal["both", "ingress", "egress"]
Shape = Literal["one", "majority", "minority-third", "majorities-ring", "bridge", "halves", "groups"]

DURATION_DOC = "seconds until the fault is reverted (omit: it lasts to the end of the run)"


@dataclass(frozen=True, kw_only=True)
class Crash:
    pass


@dataclass(frozen=True, kw_only=True)
class Restart:
    state: State = param("kept", doc="kept: the old node resumes; wiped: a new node joins via the seeds")


@dataclass(frozen=True, kw_only=True)
class MassRestart:
    state: State = param("wiped", doc="as for restart")
    downtime_s: float = param(0.0, bound=AT_LEAST_0, doc="seconds between the crash and the restart")


@dataclass(frozen=True, kw_only=True)
class RollingRestart:
    state: State = param("kept", doc="as for restart")
    batch: int = param(1, bound=AT_LEAST_1, doc="how many nodes go down together")
    downtime_s: float = param(0.0, bound=AT_LEAST_0, doc="seconds each batch stays down")
    interval_s: float = param(bound=ABOVE_0, doc="seconds between the starts of consecutive batches")


@dataclass(frozen=True, kw_only=True)
class Leave:
    pass


@dataclass(frozen=True, kw_only=True)
class Join:
    new_nodes: int = param(1, bound=AT_LEAST_1, doc="how many new nodes (j1, j2, ...) join")


@dataclass(frozen=True, kw_only=True)
class Pause:
    duration_s: float = param(bound=ABOVE_0, doc="seconds the process is stopped")


@dataclass(frozen=True, kw_only=True)
class Slow:
    delay_s: float = param(bound=AT_LEAST_0, doc="seconds each message is handled late")
    duration_s: float | None = param(None, bound=ABOVE_0, doc=DURATION_DOC)


@dataclass(frozen=True, kw_only=True)
class Partition:
    shape: Shape = param("majority", doc="how the nodes are split (see SHAPES)")
    groups: tuple[tuple[str, ...], ...] | None = param(
        None, record=False, nodes=True, doc="the sides (shape = groups): group names or arrays of nodes"
    )
    bridge: tuple[str, ...] | None = param(
        None, record=False, nodes=True, doc="the node(s) that see both halves (shape = bridge)"
    )
    one_way: bool = param(False, doc="only the first side drops: it cannot hear the others")
    duration_s: float | None = param(None, bound=ABOVE_0, doc=DURATION_DOC)


@dataclass(frozen=True, kw_only=True)
class Heal:
    pass


@dataclass(frozen=True, kw_only=True)
class Loss:
    rate: float = param(bound=PROBABILITY, doc="probability that a datagram is lost")
    direction: Direction = param("both", doc="which of the nodes' datagrams: both, ingress or egress")
    duration_s: float | None = param(None, bound=ABOVE_0, doc=DURATION_DOC)


@dataclass(frozen=True, kw_only=True)
class Latency:
    add_ms: float = param(bound=AT_LEAST_0, doc="extra one-way delay to and from the nodes")
    duration_s: float | None = param(None, bound=ABOVE_0, doc=DURATION_DOC)


@dataclass(frozen=True, kw_only=True)
class Duplicate:
    rate: float = param(bound=PROBABILITY, doc="probability that a datagram is delivered twice")
    duration_s: float | None = param(None, bound=ABOVE_0, doc=DURATION_DOC)


@dataclass(frozen=True, kw_only=True)
class IngressDrop:
    duration_s: float | None = param(None, bound=ABOVE_0, doc=DURATION_DOC)


@dataclass(frozen=True, kw_only=True)
class Clock:
    step_s: float = param(
        0.0,
        bound=Bound(low=0, words=">= 0 (a forward step: the protocol reads a monotonic clock)"),
        doc="jump the local clock forward by this much",
    )
    drift_ppm: float | None = param(
        None, bound=Bound(low=-1e6, high=1e6, low_open=True, high_open=True), doc="new drift rate"
    )


@dataclass(frozen=True, kw_only=True)
class Churn:
    join_rate_per_s: float = param(0.0, bound=AT_LEAST_0, doc="Poisson rate of new nodes joining")
    leave_rate_per_s: float = param(0.0, bound=AT_LEAST_0, doc="Poisson rate of graceful leaves")
    crash_rate_per_s: float = param(0.0, bound=AT_LEAST_0, doc="Poisson rate of crashes")
    duration_s: float = param(bound=ABOVE_0, doc="seconds the processes run")


@dataclass(frozen=True, kw_only=True)
class FlipFlop:
    period_s: float = param(bound=ABOVE_0, doc="seconds on, then seconds off")
    duration_s: float = param(bound=ABOVE_0, doc="seconds the flip-flopping lasts")


FaultParams = (
    Crash
    | Restart
    | MassRestart
    | RollingRestart
    | Leave
    | Join
    | Pause
    | Slow
    | Partition
    | Heal
    | Loss
    | Latency
    | Duplicate
    | IngressDrop
    | Clock
    | Churn
    | FlipFlop
)

Toggling = Slow | Partition | Loss | Latency | Duplicate | IngressDrop
"""The parameters of the ops that toggle: each has `duration_s` (None: until the end)."""


# Targets, capabilities, causes ----------------------------------------------------------------
class Targets(StrEnum):
    """How an operation picks the nodes it acts on."""

    NONE = "none"  # no node selection (heal, join, churn, flip_flop itself)
    UP = "up"  # a selector (nodes / count / fraction); random picks come from up nodes
    DOWN = "down"  # a selector; random picks come from down nodes (restart)
    UP_OR_EVERY_LINK = "up-or-every-link"  # loss: a selector, or none for every link
    SHAPE = "shape"  # partition: the shape decides (SHAPES)


Capability = Literal[
    "add_node",
    "crash",
    "restart",
    "leave",
    "pause",
    "set_slow",
    "clock_step",
    "set_drift",
    "partition",
    "set_default_loss",
    "set_loss",
    "set_extra_delay",
    "set_duplicate",
    "set_ingress_drop",
]
"""What a runtime can do to its nodes: the names of its fault operations (scenarios/runtime.py)."""

ALL_CAPABILITIES: frozenset[Capability] = frozenset(Capability.__args__)  # type: ignore[attr-defined]

LEAVE_LINGER_S = 2.0
"""After a graceful `leave` the process stays up this long so its leave message spreads
(memberlist waits too), then exits without another record; both runtimes and `swimlab node`."""


class Cause(StrEnum):
    """Ground truth a runtime records while a fault acts on a node: the one vocabulary of the
    trace's `impair` records (`swimlab.protocol.trace_schema.ImpairCause` is this type) and of
    the figures' shading. `down` comes from `host` records (a process that is not running) and
    never appears in an `impair` record. A clock step is an instant: recorded on, then off."""

    DOWN = "down"
    PARTITION = "partition"
    PAUSE = "pause"
    LOSS = "loss"
    SLOW = "slow"
    LATENCY = "latency"
    INGRESS = "ingress"
    DUPLICATE = "duplicate"
    CLOCK = "clock"


CAUSES: Mapping[str, str] = {
    Cause.DOWN: "tab:red",
    Cause.PARTITION: "tab:orange",
    Cause.PAUSE: "tab:purple",
    Cause.LOSS: "tab:brown",
    Cause.SLOW: "tab:pink",
    Cause.LATENCY: "tab:olive",
    Cause.INGRESS: "tab:gray",
    Cause.DUPLICATE: "tab:cyan",
    Cause.CLOCK: "tab:blue",
}
"""cause -> the matplotlib colour its intervals are shaded with."""


# The table ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FaultSpec:
    op: str
    params: type[FaultParams]  # the op's own keys, their types, defaults and bounds
    targets: Targets
    needs: frozenset[Capability]  # what the runtime must be able to do
    cause: Cause | None  # the ground truth recorded while it acts (None: not recorded)
    revert: str | None  # the op recorded when it is undone; None: it does not toggle
    summary: str
    nests: bool = False  # holds one toggling fault under the key `fault` (flip_flop)

    @property
    def toggles(self) -> bool:
        return self.revert is not None

    @property
    def selects(self) -> bool:
        return self.targets in (Targets.UP, Targets.DOWN, Targets.UP_OR_EVERY_LINK)


def _row(
    op: str,
    params: type[FaultParams],
    targets: Targets,
    needs: set[Capability],
    cause: Cause | None,
    revert: str | None,
    summary: str,
    nests: bool = False,
) -> tuple[str, FaultSpec]:
    return op, FaultSpec(op, params, targets, frozenset(needs), cause, revert, summary, nests)


FAULTS: Mapping[str, FaultSpec] = dict(
    [
        _row("crash", Crash, Targets.UP, {"crash"}, Cause.DOWN, None,
             "the process stops; packets in flight to it and its timers are dropped"),
        _row("restart", Restart, Targets.DOWN, {"restart"}, Cause.DOWN, None,
             "a crashed node comes back, its state kept or wiped"),
        _row("mass_restart", MassRestart, Targets.UP, {"crash", "restart"}, Cause.DOWN, None,
             "crash all the nodes at once, restart them after downtime_s"),
        _row("rolling_restart", RollingRestart, Targets.UP, {"crash", "restart"}, Cause.DOWN, None,
             "restart the nodes batch by batch, interval_s apart"),
        _row("leave", Leave, Targets.UP, {"leave"}, Cause.DOWN, None,
             "graceful leave; the process exits 2 s later"),
        _row("join", Join, Targets.NONE, {"add_node"}, None, None, "new nodes j1, j2, ... join"),
        _row("pause", Pause, Targets.UP, {"pause"}, Cause.PAUSE, None,
             "GC stall: nothing handled for duration_s, then a burst"),
        _row("slow", Slow, Targets.UP, {"set_slow"}, Cause.SLOW, "slow_off",
             "every message handled delay_s late"),
        _row("partition", Partition, Targets.SHAPE, {"partition"}, Cause.PARTITION, "heal",
             "grudges: nodes drop packets from the other side(s)"),
        _row("heal", Heal, Targets.NONE, {"partition"}, None, None, "remove every partition"),
        _row("loss", Loss, Targets.UP_OR_EVERY_LINK, {"set_loss", "set_default_loss"}, Cause.LOSS,
             "loss_off", "random datagram loss"),
        _row("latency", Latency, Targets.UP, {"set_extra_delay"}, Cause.LATENCY, "latency_off",
             "extra delay to and from the nodes"),
        _row("duplicate", Duplicate, Targets.UP, {"set_duplicate"}, Cause.DUPLICATE, "duplicate_off",
             "datagrams to and from the nodes delivered twice"),
        _row("ingress_drop", IngressDrop, Targets.UP, {"set_ingress_drop"}, Cause.INGRESS,
             "ingress_drop_off", "the nodes hear nothing (streams too)"),
        _row("clock", Clock, Targets.UP, {"clock_step", "set_drift"}, Cause.CLOCK, None,
             "step the nodes' clocks forward and/or set a new drift"),
        _row("churn", Churn, Targets.NONE, {"add_node", "leave", "crash"}, Cause.DOWN, None,
             "Poisson processes of joins, graceful leaves and crashes"),
        _row("flip_flop", FlipFlop, Targets.NONE, set(), None, None,
             "a toggling fault, on for period_s, off for period_s", nests=True),
    ]
)  # fmt: skip
"""op -> its row. Ordered as the README lists them."""

TOGGLING: tuple[str, ...] = tuple(op for op, spec in FAULTS.items() if spec.toggles)
"""Ops a flip_flop may toggle: each has an off form."""


@dataclass(frozen=True)
class ShapeSpec:
    keys: frozenset[str]  # the keys a partition of this shape takes (besides op, at_s, shape)
    summary: str


SHAPES: Mapping[str, ShapeSpec] = {
    "one": ShapeSpec(frozenset({"nodes", "one_way", "duration_s"}), "one node against the rest"),
    "majority": ShapeSpec(
        frozenset({"one_way", "duration_s"}), "a random bare minority against the majority"
    ),
    "minority-third": ShapeSpec(frozenset({"one_way", "duration_s"}), "a random third against the rest"),
    "halves": ShapeSpec(frozenset({"one_way", "duration_s"}), "two random halves"),
    "majorities-ring": ShapeSpec(
        frozenset({"duration_s"}),
        "each node sees only its nearest neighbours on a shuffled ring, a bare majority",
    ),
    "bridge": ShapeSpec(
        frozenset({"bridge", "duration_s"}), "two halves that cannot see each other; the bridge sees both"
    ),
    "groups": ShapeSpec(frozenset({"groups", "one_way", "duration_s"}), "the sides listed in groups"),
}
"""shape -> the keys it takes."""
