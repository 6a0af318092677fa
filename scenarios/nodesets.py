"""Node references: how a scenario names sets of nodes.

Nodes are `n0` .. `n{N-1}`. Wherever a scenario lists nodes (a fault's `nodes`, `within`,
`bridge`, a partition's `groups`, a `[cluster.groups]` entry) each entry is one of

- a node name: `"n7"`;
- an inclusive range: `"n0..n29"` (the first index not above the second);
- a group name from `[cluster.groups]`: `"dc_a"` (not inside a group's own definition).

`[cluster.groups]` maps a name to a string of comma-separated names and ranges
(`dc_a = "n0..n29"`, `edge = "n0..n3, n40"`) or an array of them. A group name must not look
like a node name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_NAME = re.compile(r"n(0|[1-9][0-9]*)")
_RANGE = re.compile(r"n(0|[1-9][0-9]*)\.\.n(0|[1-9][0-9]*)")
_GROUP = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class RefError(ValueError):
    """A node reference that does not resolve; `expected` says what would have."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def node_names(n: int) -> list[str]:
    return [f"n{i}" for i in range(n)]


def is_group_name(name: str) -> bool:
    return _GROUP.fullmatch(name) is not None and _NAME.fullmatch(name) is None


def split_spec(value: str | Sequence[str]) -> list[str]:
    """The entries of a `[cluster.groups]` value: `"n0..n3, n9"` or `["n0..n3", "n9"]`."""
    items = value.split(",") if isinstance(value, str) else [i for v in value for i in v.split(",")]
    return [item.strip() for item in items]


def expand(entry: str, n: int, groups: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """The nodes one reference names, in index order (a group: in its own order)."""
    name = _NAME.fullmatch(entry)
    if name is not None:
        if int(name.group(1)) >= n:
            raise RefError(f"a node name n0..n{n - 1}")
        return [entry]
    span = _RANGE.fullmatch(entry)
    if span is not None:
        low, high = int(span.group(1)), int(span.group(2))
        if not low <= high < n:
            raise RefError(f'a range "nA..nB" with A <= B <= {n - 1}')
        return [f"n{i}" for i in range(low, high + 1)]
    if groups is None:
        raise RefError(f'a node name n0..n{n - 1} or a range like "n0..n{min(n - 1, 9)}"')
    if entry in groups:
        return list(groups[entry])
    known = ", ".join(groups) if groups else "none defined in [cluster.groups]"
    raise RefError(f'a node name n0..n{n - 1}, a range like "n0..n{min(n - 1, 9)}" or a group ({known})')
