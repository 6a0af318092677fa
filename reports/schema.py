"""What a run folder's `result.json` and `series.json` and a sweep's `sweep.json` hold: one typed
definition, versioned, for the code that writes them and every reader.

The files are written from these structs (`to_json`, field order = key order, so equal results
give equal bytes) and read back through them (`read_result`, `read_series`, `read_sweep`): a
missing, misspelt or mistyped field is an error naming its path, and a file of another schema
version is refused with a message that says which version it is and which this swimlab reads.
Readers use attributes (`result.metrics.false_positives.dead`), never string keys.

Each part of `Metrics` is filled by one observer of `swimlab.reports.metrics` (named beside
it); a new metric is a field here plus the code in its observer that measures it.

Bump `RESULT_SCHEMA_VERSION` (or `SWEEP_SCHEMA_VERSION`) when a field is renamed, removed or
changes meaning; a sweep embeds run metrics, so a result schema bump is a sweep schema bump too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

RESULT_SCHEMA_VERSION = 2
SWEEP_SCHEMA_VERSION = 2
"""2: false positives judged by reachability (counts raised / raised by healthy / heard, about
any or healthy members, every false accusation); recoveries, partitions, returns, dead_raised,
flaps; a run's verdict_reason, a sweep's verdict."""

Verdict = Literal["valid", "invalid", "unknown"]
SweepVerdict = Literal["valid", "invalid", "unknown", "error"]
VerdictKind = Literal["suspect", "dead"]


class SchemaError(ValueError):
    """A result file this version of swimlab cannot read: another schema version, or a field
    missing, unknown or of the wrong type (the message names the file and the field)."""


class _Part(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A piece of a result file: immutable, and strict about unknown keys when read (mypy
    wants `frozen=True` repeated on each subclass)."""


# Detection (observer: metrics/detection.py) ---------------------------------------------------
class CrashDetection(_Part, frozen=True):
    """One crash, times in seconds after it (None: never happened before the run ended)."""

    node: str
    crash_s: float  # when, in simulated time
    first_suspect_s: float | None
    first_dead_s: float | None
    dead_everywhere_s: float | None  # no up observer holds it alive any more
    restarted_s: float | None


class InformedCurve(_Part, frozen=True):
    """How far the news of one crash had reached the live membership, as a step function: from
    `t_s[k]` (s after the crash) on, `live[k]` nodes other than the crashed one are up, of which
    `suspect[k]` have suspected it or hold it dead, `dead[k]` do not hold it alive (declared it
    dead, or never knew it: joined since), and `dead_by_timer[k]` declared it dead when their own
    suspicion timer expired (the rest of `dead[k]` learned the verdict from others). Recorded
    while the crashed node is down, until it is dead everywhere (`dead == live`)."""

    t_s: list[float]
    live: list[int]
    suspect: list[int]
    dead: list[int]
    dead_by_timer: list[int]


class Dissemination(_Part, frozen=True):
    """When each live observer learned of one crash, relative to the first suspicion / first
    dead verdict anywhere (SWIM's and Serf's dissemination curve). The t50/t99 quantiles are
    when the fraction of the membership live at that instant reached 50% / 99% (`informed`)."""

    node: str
    observers: int  # up nodes other than the crashed one, at the crash
    suspect_informed_s: list[float]
    suspect_t50_s: float | None  # half the live nodes suspect it, s after the first suspicion
    suspect_t99_s: float | None
    dead_informed_s: list[float]
    dead_by_timer_s: list[
        float
    ]  # the verdicts of `dead_informed_s` that an observer's own suspicion timer raised
    dead_t50_s: float | None
    dead_t99_s: float | None
    informed: InformedCurve


# False positives (observer: metrics/false_positives.py, which states the rule) ---------------
class FalseVerdict(_Part, frozen=True):
    """One false accusation, judged when raised."""

    t: float  # when it was raised (or, a confirmation, first heard)
    accuser: str
    member: str  # about whom
    event: VerdictKind
    incarnation: int
    heard: int  # how many nodes held it (its accuser included)
    accuser_healthy: bool  # up, no node fault acting on it over the evidence
    member_healthy: bool
    post_heal: bool  # a death whose accuser could not reach the member while it suspected it


class VerdictTally(_Part, frozen=True):
    suspect: int
    dead: int
    suspect_per_node_hour: float | None  # per node-hour of up-time; None when no node was up
    dead_per_node_hour: float | None


class FalseTallies(_Part, frozen=True):
    raised: VerdictTally  # each false accusation once
    raised_by_healthy: VerdictTally  # ... whose accuser was healthy
    heard: VerdictTally  # once per node holding one


class PostHealDeaths(_Part, frozen=True):
    """False deaths whose suspicion outlived a cut of the accuser's link to the member."""

    raised: int
    heard: int
    members: list[str]


class FalsePositives(_Part, frozen=True):
    suspect_window_s: float  # the evidence window of a suspicion: the longest probe round
    dead_window_s: float  # ... of a death: one protocol period
    about_any: FalseTallies  # about any member
    about_healthy: FalseTallies  # about members no node fault acted on over the evidence
    post_heal_deaths: PostHealDeaths
    verdicts: list[FalseVerdict]  # every false accusation, in time order


# Load (observer: metrics/load.py) -------------------------------------------------------------
class Spread(_Part, frozen=True):
    """Over nodes: the mean, 99th percentile and maximum."""

    mean: float
    p99: float
    max: float


class PerNodeLoad(_Part, frozen=True):
    """Each node's send rate over its own up-time (Rapid's Table 2); None without counters."""

    messages_per_s: Spread | None
    bytes_per_s: Spread | None


class Load(_Part, frozen=True):
    messages_per_node_per_s: float  # cluster-wide: messages sent / node-seconds up
    bytes_per_node_per_s: float
    messages_dropped: dict[str, int]  # reason -> count
    per_node: PerNodeLoad


# Views (observer: metrics/views.py) -----------------------------------------------------------
class ViewCounts(_Part, frozen=True):
    """Per sample: how many distinct membership views the up nodes held (1: all agree), how
    many nodes were up, how many (up observer, member) pairs disagreed with the truth, and how
    many times an up node's view of some member flipped since the previous sample."""

    t: list[float]
    distinct: list[int]
    live: list[int]
    disagreeing: list[int]
    changes: list[int]


class RemergeCurve(_Part, frozen=True):
    """From one heal until every live view matches the live set: at each change, how many (up
    observer, member) pairs disagree with the truth and how many nodes are up."""

    heal_t: float  # the heal, in simulated time
    t_s: list[float]  # s after the heal
    disagreeing: list[int]
    live: list[int]
    converged: bool  # the last step reached 0 disagreeing pairs before the run ended


# Convergence, partitions, returns, stability (observers: convergence.py, partitions.py,
# returns.py, stability.py) --------------------------------------------------------------------
class Recovery(_Part, frozen=True):
    """A fault's end (heal, loss_off, ...) and when views agreed from then on."""

    t: float
    op: str  # the fault record that ended a fault
    converged_s: float | None  # s until views agreed and stayed agreed to the end of the window
    window_s: float  # until the next disturbance or the end of the run
    until: str  # what closed the window


class PartitionDetection(_Part, frozen=True):
    """A partition and when each side dropped the other (s after it started; None: not before
    the cut was lifted)."""

    t: float
    lasted_s: float | None  # None: to the end of the run
    nodes: int  # nodes with a cut link
    detected_s: float | None  # every cut pair dropped both ways
    dropped_all_s: dict[str, float | None]  # node -> it held every node it cannot reach down
    dropped_by_all_s: dict[str, float | None]  # node -> every node that cannot reach it did


class Return(_Part, frozen=True):
    """A node back from a restart or a fault that took it off the network."""

    node: str
    t: float
    how: str  # restart, heal, pause end, ingress end
    back_s: float | None  # s until every up node held it up, and kept holding it to the window's end
    window_s: float
    until: str


class Flap(_Part, frozen=True):
    """Overlapping flaps of one member: up nodes holding it down, then up, while it was up."""

    member: str
    down_t: float
    up_t: float
    observers: int


# The cluster manager (observer: metrics/manager.py) ---------------------------------------------
class DecisionTime(_Part, frozen=True):
    """One fault firing and the downing decisions that followed it (before the next firing)."""

    t: float  # when the fault fired
    op: str
    first_s: float | None  # s from the fault to the first decision anywhere (None: no decision)
    last_s: float | None  # ... to the last one


class Instability(_Part, frozen=True):
    """Changes of the application-facing view per node-hour of up-time (Rapid's flip-flop
    measure): SWIM alone (a member in or out of a node's view, as memberlist's delegate reports
    it; and the suspicions it raises besides) beside the manager's application view."""

    swim_changes: int
    swim_per_node_hour: float | None
    swim_suspicions: int
    swim_suspicions_per_node_hour: float | None
    manager_changes: int
    manager_per_node_hour: float | None


class ManagerMetrics(_Part, frozen=True):
    """How the cluster manager handled the run's faults (rules stated in metrics/manager.py)."""

    strategy: str
    window_s: float  # the allowance a safe strategy has to resolve a split
    split_brain_s: float  # time two serving nodes held each other out for longer than window_s
    split_brain: list[list[float]]  # those intervals, [start, end] (the first 20)
    quorum: int  # a majority of the initial nodes
    availability: float | None  # fraction of the time after warm-up a serving side had the quorum
    served: float | None  # fraction of the time after warm-up some side served at all
    survivors: int  # the largest serving side at the end
    serving_at_end: list[str]
    decisions: int  # decision records (every node decides for itself)
    decision_times: list[DecisionTime]
    downed: list[str]  # nodes that stopped serving because of a downing decision
    wrongly_downed: list[str]  # ... while no fault affected them
    instability: Instability


class Metrics(_Part, frozen=True, kw_only=True, omit_defaults=True):
    """`result.json`'s `metrics`, in file order; each field names the observer that fills it."""

    detection: list[CrashDetection]  # detection
    false_positives: FalsePositives  # false_positives
    load: Load  # load
    dissemination: list[Dissemination]  # detection
    views: ViewCounts  # views
    max_distinct_views: int | None  # views: the most after warm-up (None: the bootstrap never ended)
    warmup_end_s: float | None  # views: the later of warmup_s and the bootstrap's first agreement
    remerge: list[RemergeCurve]  # views: disagreement after each heal, at every change
    recoveries: list[Recovery]  # convergence: every fault's end, views agreeing after it
    partitions: list[PartitionDetection]  # partitions
    returns: list[Return]  # returns
    dead_raised: dict[str, list[float]]  # stability: member -> when each dead verdict was raised
    flaps: list[Flap]  # stability
    first_converged_s: float | None  # convergence: every initial node up and agreeing
    converged_at_end: bool  # convergence
    disagreeing_pairs_at_end: int  # convergence: (up observer, member) pairs wrong at the end
    stays_dead: list[str]  # convergence: up nodes some up observer holds down at the end
    node_hours: float  # ground truth: up-time summed over nodes
    events_dropped: int  # run totals: notifications lost by a slow consumer
    wall_s: float | None = None  # run totals: machine-dependent, so a sweep leaves it out
    events: int  # run totals: kernel events processed
    manager: ManagerMetrics | None = None  # manager: only for scenarios with a [manager]

    def heal_s(self) -> list[float | None]:
        """Per heal, in order: s until views agreed and stayed agreed (None: never within its
        window) - the `heal` entries of `recoveries`, one per `remerge` curve."""
        return [r.converged_s for r in self.recoveries if r.op == "heal"]

    def portable(self) -> Metrics:
        """These metrics without the machine-dependent wall time (what sweep.json keeps)."""
        return msgspec.structs.replace(self, wall_s=None)


# A run folder ---------------------------------------------------------------------------------
class CheckResult(_Part, frozen=True):
    name: str
    ok: bool | None  # None: could not be judged
    detail: str  # what was measured

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


class OracleResult(_Part, frozen=True, kw_only=True):
    """One invariant oracle's judgement (reports/oracles.py states each rule)."""

    name: str
    ok: bool | None  # None: not judged (the detail says why)
    detail: str
    record: int | None = None  # line of trace.jsonl of the first violating record (1-based)
    first: dict[str, Any] | None = None  # that record


class Versions(_Part, frozen=True, kw_only=True):
    """What ran it (reports/provenance.py): git fields are None outside a git checkout."""

    python: str
    platform: str
    swimlab: str
    git_commit: str | None
    git_dirty: bool | None


class NetworkSummary(_Part, frozen=True):
    loss: float


class InjectedFault(_Part, frozen=True, kw_only=True, omit_defaults=True):
    """One resolved entry of the fault timeline (scenarios/nemesis.py): what was injected, when,
    on which nodes, with the partition's sides, bridge or ring and a rolling restart's batches."""

    t: float
    fault: str  # the scenario path of the fault that did it, e.g. "faults.0"
    op: str  # an operation of swimlab.protocol.faults, or its revert ("heal", "loss_off", ...)
    nodes: list[str]
    params: dict[str, Any] | None = None
    repetition: int | None = None
    sides: list[list[str]] | None = None
    bridge: list[str] | None = None
    ring: list[str] | None = None
    batches: list[list[str]] | None = None
    batch: int | None = None


class FaultWarning(_Part, frozen=True):
    """A fault that could not do all it asked (a named node already down, too few to pick)."""

    t: float
    fault: str
    message: str


class LoopLag(_Part, frozen=True, kw_only=True):
    """A real-time run's event-loop lag: how late timers fired (live runtime only)."""

    samples: int  # timer firings measured
    since_s: float  # measured from here: the first convergence (the boot burst left out)
    p50_s: float
    p99_s: float
    max_s: float
    limit_s: float  # p99 above this (a stated fraction of the probe timeout): verdict unknown
    ok: bool  # p99_s <= limit_s
    note: str  # what is and is not reproducible about a real-time run


class RunResult(_Part, frozen=True, kw_only=True):
    """`result.json`."""

    schema_version: int = RESULT_SCHEMA_VERSION
    scenario: str
    seed: int
    runtime: str
    verdict: Verdict
    verdict_reason: str  # "no checks", the failed checks, what could not be judged
    checks: list[CheckResult]
    metrics: Metrics
    versions: Versions
    description: str
    nodes: int
    preset: str
    duration_s: float
    config_overrides: dict[str, Any]
    config: dict[str, Any]  # the protocol Config's fields (swimlab.protocol.config)
    network: NetworkSummary
    command: str  # the command line that reproduces the run
    scenario_sha256: str  # of `effective_scenario` (reports/provenance.py)
    groups: dict[str, list[str]] = {}  # the scenario's named node groups, resolved
    faults: list[InjectedFault] = []  # the resolved fault timeline
    warnings: list[FaultWarning] = []
    effective_scenario: dict[str, Any] = {}  # the scenario as it ran: --set applied, defaults filled
    loop_lag: LoopLag | None = None  # live runtime only
    oracles: list[OracleResult] = []  # the invariant oracles (reports/oracles.py), judged on every run


class FaultInterval(_Part, frozen=True):
    node: str
    cause: str  # an impair cause (swimlab.protocol.trace_schema.ImpairCause) or "down"
    start: float
    end: float | None  # None only while the run is going on


class ViewSeries(_Part, frozen=True):
    """`series.json`: per-node view sizes and fault intervals (observers: views, intervals)."""

    t: list[float]
    nodes: list[str]
    sizes: list[list[int | None]]  # [sample][node]: members believed up, self included; None: down
    distinct: list[int]
    intervals: list[FaultInterval]


# A sweep folder -------------------------------------------------------------------------------
class SweepBase(_Part, frozen=True):
    nodes: int
    preset: str
    config_overrides: dict[str, Any]
    config: dict[str, Any]
    network: NetworkSummary


class SweepPoint(_Part, frozen=True):
    id: str
    params: dict[str, Any]
    seed: int
    status: Literal["ok", "error"]
    error: str | None
    verdict: Verdict | None = None
    verdict_reason: str | None = None
    checks: list[CheckResult] | None = None
    summary: dict[str, int | float | None] | None = None  # swimlab.reports.summary.SUMMARY_METRICS
    metrics: Metrics | None = None  # without wall_s


class SweepProvenance(_Part, frozen=True):
    """What ran the sweep (reports/provenance.py); the scenario hash is of the base scenario as
    a run with the same --set would hash it, before the grid changes it."""

    swimlab: str
    git_commit: str | None
    git_dirty: bool | None
    scenario_sha256: str


class SweepVerdicts(_Part, frozen=True):
    """How many points came out each way, and the sweep's verdict: `error` if a point failed to
    run, else `invalid` if a point is invalid, else `unknown` if one is, else `valid`
    (`swimlab.reports.checks.sweep_verdict`)."""

    verdict: SweepVerdict
    valid: int
    invalid: int
    unknown: int
    error: int


class Sweep(_Part, frozen=True, kw_only=True):
    """`sweep.json`: every planned point in plan order, nothing machine- or time-dependent."""

    schema_version: int = SWEEP_SCHEMA_VERSION
    verdicts: SweepVerdicts
    scenario: str
    source: str
    description: str
    command: str
    provenance: SweepProvenance
    overrides: list[str]
    grid: dict[str, list[Any]]
    variants: dict[str, dict[str, Any]]
    seeds: list[int]
    x: str
    metrics: list[str]
    base: SweepBase
    points: list[SweepPoint]


# Writing and reading --------------------------------------------------------------------------
def to_json(part: msgspec.Struct) -> Any:
    """Plain JSON data (dicts in field order) for `json.dumps`."""
    return msgspec.to_builtins(part)


T = TypeVar("T", bound=msgspec.Struct)


def from_json(data: Any, kind: type[T], where: str = "data") -> T:
    """`data` (parsed JSON) as a `kind`; a SchemaError naming `where` and the bad field if not."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise SchemaError(f"{where}: {exc}") from None


def _read(path: str | Path, kind: type[T], version: int | None) -> T:
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if version is not None:
        found = data.get("schema_version") if isinstance(data, dict) else None
        if found != version:
            raise SchemaError(
                f"{path}: schema_version {found!r}, but this swimlab reads {kind.__name__} schema "
                f"{version} (rerun to regenerate it, or read it with the swimlab that wrote it)"
            )
    return from_json(data, kind, str(path))


def read_result(path: str | Path) -> RunResult:
    return _read(path, RunResult, RESULT_SCHEMA_VERSION)


def read_series(path: str | Path) -> ViewSeries:
    """series.json has no version of its own: it is written with its run's result.json."""
    return _read(path, ViewSeries, None)


def read_sweep(path: str | Path) -> Sweep:
    return _read(path, Sweep, SWEEP_SCHEMA_VERSION)
