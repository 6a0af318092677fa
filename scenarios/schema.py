"""The scenario schema: every key a scenario file may hold, its type, default and bounds.

Validation walks the raw TOML tables against these specs and stops at the first problem with a
`ScenarioError` that names the file, the dotted key and what was expected:
`crash_one.toml: faults.0.nodes.0: expected a node name n0..n99, got 'n100'`.
The result is plain validated dicts with every default filled in; `scenarios/README.md`
documents the same table for humans.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from swimlab.protocol.config import PRESETS


class ScenarioError(ValueError):
    """A scenario file is invalid. `str()` is the one-line message the CLI prints."""

    def __init__(self, source: str, path: str, expected: str, got: Any) -> None:
        self.source, self.path, self.expected, self.got = source, path, expected, got
        super().__init__(f"{source}: {path or '<top>'}: expected {expected}, got {got!r}")


@dataclass(frozen=True)
class Field:
    kind: str  # a key of _KIND_WORDS, or "any"
    default: Any = None
    required: bool = False
    check: Callable[[Any], bool] | None = None
    expected: str = ""  # describes `check` for the error message
    choices: tuple[Any, ...] = ()


def _ge(low: float) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v >= low), f">= {low}"


def _gt(low: float) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v > low), f"> {low}"


def _prob() -> tuple[Callable[[Any], bool], str]:
    return (lambda v: 0.0 <= v <= 1.0), "a probability in [0, 1]"


def F(
    kind: str,
    default: Any = None,
    *,
    required: bool = False,
    bound: tuple[Callable[[Any], bool], str] | None = None,
    choices: tuple[Any, ...] = (),
) -> Field:
    check, expected = bound if bound else (None, "")
    return Field(kind, default, required, check, expected, choices)


TOP = {
    "name": F("str", ""),
    "description": F("str", required=True),
    "duration_s": F("float", required=True, bound=_gt(0)),
    "seeds": F("list[int]", [1]),
    "warmup_s": F("float", 0.0, bound=_ge(0)),
    "cluster": F("table", {}),
    "network": F("table", {}),
    "clocks": F("table", {}),
    "trace": F("table", {}),
    "checks": F("table", {}),
    "faults": F("list[table]", []),
    "sweep": F("table", {}),
}

SWEEP = {
    "grid": F("table", {}),  # "dotted.key" = [values...]; a `variant` key names [sweep.variants]
    "seeds": F("int", 3, bound=_ge(1)),  # seeds 1..K per grid point
    "variants": F("table", {}),  # name = { "dotted.key" = value, ... }: several keys as one
    "x": F("str", ""),  # the grid key on the x axis of the sweep plots (default: first numeric)
    "metrics": F("list[str]", []),  # names from reports.summary.SUMMARY_METRICS to plot
}

CLUSTER = {
    "nodes": F("int", 10, bound=_ge(1)),
    "preset": F("str", "lan", choices=tuple(sorted(PRESETS))),
    "seeds": F("int", 1, bound=_ge(1)),
    "join_window_s": F("float", 1.0, bound=_ge(0)),
    "start": F("str", "join", choices=("join", "formed")),
    "config": F("table", {}),
}

LATENCY = {
    "model": F("str", "uniform", choices=("constant", "uniform", "lognormal", "topology")),
    "ms": F("float", 1.0, bound=_ge(0)),  # constant
    "low_ms": F("float", 0.5, bound=_ge(0)),  # uniform
    "high_ms": F("float", 2.0, bound=_ge(0)),
    "median_ms": F("float", 1.0, bound=_gt(0)),  # lognormal
    "sigma": F("float", 0.5, bound=_ge(0)),
    "graph": F("str", "grid", choices=("grid", "ring", "star", "random")),  # topology
    "routers": F("int", 16, bound=_ge(1)),
    "hop_ms": F("float", 1.0, bound=_ge(0)),
}

NETWORK = {
    "latency": F("table", {}),
    "jitter_ms": F("float", 0.0, bound=_ge(0)),
    "loss": F("float", 0.0, bound=_prob()),
    "duplicate": F("float", 0.0, bound=_prob()),
    "reorder": F("float", 0.0, bound=_prob()),
    "reorder_delay_ms": F("float", 10.0, bound=_ge(0)),
    "bandwidth_bytes_per_s": F("float", 0.0, bound=_ge(0)),
    "full_decode": F("bool", False),
}

CLOCKS = {
    "offset_ms_max": F("float", 0.0, bound=_ge(0)),
    "drift_ppm_max": F("float", 0.0, bound=((lambda v: 0 <= v < 1e6), "in [0, 1e6)")),
}

TRACE = {
    "messages": F("any", "auto"),  # true, false or "auto" (on up to auto_messages_max_nodes)
    "auto_messages_max_nodes": F("int", 50, bound=_ge(0)),
}

SELECTOR = {
    "nodes": F("list[str]", None),
    "count": F("int", None, bound=_ge(1)),
    "fraction": F("float", None, bound=((lambda v: 0 < v <= 1), "in (0, 1]")),
    "include_seeds": F("bool", False),
}

FAULT_OPS: dict[str, dict[str, Field]] = {
    "crash": {},
    "restart": {"state": F("str", "kept", choices=("kept", "wiped"))},
    "mass_restart": {
        "state": F("str", "wiped", choices=("kept", "wiped")),
        "downtime_s": F("float", 0.0, bound=_ge(0)),
    },
    "leave": {},
    "join": {"new_nodes": F("int", 1, bound=_ge(1))},
    "pause": {"duration_s": F("float", required=True, bound=_gt(0))},
    "slow": {
        "delay_s": F("float", required=True, bound=_ge(0)),
        "duration_s": F("float", None, bound=_gt(0)),
    },
    "partition": {
        "shape": F(
            "str",
            "majority",
            choices=(
                "one",
                "majority",
                "minority-third",
                "majorities-ring",
                "bridge",
                "halves",
                "groups",
            ),
        ),
        "groups": F("list[list[str]]", None),
        "one_way": F("bool", False),
        "duration_s": F("float", None, bound=_gt(0)),
    },
    "heal": {},
    "loss": {
        "rate": F("float", required=True, bound=_prob()),
        "direction": F("str", "both", choices=("both", "ingress", "egress")),
        "duration_s": F("float", None, bound=_gt(0)),
    },
    "latency": {
        "add_ms": F("float", required=True, bound=_ge(0)),
        "duration_s": F("float", None, bound=_gt(0)),
    },
    "duplicate": {
        "rate": F("float", required=True, bound=_prob()),
        "duration_s": F("float", None, bound=_gt(0)),
    },
    "ingress_drop": {"duration_s": F("float", None, bound=_gt(0))},
    "clock": {
        "step_s": F(
            "float",
            0.0,
            bound=(
                (lambda v: v >= 0),
                ">= 0 (a forward step: the protocol reads a monotonic clock)",
            ),
        ),
        "drift_ppm": F("float", None, bound=((lambda v: -1e6 < v < 1e6), "in (-1e6, 1e6)")),
    },
    "churn": {
        "join_rate_per_s": F("float", 0.0, bound=_ge(0)),
        "leave_rate_per_s": F("float", 0.0, bound=_ge(0)),
        "crash_rate_per_s": F("float", 0.0, bound=_ge(0)),
        "duration_s": F("float", required=True, bound=_gt(0)),
    },
    "flip_flop": {
        "period_s": F("float", required=True, bound=_gt(0)),
        "duration_s": F("float", required=True, bound=_gt(0)),
        "fault": F("table", required=True),
    },
}
"""op -> its own keys (besides `at_s`, `op` and the node selector keys)."""

TOGGLEABLE = ("partition", "loss", "latency", "duplicate", "ingress_drop", "slow")
"""Fault ops a flip_flop may toggle: each has an 'off' form."""

SELECTING = {
    "crash",
    "restart",
    "mass_restart",
    "leave",
    "pause",
    "slow",
    "loss",
    "latency",
    "duplicate",
    "ingress_drop",
    "clock",
}
"""Ops that act on a node selection (nodes / count / fraction)."""


def node_names(n: int) -> list[str]:
    return [f"n{i}" for i in range(n)]


# Validation ---------------------------------------------------------------------------------
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
}


def validate_table(source: str, prefix: str, raw: Any, spec: Mapping[str, Field]) -> dict[str, Any]:
    """Check `raw` against `spec`; return it with defaults filled in (floats as float)."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(source, prefix, "a table", raw)
    for key in raw:
        if key not in spec:
            raise ScenarioError(
                source, _join(prefix, key), f"no such key (known: {', '.join(sorted(spec))})", key
            )
    out: dict[str, Any] = {}
    for key, field in spec.items():
        path = _join(prefix, key)
        if key not in raw:
            if field.required:
                raise ScenarioError(
                    source, path, f"{_KIND_WORDS.get(field.kind, field.kind)} (required)", None
                )
            out[key] = field.default
            continue
        value = raw[key]
        if not _type_ok(field.kind, value):
            raise ScenarioError(source, path, _KIND_WORDS.get(field.kind, field.kind), value)
        if field.kind == "float":
            value = float(value)
        if field.choices and value not in field.choices:
            raise ScenarioError(source, path, "one of " + ", ".join(map(repr, field.choices)), value)
        if field.check is not None and not field.check(value):
            raise ScenarioError(source, path, field.expected, value)
        out[key] = value
    return out


def _join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)
