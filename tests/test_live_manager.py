"""The cluster manager on the live runtime: real QUIC sockets, the same ClusterManager and
ManagerDriver as in the simulator, wired by the runner's `attach_manager`.

`swimlab run --runtime live` is not on main yet (issue 9 step 2), so this drives `LiveCluster`
directly with a library scenario's `[manager]` table: 5 loopback nodes under keep-majority, a
3 | 2 partition; the minority must stop serving and the majority must down it and serve on.
The live trace records go through the same metrics observer as a simulated run's.
"""

from __future__ import annotations

from typing import Any

from swimlab.live.cluster import LiveCluster
from swimlab.protocol import trace_schema
from swimlab.protocol.manager.driver import ManagerDriver
from swimlab.protocol.manager.manager import ClusterManager
from swimlab.reports.metrics import MetricsAccumulator
from swimlab.reports.metrics.manager import window_s
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import attach_manager

NAMES = ["n0", "n1", "n2", "n3", "n4"]
MAJORITY, MINORITY = NAMES[:3], NAMES[3:]


def _managers(cluster: LiveCluster) -> dict[str, ClusterManager]:
    out = {}
    for name, host in cluster.hosts.items():
        assert isinstance(host.node, ClusterManager) and isinstance(host.driver, ManagerDriver)
        out[name] = host.node
    return out


def test_keep_majority_on_real_sockets_stops_the_minority() -> None:
    scenario = load_scenario(
        "manager_majority",
        [
            "cluster.nodes=5",
            "cluster.preset=local",
            "cluster.config.probe_interval_s=0.3",
            "cluster.config.probe_timeout_s=0.1",
            "cluster.config.gossip_interval_s=0.05",
            "manager.stable_after_s=1.5",
            "manager.settle_s=0.3",
            "manager.tick_s=0.1",
        ],
    )
    settings = scenario.manager.settings(5)  # type: ignore[union-attr]
    records: list[Any] = []
    acc = MetricsAccumulator(manager=(settings.strategy, window_s(settings)))

    def sink(record: Any) -> None:
        records.append(record)
        acc.feed(record)

    cluster = LiveCluster(11, scenario.config, sink)
    try:
        sink(trace_schema.meta(0.0, scenario.name, 11, "live", 0.0, NAMES, "local", {}))
        attach_manager(cluster, scenario)
        for name in NAMES:
            cluster.add_host(name)
        cluster.boot_formed(NAMES)
        managers = _managers(cluster)

        def formed() -> bool:
            return all(m.serving and len(m.members()) == 4 for m in managers.values())

        # Cut only once everyone serves and sees the other four for a stable second: on a loaded
        # machine the first probe rounds can run late, and a cut then tests something else.
        assert cluster.run_until(formed, timeout_s=10.0) is not None
        cluster.run(1.0)
        before = {n: (m.serving, sorted(m.members().items())) for n, m in managers.items()}
        assert formed(), before
        assert all(m.serving for m in managers.values())
        grudges = {x: frozenset(MINORITY) for x in MAJORITY} | {x: frozenset(MAJORITY) for x in MINORITY}
        cluster.partition(grudges)

        def resolved() -> bool:
            minority_stopped = not any(managers[n].serving for n in MINORITY)
            majority_downed_it = all(
                managers[a].members().get(b) in ("down", "removed") for a in MAJORITY for b in MINORITY
            )
            return minority_stopped and majority_downed_it

        took = cluster.run_until(resolved, timeout_s=30.0)
        assert took is not None, {n: (m.serving, m.members()) for n, m in managers.items()}
        assert all(managers[n].serving for n in MAJORITY)
        assert all(managers[n].stopped and not managers[n].serving for n in MINORITY)
        end = cluster.now
    finally:
        cluster.close()
        cluster.loop.close()
    kinds = {r["kind"] for r in records}
    assert {"decision", "serving", "view"} <= kinds
    reasons = {r["node"]: r["reason"] for r in records if r["kind"] == "serving" and not r["serving"]}
    assert set(reasons) == set(MINORITY), reasons
    mm = acc.finish(end, 0.0).manager
    assert mm is not None
    assert mm.split_brain_s == 0.0
    assert mm.survivors == 3 and mm.serving_at_end == MAJORITY
    assert mm.downed == MINORITY and mm.wrongly_downed == []


def test_lease_majority_on_real_sockets_keeps_the_side_that_holds_the_lease() -> None:
    """The live cluster owns the lease, beside n4 (a minority node) and as reachable as it: the
    majority cannot reach it and stops; the minority acquires it after its delay and serves on."""
    scenario = load_scenario(
        "manager_majority",
        [
            "cluster.nodes=5",
            "cluster.preset=local",
            "cluster.config.probe_interval_s=0.3",
            "cluster.config.probe_timeout_s=0.1",
            "cluster.config.gossip_interval_s=0.05",
            "manager.strategy=lease-majority",
            "manager.lease_near=n4",
            "manager.lease_acquire_delay_for_minority_s=0.5",
            "manager.lease_timeout_s=1.0",
            "manager.stable_after_s=1.5",
            "manager.settle_s=0.3",
            "manager.tick_s=0.1",
        ],
    )
    cluster = LiveCluster(12, scenario.config)
    try:
        attach_manager(cluster, scenario)
        for name in NAMES:
            cluster.add_host(name)
        cluster.boot_formed(NAMES)
        managers = _managers(cluster)

        def formed() -> bool:
            return all(m.serving and len(m.members()) == 4 for m in managers.values())

        # Cut only once everyone serves and sees the other four for a stable second: on a loaded
        # machine the first probe rounds can run late, and a cut then tests something else.
        assert cluster.run_until(formed, timeout_s=10.0) is not None
        cluster.run(1.0)
        before = {n: (m.serving, sorted(m.members().items())) for n, m in managers.items()}
        assert formed(), before
        grudges = {x: frozenset(MINORITY) for x in MAJORITY} | {x: frozenset(MAJORITY) for x in MINORITY}
        cluster.partition(grudges)
        lease = cluster.hosts["n3"].driver.lease  # type: ignore[union-attr]
        assert lease is not None

        def resolved() -> bool:
            return all(managers[n].stopped for n in MAJORITY) and lease.lease.holder == "n3"

        took = cluster.run_until(resolved, timeout_s=30.0)
        assert took is not None, (
            lease.lease.holder,
            {n: (m.serving, m.members()) for n, m in managers.items()},
        )
        cluster.run(0.5)  # the minority acts on its grant
        assert all(managers[n].serving for n in MINORITY)  # the minority's leader holds the lease
    finally:
        cluster.close()
        cluster.loop.close()
