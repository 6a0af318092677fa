"""The scenario schema and all of its validation: raw TOML tables in, a frozen `Scenario` out.

Each section of a scenario file is a frozen dataclass below; a field's annotation is its type,
its default is the value an omitted key takes (no default: required), and `param(bound=...)`
its range (`fields.py` applies them). Fault operations take their parameters from the one fault
table, `swimlab.protocol.faults.FAULTS`; partition shapes and latency models declare the keys
they take. `validate` walks the raw tables against these, then checks what spans several keys
(node references and groups, selectors, faults ending within the run, crashes and restarts that
add up), and stops at the first problem with a `ScenarioError` naming the file, the dotted key,
what was expected and the value:
`crash_one.toml: faults.0.nodes.0: expected a node name n0..n99, got 'n100'`.
`scenarios/README.md` documents the same schema for humans.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from swimlab.protocol.config import PRESETS, Config, preset
from swimlab.protocol.errors import ConfigError
from swimlab.protocol.faults import (
    ABOVE_0,
    AT_LEAST_0,
    AT_LEAST_1,
    FAULTS,
    PROBABILITY,
    REQUIRED,
    SHAPES,
    TOGGLING,
    Bound,
    Churn,
    Crash,
    FaultParams,
    FaultSpec,
    FlipFlop,
    Leave,
    MassRestart,
    Partition,
    Pause,
    Restart,
    RollingRestart,
    Targets,
    Toggling,
    param,
)
from swimlab.reports.checks import CHECKS, MANAGER_CHECKS, CheckRequest, scope_of

from .errors import ScenarioError
from .fields import FieldSpec, build, check_table, field_specs, join
from .manager_section import ManagerSection, validate_manager
from .nodesets import RefError, expand, is_group_name, node_names, split_spec
from .overrides import apply_override

__all__ = ["Scenario", "ScenarioError", "validate"]


# Sections -------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Cluster:
    nodes: int = param(10, bound=AT_LEAST_1, doc="cluster size; nodes are named n0 .. n{N-1}")
    preset: str = param("lan", choices=tuple(sorted(PRESETS)), doc="protocol config preset")
    seeds: int = param(1, bound=AT_LEAST_1, doc="how many seed nodes (n0..)")
    join_window_s: float = param(1.0, bound=AT_LEAST_0, doc="non-seed nodes boot at random instants in it")
    start: Literal["join", "formed"] = param("join", doc="join through the seeds, or boot already formed")
    config: Mapping[str, Any] = param(factory=dict, doc="swimlab.protocol.config.Config overrides")
    groups: Mapping[str, tuple[str, ...]] = param(
        factory=dict, doc='named node sets: dc_a = "n0..n29" (resolved to node names)'
    )


@dataclass(frozen=True, kw_only=True)
class LatencyModel:
    model: Literal["constant", "uniform", "lognormal", "topology", "groups"] = param("uniform")
    ms: float = param(1.0, bound=AT_LEAST_0, doc="constant")
    low_ms: float = param(0.5, bound=AT_LEAST_0, doc="uniform (and topology's base)")
    high_ms: float = param(2.0, bound=AT_LEAST_0, doc="uniform")
    median_ms: float = param(1.0, bound=ABOVE_0, doc="lognormal")
    sigma: float = param(0.5, bound=AT_LEAST_0, doc="lognormal")
    graph: Literal["grid", "ring", "star", "random"] = param("grid", doc="topology")
    routers: int = param(16, bound=AT_LEAST_1, doc="topology")
    hop_ms: float = param(1.0, bound=AT_LEAST_0, doc="topology")
    groups: tuple[str, ...] = param((), doc="groups: the datacenters (default: every cluster group)")
    intra_ms: float = param(1.0, bound=AT_LEAST_0, doc="groups: one-way delay within a datacenter")
    inter_ms: float = param(50.0, bound=AT_LEAST_0, doc="groups: one-way delay between datacenters")
    matrix: Mapping[str, Mapping[str, float]] = param(
        factory=dict, doc="groups: { dc_a = { dc_b = 80.0 } } one-way ms, overriding intra/inter"
    )


LATENCY_KEYS: Mapping[str, frozenset[str]] = {
    "constant": frozenset({"ms"}),
    "uniform": frozenset({"low_ms", "high_ms"}),
    "lognormal": frozenset({"median_ms", "sigma"}),
    "topology": frozenset({"graph", "routers", "hop_ms", "low_ms"}),
    "groups": frozenset({"groups", "intra_ms", "inter_ms", "matrix"}),
}
"""latency model -> the keys it reads (besides `model`); any other key is an error."""


@dataclass(frozen=True, kw_only=True)
class ReliableChannel:
    """How loss delays the reliable channel (sim/network.py states the model and its sources)."""

    model: Literal["retransmit", "exempt"] = param(
        "retransmit", doc="retransmit: loss delays reliable sends; exempt: loss never touches them"
    )
    rto_ms: float = param(1000.0, bound=ABOVE_0, doc="retransmit: first retransmission timeout")
    backoff: float = param(2.0, bound=AT_LEAST_1, doc="retransmit: timeout multiplier per loss")
    max_rto_ms: float = param(60000.0, bound=ABOVE_0, doc="retransmit: timeout cap")
    max_attempts: int = param(6, bound=AT_LEAST_1, doc="retransmit: tries per segment before the send fails")
    segment_bytes: int = param(1200, bound=AT_LEAST_1, doc="retransmit: bytes per segment")


RELIABLE_KEYS: Mapping[str, frozenset[str]] = {
    "retransmit": frozenset({"rto_ms", "backoff", "max_rto_ms", "max_attempts", "segment_bytes"}),
    "exempt": frozenset(),
}
"""reliable-channel model -> the keys it reads (besides `model`); any other key is an error."""


@dataclass(frozen=True, kw_only=True)
class Network:
    latency: LatencyModel = param(factory=LatencyModel)
    reliable: ReliableChannel = param(factory=ReliableChannel)
    jitter_ms: float = param(0.0, bound=AT_LEAST_0)
    loss: float = param(0.0, bound=PROBABILITY)
    duplicate: float = param(0.0, bound=PROBABILITY)
    reorder: float = param(0.0, bound=PROBABILITY)
    reorder_delay_ms: float = param(10.0, bound=AT_LEAST_0)
    bandwidth_bytes_per_s: float = param(0.0, bound=AT_LEAST_0)
    full_decode: bool = param(False)


@dataclass(frozen=True, kw_only=True)
class Clocks:
    offset_ms_max: float = param(0.0, bound=AT_LEAST_0)
    drift_ppm_max: float = param(0.0, bound=Bound(low=0, high=1e6, high_open=True, words="in [0, 1e6)"))


@dataclass(frozen=True, kw_only=True)
class Trace:
    messages: bool | str = param("auto", doc='true, false or "auto" (on up to auto_messages_max_nodes)')
    auto_messages_max_nodes: int = param(50, bound=AT_LEAST_0)


@dataclass(frozen=True, kw_only=True)
class Sweep:
    grid: Mapping[str, tuple[Any, ...]] = param(factory=dict, doc='"dotted.key" = [values...]')
    seeds: int = param(3, bound=AT_LEAST_1, doc="seeds 1..K per grid point")
    seeds_at: tuple[Mapping[str, Any], ...] = param(
        (),
        doc='[{ "grid.key" = value, seeds = K }, ...]: at most K seeds where a point has those '
        "grid values (say, one at the largest N)",
    )
    variants: Mapping[str, Mapping[str, Any]] = param(factory=dict, doc='name = { "dotted.key" = value }')
    x: str = param("", doc="the grid key on the x axis of the sweep plots")
    metrics: tuple[str, ...] = param((), doc="names from reports.summary.SUMMARY_METRICS to plot")


@dataclass(frozen=True, kw_only=True)
class Selector:
    """Which nodes a selecting fault acts on: one of `nodes`, `count`, `fraction`."""

    nodes: tuple[str, ...] | None = param(None, nodes=True, doc="these nodes")
    count: int | None = param(None, bound=AT_LEAST_1, doc="this many, at random")
    fraction: float | None = param(
        None, bound=Bound(low=0, high=1, low_open=True), doc="this fraction of the cluster, at random"
    )
    include_seeds: bool = param(False, doc="random picks may hit seed nodes")
    within: tuple[str, ...] | None = param(
        None, nodes=True, doc="random picks come from these nodes only (fraction: of these)"
    )

    def given(self) -> list[str]:
        return [k for k in ("nodes", "count", "fraction") if getattr(self, k) is not None]


NO_SELECTOR = Selector()


@dataclass(frozen=True, kw_only=True)
class Repeat:
    """Fire the fault `times` times in all, `every_s` apart (a fresh random pick each time)."""

    times: int = param(bound=AT_LEAST_1, doc="how many times in all")
    every_s: float = param(bound=ABOVE_0, doc="seconds between the starts of consecutive firings")


@dataclass(frozen=True)
class Fault:
    """One `[[faults]]` entry: its op's row in the fault table and its validated keys."""

    op: str
    at_s: float  # 0.0 for the fault a flip_flop toggles (its own period sets the times)
    params: FaultParams
    select: Selector = NO_SELECTOR
    inner: Fault | None = None  # flip_flop: the toggled fault
    path: str = ""  # "faults.0": where it sits in the file, for messages
    repeat: Repeat | None = None

    @property
    def spec(self) -> FaultSpec:
        return FAULTS[self.op]

    def firings(self) -> list[float]:
        """The instants it fires at (one, or `repeat.times`)."""
        if self.repeat is None:
            return [self.at_s]
        return [self.at_s + k * self.repeat.every_s for k in range(self.repeat.times)]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str
    duration_s: float
    seeds: tuple[int, ...]
    warmup_s: float
    cluster: Cluster
    network: Network
    clocks: Clocks
    trace: Trace
    checks: tuple[CheckRequest, ...]
    faults: tuple[Fault, ...]
    config: Config
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    sweep: Sweep | None = None
    manager: ManagerSection | None = None  # [manager]: every node runs under a cluster manager

    @property
    def nodes(self) -> list[str]:
        return node_names(self.cluster.nodes)

    @property
    def groups(self) -> Mapping[str, tuple[str, ...]]:
        """`[cluster.groups]` resolved to node names (for faults, checks and latency)."""
        return self.cluster.groups

    @property
    def trace_messages(self) -> bool:
        mode = self.trace.messages
        if mode == "auto":
            return self.cluster.nodes <= self.trace.auto_messages_max_nodes
        return bool(mode)


@dataclass(frozen=True, kw_only=True)
class _TopLevel:
    """The file's top-level keys; each section is then validated by its own dataclass."""

    name: str = param("")
    description: str = param()
    duration_s: float = param(bound=ABOVE_0)
    seeds: tuple[int, ...] = param((1,))
    warmup_s: float = param(0.0, bound=AT_LEAST_0)
    cluster: Mapping[str, Any] = param(factory=dict)
    network: Mapping[str, Any] = param(factory=dict)
    clocks: Mapping[str, Any] = param(factory=dict)
    trace: Mapping[str, Any] = param(factory=dict)
    checks: Mapping[str, Any] = param(factory=dict)
    faults: tuple[Mapping[str, Any], ...] = param(())
    sweep: Mapping[str, Any] = param(factory=dict)
    manager: Mapping[str, Any] | None = param(None)
    search: Mapping[str, Any] | None = param(None)  # the fault search's envelope (search.py)


# The scenario ---------------------------------------------------------------------------------
def validate(raw: Mapping[str, Any], source: str, default_name: str = "scenario") -> Scenario:
    """The `Scenario` a raw TOML table describes, or the first `ScenarioError` in it."""
    top = build(_TopLevel, source, "", raw)
    duration = top.duration_s
    cluster = build(Cluster, source, "cluster", top.cluster)
    n = cluster.nodes
    if cluster.seeds > n:
        raise ScenarioError(source, "cluster.seeds", f"<= cluster.nodes ({n})", cluster.seeds)
    cluster = dataclasses.replace(cluster, groups=_groups(source, cluster.groups, n))
    try:
        config = preset(cluster.preset, **dict(cluster.config))
    except (ConfigError, TypeError) as exc:
        raise ScenarioError(source, "cluster.config", "valid protocol config", str(exc)) from None
    network = build(Network, source, "network", top.network)
    lat = network.latency
    raw_latency = top.network.get("latency", {})
    for key in raw_latency:
        if key != "model" and key not in LATENCY_KEYS[lat.model]:
            takes = ", ".join(sorted(LATENCY_KEYS[lat.model]))
            expected = f"no such key for model = {lat.model!r} (it takes: {takes})"
            raise ScenarioError(source, f"network.latency.{key}", expected, raw_latency[key])
    if lat.low_ms > lat.high_ms:
        raise ScenarioError(source, "network.latency.low_ms", f"<= high_ms ({lat.high_ms})", lat.low_ms)
    rel = network.reliable
    raw_reliable = top.network.get("reliable", {})
    for key in raw_reliable:
        if key != "model" and key not in RELIABLE_KEYS[rel.model]:
            takes = ", ".join(sorted(RELIABLE_KEYS[rel.model])) or "nothing else"
            expected = f"no such key for model = {rel.model!r} (it takes: {takes})"
            raise ScenarioError(source, f"network.reliable.{key}", expected, raw_reliable[key])
    if rel.max_rto_ms < rel.rto_ms:
        raise ScenarioError(
            source, "network.reliable.max_rto_ms", f">= rto_ms ({rel.rto_ms})", rel.max_rto_ms
        )
    if lat.model == "groups":
        network = dataclasses.replace(network, latency=_group_latency(source, lat, cluster))
    clocks = build(Clocks, source, "clocks", top.clocks)
    trace = build(Trace, source, "trace", top.trace)
    if trace.messages not in (True, False, "auto"):
        raise ScenarioError(source, "trace.messages", 'true, false or "auto"', trace.messages)
    checks = _checks(source, top.checks, cluster.groups, duration)
    manager = validate_manager(source, top.manager, n) if top.manager is not None else None
    if manager is None:
        for req in checks:
            if req.name in MANAGER_CHECKS:
                raise ScenarioError(
                    source, f"checks.{req.name}", "a check that applies without [manager]", req.name
                )
    if top.warmup_s >= duration:
        raise ScenarioError(source, "warmup_s", f"< duration_s ({duration})", top.warmup_s)
    if not top.seeds:
        raise ScenarioError(source, "seeds", "a non-empty array of integers", list(top.seeds))
    for i, seed in enumerate(top.seeds):
        if seed < 0:
            raise ScenarioError(source, f"seeds.{i}", "an integer >= 0", seed)
    ctx = _Ctx(source, n, cluster.groups, duration)
    faults = tuple(_fault(ctx, f"faults.{i}", f, top_level=True) for i, f in enumerate(top.faults))
    _check_process_life(ctx, faults)
    sweep = _sweep(source, top.sweep, raw) if top.sweep else None
    if top.search is not None:
        from .search import envelope  # search.py validates its own table (and imports this module)

        envelope(source, raw)
    return Scenario(
        name=top.name or default_name,
        description=top.description,
        source=source,
        duration_s=duration,
        seeds=top.seeds,
        warmup_s=top.warmup_s,
        cluster=cluster,
        network=network,
        clocks=clocks,
        trace=trace,
        checks=checks,
        faults=faults,
        config=config,
        raw=copy.deepcopy(dict(raw)),
        sweep=sweep,
        manager=manager,
    )


def _checks(
    source: str, raw: Mapping[str, Any], groups: Mapping[str, tuple[str, ...]], duration: float
) -> tuple[CheckRequest, ...]:
    """`[checks]`: each key a check of reports/checks.py, its value `true` (every default) or
    `false` (off), a number (the check's main parameter), a table of parameters, or an array of
    tables (the check once per table)."""
    out: list[CheckRequest] = []
    for name, value in raw.items():
        path = f"checks.{name}"
        if name not in CHECKS:
            known = ", ".join(CHECKS)
            raise ScenarioError(source, path, f"a known check ({known})", name)
        spec = CHECKS[name]
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            tables = [(f"{path}.{i}", v) for i, v in enumerate(value)]
        elif isinstance(value, Mapping):
            tables = [(path, value)]
        elif spec.shorthand is None:
            if not isinstance(value, bool):
                raise ScenarioError(source, path, "true, false or a table of its parameters", value)
            tables = [(path, {})] if value else []
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                expected = f"a number ({spec.shorthand}) or a table of its parameters"
                raise ScenarioError(source, path, expected, value)
            tables = [(path, {spec.shorthand: value})]
        for where, table in tables:
            try:
                params = build(spec.params, source, where, table)
            except ScenarioError as exc:
                if not isinstance(value, Mapping | list):  # a bare value: the error is about it
                    raise ScenarioError(source, path, exc.expected, value) from None
                raise
            _check_scope(source, where, params, groups, duration)
            bare = not isinstance(value, Mapping | list)
            out.append(CheckRequest(name, params, scope_of(params, groups), bare=bare))
    return tuple(out)


def _check_scope(
    source: str, path: str, params: Any, groups: Mapping[str, tuple[str, ...]], duration: float
) -> None:
    group = getattr(params, "group", None)
    if group is not None and group not in groups:
        known = ", ".join(groups) or "none defined"
        raise ScenarioError(source, f"{path}.group", f"a group of [cluster.groups] ({known})", group)
    from_s = getattr(params, "from_s", 0.0)
    to_s = getattr(params, "to_s", None)
    if from_s > duration:
        raise ScenarioError(source, f"{path}.from_s", f"<= duration_s ({duration})", from_s)
    if to_s is not None and not from_s <= to_s <= duration:
        raise ScenarioError(source, f"{path}.to_s", f"in [from_s = {from_s}, duration_s = {duration}]", to_s)


# Node groups and references -------------------------------------------------------------------
@dataclass(frozen=True)
class _Ctx:
    source: str
    n: int
    groups: Mapping[str, tuple[str, ...]]
    duration: float


def _groups(source: str, raw: Mapping[str, Any], n: int) -> dict[str, tuple[str, ...]]:
    """`[cluster.groups]`: name -> "n0..n9, n20" (or an array of such strings), resolved."""
    out: dict[str, tuple[str, ...]] = {}
    for name, value in raw.items():
        path = f"cluster.groups.{name}"
        if not is_group_name(name):
            expected = "a group name: letters, digits, _ or -, not a node name like n3"
            raise ScenarioError(source, path, expected, name)
        if not (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            raise ScenarioError(source, path, 'node names and ranges: "n0..n9, n20" or an array', value)
        nodes: list[str] = []
        for entry in split_spec(value):
            try:
                nodes.extend(expand(entry, n))
            except RefError as exc:
                raise ScenarioError(source, path, exc.expected, entry) from None
        out[name] = _distinct(source, path, nodes, value)
    return out


def _distinct(source: str, path: str, nodes: list[str], got: Any) -> tuple[str, ...]:
    if not nodes:
        raise ScenarioError(source, path, "at least one node", got)
    seen: set[str] = set()
    for node in nodes:
        if node in seen:
            raise ScenarioError(source, path, f"each node at most once ({node} is listed twice)", got)
        seen.add(node)
    return tuple(nodes)


def _refs(ctx: _Ctx, path: str, entries: Sequence[str]) -> tuple[str, ...]:
    """A list of node references (names, ranges, group names) as distinct node names."""
    nodes: list[str] = []
    for j, entry in enumerate(entries):
        try:
            nodes.extend(expand(entry, ctx.n, ctx.groups))
        except RefError as exc:
            raise ScenarioError(ctx.source, f"{path}.{j}", exc.expected, entry) from None
    return _distinct(ctx.source, path, nodes, list(entries))


def _group_latency(source: str, lat: LatencyModel, cluster: Cluster) -> LatencyModel:
    """`model = "groups"`: the datacenters are disjoint cluster groups covering every node."""
    names = lat.groups or tuple(cluster.groups)
    if not names:
        raise ScenarioError(
            source, "network.latency.groups", "cluster groups to place nodes in ([cluster.groups])", []
        )
    where: dict[str, str] = {}
    for i, name in enumerate(names):
        if name not in cluster.groups:
            known = ", ".join(cluster.groups) or "none defined"
            raise ScenarioError(source, f"network.latency.groups.{i}", f"a cluster group ({known})", name)
        for node in cluster.groups[name]:
            if node in where:
                expected = f"datacenters that do not overlap ({node} is in {where[node]} and {name})"
                raise ScenarioError(source, "network.latency.groups", expected, list(names))
            where[node] = name
    missing = [x for x in node_names(cluster.nodes) if x not in where]
    if missing:
        listed = ", ".join(missing[:5]) + ("..." if len(missing) > 5 else "")
        expected = f"datacenters covering every node ({listed} in none)"
        raise ScenarioError(source, "network.latency.groups", expected, list(names))
    for a, row in lat.matrix.items():
        if a not in names:
            raise ScenarioError(
                source, f"network.latency.matrix.{a}", f"a datacenter ({', '.join(names)})", a
            )
        if not isinstance(row, Mapping):
            raise ScenarioError(source, f"network.latency.matrix.{a}", "a table of datacenter = ms", row)
        for b, ms in row.items():
            path = f"network.latency.matrix.{a}.{b}"
            if b not in names:
                raise ScenarioError(source, path, f"a datacenter ({', '.join(names)})", b)
            if isinstance(ms, bool) or not isinstance(ms, int | float) or not (math.isfinite(ms) and ms >= 0):
                raise ScenarioError(source, path, "a number of milliseconds >= 0", ms)
    matrix = {a: {b: float(ms) for b, ms in row.items()} for a, row in lat.matrix.items()}
    return dataclasses.replace(lat, groups=tuple(names), matrix=matrix)


# Faults ---------------------------------------------------------------------------------------
_OP = FieldSpec("op", "str", REQUIRED)
_REPEAT = FieldSpec("repeat", "table", None, nested=Repeat)
_SELECTOR_KEYS = frozenset(field_specs(Selector))


def _fault(ctx: _Ctx, path: str, raw: Any, top_level: bool) -> Fault:
    source = ctx.source
    if not isinstance(raw, Mapping):
        raise ScenarioError(source, path, "a table", raw)
    op = raw.get("op")
    if not isinstance(op, str) or op not in FAULTS:
        raise ScenarioError(source, f"{path}.op", "one of " + ", ".join(sorted(FAULTS)), op)
    row = FAULTS[op]
    own = field_specs(row.params)
    specs: dict[str, FieldSpec] = {"op": _OP, **own}
    if row.nests:
        specs["fault"] = FieldSpec("fault", "table", REQUIRED)
    if top_level:
        specs["at_s"] = FieldSpec(
            "at_s",
            "float",
            REQUIRED,
            bound=Bound(low=0, high=ctx.duration, words=f"in [0, duration_s = {ctx.duration}]"),
        )
        specs["repeat"] = _REPEAT
    if row.selects:
        specs.update(field_specs(Selector))
    if op == "partition":
        specs = _shape_specs(source, path, raw, specs)
    values = check_table(source, path, raw, specs)
    for key, spec in specs.items():
        value = values[key]
        if spec.nodes and value is not None:
            if spec.kind == "list[list[str]]":  # partition sides: group names or node arrays
                values[key] = _sides(ctx, f"{path}.{key}", value)
            else:
                values[key] = _refs(ctx, f"{path}.{key}", value)
    select = Selector(**{k: values[k] for k in _SELECTOR_KEYS if k in values})
    if row.selects:
        _check_selector(ctx, path, raw, row.targets, op, select)
    if op == "partition" and values["shape"] == "groups" and not values["groups"]:
        expected = 'an array of group names or node-name arrays (shape = "groups")'
        raise ScenarioError(source, f"{path}.groups", expected, None)
    if op == "partition" and values["shape"] == "one" and len(select.nodes or ()) > 1:
        expected = 'at most one node (shape = "one" cuts off one node; use shape = "groups" for more)'
        raise ScenarioError(source, f"{path}.nodes", expected, list(raw["nodes"]))
    if op == "clock" and values["step_s"] == 0 and values["drift_ppm"] is None:
        raise ScenarioError(source, path, "step_s > 0 or drift_ppm", dict(raw))
    if op == "rolling_restart" and values["interval_s"] < values["downtime_s"]:
        expected = f">= downtime_s ({values['downtime_s']}): one batch is down at a time"
        raise ScenarioError(source, f"{path}.interval_s", expected, values["interval_s"])
    inner = None
    if row.nests:
        raw_inner = values["fault"]
        if raw_inner.get("op") not in TOGGLING:
            expected = "one of " + ", ".join(TOGGLING)
            raise ScenarioError(source, f"{path}.fault.op", expected, raw_inner.get("op"))
        inner = _fault(ctx, f"{path}.fault", raw_inner, top_level=False)
        inner_duration = getattr(inner.params, "duration_s", None)
        if inner_duration is not None:
            raise ScenarioError(
                source, f"{path}.fault.duration_s", "nothing (the flip_flop period sets it)", inner_duration
            )
    params = row.params(**{k: values[k] for k in own})
    fault = Fault(op, values.get("at_s", 0.0), params, select, inner, path, values.get("repeat"))
    if top_level:
        _check_ends_in_time(ctx, fault, raw)
    return fault


def _shape_specs(
    source: str, path: str, raw: Mapping[str, Any], specs: dict[str, FieldSpec]
) -> dict[str, FieldSpec]:
    """A partition takes the keys its shape declares (SHAPES); any other is an error. The
    shape's unused parameters keep their defaults."""
    shape = raw.get("shape", specs["shape"].default)
    if shape not in SHAPES:
        return specs  # check_table reports the bad shape
    takes = SHAPES[shape].keys
    for key in raw:
        if key in ("op", "at_s", "repeat", "shape") or key in takes:
            continue
        if key in specs or key in _SELECTOR_KEYS:
            expected = f"no such key for shape = {shape!r} (it takes: {', '.join(sorted(takes))})"
            raise ScenarioError(source, join(path, key), expected, raw[key])
    if "nodes" in takes:
        return {**specs, "nodes": field_specs(Selector)["nodes"]}
    return specs


def _sides(ctx: _Ctx, path: str, entries: Sequence[str | Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """A partition's `groups`: each side a group name (or one reference) or an array of them;
    no node may be on two sides."""
    sides: list[tuple[str, ...]] = []
    owner: dict[str, int] = {}
    for i, entry in enumerate(entries):
        side = _refs(ctx, f"{path}.{i}", [entry] if isinstance(entry, str) else entry)
        for node in side:
            if node in owner:
                expected = f"sides that do not overlap ({node} is in sides {owner[node]} and {i})"
                raise ScenarioError(
                    ctx.source, f"{path}.{i}", expected, entry if isinstance(entry, str) else list(entry)
                )
            owner[node] = i
        sides.append(side)
    return tuple(sides)


def _check_selector(
    ctx: _Ctx, path: str, raw: Mapping[str, Any], targets: Targets, op: str, select: Selector
) -> None:
    source = ctx.source
    given = select.given()
    if len(given) > 1:
        expected = f"only one of nodes/count/fraction (got {given})"
        raise ScenarioError(source, f"{path}.{given[1]}", expected, raw[given[1]])
    if not given:
        if targets is not Targets.UP_OR_EVERY_LINK:
            expected = f"one of nodes, count or fraction: which nodes the {op} acts on"
            raise ScenarioError(source, path, expected, dict(raw))
        for key in ("direction", "include_seeds", "within"):  # uniform loss on every link
            if key in raw:
                expected = "no such key without nodes/count/fraction (the loss is on every link)"
                raise ScenarioError(source, f"{path}.{key}", expected, raw[key])
    if select.nodes is not None:
        for key in ("include_seeds", "within"):
            if key in raw:
                expected = "no such key with nodes (it shapes random picks: count or fraction)"
                raise ScenarioError(source, f"{path}.{key}", expected, raw[key])
    pool = len(select.within) if select.within is not None else ctx.n
    if select.count is not None and select.count > pool:
        limit = f"len(within) ({pool})" if select.within is not None else f"cluster.nodes ({ctx.n})"
        raise ScenarioError(source, f"{path}.count", f"<= {limit}", select.count)


# Time: every fault ends within the run; process life adds up ----------------------------------
def _span_s(fault: Fault, n: int) -> tuple[float, str] | None:
    """How long one firing acts, and the key that says so; None: until the end of the run."""
    p = fault.params
    if isinstance(p, Toggling):
        return None if p.duration_s is None else (p.duration_s, "duration_s")
    if isinstance(p, Pause | Churn | FlipFlop):
        return p.duration_s, "duration_s"
    if isinstance(p, MassRestart):
        return p.downtime_s, "downtime_s"
    if isinstance(p, RollingRestart):
        batches = math.ceil(_planned_count(fault.select, n) / p.batch)
        return (batches - 1) * p.interval_s + p.downtime_s, "interval_s"
    return 0.0, ""


def _planned_count(select: Selector, n: int) -> int:
    if select.nodes is not None:
        return len(select.nodes)
    if select.count is not None:
        return select.count
    base = len(select.within) if select.within is not None else n
    return max(1, round((select.fraction or 0.0) * base))


def _check_ends_in_time(ctx: _Ctx, fault: Fault, raw: Mapping[str, Any]) -> None:
    span = _span_s(fault, ctx.n)
    last = fault.firings()[-1]
    repeat = fault.repeat
    if repeat is not None and last > ctx.duration:
        most = math.floor((ctx.duration - fault.at_s) / repeat.every_s) + 1
        expected = (
            f"<= {most} so the last firing is within duration_s = {ctx.duration}"
            f" (it fires at {fault.at_s} + k * {repeat.every_s} s)"
        )
        raise ScenarioError(ctx.source, f"{fault.path}.repeat.times", expected, repeat.times)
    if repeat is not None and repeat.times > 1:
        if span is None:
            expected = (
                f"a duration below repeat.every_s ({repeat.every_s}): it must end before it fires again"
            )
            raise ScenarioError(ctx.source, f"{fault.path}.duration_s", expected, None)
        if span[0] >= repeat.every_s:
            expected = f"< repeat.every_s ({repeat.every_s}): it must end before it fires again"
            raise ScenarioError(ctx.source, f"{fault.path}.{span[1]}", expected, raw[span[1]])
    if span is None:
        return
    end = last + span[0]
    if end > ctx.duration:
        when = f"its last firing starts at {last} s" if last != fault.at_s else f"it starts at {last} s"
        if isinstance(fault.params, RollingRestart):
            expected = f"a rolling restart that ends by duration_s = {ctx.duration} (it would end at {end} s)"
            raise ScenarioError(ctx.source, f"{fault.path}.interval_s", expected, fault.params.interval_s)
        optional = span[1] == "duration_s" and isinstance(fault.params, Toggling)
        hint = "; leave duration_s out to last to the end" if optional else ""
        expected = f"<= {ctx.duration - last} so the fault ends by duration_s = {ctx.duration} ({when}{hint})"
        raise ScenarioError(ctx.source, f"{fault.path}.{span[1]}", expected, raw.get(span[1], span[0]))


def _check_process_life(ctx: _Ctx, faults: Sequence[Fault]) -> None:
    """Crash, leave, pause, mass_restart and rolling_restart act on up nodes, restart on down
    ones: where the scenario names the nodes and nothing random touched them before, a fault
    that finds them in the wrong state is an error (the nemesis warns about the rest at run
    time). Firings are taken in time order, ties in file order."""
    events: list[tuple[float, int, int, Fault]] = []
    for index, fault in enumerate(faults):
        for k, t in enumerate(fault.firings()):
            events.append((t, index, k, fault))
    events.sort(key=lambda e: (e[0], e[1]))
    known = True  # until a random pick or churn may have changed any node
    why: dict[str, str] = {}
    state = {name: True for name in node_names(ctx.n)}
    left: set[str] = set()  # down after a graceful leave: only a wiped restart brings them back
    for t, _, _, fault in events:
        p = fault.params
        changes = isinstance(p, Crash | Leave | Restart | MassRestart | RollingRestart)
        if isinstance(p, Churn) and (p.leave_rate_per_s > 0 or p.crash_rate_per_s > 0):
            known = False
            continue
        if not (changes or isinstance(p, Pause)):
            continue
        if fault.select.nodes is None:
            if changes:
                known = False
            continue
        wants_up = not isinstance(p, Restart)
        if known and isinstance(p, Restart) and p.state == "kept":
            for node in fault.select.nodes:
                if node in left:
                    expected = (
                        f"a crashed node: a kept restart resumes its state, and {node} left the cluster"
                        f' ({why[node]}); restart it with state = "wiped"'
                    )
                    raise ScenarioError(ctx.source, f"{fault.path}.state", expected, "kept")
        if known:
            for node in fault.select.nodes:
                if state[node] != wants_up:
                    was = why.get(node, "nothing before crashed it")
                    if wants_up:
                        expected = f"nodes that are up at {t} s ({node} is down: {was})"
                    else:
                        expected = (
                            f"nodes that are down at {t} s (restart brings back a crashed node;"
                            f" {node} is up: {was})"
                        )
                    raise ScenarioError(ctx.source, f"{fault.path}.nodes", expected, node)
        verb = {Crash: "crashed it", Leave: "made it leave", Restart: "restarted it"}.get(type(p))
        for node in fault.select.nodes:
            if verb is not None:
                state[node] = not isinstance(p, Crash | Leave)
                why[node] = f"{fault.path} {verb} at {t} s"
                if isinstance(p, Leave):
                    left.add(node)
                elif isinstance(p, Restart | Crash):
                    left.discard(node)


# Sweeps ---------------------------------------------------------------------------------------
def _sweep(source: str, raw_sweep: Any, raw: Mapping[str, Any]) -> Sweep:
    """The `[sweep]` table. Every grid value and variant is applied to the scenario and the
    result validated, so a bad value fails now, naming the sweep key, not mid-sweep."""
    from swimlab.reports.summary import SUMMARY_METRICS

    values = check_table(source, "sweep", raw_sweep, field_specs(Sweep))
    variants: dict[str, dict[str, Any]] = {}
    for name, changes in values["variants"].items():
        path = f"sweep.variants.{name}"
        if not isinstance(changes, Mapping):
            raise ScenarioError(source, path, 'a table of "dotted.key" = value', changes)
        for key, value in changes.items():
            check_override(source, f"{path}.{key}", raw, key, value)
        variants[name] = dict(changes)
    grid: dict[str, tuple[Any, ...]] = {}
    for key, values_ in values["grid"].items():
        path = f"sweep.grid.{key}"
        if not isinstance(values_, list) or not values_:
            raise ScenarioError(
                source, path, 'a non-empty array of values (quote dotted keys: "a.b" = [...])', values_
            )
        for i, value in enumerate(values_):
            if key == "variant":
                if value not in variants:
                    raise ScenarioError(
                        source, f"{path}.{i}", f"a name in [sweep.variants] ({', '.join(variants)})", value
                    )
            else:
                check_override(source, f"{path}.{i}", raw, key, value)
        grid[key] = tuple(values_)
    if values["x"] and values["x"] not in grid:
        raise ScenarioError(source, "sweep.x", f"a key of sweep.grid ({', '.join(grid)})", values["x"])
    for i, metric in enumerate(values["metrics"]):
        if metric not in SUMMARY_METRICS:
            raise ScenarioError(source, f"sweep.metrics.{i}", f"one of {', '.join(SUMMARY_METRICS)}", metric)
    seeds_at = tuple(
        _seeds_at_entry(source, f"sweep.seeds_at.{i}", entry, grid)
        for i, entry in enumerate(values["seeds_at"])
    )
    return Sweep(
        grid=grid,
        seeds=values["seeds"],
        seeds_at=seeds_at,
        variants=variants,
        x=values["x"],
        metrics=values["metrics"],
    )


def _seeds_at_entry(
    source: str, path: str, entry: Any, grid: Mapping[str, tuple[Any, ...]]
) -> Mapping[str, Any]:
    """One `[sweep] seeds_at` entry: `seeds` (an int >= 1) and one or more grid keys, each with a
    value of its grid."""
    if not isinstance(entry, Mapping):
        raise ScenarioError(source, path, '{ "grid.key" = value, seeds = K }', entry)
    seeds = entry.get("seeds")
    if type(seeds) is not int or seeds < 1:
        raise ScenarioError(source, f"{path}.seeds", "an integer >= 1 (required)", seeds)
    keys = [k for k in entry if k != "seeds"]
    if not keys:
        raise ScenarioError(source, path, "at least one grid key besides seeds", dict(entry))
    for key in keys:
        if key not in grid:
            raise ScenarioError(source, f"{path}.{key}", f"a key of sweep.grid ({', '.join(grid)})", key)
        if entry[key] not in grid[key]:
            raise ScenarioError(
                source, f"{path}.{key}", f"a value of sweep.grid.{key} {list(grid[key])}", entry[key]
            )
    return dict(entry)


def check_override(source: str, path: str, raw: Mapping[str, Any], key: str, value: Any) -> None:
    """Raise `ScenarioError` at `path` unless setting dotted `key` to `value` leaves `raw` valid."""
    trial = copy.deepcopy({k: v for k, v in raw.items() if k != "sweep"})
    try:
        apply_override(trial, key.split("."), value)
        validate(trial, source)
    except ScenarioError as exc:
        raise ScenarioError(
            source, path, f"a value that keeps the scenario valid ({exc.path}: {exc.expected})", value
        ) from None


# The scenario as it ran -----------------------------------------------------------------------
def effective(scenario: Scenario) -> dict[str, Any]:
    """The scenario as it ran, as plain data for result.json: `--set` overrides applied, every
    default filled in, node ranges and group names resolved to node names."""
    return {
        "name": scenario.name,
        "description": scenario.description,
        "source": scenario.source,
        "duration_s": scenario.duration_s,
        "seeds": list(scenario.seeds),
        "warmup_s": scenario.warmup_s,
        "cluster": _plain(scenario.cluster),
        "network": _plain(scenario.network)
        | {
            "latency": _plain(
                scenario.network.latency, LATENCY_KEYS[scenario.network.latency.model] | {"model"}
            ),
            "reliable": _plain(
                scenario.network.reliable, RELIABLE_KEYS[scenario.network.reliable.model] | {"model"}
            ),
        },
        "clocks": _plain(scenario.clocks),
        "trace": _plain(scenario.trace),
        "checks": _plain_checks(scenario.checks),
        "faults": [_plain_fault(f) for f in scenario.faults],
    } | ({"manager": _plain(scenario.manager)} if scenario.manager is not None else {})


def _plain_checks(checks: Sequence[CheckRequest]) -> dict[str, Any]:
    """name -> its parameters, every default filled in (an array if the check is asked twice)."""
    grouped: dict[str, list[Any]] = {}
    for check in checks:
        grouped.setdefault(check.name, []).append(_plain(check.params))
    return {name: tables[0] if len(tables) == 1 else tables for name, tables in grouped.items()}


def _plain_fault(fault: Fault) -> dict[str, Any]:
    out: dict[str, Any] = {"op": fault.op}
    if fault.path.count(".") == 1:  # a top-level fault (a flip_flop's toggled one has no time)
        out["at_s"] = fault.at_s
    keys = SHAPES[fault.params.shape].keys | {"shape"} if isinstance(fault.params, Partition) else None
    out |= {k: v for k, v in _plain(fault.params, keys).items() if v is not None}
    out |= {k: v for k, v in _plain(fault.select).items() if v not in (None, False)}
    if fault.repeat is not None:
        out["repeat"] = _plain(fault.repeat)
    if fault.inner is not None:
        out["fault"] = _plain_fault(fault.inner)
    return out


def _plain(value: Any, keys: frozenset[str] | None = None) -> Any:
    """Plain JSON-ready data (of a dataclass: only `keys`, if given)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f.name for f in dataclasses.fields(value) if keys is None or f.name in keys]
        return {name: _plain(getattr(value, name)) for name in fields}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
