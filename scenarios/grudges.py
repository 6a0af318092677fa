"""The grudge algebra: partition shapes as maps node -> nodes whose packets it drops.

Runtime-neutral (the simulator applies a grudge in its network, the live shim in its socket
filter). Shapes follow Jepsen's nemesis vocabulary. Every node of one side shares the same
frozenset of "the others", so a cut of N nodes costs O(N) memory, not O(N^2).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Cut:
    """A resolved partition: the grudge to apply and, for the record, how it was made."""

    grudge: Grudge
    sides: list[list[str]]  # the groups that cannot talk (bridge: the two halves)
    bridge: list[str] = field(default_factory=list)  # nodes seeing both halves (shape = bridge)
    ring: list[str] = field(default_factory=list)  # the shuffled ring (shape = majorities-ring)


def shape(
    shape_name: str,
    nodes: Sequence[str],
    rng: random.Random,
    *,
    one_way: bool = False,
    groups: Sequence[Sequence[str]] | None = None,
    chosen: Sequence[str] = (),
    bridges: Sequence[str] = (),
) -> Cut:
    """The cut for a named shape over `nodes` (the up nodes, in order). `groups`: the listed
    sides; every node in none of them forms one more side. `chosen`: the `one` node. `bridges`:
    the bridge node(s); without them the bridge is one node drawn at random."""
    if shape_name == "groups":
        listed = {x for g in groups or () for x in g}
        rest = [x for x in nodes if x not in listed]
        sides = [*(list(g) for g in groups or ()), *([rest] if rest else [])]
        return Cut(from_groups(sides, one_way), sides)
    if shape_name == "bridge":
        return bridge(nodes, rng, bridges)
    if shape_name == "majorities-ring":
        grudge, ring = majorities_ring(nodes, rng)
        return Cut(grudge, [], ring=ring)
    sides = shape_groups(shape_name, nodes, rng, chosen)
    return Cut(from_groups(sides, one_way), sides)


def bridge(nodes: Sequence[str], rng: random.Random, bridges: Sequence[str] = ()) -> Cut:
    """Two halves that cannot see each other, and bridge node(s) seeing (and seen by) both."""
    if bridges:
        rest = [x for x in nodes if x not in set(bridges)]
        rng.shuffle(rest)
        bridge_nodes = list(bridges)
    else:
        shuffled = list(nodes)
        rng.shuffle(shuffled)
        bridge_nodes, rest = shuffled[:1], shuffled[1:]
    k = len(rest) // 2
    a, b = frozenset(rest[:k]), frozenset(rest[k:])
    # Keys in the shuffled order (a list), never a set's: its order changes with PYTHONHASHSEED.
    grudge: Grudge = {x: b for x in rest[:k]}
    grudge.update({x: a for x in rest[k:]})
    # The bridge holds no grudge and is in no one's.
    return Cut(grudge, [rest[:k], rest[k:]], bridge=bridge_nodes)


def majorities_ring(nodes: Sequence[str], rng: random.Random) -> tuple[Grudge, list[str]]:
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
    return grudge, ring
