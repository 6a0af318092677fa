"""`--set KEY=VALUE`: a dotted path into the scenario's TOML table and a TOML literal.

`parse_override("cluster.nodes=1000")` -> `(["cluster", "nodes"], 1000)`; a value that is not a
TOML literal is taken as a bare string (`cluster.preset=local`). `apply_override` walks tables
by key (creating missing ones) and arrays by index (`faults.0.at_s=20`). Both raise
`ScenarioError` with the source `--set`; validating the result is the schema's job.
"""

from __future__ import annotations

import tomllib
from typing import Any

from .errors import ScenarioError


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
