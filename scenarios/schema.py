"""The scenario schema and all of its validation: raw TOML tables in, a frozen `Scenario` out.

Each section of a scenario file is a frozen dataclass below; a field's annotation is its type,
its default is the value an omitted key takes (no default: required), and `param(bound=...)`
its range. Fault operations take their parameters from the one fault table,
`swimlab.protocol.faults.FAULTS`. `validate` walks the raw tables against these, then checks
what spans several keys, and stops at the first problem with a `ScenarioError` naming the
file, the dotted key, what was expected and the value:
`crash_one.toml: faults.0.nodes.0: expected a node name n0..n99, got 'n100'`.
`scenarios/README.md` documents the same schema for humans.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from swimlab.protocol.config import PRESETS, Config, preset
from swimlab.protocol.errors import ConfigError
from swimlab.protocol.faults import (
    ABOVE_0,
    AT_LEAST_0,
    AT_LEAST_1,
    FAULTS,
    PROBABILITY,
    REQUIRED,
    TOGGLING,
    Bound,
    FaultParams,
    FaultSpec,
    param,
    spec_of,
)
from swimlab.reports.checks import CHECKS

from .errors import ScenarioError
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


@dataclass(frozen=True, kw_only=True)
class LatencyModel:
    model: Literal["constant", "uniform", "lognormal", "topology"] = param("uniform")
    ms: float = param(1.0, bound=AT_LEAST_0, doc="constant")
    low_ms: float = param(0.5, bound=AT_LEAST_0, doc="uniform (and topology's base)")
    high_ms: float = param(2.0, bound=AT_LEAST_0, doc="uniform")
    median_ms: float = param(1.0, bound=ABOVE_0, doc="lognormal")
    sigma: float = param(0.5, bound=AT_LEAST_0, doc="lognormal")
    graph: Literal["grid", "ring", "star", "random"] = param("grid", doc="topology")
    routers: int = param(16, bound=AT_LEAST_1, doc="topology")
    hop_ms: float = param(1.0, bound=AT_LEAST_0, doc="topology")


@dataclass(frozen=True, kw_only=True)
class Network:
    latency: LatencyModel = param(factory=LatencyModel)
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

    def given(self) -> list[str]:
        return [k for k in ("nodes", "count", "fraction") if getattr(self, k) is not None]


NO_SELECTOR = Selector()


@dataclass(frozen=True)
class Fault:
    """One `[[faults]]` entry: its op's row in the fault table and its validated keys."""

    op: str
    at_s: float  # 0.0 for the fault a flip_flop toggles (its own period sets the times)
    params: FaultParams
    select: Selector = NO_SELECTOR
    inner: Fault | None = None  # flip_flop: the toggled fault
    path: str = ""  # "faults.0": where it sits in the file, for messages

    @property
    def spec(self) -> FaultSpec:
        return FAULTS[self.op]


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
    checks: Mapping[str, bool | float]
    faults: tuple[Fault, ...]
    config: Config
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    sweep: Sweep | None = None

    @property
    def nodes(self) -> list[str]:
        return node_names(self.cluster.nodes)

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


def node_names(n: int) -> list[str]:
    return [f"n{i}" for i in range(n)]


# Fields: kinds read from annotations ----------------------------------------------------------
_KIND_WORDS = {
    "float": "a number",
    "int": "an integer",
    "bool": "true or false",
    "str": "a string",
    "table": "a table",
    "list[str]": "an array of strings",
    "list[int]": "an array of integers",
    "list[table]": "an array of tables",
    "list[list[str]]": "an array of arrays of strings",
    "any": "a value",
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # a key of _KIND_WORDS
    default: Any  # REQUIRED: the key must be given
    choices: tuple[Any, ...] = ()
    bound: Bound | None = None
    nested: type[Any] | None = None  # a section dataclass this table is validated against

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def _kind(tp: Any) -> tuple[str, tuple[Any, ...], type[Any] | None]:
    """(kind, Literal choices, nested dataclass) of an annotation; `X | None` reads as X."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _kind(rest[0])
        return "any", (), None  # e.g. trace.messages: bool | str, checked by hand
    if origin is Literal:
        return "str", args, None
    if tp in (float, int, bool, str):
        return str(tp.__name__), (), None
    if origin is tuple:
        item = args[0]
        if item in (str, int):
            return f"list[{item.__name__}]", (), None
        if get_origin(item) is tuple:
            return "list[list[str]]", (), None
        return "list[table]", (), None
    if origin is Mapping or tp is Mapping:
        return "table", (), None
    if dataclasses.is_dataclass(tp):
        return "table", (), tp if isinstance(tp, type) else None
    raise TypeError(f"no schema kind for {tp!r}")


_SPECS: dict[type[Any], dict[str, FieldSpec]] = {}


def field_specs(cls: type[Any]) -> dict[str, FieldSpec]:
    """The validation spec of every field of a section or fault-parameter dataclass, in order."""
    cached = _SPECS.get(cls)
    if cached is not None:
        return cached
    hints = get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        kind, literal, nested = _kind(hints[f.name])
        meta = spec_of(f)
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = REQUIRED
        out[f.name] = FieldSpec(f.name, kind, default, literal or meta["choices"], meta["bound"], nested)
    _SPECS[cls] = out
    return out


def _type_ok(kind: str, v: Any) -> bool:
    if kind == "float":
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "str":
        return isinstance(v, str)
    if kind == "table":
        return isinstance(v, Mapping)
    if kind == "list[str]":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if kind == "list[int]":
        return isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    if kind == "list[table]":
        return isinstance(v, list) and all(isinstance(x, Mapping) for x in v)
    if kind == "list[list[str]]":
        return isinstance(v, list) and all(
            isinstance(g, list) and all(isinstance(x, str) for x in g) for g in v
        )
    return True


def _convert(spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "float":
        return float(value)
    if spec.kind in ("list[str]", "list[int]", "list[table]"):
        return tuple(value)
    if spec.kind == "list[list[str]]":
        return tuple(tuple(g) for g in value)
    return value


def check_table(
    source: str, prefix: str, raw: Any, specs: Mapping[str, FieldSpec], *, nest: bool = True
) -> dict[str, Any]:
    """Check `raw` against `specs`: no unknown key, every required key, each value's type,
    choices and bound. Returns the values with defaults filled in (floats as float, arrays as
    tuples, nested sections built when `nest`)."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(source, prefix, "a table", raw)
    for key in raw:
        if key not in specs:
            raise ScenarioError(
                source, _join(prefix, key), f"no such key (known: {', '.join(sorted(specs))})", key
            )
    out: dict[str, Any] = {}
    for key, spec in specs.items():
        path = _join(prefix, key)
        if key not in raw:
            if spec.required:
                raise ScenarioError(source, path, f"{_KIND_WORDS[spec.kind]} (required)", None)
            out[key] = copy.copy(spec.default)
            continue
        value = raw[key]
        if not _type_ok(spec.kind, value):
            raise ScenarioError(source, path, _KIND_WORDS[spec.kind], value)
        value = _convert(spec, value)
        if spec.choices and value not in spec.choices:
            raise ScenarioError(source, path, "one of " + ", ".join(map(repr, spec.choices)), value)
        if spec.bound is not None and not spec.bound.ok(value):
            raise ScenarioError(source, path, str(spec.bound), value)
        if spec.nested is not None and nest:
            value = build(spec.nested, source, path, value)
        out[key] = value
    return out


T = TypeVar("T")


def build(cls: type[T], source: str, prefix: str, raw: Any) -> T:
    """A section dataclass from its raw table (see `check_table`)."""
    values = check_table(source, prefix, raw, field_specs(cls))
    return cls(**values)


def _join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


# The scenario ---------------------------------------------------------------------------------
def validate(raw: Mapping[str, Any], source: str, default_name: str = "scenario") -> Scenario:
    """The `Scenario` a raw TOML table describes, or the first `ScenarioError` in it."""
    top = build(_TopLevel, source, "", raw)
    duration = top.duration_s
    cluster = build(Cluster, source, "cluster", top.cluster)
    n = cluster.nodes
    if cluster.seeds > n:
        raise ScenarioError(source, "cluster.seeds", f"<= cluster.nodes ({n})", cluster.seeds)
    try:
        config = preset(cluster.preset, **dict(cluster.config))
    except (ConfigError, TypeError) as exc:
        raise ScenarioError(source, "cluster.config", "valid protocol config", str(exc)) from None
    network = build(Network, source, "network", top.network)
    lat = network.latency
    if lat.low_ms > lat.high_ms:
        raise ScenarioError(source, "network.latency.low_ms", f"<= high_ms ({lat.high_ms})", lat.low_ms)
    clocks = build(Clocks, source, "clocks", top.clocks)
    trace = build(Trace, source, "trace", top.trace)
    if trace.messages not in (True, False, "auto"):
        raise ScenarioError(source, "trace.messages", 'true, false or "auto"', trace.messages)
    checks = _checks(source, top.checks)
    if top.warmup_s >= duration:
        raise ScenarioError(source, "warmup_s", f"< duration_s ({duration})", top.warmup_s)
    if not top.seeds:
        raise ScenarioError(source, "seeds", "a non-empty array of integers", list(top.seeds))
    names = set(node_names(n))
    faults = tuple(
        _fault(source, f"faults.{i}", f, names, n, duration, top_level=True) for i, f in enumerate(top.faults)
    )
    sweep = _sweep(source, top.sweep, raw) if top.sweep else None
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
    )


def _checks(source: str, raw: Mapping[str, Any]) -> dict[str, bool | float]:
    out: dict[str, bool | float] = {}
    for name, value in raw.items():
        if name not in CHECKS:
            raise ScenarioError(
                source, f"checks.{name}", f"a known check ({', '.join(sorted(CHECKS))})", name
            )
        kind = CHECKS[name][0]
        if kind is bool and not isinstance(value, bool):
            raise ScenarioError(source, f"checks.{name}", "true or false", value)
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ScenarioError(source, f"checks.{name}", "a number >= 0", value)
            value = float(value)
        out[name] = value
    return out


# Faults ---------------------------------------------------------------------------------------
_OP = FieldSpec("op", "str", REQUIRED)


def _fault(
    source: str, path: str, raw: Any, names: set[str], n: int, duration: float, top_level: bool
) -> Fault:
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
            bound=Bound(low=0, high=duration, words=f"in [0, duration_s = {duration}]"),
        )
    selecting = row.selects or op == "partition"
    if selecting:
        specs.update(field_specs(Selector))
    values = check_table(source, path, raw, specs)
    select = Selector(**{k: values[k] for k in field_specs(Selector)}) if selecting else NO_SELECTOR
    if selecting:
        given = select.given()
        if len(given) > 1:
            raise ScenarioError(
                source,
                f"{path}.{given[1]}",
                f"only one of nodes/count/fraction (got {given})",
                values[given[1]],
            )
        for j, name in enumerate(select.nodes or ()):
            if name not in names:
                raise ScenarioError(source, f"{path}.nodes.{j}", f"a node name n0..n{n - 1}", name)
        if select.count is not None and select.count > n:
            raise ScenarioError(source, f"{path}.count", f"<= cluster.nodes ({n})", select.count)
    for gi, group in enumerate(values.get("groups") or ()):
        for j, name in enumerate(group):
            if name not in names:
                raise ScenarioError(source, f"{path}.groups.{gi}.{j}", f"a node name n0..n{n - 1}", name)
    if op == "partition" and values["shape"] == "groups" and not values["groups"]:
        raise ScenarioError(source, f"{path}.groups", 'an array of node-name arrays (shape = "groups")', None)
    if op == "clock" and values["step_s"] == 0 and values["drift_ppm"] is None:
        raise ScenarioError(source, path, "step_s > 0 or drift_ppm", dict(raw))
    inner = None
    if row.nests:
        raw_inner = values["fault"]
        if raw_inner.get("op") not in TOGGLING:
            raise ScenarioError(
                source, f"{path}.fault.op", "one of " + ", ".join(TOGGLING), raw_inner.get("op")
            )
        inner = _fault(source, f"{path}.fault", raw_inner, names, n, duration, top_level=False)
        inner_duration = getattr(inner.params, "duration_s", None)
        if inner_duration is not None:
            raise ScenarioError(
                source, f"{path}.fault.duration_s", "nothing (the flip_flop period sets it)", inner_duration
            )
    params = row.params(**{k: values[k] for k in own})
    return Fault(op, values.get("at_s", 0.0), params, select, inner, path)


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
    return Sweep(
        grid=grid, seeds=values["seeds"], variants=variants, x=values["x"], metrics=values["metrics"]
    )


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
