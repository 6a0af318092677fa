"""Latency models: each draws from the sender's stream and gives the delays it promises."""

import math
import random
import statistics

import pytest

from swimlab.sim.latency import Constant, LogNormal, Topology, Uniform, named_graph


def test_constant_uniform_lognormal_give_their_distributions():
    rng = random.Random(1)
    assert Constant(0.004).sample("a", "b", rng) == 0.004
    draws = [Uniform(0.001, 0.003).sample("a", "b", rng) for _ in range(5000)]
    assert min(draws) >= 0.001 and max(draws) <= 0.003
    assert statistics.mean(draws) == pytest.approx(0.002, rel=0.02)
    draws = [LogNormal(0.002, 0.5).sample("a", "b", rng) for _ in range(20000)]
    assert statistics.median(draws) == pytest.approx(0.002, rel=0.03)
    assert max(draws) > 4 * 0.002  # heavy tail


def test_same_stream_same_delays():
    model = LogNormal(0.002, 0.8)
    a, b = random.Random(9), random.Random(9)
    assert [model.sample("x", "y", a) for _ in range(50)] == [model.sample("x", "y", b) for _ in range(50)]


@pytest.mark.parametrize(
    ("kind", "routers", "hops_a_to_far"), [("ring", 8, 4), ("star", 5, 2), ("grid", 9, 4)]
)
def test_topology_latency_is_the_shortest_weighted_path(kind, routers, hops_a_to_far):
    graph = named_graph(kind, routers, hop_ms=3.0)
    model = Topology(graph, base_s=0.0005)
    names = [f"n{i}" for i in range(routers)]
    for name in names:
        model.place(name)
    delays = {(s, d): model.sample(s, d, random.Random(0)) for s in names for d in names}
    assert delays[("n0", "n0")] == pytest.approx(0.0005)
    assert max(delays.values()) == pytest.approx(0.0005 + hops_a_to_far * 0.003)
    assert all(delays[(s, d)] == delays[(d, s)] for s in names for d in names)  # undirected graph
    assert all(math.isfinite(v) for v in delays.values())
