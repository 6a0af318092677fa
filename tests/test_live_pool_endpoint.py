"""The endpoint's connections go through `live/pool.py`: coalesced handshakes, a cap whose eviction
never closes a connection in use, health from real sends, and a peer that restarts at the same
address talked to again within one probe interval.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from swimlab.protocol.config import lan

from .test_live_shim import Bench

PROBE_INTERVAL_S = lan().probe_interval_s  # 1 s, as in local(): the bound a restart must meet


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench(4, endpoint_options={"max_connections": 2, "answer_timeout_s": 0.2})
    yield b
    b.cluster.close()


def test_many_first_sends_share_one_handshake(bench: Bench) -> None:
    bench.send("h0", "h1", 50)
    bench.wait(lambda: len(bench.inboxes["h1"]) == 50)
    h0 = bench.host("h0").endpoint
    assert h0.pool.counters.connected == 1 and h0.stats.handshakes_completed == 1
    assert sorted(bench.seqs("h1", "h0")) == list(range(50))


def test_the_cap_evicts_an_idle_connection_never_one_in_use(bench: Bench) -> None:
    cluster = bench.cluster
    a = bench.host("h0").endpoint
    bench.connect(("h0", "h1"), ("h0", "h2"))  # the pool is full: 2 connections
    cluster.pause("h1", 1.0)  # h1 cannot confirm the stream below: it stays in use
    big = b"\0" * 12 + b"x" * 100_000
    a.send("h1", big, None, True)  # type: ignore[arg-type]
    bench.send("h0", "h3", 1)  # a third peer: room must be made
    bench.wait(lambda: len(bench.seqs("h3", "h0")) == 1)
    assert a.pool.counters.evicted_for_room == 1
    assert a.pool.entry(("127.0.0.1", bench.host("h2").address[1])) is None  # the idle one went
    assert a.pool.entry(bench.host("h1").address) is not None  # the one in use stayed
    bench.wait(lambda: len(bench.inboxes["h1"]) == 1, timeout_s=5.0)  # delivered after the pause
    assert a.pool.stats().in_use == 0  # the stream's hold ended with the peer's FIN


def test_when_every_connection_is_in_use_new_peers_wait_and_are_dropped_counted(bench: Bench) -> None:
    cluster = bench.cluster
    a = bench.host("h0").endpoint
    bench.connect(("h0", "h1"), ("h0", "h2"))
    for peer in ("h1", "h2"):
        cluster.pause(peer, 1.0)
        a.send(peer, b"\0" * 12 + b"y" * 50_000, None, True)  # type: ignore[arg-type]
    bench.send("h0", "h3", 3)
    bench.wait(lambda: a.stats.handshake_dropped == 3)
    assert a.pool.counters.exhausted >= 1 and bench.inboxes["h3"] == []


def test_unanswered_sends_withdraw_a_connection_and_the_next_send_dials_again(bench: Bench) -> None:
    cluster = bench.cluster
    a = bench.host("h0").endpoint
    bench.connect(("h0", "h1"))
    first = a.pool.entry(bench.host("h1").address)
    # Silence both ways. Deafening h1 alone was flaky: its QUIC loss recovery retransmits what
    # h0 had not acknowledged yet when the cut began, and hearing that counts as an answer.
    cluster.partition({"h0": frozenset({"h1"}), "h1": frozenset({"h0"})})
    # One send per answer window, the next only once that window was judged a failure: a loaded
    # loop defers the judgement (peers.LATE_JUDGEMENT_S), so waiting a fixed time between sends
    # could put two sends in one window and judge fewer windows than sends.
    for i in range(a.pool.max_consecutive_failures):
        failures = a.pool.counters.failures
        assert a.pool.counters.withdrawn_unhealthy == 0
        bench.send("h0", "h1", 1, start=i)
        bench.wait(lambda failures=failures: a.pool.counters.failures > failures)  # type: ignore[misc]
    assert a.pool.counters.withdrawn_unhealthy == 1 and a.pool.entry(bench.host("h1").address) is None
    cluster.heal()
    bench.send("h0", "h1", 1, start=99)
    bench.wait(lambda: 99 in bench.seqs("h1", "h0"))
    assert a.pool.entry(bench.host("h1").address) not in (None, first)  # a new connection


@pytest.mark.parametrize("who_speaks_first", ["survivor", "restarted"])
@pytest.mark.parametrize("health", ["on", "off"])
def test_a_peer_restarted_at_the_same_address_is_talked_to_within_a_probe_interval(
    who_speaks_first: str, health: str
) -> None:
    """With health judging off (a 60 s answer window), recovery rests on the two fast paths
    alone: the restarted peer dials back when it gets packets of a connection it lost, and its
    new handshake replaces the survivor's stale connection."""
    answer = 0.25 if health == "on" else 60.0
    bench = Bench(2, endpoint_options={"answer_timeout_s": answer})
    try:
        cluster = bench.cluster
        bench.connect(("h0", "h1"), ("h1", "h0"))
        cluster.crash("h1")
        cluster.restart("h1", wiped=True)  # no Node here: just a new process at the same address
        bench.host("h1").up = True
        bench.listen("h1")
        restarted_at = cluster.loop.time()
        if who_speaks_first == "restarted":
            bench.send("h1", "h0", 1, start=500)
        seq = 0

        def probe_and_check() -> bool:
            nonlocal seq
            seq += 1
            bench.send("h0", "h1", 1, start=seq)  # the survivor keeps probing it
            return bool(bench.seqs("h1", "h0"))

        took = bench.wait(probe_and_check, timeout_s=5.0)
        assert took < PROBE_INTERVAL_S, f"talked to again after {took:.2f} s"
        assert bench.host("h1").address == bench.host("h1").endpoint.address
        survivor = bench.host("h0").endpoint.stats
        assert survivor.replaced_links == 1 or bench.host("h0").endpoint.pool.counters.withdrawn_unhealthy
        assert cluster.loop.time() - restarted_at < 5.0
    finally:
        bench.cluster.close()


def test_initials_to_a_forgotten_connection_id_do_not_open_new_connections() -> None:
    """A client whose handshake the server abandoned keeps sending padded Initials to the
    connection ID the server forgot; each used to open a new server connection that failed at
    once ("no CRYPTO frame"), a spiral under load. They are strays now."""
    import asyncio

    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.connection import QuicConnection

    from swimlab.live.endpoint import ALPN, QuicEndpoint

    loop = asyncio.new_event_loop()
    server = QuicEndpoint.bind(loop, "127.0.0.1", 0)
    try:
        client = QuicConnection(configuration=QuicConfiguration(is_client=True, alpn_protocols=[ALPN]))
        client.connect(server.address, now=loop.time())
        (first, _addr), *_ = client.datagrams_to_send(now=loop.time())
        server.packet_received(first, ("127.0.0.1", 9))
        assert server.connection_count() == 1
        (link,) = server.peers.links
        server.peers.forget(link)  # abandoned, as a handshake timeout does
        at = client.get_timer()
        assert at is not None
        client.handle_timer(now=at)  # no answer: the client retransmits its Initial
        again = [data for data, _ in client.datagrams_to_send(now=at)]
        assert again and len(again[0]) >= 1200
        strays = server.stats.stray_packets
        for data in again:
            server.packet_received(data, ("127.0.0.1", 9))
        assert server.connection_count() == 0 and server.stats.stray_packets > strays
    finally:
        server.close()
        loop.close()


def test_silence_is_judged_only_by_a_timer_that_fires_on_time(bench: Bench) -> None:
    """A late answer-window timer means the loop has not read what may be waiting in the
    socket: it looks again after reading instead of blaming the peer."""
    from swimlab.live.peers import LATE_JUDGEMENT_S

    bench.connect(("h0", "h1"))
    a = bench.host("h0").endpoint
    (link,) = [lk for lk in a.peers.links if lk.addr == bench.host("h1").address]
    now = bench.cluster.loop.time()
    failures = a.pool.counters.failures
    link.answer_due_at = now - 10 * LATE_JUDGEMENT_S  # the timer fired 0.2 s late
    a.peers.judge_silence(link, now)
    assert a.pool.counters.failures == failures and link.answer_due_at > now  # deferred
    link.answer_due_at = now - LATE_JUDGEMENT_S / 4  # on time
    a.peers.judge_silence(link, now)
    assert a.pool.counters.failures == failures + 1 and link.answer_due_at is None
