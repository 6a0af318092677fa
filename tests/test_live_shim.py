"""Every fault primitive of the live runtime, applied to real QUIC packets on loopback.

Hosts here run no Node unless a test boots one: each endpoint's messages land in an inbox, so
a test counts exactly what crossed. Messages carry a sequence number and their send time.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from swimlab.live.cluster import LiveCluster, UnsupportedFault, require
from swimlab.live.host import LiveHost
from swimlab.protocol.config import local
from swimlab.protocol.messages import MemberState

Inbox = list[tuple[str, int, float, float]]  # (src, seq, sent_at, received_at)


class Bench:
    def __init__(self, n: int = 3, **options: object) -> None:
        self.records: list[dict[str, object]] = []
        self.cluster = LiveCluster(7, local(), self.records.append, **options)  # type: ignore[arg-type]
        self.names = [f"h{i}" for i in range(n)]
        self.inboxes: dict[str, Inbox] = {}
        for name in self.names:
            self.cluster.add_host(name).up = True  # a process without a Node: faults still apply
            self.listen(name)

    def listen(self, name: str) -> None:
        inbox: Inbox = self.inboxes.setdefault(name, [])
        loop = self.cluster.loop

        def receive(src: str, data: bytes) -> None:
            seq, sent_at = struct.unpack("!Id", data[:12])
            inbox.append((src, seq, sent_at, loop.time()))

        self.host(name).endpoint.on_receive = receive

    def host(self, name: str) -> LiveHost:
        return self.cluster.hosts[name]

    def send(self, src: str, dst: str, count: int = 1, start: int = 0, size: int = 12) -> None:
        endpoint = self.host(src).endpoint
        for seq in range(start, start + count):
            data = struct.pack("!Id", seq, self.cluster.loop.time()).ljust(size, b".")
            endpoint.send(dst, data, None, False)  # type: ignore[arg-type]

    def connect(self, *pairs: tuple[str, str]) -> None:
        """Open (and verify) the connections first, so later counts are about the fault only."""
        for src, dst in pairs:
            self.send(src, dst, 1, start=10_000)
        self.wait(lambda: all(any(s == src for s, *_ in self.inboxes[dst]) for src, dst in pairs))
        for inbox in self.inboxes.values():
            inbox.clear()

    def wait(self, done, timeout_s: float = 5.0) -> float:  # type: ignore[no-untyped-def]
        took = self.cluster.run_until(done, timeout_s)
        if took is None:
            pytest.fail(f"condition not met within {timeout_s} s")
        return took

    def settle(self, seconds: float) -> None:
        self.cluster.run(self.cluster.now + seconds)

    def seqs(self, name: str, src: str) -> list[int]:
        return [seq for s, seq, *_ in self.inboxes[name] if s == src]

    def impairs(self) -> list[tuple[object, object, object]]:
        return [(r["node"], r["cause"], r["on"]) for r in self.records if r["kind"] == "impair"]


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench()
    yield b
    b.cluster.close()


def test_a_one_way_partition_drops_one_direction_until_healed(bench: Bench) -> None:
    bench.connect(("h0", "h1"), ("h1", "h0"))
    bench.cluster.partition({"h1": frozenset({"h0"})})  # h1 drops what h0 sends
    bench.send("h0", "h1", 5)
    bench.send("h1", "h0", 5)
    bench.wait(lambda: len(bench.seqs("h0", "h1")) == 5)
    bench.settle(0.2)
    assert bench.seqs("h1", "h0") == []
    assert bench.cluster.network.dropped["partition"] >= 5
    bench.cluster.heal()
    bench.send("h0", "h1", 5, start=100)
    bench.wait(lambda: bench.seqs("h1", "h0") == [100, 101, 102, 103, 104])
    assert ("h0", "partition", True) in bench.impairs() and ("h1", "partition", False) in bench.impairs()


def test_a_new_partition_replaces_the_old_cut(bench: Bench) -> None:
    bench.connect(("h0", "h1"), ("h0", "h2"))
    bench.cluster.partition({"h1": frozenset({"h0"})})
    bench.cluster.partition({"h2": frozenset({"h0"})})  # h1 is reachable again
    bench.send("h0", "h1", 3)
    bench.send("h0", "h2", 3)
    bench.wait(lambda: len(bench.seqs("h1", "h0")) == 3)
    bench.settle(0.2)
    assert bench.seqs("h2", "h0") == []


def test_ingress_drop_blackholes_a_node(bench: Bench) -> None:
    bench.connect(("h0", "h1"), ("h2", "h1"))
    bench.cluster.set_ingress_drop(["h1"], True)
    bench.send("h0", "h1", 3)
    bench.send("h2", "h1", 3)
    bench.settle(0.3)
    assert bench.inboxes["h1"] == []
    bench.cluster.set_ingress_drop(["h1"], False)
    bench.send("h0", "h1", 3, start=10)
    bench.wait(lambda: len(bench.seqs("h1", "h0")) == 3)
    assert bench.cluster.network.dropped["ingress"] >= 6


@pytest.mark.parametrize("direction", ["ingress", "egress", "both"])
def test_node_loss_hits_its_direction_only(bench: Bench, direction: str) -> None:
    bench.connect(("h0", "h1"), ("h1", "h2"))
    bench.cluster.set_loss(["h1"], 1.0, direction)
    bench.send("h0", "h1", 5)  # h1's ingress
    bench.send("h1", "h2", 5)  # h1's egress
    bench.settle(0.3)
    assert (len(bench.seqs("h1", "h0")) == 0) == (direction in ("ingress", "both"))
    assert (len(bench.seqs("h2", "h1")) == 0) == (direction in ("egress", "both"))
    bench.cluster.set_loss(["h1"], 0.0, direction)
    assert not bench.cluster.network.ingress_loss and not bench.cluster.network.egress_loss


def test_loss_rates_are_drawn_per_packet() -> None:
    bench = Bench(2, loss=0.0)
    try:
        bench.connect(("h0", "h1"))
        net = bench.cluster.network
        sent_before = net.counters.packets_sent
        bench.cluster.set_default_loss(0.3)
        # 1,000 B each: one DATAGRAM frame per packet (aioquic packs small ones together).
        bench.send("h0", "h1", 150, size=1000)
        bench.settle(1.0)
        attempted = net.counters.packets_sent - sent_before  # both ways, acknowledgements included
        lost = net.dropped["loss"]
        assert attempted >= 100 and 0.15 < lost / attempted < 0.45, (lost, attempted)
        assert 0 < len(bench.seqs("h1", "h0")) < 150  # datagrams are not retransmitted
        bench.cluster.set_default_loss(0.0)
    finally:
        bench.cluster.close()


def test_link_loss_hits_one_link(bench: Bench) -> None:
    bench.connect(("h0", "h1"), ("h2", "h1"), ("h1", "h0"))
    bench.cluster.set_link_loss([("h0", "h1")], 1.0)
    bench.send("h0", "h1", 5)
    bench.send("h2", "h1", 5)
    bench.send("h1", "h0", 5)
    bench.wait(lambda: len(bench.seqs("h1", "h2")) == 5 and len(bench.seqs("h0", "h1")) == 5)
    bench.settle(0.2)
    assert bench.seqs("h1", "h0") == []


def test_extra_delay_and_jitter_delay_each_packet(bench: Bench) -> None:
    bench.connect(("h0", "h1"), ("h2", "h1"))
    bench.cluster.set_extra_delay(["h0"], 0.4)
    bench.send("h0", "h1", 5)
    bench.send("h2", "h1", 5)
    bench.wait(lambda: len(bench.inboxes["h1"]) == 10)
    delays = {src: [r - s for s2, _q, s, r in bench.inboxes["h1"] if s2 == src] for src in ("h0", "h2")}
    # uvloop keeps time and timers to the millisecond: allow 2 ms below the added delay.
    assert min(delays["h0"]) >= 0.4 - 2e-3 and max(delays["h2"]) < 0.35, delays  # slack for a loaded loop
    bench.cluster.set_extra_delay(["h0"], 0.0)
    bench.inboxes["h1"].clear()
    bench.cluster.set_jitter(0.1)
    bench.send("h2", "h1", 40)
    bench.wait(lambda: len(bench.inboxes["h1"]) == 40)
    spread = [r - s for _s, _q, s, r in bench.inboxes["h1"]]
    assert max(spread) - min(spread) > 0.03 and max(spread) < 0.1 + 0.5, spread


def test_reordering_lets_later_packets_overtake(bench: Bench) -> None:
    bench.connect(("h0", "h1"))
    bench.cluster.set_reorder(0.3, 0.05)
    bench.send("h0", "h1", 60)
    bench.wait(lambda: len(bench.inboxes["h1"]) == 60)
    order = bench.seqs("h1", "h0")
    assert sorted(order) == list(range(60)) and order != sorted(order)


def test_duplicated_packets_reach_the_wire_but_quic_delivers_each_message_once(bench: Bench) -> None:
    bench.connect(("h0", "h1"))
    net = bench.cluster.network
    before = net.counters.packets_delivered
    bench.cluster.set_duplicate(["h0"], 1.0)
    bench.send("h0", "h1", 20)
    bench.settle(0.3)
    assert sorted(bench.seqs("h1", "h0")) == list(range(20))  # once each: RFC 9000 §12.3
    copies = net.counters.packets_duplicated
    assert copies >= 1 and net.counters.packets_delivered - before >= 2 * copies  # they did arrive
    bench.cluster.set_duplicate(["h0"], 0.0)
    assert not net.node_duplicate


def test_bandwidth_spaces_out_a_burst() -> None:
    bench = Bench(2, bandwidth_bytes_per_s=100_000.0)
    try:
        bench.connect(("h0", "h1"))
        bench.send("h0", "h1", 20, size=1000)  # ~20 KB at 100 KB/s: the last leaves ~0.2 s later
        bench.wait(lambda: len(bench.inboxes["h1"]) == 20)
        last = max(r - s for _s, _q, s, r in bench.inboxes["h1"])
        assert last > 0.15, last
    finally:
        bench.cluster.close()


def test_pause_buffers_packets_and_timers_and_replays_them_in_order() -> None:
    bench = Bench(2)
    try:
        cluster = bench.cluster
        bench.connect(("h0", "h1"))
        h1 = bench.host("h1")
        fired: list[float] = []
        h1.clock.call_at(h1.clock.now() + 0.1, lambda timer: fired.append(cluster.loop.time()), None)  # type: ignore[arg-type]
        cluster.pause("h1", 0.5)
        paused_at = cluster.loop.time()
        bench.send("h0", "h1", 5)
        bench.settle(0.3)
        assert bench.inboxes["h1"] == [] and fired == []  # nothing handled, no timer fired
        bench.wait(lambda: len(bench.inboxes["h1"]) == 5)
        assert bench.seqs("h1", "h0") == [0, 1, 2, 3, 4]
        assert fired and fired[0] - paused_at >= 0.45
        assert min(r for *_x, r in bench.inboxes["h1"]) - paused_at >= 0.45
        assert [i for i in bench.impairs() if i[1] == "pause"] == [
            ("h1", "pause", True),
            ("h1", "pause", False),
        ]
    finally:
        bench.cluster.close()


def test_slow_handling_delays_each_message_in_order() -> None:
    bench = Bench(2)
    try:
        cluster = bench.cluster
        bench.connect(("h0", "h1"))
        h1 = bench.host("h1")
        handled: list[tuple[int, float]] = []
        arrived: list[float] = []

        def receive(src: str, data: bytes) -> None:
            arrived.append(cluster.loop.time())
            h1._message_in(src, data)

        class Recorder:
            stats = None

            def datagram_received(self, src: str, data: bytes) -> None:
                handled.append((struct.unpack("!I", data[:4])[0], cluster.loop.time()))

        h1.endpoint.on_receive = receive
        h1.driver = Recorder()  # type: ignore[assignment]
        h1.up = True
        cluster.set_slow(["h1"], 0.2)
        bench.send("h0", "h1", 5)
        bench.wait(lambda: len(handled) == 5)
        assert [seq for seq, _ in handled] == [0, 1, 2, 3, 4]
        assert all(at - a >= 0.2 - 2e-3 for (_s, at), a in zip(handled, arrived, strict=True))
    finally:
        bench.cluster.close()


def test_clock_step_and_drift_move_the_nodes_local_time_and_its_timers(bench: Bench) -> None:
    cluster = bench.cluster
    clock = bench.host("h0").clock
    fired: list[float] = []
    start_local, start = clock.now(), cluster.loop.time()
    clock.call_at(start_local + 1.0, lambda timer: fired.append(cluster.loop.time()), None)  # type: ignore[arg-type]
    cluster.clock_step("h0", 0.8)
    assert clock.now() - start_local >= 0.8 - 1e-9
    bench.wait(lambda: bool(fired), timeout_s=2.0)
    assert 0.15 < fired[0] - start < 0.9, fired[0] - start  # 1.0 local - 0.8 stepped
    cluster.set_drift("h0", 500_000.0)  # local time runs 1.5x
    t0, l0 = cluster.loop.time(), clock.now()
    bench.settle(0.4)
    rate = (clock.now() - l0) / (cluster.loop.time() - t0)
    assert 1.4 < rate < 1.6, rate
    with pytest.raises(ValueError, match="forward"):
        cluster.clock_step("h0", -1.0)


def test_a_crash_closes_the_socket_without_a_goodbye(bench: Bench) -> None:
    bench.connect(("h0", "h1"), ("h1", "h0"))
    h0 = bench.host("h0")
    bench.cluster.crash("h1")
    bench.settle(0.3)
    assert h0.endpoint.stats.connections_terminated == 0  # no CONNECTION_CLOSE reached h0
    assert bench.host("h1").endpoint.closed


def test_unsupported_operations_and_options_are_refused_up_front() -> None:
    require(["crash", "partition", "set_drift"])
    with pytest.raises(UnsupportedFault, match="teleport"):
        require(["crash", "teleport"])
    with pytest.raises(UnsupportedFault, match="trace_messages"):
        LiveCluster(1, local(), trace_messages=True)


def test_a_formed_cluster_detects_a_crash_and_takes_a_wiped_restart_back() -> None:
    """The Node on top: five hosts wired by `LiveHost`, a crash declared dead by every survivor,
    a wiped restart at the same address alive again everywhere.

    Push-pull every second: the restarted node's refutation is gossiped only twice in a cluster
    this small (memberlist's count; tests/test_small_clusters.py), and under load one member
    sometimes missed it until the next push-pull."""
    config = local().replace(
        probe_interval_s=0.2, probe_timeout_s=0.1, gossip_interval_s=0.05, push_pull_interval_s=1.0
    )
    records: list[dict[str, object]] = []
    cluster = LiveCluster(3, config, records.append, join_seeds=["n0"])
    try:
        names = [f"n{i}" for i in range(5)]
        for name in names:
            cluster.add_host(name)
        cluster.boot_formed(names)

        def view(name: str, member: str) -> MemberState:
            node = cluster.hosts[name].node
            assert node is not None
            return node.view()[member].state

        cluster.run(1.0)
        cluster.record_fault("crash", ["n4"])
        cluster.crash("n4")
        assert not cluster.is_up("n4") and cluster.node_names() == names
        assert cluster.run_until(lambda: all(view(n, "n4") is MemberState.DEAD for n in names[:4]), 10.0)
        cluster.restart("n4", wiped=True)
        back = cluster.run_until(
            lambda: (
                all(view(n, "n4") is MemberState.ALIVE for n in names[:4])
                and all(view("n4", m) is MemberState.ALIVE for m in names)
            ),
            10.0,
        )
        assert back is not None
        hosts = [(r["node"], r["status"], r["how"]) for r in records if r["kind"] == "host"]
        assert ("n4", "down", "crash") in hosts and ("n4", "up", "restart-wiped") in hosts
        assert any(r["kind"] == "state" and r["event"] == "dead" and r["member"] == "n4" for r in records)
        assert {"kind": "fault", "op": "crash", "nodes": ["n4"]}.items() <= next(
            r for r in records if r["kind"] == "fault"
        ).items()
        sent = cluster.counters()["sent_by_node"]
        assert set(sent) == set(names) and all(messages > 0 for messages, _bytes in sent.values())
    finally:
        cluster.close()
