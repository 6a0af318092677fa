"""The live runtime's loop: uvloop or asyncio, the draining UDP reader, and the loop-lag meter."""

from __future__ import annotations

import socket
import time

import pytest

from swimlab.live.clock import LiveClock
from swimlab.live.cluster import LiveCluster
from swimlab.live.lag import LagMeter
from swimlab.live.udp import UdpSocket, new_event_loop, uvloop_available
from swimlab.protocol.config import local
from swimlab.protocol.messages import MemberState
from swimlab.protocol.timers import ProbeTick

LOOPS = [pytest.param(False, id="asyncio"), pytest.param(True, id="uvloop")]


def _loop(use_uvloop: bool):  # type: ignore[no-untyped-def]
    if use_uvloop and not uvloop_available():
        pytest.skip("uvloop is not installed")
    return new_event_loop(use_uvloop)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_the_reader_drains_a_burst_in_one_wake_up(use_uvloop: bool) -> None:
    loop = _loop(use_uvloop)
    got: list[bytes] = []
    udp = UdpSocket.bind(loop, "127.0.0.1", 0, lambda data, addr: got.append(data))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for i in range(200):  # all queued in the kernel before the loop looks once
                sender.sendto(i.to_bytes(2, "big"), udp.address)
            loop.run_until_complete(_sleep(0.05))
        assert [int.from_bytes(d, "big") for d in got] == list(range(200))
        assert udp.stats.largest_batch > 1 and udp.stats.packets_received == 200
    finally:
        udp.close()
        loop.close()


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_a_cluster_forms_on_either_loop(use_uvloop: bool) -> None:
    config = local().replace(probe_interval_s=0.2, probe_timeout_s=0.1, gossip_interval_s=0.05)
    cluster = LiveCluster(5, config, loop=_loop(use_uvloop))
    try:
        names = ["a", "b", "c"]
        for name in names:
            cluster.add_host(name)
        cluster.boot_formed(names)
        cluster.run(1.0)  # probes go round: every pair handshakes, acks come back
        assert all(
            cluster.hosts[n].node.view()[m].state is not MemberState.DEAD  # type: ignore[union-attr]
            for n in names
            for m in names
        )  # (a suspicion a loaded machine causes is refuted; a death would be a failure)
        assert sum(h.endpoint.stats.handshakes_completed for h in cluster.hosts.values()) >= 2
        assert len(cluster.lag) > 0  # every timer fired through a LiveClock was measured
    finally:
        cluster.close()
        cluster.loop.close()


def test_the_lag_meter_sees_a_blocked_loop() -> None:
    loop = new_event_loop(False)
    lag = LagMeter()
    clock = LiveClock(loop, lag=lag)
    fired: list[float] = []
    clock.call_at(clock.now() + 0.05, lambda timer: fired.append(clock.now()), ProbeTick())
    loop.call_soon(time.sleep, 0.25)  # a callback that hogs the loop past the timer's deadline
    loop.run_until_complete(_sleep(0.4))
    loop.close()
    summary = lag.summary()
    assert fired and summary["samples"] == 1
    assert 0.15 < summary["max_s"] < 1.0, summary  # ~0.2 s late, as the hog made it


def test_lag_quantiles() -> None:
    lag = LagMeter()
    for ms in range(1, 101):
        lag.record(ms / 1000)
    lag.record(-0.001)  # a hair early counts as on time
    summary = lag.summary()
    assert summary["samples"] == 101 and summary["max_s"] == 0.1
    assert summary["p50_s"] == 0.05 and summary["p99_s"] == 0.099
    assert LagMeter().summary() == {"samples": 0, "p50_s": 0.0, "p99_s": 0.0, "max_s": 0.0}


def test_freeze_heap_exempts_the_set_up_heap_from_the_collector() -> None:
    import gc

    cluster = LiveCluster(1, local())
    try:
        cluster.add_host("a")
        frozen = cluster.freeze_heap()
        assert frozen > 0 and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        cluster.close()
