"""The live QUIC endpoint over real loopback sockets: the conformance suite the simulator passes,
the endpoint's own rules (datagram budget, handshake queue, certificates), and a 5-node cluster
that forms and detects a crash with the unchanged protocol core.

Every test runs its own event loop for a bounded stretch of real time (`settle`, `run_until`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

pytest.importorskip("aioquic")  # a declared dependency: skipped only where it is not installed

from swimlab.live.clock import LiveClock
from swimlab.live.cluster import LiveCluster
from swimlab.live.credentials import ClusterCA, Credentials, self_signed
from swimlab.live.endpoint import QuicEndpoint
from swimlab.live.host import LiveHost
from swimlab.protocol import codec
from swimlab.protocol.config import local
from swimlab.protocol.driver import Driver
from swimlab.protocol.effects import NO_EFFECTS, Effects
from swimlab.protocol.formulas import suspicion_timeout
from swimlab.protocol.messages import (
    Ack,
    MemberState,
    Message,
    NodeId,
    Ping,
    PushPull,
    StreamAck,
    StreamPing,
    Update,
)
from swimlab.protocol.node import Node

from .transport_conformance import Pair, check_transport


class InboxNode:
    """A node that only records what reaches it (as in the simulator's conformance test)."""

    def __init__(self, name: str) -> None:
        self.name, self.config = name, local()
        self.inbox: list[tuple[NodeId, Message]] = []

    def handle_message(self, src: NodeId, message: Message, now: float) -> Effects:
        self.inbox.append((src, message))
        return NO_EFFECTS


class Loopback:
    """One event loop and the endpoints opened on it, all closed at teardown."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.endpoints: list[QuicEndpoint] = []

    def open(self, credentials: Credentials | None = None, **options: object) -> QuicEndpoint:
        endpoint = self.loop.run_until_complete(QuicEndpoint.open(credentials=credentials, **options))
        self.endpoints.append(endpoint)
        return endpoint

    def settle(self, seconds: float) -> None:
        """Run the loop for `seconds` of real time (never less: the suite checks the clock)."""
        deadline = self.loop.time() + seconds
        while (left := deadline - self.loop.time()) > 0:
            self.loop.run_until_complete(asyncio.sleep(left))

    def run_until(self, done: Callable[[], bool], timeout_s: float, poll_s: float = 0.02) -> float:
        """Run until `done()`; the seconds it took. Fails the test after `timeout_s`."""
        start = self.loop.time()
        while not done():
            if self.loop.time() - start > timeout_s:
                pytest.fail(f"condition not met within {timeout_s} s")
            self.settle(poll_s)
        return self.loop.time() - start

    def close(self) -> None:
        for endpoint in self.endpoints:
            endpoint.close()
        self.loop.run_until_complete(asyncio.sleep(0))  # let the transports finish closing
        self.loop.close()


@pytest.fixture
def net() -> Iterator[Loopback]:
    loopback = Loopback()
    yield loopback
    loopback.close()


def inbox(endpoint: QuicEndpoint) -> list[tuple[NodeId, bytes]]:
    received: list[tuple[NodeId, bytes]] = []
    endpoint.on_receive = lambda src, data: received.append((src, data))
    return received


@pytest.mark.parametrize(("offset_s", "drift_ppm"), [(0.0, 0.0), (100.0, 50_000.0)], ids=["plain", "skewed"])
def test_live_transport_conforms(net: Loopback, offset_s: float, drift_ppm: float) -> None:
    """The simulator's suite, over QUIC on loopback, with mutual TLS on; the clock also with an
    offset and a drift (timers still fire at their local deadlines)."""
    ca = ClusterCA()

    def make_pair() -> Pair:
        a, b = net.open(ca.issue()), net.open(ca.issue())
        for endpoint in (a, b):
            endpoint.address_book.update({"a": a.address, "b": b.address})
        node_b = InboxNode("b")
        driver_b = Driver(node_b, b, LiveClock(net.loop))  # type: ignore[arg-type]
        b.on_receive = driver_b.datagram_received  # the full decode path
        return Pair(a, LiveClock(net.loop, offset_s, drift_ppm), node_b.inbox, net.settle)

    check_transport(make_pair)


def test_each_send_takes_the_path_its_size_and_reliability_call_for(net: Loopback) -> None:
    a, b = net.open(), net.open()
    received = inbox(b)
    small, at_budget = b"s" * 100, b"t" * a.datagram_budget
    over_budget, reliable = b"u" * (a.datagram_budget + 1), b"v" * 300_000
    for payload, is_reliable in ((small, False), (at_budget, False), (over_budget, False), (reliable, True)):
        a.send(b.name, payload, None, is_reliable)  # type: ignore[arg-type]
    net.run_until(lambda: len(received) == 4, timeout_s=5.0)
    assert sorted(received, key=lambda r: len(r[1])) == [
        (a.name, p) for p in (small, at_budget, over_budget, reliable)
    ]
    assert (a.stats.datagrams_sent, a.stats.streams_sent, a.stats.oversize_to_stream) == (2, 2, 1)
    assert a.datagram_budget >= local().packet_budget_bytes  # a full gossip packet fits a datagram

    # The reply travels over the connection a opened: one handshake per pair of nodes.
    back = inbox(a)
    b.send(a.name, small, None, False)  # type: ignore[arg-type]
    net.run_until(lambda: back == [(b.name, small)], timeout_s=5.0)
    assert a.connection_count() == b.connection_count() == 1
    assert a.stats.handshakes_completed == b.stats.handshakes_completed == 1


def test_hundreds_of_reliable_sends_share_one_connection(net: Loopback) -> None:
    """Each stream is closed on both halves, so aioquic keeps granting new ones (past its 128)."""
    a, b = net.open(), net.open()
    received = inbox(b)
    a.send(b.name, b"hello", None, True)  # type: ignore[arg-type]
    net.run_until(lambda: len(received) == 1, timeout_s=5.0)  # past the handshake's queue
    received.clear()
    for i in range(300):
        a.send(b.name, i.to_bytes(2, "big"), None, True)  # type: ignore[arg-type]
    net.run_until(lambda: len(received) == 300, timeout_s=10.0)
    assert sorted(int.from_bytes(d, "big") for _s, d in received) == list(range(300))
    assert a.connection_count() == 1


def test_sends_wait_for_the_handshake_in_a_bounded_queue(net: Loopback) -> None:
    a, b = net.open(max_pending=4), net.open()
    received = inbox(b)
    for i in range(10):
        a.send(b.name, bytes([i]), None, False)  # type: ignore[arg-type]
    net.run_until(lambda: len(received) == 4, timeout_s=5.0)
    net.settle(0.2)
    assert [d for _s, d in received] == [bytes([i]) for i in range(4)]
    assert a.stats.queue_full_dropped == 6


def test_a_silent_peer_costs_a_bounded_queue_and_never_raises(net: Loopback) -> None:
    a, silent = net.open(handshake_timeout_s=0.3), net.open()
    silent.close()  # its port is now closed: packets to it draw ICMP errors, never answers
    for i in range(5):
        a.send(silent.name, bytes([i]), None, i % 2 == 0)  # type: ignore[arg-type]
    a.send("not an address", b"x", None, False)  # type: ignore[arg-type]
    net.settle(0.6)
    assert a.stats.handshake_dropped == 5
    assert a.stats.unresolvable_dropped == 1
    assert a.connection_count() == 0  # the abandoned handshake is forgotten
    # A later send tries again with a fresh handshake.
    a.send(silent.name, b"again", None, False)  # type: ignore[arg-type]
    net.settle(0.05)  # the pool dials from a task
    assert a.connection_count() == 1


def test_a_server_without_a_cluster_certificate_is_refused(net: Loopback) -> None:
    ca = ClusterCA()
    a = net.open(ca.issue(), handshake_timeout_s=1.0)
    impostor, self_signed_peer = net.open(ClusterCA().issue()), net.open(self_signed())
    inboxes = (inbox(impostor), inbox(self_signed_peer))
    for peer in (impostor, self_signed_peer):
        a.send(peer.name, b"secret", None, False)  # type: ignore[arg-type]
    net.run_until(lambda: a.stats.connections_terminated == 2, timeout_s=3.0)
    assert inboxes == ([], [])
    assert a.stats.handshakes_completed == 0
    assert a.stats.handshake_dropped == 2


def test_a_big_push_pull_crosses_intact_on_the_decode_path(net: Loopback) -> None:
    a, b = net.open(), net.open()
    received = inbox(b)
    state = PushPull(tuple(Update(MemberState.ALIVE, f"127.0.0.1:{i}", i, a.name) for i in range(1, 20_001)))
    payload = codec.encode(state)
    a.send(b.name, payload, state, True)
    net.run_until(lambda: len(received) == 1, timeout_s=10.0)
    assert codec.decode(received[0][1]) == state


def test_five_nodes_form_a_cluster_and_detect_a_crash() -> None:
    """The unchanged Node and Driver on QUIC (wired by `LiveCluster`): all five see each other
    alive after joining through one seed, then every survivor declares a crashed node dead
    within the bound its config implies."""
    n = 5
    # Faster timeouts, and push-pull every second: four simultaneous joins through one seed are
    # each gossiped only retransmit_limit(2, n≈2) = 2 times, so a member can stay unknown to
    # someone until the next anti-entropy sync (memberlist's behaviour: test_small_clusters.py).
    config = local().replace(
        probe_interval_s=0.2, probe_timeout_s=0.1, gossip_interval_s=0.05, push_pull_interval_s=1.0
    )
    cluster = LiveCluster(0, config, join_seeds=["n0"])
    try:
        names = [f"n{i}" for i in range(n)]
        for name in names:
            cluster.add_host(name)
        for name in names:
            cluster.boot(name)
        nodes = [cluster.hosts[name].node for name in names]

        def all_alive(node: Node | None, alive: set[NodeId]) -> bool:
            assert node is not None
            view = node.view()
            return alive <= set(view) and all(view[m].state is MemberState.ALIVE for m in alive)

        formed_s = cluster.run_until(lambda: all(all_alive(node, set(names)) for node in nodes), 15.0)
        assert formed_s is not None, "not formed within 15 s"
        cluster.crash("n4")
        # The bound: each survivor probes the victim within 2(n-1) periods (round-robin over n-1
        # members, reshuffled each pass), plus the probe timeout; a suspicion lasts at most
        # suspicion_max_timeout_mult × its minimum; then one second for the news and the loop.
        min_suspicion = suspicion_timeout(config.suspicion_mult, n, config.probe_interval_s)
        bound = (
            2 * (n - 1) * config.probe_interval_s
            + config.probe_timeout_s
            + config.suspicion_max_timeout_mult * min_suspicion
            + 1.0
        )
        survivors = nodes[:-1]
        detected_s = cluster.run_until(
            lambda: all(node.view()["n4"].state is MemberState.DEAD for node in survivors),  # type: ignore[union-attr]
            timeout_s=bound,
        )
        assert detected_s is not None and detected_s < bound
        assert all(all_alive(node, set(names[:-1])) for node in survivors)
    finally:
        cluster.close()


def test_a_ping_to_a_live_node_is_answered_over_quic(net: Loopback) -> None:
    """A probe round trip through QUIC, the Driver and a real Node (wired by `LiveHost`)."""
    prober = net.open()
    target = LiveHost("", net.loop, ("127.0.0.1", 0), self_signed(), local(), LiveClock(net.loop))
    target.boot()
    replies = inbox(prober)
    ping = Ping(41, target.name)
    prober.send(target.name, codec.encode(ping), ping, False)
    net.run_until(lambda: bool(replies), timeout_s=5.0)
    (src, data), *_ = replies
    assert src == target.name and codec.decode(data) == Ack(41)
    target.crash()


def test_the_fallback_ping_is_answered_on_a_quic_stream(net: Loopback) -> None:
    """The fallback probe through QUIC, the Driver and a real Node: the StreamAck comes back on
    a stream (the Driver marks both messages reliable), not in a datagram."""
    prober = net.open()
    target = LiveHost("", net.loop, ("127.0.0.1", 0), self_signed(), local(), LiveClock(net.loop))
    target.boot()
    replies = inbox(prober)
    ping = StreamPing(42, target.name)
    prober.send(target.name, codec.encode(ping), ping, True)
    net.run_until(lambda: bool(replies), timeout_s=5.0)
    (src, data), *_ = replies
    assert src == target.name and codec.decode(data) == StreamAck(42)
    assert target.endpoint.stats.streams_sent == 1 and target.endpoint.stats.datagrams_sent == 0
    target.crash()
