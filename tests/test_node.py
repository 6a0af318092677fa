"""Scripted exchanges between Nodes with time stepped by hand (aioquic's test_connection style).

Every input takes an explicit `now`; every assertion is on the exact Effects, deadlines included.
"""

import random

import pytest

from swimlab.protocol.config import lan
from swimlab.protocol.effects import NO_EFFECTS, Send, SetTimer
from swimlab.protocol.errors import LocalProtocolError
from swimlab.protocol.events import MemberFailed, MemberJoined, MemberSuspected, Refuted
from swimlab.protocol.messages import (
    Ack,
    Gossip,
    MemberState,
    Nack,
    Ping,
    PingReq,
    PushPull,
    StreamAck,
    StreamPing,
    Update,
)
from swimlab.protocol.node import Node
from swimlab.protocol.timers import (
    GossipTick,
    ProbeRoundEnd,
    ProbeTick,
    ProbeTimeout,
    PushPullTick,
    ReconnectTick,
    RelayTimeout,
    SuspicionTimeout,
)

A, S, D = MemberState.ALIVE, MemberState.SUSPECT, MemberState.DEAD


def alive(name, inc=0):
    return Update(A, name, inc, name)


def joined_pair(config=None):
    """Nodes a and b, started at t=0 and joined through b's state: both know each other alive."""
    a, b, _ = phased_pair(config)
    return a, b


def phased_pair(config=None):
    """`joined_pair`, and the instant of a's first probe tick: its ticker's grid is that + k s."""
    config = config or lan()
    a, b = Node("a", config, random.Random(1)), Node("b", config, random.Random(2))
    (first_tick, *_) = a.start(0.0).timers
    assert first_tick.timer == ProbeTick()
    b.start(0.0)
    (join,) = a.join(("b",), 0.0).sends
    assert join == Send("b", PushPull((alive("a"),), join=True))
    reply = b.handle_message("a", join.message, 0.01)
    # The reply is b's state before merging a's (memberlist sends first, then merges).
    assert reply.sends == (Send("a", PushPull((alive("b"),), join=True, reply=True)),)
    assert reply.events == (MemberJoined("a", 0),)
    effects = a.handle_message("b", reply.sends[0].message, 0.02)
    assert effects.events == (MemberJoined("b", 0),)
    return a, b, first_tick.at


def test_start_arms_staggered_periodic_timers():
    effects = Node("a", lan(), random.Random(7)).start(10.0)
    assert [type(t.timer) for t in effects.timers] == [
        ProbeTick,
        GossipTick,
        PushPullTick,
        ReconnectTick,
    ]
    probe, gossip, push_pull, reconnect = (t.at for t in effects.timers)
    assert 10.0 <= probe < 11.0 and 10.0 <= gossip < 10.2 and 10.0 <= push_pull < 40.0
    assert reconnect == 40.0
    assert effects.sends == () and effects.events == ()


def test_probe_ack_round_has_exact_deadlines():
    a, b, tick = phased_pair()
    effects = a.handle_timer(ProbeTick(), tick)
    # The ping carries the news a learned at join (b alive), piggybacked.
    assert effects.sends == (Send("b", Ping(1, "b", (alive("b"),))),)
    assert effects.timers == (SetTimer(tick + 0.5, ProbeTimeout(1)), SetTimer(tick + 1.0, ProbeRoundEnd(1)))
    ack = b.handle_message("a", effects.sends[0].message, tick + 0.001)
    assert ack.sends == (Send("a", Ack(1, (alive("a"),))),)
    # The ack ends the probe (memberlist's probeNode returns); the next starts on the next tick.
    done = a.handle_message("b", ack.sends[0].message, tick + 0.002)
    assert done.events == () and done.timers == (SetTimer(tick + 1.0, ProbeTick()),)
    assert a.handle_timer(ProbeTimeout(1), tick + 0.5) is NO_EFFECTS
    assert a.handle_timer(ProbeRoundEnd(1), tick + 1.0) is NO_EFFECTS
    nxt = a.handle_timer(ProbeTick(), tick + 1.0)
    assert nxt.sends == (Send("b", Ping(2, "b", (alive("b"),))),)
    assert nxt.timers == (SetTimer(tick + 1.5, ProbeTimeout(2)), SetTimer(tick + 2.0, ProbeRoundEnd(2)))


def test_unacked_probe_suspects_then_declares_dead_with_exact_deadlines():
    a, _b, tick = phased_pair(lan().replace(fallback_ping=False))
    a.handle_timer(ProbeTick(), tick)
    assert a.handle_timer(ProbeTimeout(1), tick + 0.5) is NO_EFFECTS  # no relay in a pair
    t = tick + 1.0
    end = a.handle_timer(ProbeRoundEnd(1), t)
    assert end.events == (MemberSuspected("b", 0, "a"),)
    # n = 2: too few members for confirmations (k = 0), so the timeout is the minimum:
    # suspicion_mult 4 × max(1, log10 2) × 1 s = 4 s. The deadline fell on a tick, so the next
    # probe starts at once. Lifeguard: the failed probe raised our health score to 1, which
    # doubles the next probe's deadline but not its ack timeout (memberlist scales neither the
    # ack timeout nor the ticker).
    suspicion = SuspicionTimeout("b", 0, 1)
    buddy = Update(S, "b", 0, "a")
    # The suspicion replaced the queued "b alive" news and rides first on the next ping (buddy).
    assert end.sends == (Send("b", Ping(2, "b", (buddy,))),)
    assert end.timers == (
        SetTimer(t + 4.0, suspicion),
        SetTimer(t + 0.5, ProbeTimeout(2)),
        SetTimer(t + 2.0, ProbeRoundEnd(2)),
    )
    assert a.awareness == 1
    # This one runs past the tick at t + 1 (Go's ticker keeps it): the third starts at its end.
    third = a.handle_timer(ProbeRoundEnd(2), t + 2.0)
    assert [s.message for s in third.sends] == [Ping(3, "b", (buddy,))]
    assert third.timers == (SetTimer(t + 2.5, ProbeTimeout(3)), SetTimer(t + 5.0, ProbeRoundEnd(3)))
    assert a.awareness == 2
    dead = a.handle_timer(suspicion, t + 4.0)
    assert dead.events == (MemberFailed("b", 0, "a"),)
    assert a.view()["b"] == Update(D, "b", 0, "a")


def test_the_fallback_ping_goes_with_the_relays_after_the_unscaled_ack_timeout():
    a, b, tick = phased_pair()
    a.awareness = 2  # an unhealthy node: only the deadline stretches (× 3)
    a.handle_timer(ProbeTick(), tick)
    assert a.handle_timer(ProbeTick(), tick) is NO_EFFECTS  # a probe runs: the tick is dropped
    fallback = a.handle_timer(ProbeTimeout(1), tick + 0.5)
    assert fallback.sends == (Send("b", StreamPing(1, "b")),) and fallback.timers == ()
    # The target answers on the same channel, without news (memberlist's TCP ping carries none).
    assert b.handle_message("a", StreamPing(1, "b"), tick + 0.6).sends == (Send("a", StreamAck(1)),)
    assert not b.handle_message("a", StreamPing(1, "someone-else"), tick + 0.6)


def test_a_stream_ack_rescues_the_probe_at_its_deadline_and_counts_as_a_success():
    a, _b, tick = phased_pair()
    a.awareness = 1
    a.handle_timer(ProbeTick(), tick)
    a.handle_timer(ProbeTimeout(1), tick + 0.5)
    # memberlist polls the fallback only once the deadline passed: nothing happens now ...
    assert a.handle_message("b", StreamAck(1), tick + 0.7) is NO_EFFECTS
    assert a.handle_message("b", StreamAck(99), tick + 0.8) is NO_EFFECTS  # another probe's
    # ... and at the deadline (start + 1 s × 2) the probe succeeds: no suspicion, health -1,
    # and the next probe starts at once (the tick at start + 1 s passed while it ran).
    end = a.handle_timer(ProbeRoundEnd(1), tick + 2.0)
    assert end.events == () and a.view()["b"] == alive("b") and a.awareness == 0
    assert [s.message for s in end.sends] == [Ping(2, "b", (alive("b"),))]
    assert end.timers == (SetTimer(tick + 2.5, ProbeTimeout(2)), SetTimer(tick + 3.0, ProbeRoundEnd(2)))


def test_a_udp_ack_after_the_stream_ack_still_ends_the_probe_at_once():
    a, _b, tick = phased_pair()
    a.handle_timer(ProbeTick(), tick)
    a.handle_timer(ProbeTimeout(1), tick + 0.5)
    a.handle_message("b", StreamAck(1), tick + 0.6)
    done = a.handle_message("b", Ack(1), tick + 0.8)
    assert done.sends == () and done.timers == (SetTimer(tick + 1.0, ProbeTick()),)
    assert a.handle_timer(ProbeRoundEnd(1), tick + 1.0) is NO_EFFECTS


def test_a_stream_ack_after_the_deadline_is_too_late():
    a, _b, tick = phased_pair()
    a.handle_timer(ProbeTick(), tick)
    a.handle_timer(ProbeTimeout(1), tick + 0.5)
    end = a.handle_timer(ProbeRoundEnd(1), tick + 1.0)
    assert end.events == (MemberSuspected("b", 0, "a"),) and a.awareness == 1
    assert a.handle_message("b", StreamAck(1), tick + 1.01).events == ()
    assert a.view()["b"] == Update(S, "b", 0, "a")


def test_without_fallback_ping_no_stream_ping_is_sent():
    a, _b, tick = phased_pair(lan().replace(fallback_ping=False))
    a.handle_timer(ProbeTick(), tick)
    assert a.handle_timer(ProbeTimeout(1), tick + 0.5) is NO_EFFECTS


def test_refuting_an_alive_record_at_a_higher_incarnation_costs_health_too():
    a, _b = joined_pair()
    refute = a.handle_message("b", Gossip((alive("a", 3),)), 1.0)  # a stale life of ours
    assert refute.events == (Refuted(4, "alive", "a"),) and a.awareness == 1  # memberlist: refute


def test_buddy_ping_lets_the_suspect_refute():
    a, b = joined_pair()
    a.handle_timer(ProbeTick(), 1.0)
    end = a.handle_timer(ProbeRoundEnd(1), 2.0)
    ping = end.sends[0].message
    assert ping.updates[0] == Update(S, "b", 0, "a")  # Lifeguard buddy system: the suspicion goes first
    ack = b.handle_message("a", ping, 2.001)
    assert ack.events == (Refuted(1, "suspect", "a"),)
    assert b.incarnation == 1 and b.awareness == 1
    assert Update(A, "b", 1, "b") in ack.sends[0].message.updates
    back = a.handle_message("b", ack.sends[0].message, 2.002)
    assert a.view()["b"] == Update(A, "b", 1, "b")
    assert [type(e).__name__ for e in back.events] == ["MemberAlive"]
    # The old suspicion timer is now stale: it changes nothing.
    assert not a.handle_timer(SuspicionTimeout("b", 0, 1), 6.0).events


def test_relay_forwards_ack_or_nacks():
    relay = Node("r", lan(), random.Random(3))
    relay.start(0.0)
    fwd = relay.handle_message("origin", PingReq(41, "t"), 1.0)
    assert fwd.sends == (Send("t", Ping(1, "t")),)
    assert fwd.timers == (SetTimer(1.5, RelayTimeout(1)),)
    assert relay.handle_message("t", Ack(1), 1.1).sends == (Send("origin", Ack(41)),)
    # A second request whose target never answers is nacked after the probe timeout.
    relay.handle_message("origin", PingReq(42, "t"), 2.0)
    assert relay.handle_timer(RelayTimeout(2), 2.5).sends == (Send("origin", Nack(42)),)
    assert not relay.handle_timer(RelayTimeout(2), 2.6)  # stale: already answered


def test_ping_for_someone_else_is_ignored():
    node = Node("a", lan(), random.Random(4))
    node.start(0.0)
    assert not node.handle_message("x", Ping(1, "not-a"), 1.0)


def test_time_going_backwards_is_a_local_error_and_changes_nothing():
    a, _b = joined_pair()
    a.handle_timer(ProbeTick(), 5.0)
    before = dict(a.view())
    with pytest.raises(LocalProtocolError, match="time went backwards"):
        a.handle_timer(ProbeRoundEnd(1), 4.0)
    assert dict(a.view()) == before
    with pytest.raises(LocalProtocolError):
        a.handle_message("b", Ack(1), float("nan"))


def test_start_twice_and_join_before_start_are_local_errors():
    node = Node("a", lan(), random.Random(5))
    with pytest.raises(LocalProtocolError, match="needs a running node"):
        node.join(("b",), 0.0)
    node.start(0.0)
    with pytest.raises(LocalProtocolError, match="twice"):
        node.start(0.0)


def test_leave_announces_and_silences_the_node():
    a, b = joined_pair()
    effects = a.leave(3.0)
    assert effects.sends == (Send("b", Gossip((Update(MemberState.LEFT, "a", 0, "a"),))),)
    assert not a.handle_message("b", Ping(9, "a"), 3.1)
    left = b.handle_message("a", effects.sends[0].message, 3.1)
    assert [type(e).__name__ for e in left.events] == ["MemberLeft"]


def test_dead_in_push_pull_becomes_our_suspicion_and_the_accused_refutes():
    a, _b = joined_pair()
    # A remote state saying b is dead makes a suspect b (not kill it), with a as the accuser.
    effects = a.handle_message("c", PushPull((Update(D, "b", 0, "c"),)), 3.0)
    assert MemberSuspected("b", 0, "a") in effects.events
    # A remote state saying a itself is dead makes a refute.
    effects = a.handle_message("c", PushPull((Update(D, "a", 0, "c"),)), 3.1)
    assert Refuted(1, "suspect", "a") in effects.events


def test_dynamic_suspicion_shrinks_with_independent_confirmations():
    # A member suspected in a cluster of 100: min = 4 × log10(100) × 1 s = 8 s, max = 6 × 8 = 48 s,
    # k = suspicion_mult − 2 = 2 confirmations bring it down to the minimum (memberlist).
    node = Node("a", lan(), random.Random(6))
    node.start(0.0)
    node.handle_message("x", PushPull(tuple(alive(f"m{i}") for i in range(99))), 0.0)
    assert node.cluster_size() == 100
    first = node.handle_message("m1", PushPull((Update(S, "m0", 0, "m1"),), reply=True), 1.0)
    (timer,) = [t for t in first.timers if isinstance(t.timer, SuspicionTimeout)]
    assert timer.at == pytest.approx(49.0)
    second = node.handle_message("m2", Gossip((Update(S, "m0", 0, "m2"),)), 2.0)
    (timer,) = [t for t in second.timers if isinstance(t.timer, SuspicionTimeout)]
    # remaining(n=1, k=2, elapsed=1, min=8, max=48) = 48 − log(2)/log(3) × 40 − 1, floored to ms
    assert timer.at == pytest.approx(1.0 + (int(1000 * (48 - 40 * 0.6309297535714574)) / 1000), abs=1e-3)
    third = node.handle_message("m3", Gossip((Update(S, "m0", 0, "m3"),)), 3.0)
    (timer,) = [t for t in third.timers if isinstance(t.timer, SuspicionTimeout)]
    assert timer.at == pytest.approx(9.0)  # two confirmations: the minimum, counted from the start
    # The same accuser again is not independent.
    assert not [
        t
        for t in node.handle_message("m3", Gossip((Update(S, "m0", 0, "m3"),)), 3.5).timers
        if isinstance(t.timer, SuspicionTimeout)
    ]


def _probe_rounds_without_acks(node, start, rounds):
    """Run `rounds` probe rounds in which nothing answers; return the events of each round."""
    effects = node.handle_timer(ProbeTick(), start)
    events = []
    for _ in range(rounds):
        (end,) = [t for t in effects.timers if isinstance(t.timer, ProbeRoundEnd)]
        (timeout,) = [t for t in effects.timers if isinstance(t.timer, ProbeTimeout)]
        node.handle_timer(timeout.timer, timeout.at)
        effects = node.handle_timer(end.timer, end.at)
        events.append((end.at, effects.events))
    return events


@pytest.mark.parametrize("detector", ["swim", "phi"])
def test_phi_detector_gates_suspicion_on_how_recently_the_member_was_heard(detector):
    """With detector="phi", one failed probe of a member heard from a second ago is no evidence
    (phi is low) and the member is probed again; silence accrues until phi crosses the threshold."""
    node = Node("a", lan().replace(detector=detector), random.Random(8))
    node.start(0.0)
    node.handle_message("b", PushPull((alive("b"),), reply=True), 0.0)
    for t in range(1, 11):  # b pings a every second: ten heartbeats
        node.handle_message("b", Ping(t, "a"), float(t))
    rounds = _probe_rounds_without_acks(node, 10.5, 4)
    suspected_at = [at for at, events in rounds if MemberSuspected("b", 0, "a") in events]
    if detector == "swim":
        assert suspected_at == [11.5]  # the first failed round
    else:
        assert suspected_at and suspected_at[0] > 11.5  # later: phi had to accrue
        assert suspected_at[0] - 10.0 > 3.0  # at least 3 s of silence after the last heartbeat


def test_an_accusation_at_the_wire_maximum_is_refused_not_outbid():
    """Regression (found by tests/test_node_hostile.py): refuting alive(me, 2**63-1) would need
    incarnation 2**63, which no peer can decode, so the node could never refute again."""
    from swimlab.protocol.codec import MAX_INT

    node = Node("a", lan(), random.Random(9))
    node.start(0.0)
    effects = node.handle_message("b", Ping(1, "a", (Update(A, "a", MAX_INT, "b"),)), 1.0)
    assert node.incarnation == 0 and not effects.events
    assert effects.sends == (Send("b", Ack(1)),)


def test_a_lost_join_is_retried_until_a_seed_answers():
    node = Node("a", lan(), random.Random(10))
    node.start(0.0)
    node.join(("b", "c"), 0.0)  # both requests lost
    retry = node.handle_timer(ReconnectTick(), 30.0)
    assert [s.dst for s in retry.sends] == ["b", "c"] and all(s.message.join for s in retry.sends)
    node.handle_message("b", PushPull((alive("b"),), join=True, reply=True), 30.1)
    assert not node.handle_timer(ReconnectTick(), 60.0).sends  # it knows a live member now


def test_a_probe_whose_target_left_meanwhile_fails_without_accusing_it():
    """The target's graceful leave reaches us while our probe of it runs: the failed probe costs
    our health as any failed probe does, but raises no suspicion of a member already down. (Two
    rules ensure it: `_probe_failed` returns for a down target, and the precedence table would
    refuse a suspicion at the incarnation of a LEFT record anyway — which is why the mutation
    run's survivor there is equivalent.)"""
    a, b, tick = phased_pair(lan().replace(fallback_ping=False))
    a.handle_timer(ProbeTick(), tick)
    for send in b.leave(tick + 0.1).sends:
        assert send.dst == "a"
        a.handle_message("b", send.message, tick + 0.2)
    assert a.view()["b"].is_down
    end = a.handle_timer(ProbeRoundEnd(1), tick + 1.0)
    assert not any(isinstance(e, MemberSuspected) for e in end.events), end.events
    assert a.view()["b"].is_down and a.view()["b"].state is not S
    assert a.awareness == 1
