"""How a frozen dataclass validates a raw TOML table: the mechanism under `schema.py`.

A field's annotation gives its kind (`float`, `int`, `bool`, `str`, a `Literal` of choices,
`tuple[str, ...]` for an array, `Mapping` for a table, a nested dataclass for a sub-table;
`X | None` reads as X), its default the value an omitted key takes (none: required), and
`protocol.faults.param(bound=..., choices=...)` the rest. `check_table` applies them in field
order and raises the first `ScenarioError`; the rules themselves live in `schema.py`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from swimlab.protocol.faults import REQUIRED, Bound, spec_of

from .errors import ScenarioError

KIND_WORDS = {
    "float": "a number",
    "int": "an integer",
    "bool": "true or false",
    "str": "a string",
    "table": "a table",
    "list[str]": "an array of strings",
    "list[int]": "an array of integers",
    "list[table]": "an array of tables",
    "list[list[str]]": "an array of group names or arrays of node names",
    "any": "a value",
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # a key of KIND_WORDS
    default: Any  # REQUIRED: the key must be given
    choices: tuple[Any, ...] = ()
    bound: Bound | None = None
    nested: type[Any] | None = None  # a section dataclass this table is validated against
    nodes: bool = False  # a list of node references (nodesets.py), resolved by the caller

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
        choices = literal or meta["choices"]
        out[f.name] = FieldSpec(f.name, kind, default, choices, meta["bound"], nested, meta["nodes"])
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
            isinstance(g, str) or (isinstance(g, list) and all(isinstance(x, str) for x in g)) for g in v
        )
    return True


def _convert(spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "float":
        return float(value)
    if spec.kind in ("list[str]", "list[int]", "list[table]"):
        return tuple(value)
    if spec.kind == "list[list[str]]":
        return tuple(g if isinstance(g, str) else tuple(g) for g in value)
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
            known = f"known: {', '.join(sorted(specs))}" if specs else "it takes none"
            raise ScenarioError(source, join(prefix, key), f"no such key ({known})", key)
    out: dict[str, Any] = {}
    for key, spec in specs.items():
        path = join(prefix, key)
        if key not in raw:
            if spec.required:
                raise ScenarioError(source, path, f"{KIND_WORDS[spec.kind]} (required)", None)
            out[key] = copy.copy(spec.default)
            continue
        value = raw[key]
        if not _type_ok(spec.kind, value):
            raise ScenarioError(source, path, KIND_WORDS[spec.kind], value)
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


def join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)
