"""Load a scenario: find it (library name or path), apply `--set` overrides, validate it.

`load_scenario("crash_one", ["cluster.nodes=1000"])` returns a `Scenario` or raises
`ScenarioError` naming the file, the key and what was expected. Overrides are parsed as TOML
literals (`cluster.nodes=1000`, `network.loss=0.05`, `cluster.preset="local"`; a bare word that
is not TOML is taken as a string, so `cluster.preset=local` works too).
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from swimlab.protocol.config import Config, preset
from swimlab.protocol.errors import ConfigError
from swimlab.reports.checks import CHECKS

from . import schema
from .schema import ScenarioError, validate_table

LIBRARY = "library"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str
    duration_s: float
    seeds: list[int]
    warmup_s: float
    cluster: dict[str, Any]
    network: dict[str, Any]
    clocks: dict[str, Any]
    trace: dict[str, Any]
    checks: dict[str, Any]
    faults: list[dict[str, Any]]
    config: Config
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    sweep: dict[str, Any] = field(default_factory=dict)

    @property
    def nodes(self) -> list[str]:
        return schema.node_names(self.cluster["nodes"])

    @property
    def trace_messages(self) -> bool:
        mode = self.trace["messages"]
        if mode == "auto":
            return bool(self.cluster["nodes"] <= self.trace["auto_messages_max_nodes"])
        return bool(mode)


def library_names() -> list[str]:
    return sorted(
        p.name[:-5]
        for p in resources.files(__package__).joinpath(LIBRARY).iterdir()
        if p.name.endswith(".toml")
    )


def resolve(name_or_path: str) -> tuple[str, str]:
    """(source label, TOML text) for a library name or a file path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            return str(path), path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(str(path), "", "a readable scenario file", exc.strerror) from None
    entry = resources.files(__package__).joinpath(LIBRARY, f"{name_or_path}.toml")
    if not entry.is_file():
        raise ScenarioError(
            name_or_path,
            "",
            f"a library scenario ({', '.join(library_names())}) or a .toml path",
            name_or_path,
        )
    return f"{name_or_path}.toml", entry.read_text(encoding="utf-8")


def parse_override(text: str) -> tuple[list[str], Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("--set", text, "KEY=VALUE with a dotted key", text)
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key.strip().split("."), parsed


def apply_override(raw: dict[str, Any], keys: list[str], value: Any) -> None:
    node: Any = raw
    for i, key in enumerate(keys[:-1]):
        node = node[_list_index(node, keys, i)] if isinstance(node, list) else node.setdefault(key, {})
    last = keys[-1]
    if isinstance(node, list):
        node[_list_index(node, keys, len(keys) - 1)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError("--set", ".".join(keys[:-1]), "a table", node)


def _list_index(node: list[Any], keys: list[str], i: int) -> int:
    try:
        index = int(keys[i])
        node[index]
    except (ValueError, IndexError):
        raise ScenarioError(
            "--set", ".".join(keys[: i + 1]), f"an index below {len(node)}", keys[i]
        ) from None
    return index


def load_raw(name_or_path: str, overrides: Iterable[str] = ()) -> tuple[str, str, dict[str, Any]]:
    """The scenario file's source name, its text, and its TOML table with `--set` overrides applied."""
    source, text = resolve(name_or_path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", "valid TOML", str(exc)) from None
    for override in overrides:
        keys, value = parse_override(override)
        apply_override(raw, keys, value)
    return source, text, raw


def load_scenario(name_or_path: str, overrides: Iterable[str] = ()) -> Scenario:
    source, _text, raw = load_raw(name_or_path, overrides)
    return validate(raw, source, default_name=Path(source).stem)


def validate(raw: Mapping[str, Any], source: str, default_name: str = "scenario") -> Scenario:
    top = validate_table(source, "", raw, schema.TOP)
    duration = top["duration_s"]
    cluster = validate_table(source, "cluster", top["cluster"], schema.CLUSTER)
    n = cluster["nodes"]
    if cluster["seeds"] > n:
        raise ScenarioError(source, "cluster.seeds", f"<= cluster.nodes ({n})", cluster["seeds"])
    try:
        config = preset(cluster["preset"], **dict(cluster["config"]))
    except (ConfigError, TypeError) as exc:
        raise ScenarioError(source, "cluster.config", "valid protocol config", str(exc)) from None
    network = validate_table(source, "network", top["network"], schema.NETWORK)
    network["latency"] = validate_table(source, "network.latency", network["latency"], schema.LATENCY)
    lat = network["latency"]
    if lat["low_ms"] > lat["high_ms"]:
        raise ScenarioError(source, "network.latency.low_ms", f"<= high_ms ({lat['high_ms']})", lat["low_ms"])
    clocks = validate_table(source, "clocks", top["clocks"], schema.CLOCKS)
    trace = validate_table(source, "trace", top["trace"], schema.TRACE)
    if trace["messages"] not in (True, False, "auto"):
        raise ScenarioError(source, "trace.messages", 'true, false or "auto"', trace["messages"])
    checks = _validate_checks(source, top["checks"])
    if top["warmup_s"] >= duration:
        raise ScenarioError(source, "warmup_s", f"< duration_s ({duration})", top["warmup_s"])
    if not top["seeds"]:
        raise ScenarioError(source, "seeds", "a non-empty array of integers", top["seeds"])
    names = set(schema.node_names(n))
    faults = [
        _validate_fault(source, f"faults.{i}", f, names, n, duration, top_level=True)
        for i, f in enumerate(top["faults"])
    ]
    sweep = _validate_sweep(source, top["sweep"], raw) if top["sweep"] else {}
    return Scenario(
        name=top["name"] or default_name,
        description=top["description"],
        source=source,
        duration_s=duration,
        seeds=top["seeds"],
        warmup_s=top["warmup_s"],
        cluster=cluster,
        network=network,
        clocks=clocks,
        trace=trace,
        checks=checks,
        faults=faults,
        config=config,
        raw=dict(raw),
        sweep=sweep,
    )


def _validate_sweep(source: str, raw_sweep: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The `[sweep]` table. Every grid value and variant is applied to the scenario and the
    result validated, so a bad value fails now, naming the sweep key, not mid-sweep."""
    from swimlab.reports.summary import SUMMARY_METRICS

    sweep = validate_table(source, "sweep", raw_sweep, schema.SWEEP)
    variants: dict[str, dict[str, Any]] = {}
    for name, changes in sweep["variants"].items():
        path = f"sweep.variants.{name}"
        if not isinstance(changes, Mapping):
            raise ScenarioError(source, path, 'a table of "dotted.key" = value', changes)
        for key, value in changes.items():
            check_override(source, f"{path}.{key}", raw, key, value)
        variants[name] = dict(changes)
    grid: dict[str, list[Any]] = {}
    for key, values in sweep["grid"].items():
        path = f"sweep.grid.{key}"
        if not isinstance(values, list) or not values:
            raise ScenarioError(
                source, path, 'a non-empty array of values (quote dotted keys: "a.b" = [...])', values
            )
        for i, value in enumerate(values):
            if key == "variant":
                if value not in variants:
                    raise ScenarioError(
                        source, f"{path}.{i}", f"a name in [sweep.variants] ({', '.join(variants)})", value
                    )
            else:
                check_override(source, f"{path}.{i}", raw, key, value)
        grid[key] = list(values)
    if sweep["x"] and sweep["x"] not in grid:
        raise ScenarioError(source, "sweep.x", f"a key of sweep.grid ({', '.join(grid)})", sweep["x"])
    for i, metric in enumerate(sweep["metrics"]):
        if metric not in SUMMARY_METRICS:
            raise ScenarioError(source, f"sweep.metrics.{i}", f"one of {', '.join(SUMMARY_METRICS)}", metric)
    return {**sweep, "grid": grid, "variants": variants}


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


def _validate_checks(source: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
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


def _validate_fault(
    source: str, path: str, raw: Any, names: set[str], n: int, duration: float, top_level: bool
) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ScenarioError(source, path, "a table", raw)
    op = raw.get("op")
    if op not in schema.FAULT_OPS:
        raise ScenarioError(source, f"{path}.op", "one of " + ", ".join(sorted(schema.FAULT_OPS)), op)
    spec: dict[str, schema.Field] = {"op": schema.F("str", required=True), **schema.FAULT_OPS[op]}
    if top_level:
        spec["at_s"] = schema.F(
            "float",
            required=True,
            bound=((lambda v: 0 <= v <= duration), f"in [0, duration_s = {duration}]"),
        )
    if op in schema.SELECTING or op == "partition":
        spec.update(schema.SELECTOR)
    fault = validate_table(source, path, raw, spec)
    if op in schema.SELECTING or op == "partition":
        given = [k for k in ("nodes", "count", "fraction") if fault[k] is not None]
        if len(given) > 1:
            raise ScenarioError(
                source,
                f"{path}.{given[1]}",
                f"only one of nodes/count/fraction (got {given})",
                fault[given[1]],
            )
        for j, name in enumerate(fault["nodes"] or ()):
            if name not in names:
                raise ScenarioError(source, f"{path}.nodes.{j}", f"a node name n0..n{n - 1}", name)
        if fault["count"] is not None and fault["count"] > n:
            raise ScenarioError(source, f"{path}.count", f"<= cluster.nodes ({n})", fault["count"])
    for gi, group in enumerate(fault.get("groups") or ()):
        for j, name in enumerate(group):
            if name not in names:
                raise ScenarioError(source, f"{path}.groups.{gi}.{j}", f"a node name n0..n{n - 1}", name)
    if op == "partition" and fault["shape"] == "groups" and not fault["groups"]:
        raise ScenarioError(source, f"{path}.groups", 'an array of node-name arrays (shape = "groups")', None)
    if op == "clock" and fault["step_s"] == 0 and fault["drift_ppm"] is None:
        raise ScenarioError(source, path, "step_s > 0 or drift_ppm", dict(raw))
    if op == "flip_flop":
        inner = fault["fault"]
        if inner.get("op") not in schema.TOGGLEABLE:
            raise ScenarioError(
                source,
                f"{path}.fault.op",
                "one of " + ", ".join(schema.TOGGLEABLE),
                inner.get("op"),
            )
        fault["fault"] = _validate_fault(source, f"{path}.fault", inner, names, n, duration, top_level=False)
        if fault["fault"].get("duration_s") is not None:
            raise ScenarioError(
                source,
                f"{path}.fault.duration_s",
                "nothing (the flip_flop period sets it)",
                fault["fault"]["duration_s"],
            )
    return fault
