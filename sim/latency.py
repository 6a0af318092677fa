"""One-way latency models: constant, uniform, lognormal, shortest paths in a topology graph, or
datacenters (named node groups with delays within and between them).

Each model draws from the sender's network stream, so a link's delays are reproducible from the
seed. Values are seconds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import networkx as nx

from swimlab.protocol.messages import NodeId


class LatencyModel(Protocol):
    def sample(self, src: NodeId, dst: NodeId, rng: random.Random) -> float: ...


@dataclass(frozen=True, slots=True)
class Constant:
    seconds: float

    def sample(self, src: NodeId, dst: NodeId, rng: random.Random) -> float:
        return self.seconds


@dataclass(frozen=True, slots=True)
class Uniform:
    low_s: float
    high_s: float

    def sample(self, src: NodeId, dst: NodeId, rng: random.Random) -> float:
        return self.low_s + (self.high_s - self.low_s) * rng.random()


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Heavy-tailed delays: `median_s * exp(sigma * Z)`, the usual fit for datacenter RTTs."""

    median_s: float
    sigma: float

    def sample(self, src: NodeId, dst: NodeId, rng: random.Random) -> float:
        return rng.lognormvariate(math.log(self.median_s), self.sigma)


def named_graph(kind: str, routers: int, hop_ms: float) -> nx.Graph[int]:
    """A router graph of a named shape (`grid`, `ring`, `star`, `random`) with every link
    `hop_ms` long; `random` is a fixed small world, the same for every seed."""
    side = max(1, int(math.sqrt(routers)))
    builders: dict[str, Callable[[], nx.Graph[int]]] = {
        "grid": lambda: nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, max(1, routers // side))),
        "ring": lambda: nx.cycle_graph(max(routers, 3)),
        "star": lambda: nx.star_graph(max(routers - 1, 1)),
        "random": lambda: nx.connected_watts_strogatz_graph(max(routers, 4), 2, 0.3, seed=7),
    }
    graph = builders[kind]()
    nx.set_edge_attributes(graph, dict.fromkeys(graph.edges, hop_ms), "latency_ms")
    return graph


@dataclass(slots=True)
class Topology:
    """Nodes are placed round-robin on the graph's vertices; latency is the weighted shortest
    path (edge attribute `weight_key`, in milliseconds) plus `base_s` per hop-free delivery."""

    graph: nx.Graph[Any]
    weight_key: str = "latency_ms"
    base_s: float = 0.0
    _place: dict[NodeId, object] = field(default_factory=dict)
    _dist: dict[object, dict[object, float]] = field(default_factory=dict)
    _vertices: list[object] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._vertices = sorted(self.graph.nodes, key=str)
        self._dist = {
            u: {v: d / 1000.0 for v, d in lengths.items()}
            for u, lengths in nx.all_pairs_dijkstra_path_length(self.graph, weight=self.weight_key)
        }

    def place(self, node: NodeId) -> None:
        if node not in self._place:
            self._place[node] = self._vertices[len(self._place) % len(self._vertices)]

    def sample(self, src: NodeId, dst: NodeId, rng: random.Random) -> float:
        try:
            a, b = self._place[src], self._place[dst]
        except KeyError:
            self.place(src)
            self.place(dst)
            a, b = self._place[src], self._place[dst]
        return self.base_s + self._dist[a].get(b, math.inf)


@dataclass(frozen=True, slots=True)
class GroupLatency:
    """Datacenters: one-way delay `intra_s` within a group, `inter_s` between groups, or the
    pair's own entry in `between_s` ((from group, to group) -> seconds). A node in no group
    (one that joined during the run) is `inter_s` from everyone. Add `jitter_ms` in the network
    for spread."""

    group_of: Mapping[NodeId, str]
    intra_s: float
    inter_s: float
    between_s: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def sample(self, src: NodeId, dst: NodeId, rng: random.Random) -> float:
        a = self.group_of.get(src)
        b = self.group_of.get(dst)
        if a is None or b is None:
            return self.inter_s
        pair = self.between_s.get((a, b))
        if pair is not None:
            return pair
        return self.intra_s if a == b else self.inter_s
