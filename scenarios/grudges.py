"""The grudge algebra: partition shapes as maps node -> nodes whose packets it drops.

Runtime-neutral (the simulator applies a grudge in its network, the live shim in its socket
filter). Shapes follow Jepsen's nemesis vocabulary. Every node of one side shares the same
frozenset of "the others", so a cut of N nodes costs O(N) memory, not O(N^2).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

Grudge = dict[str, frozenset[str]]


def from_groups(groups: Sequence[Sequence[str]], one_way: bool = False) -> Grudge:
    """Nodes in different groups cannot talk. `one_way`: only the first group drops (it cannot
    hear the others, they still hear it)."""
    everyone = frozenset(n for g in groups for n in g)
    grudge: Grudge = {}
    for k, group in enumerate(groups):
        if one_way and k > 0:
            break
        others = everyone - frozenset(group)
        for node in group:
            grudge[node] = others
    return grudge


def shape_groups(
    shape: str, nodes: Sequence[str], rng: random.Random, chosen: Sequence[str] = ()
) -> list[list[str]]:
    """Split `nodes` into sides for a named shape (`chosen` pins the `one` node if given)."""
    nodes = list(nodes)
    shuffled = nodes[:]
    rng.shuffle(shuffled)
    n = len(nodes)
    if shape == "one":
        lone = chosen[0] if chosen else shuffled[0]
        return [[lone], [x for x in nodes if x != lone]]
    if shape == "majority":
        k = (n - 1) // 2
        return [shuffled[:k], shuffled[k:]]
    if shape == "minority-third":
        k = n // 3
        return [shuffled[:k], shuffled[k:]]
    if shape == "halves":
        k = n // 2
        return [shuffled[:k], shuffled[k:]]
    raise ValueError(f"shape {shape!r} is not a split into groups")


def shape(
    shape_name: str,
    nodes: Sequence[str],
    rng: random.Random,
    *,
    one_way: bool = False,
    groups: Sequence[Sequence[str]] | None = None,
    chosen: Sequence[str] = (),
) -> Grudge:
    """The grudge for a named shape over `nodes`."""
    if shape_name == "groups":
        listed = {x for g in groups or () for x in g}
        rest = [x for x in nodes if x not in listed]
        return from_groups([*(list(g) for g in groups or ()), *([rest] if rest else [])], one_way)
    if shape_name == "bridge":
        return bridge(nodes, rng)
    if shape_name == "majorities-ring":
        return majorities_ring(nodes, rng)
    return from_groups(shape_groups(shape_name, nodes, rng, chosen), one_way)


def bridge(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Two halves that cannot see each other, and one bridge node seeing (and seen by) both."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    bridge_node, rest = shuffled[0], shuffled[1:]
    k = len(rest) // 2
    a, b = frozenset(rest[:k]), frozenset(rest[k:])
    grudge: Grudge = {x: b for x in a}
    grudge.update({x: a for x in b})
    del bridge_node  # the bridge holds no grudge and is in no one's
    return grudge


def majorities_ring(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Nodes on a shuffled ring each see only their 2k nearest neighbours, a bare majority:
    every node sees a majority, yet no two see the same one (Jepsen's majorities-ring)."""
    ring = list(nodes)
    rng.shuffle(ring)
    n = len(ring)
    k = n // 4
    everyone = frozenset(ring)
    grudge: Grudge = {}
    for i, node in enumerate(ring):
        seen = {ring[(i + d) % n] for d in range(-k, k + 1)}
        grudge[node] = everyone - seen
    return grudge
