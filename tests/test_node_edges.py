"""Node behaviours no other test pinned down, each found by a mutant that survived the mutation
smoke run (benchmarks/mutation_smoke.py). Exact effects, time stepped by hand, as in test_node.py.
"""

from __future__ import annotations

import math
import random

import pytest

from swimlab.protocol import codec
from swimlab.protocol.config import lan
from swimlab.protocol.effects import NO_EFFECTS, Effects, Send, SetTimer
from swimlab.protocol.errors import LocalProtocolError
from swimlab.protocol.events import MemberFailed, MemberSuspected
from swimlab.protocol.lifecycle import Lifecycle
from swimlab.protocol.messages import (
    Ack,
    Gossip,
    MemberState,
    Nack,
    Ping,
    PingReq,
    PushPull,
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
    ReclaimDead,
    ReconnectTick,
    SuspicionTimeout,
)

A, S, D = MemberState.ALIVE, MemberState.SUSPECT, MemberState.DEAD


def alive(name: str, inc: int = 0) -> Update:
    return Update(A, name, inc, name)


def node_knowing(*members: str, name: str = "a", seed: int = 1) -> Node:
    node = Node(name, lan(), random.Random(seed))
    node.start(0.0)
    node.handle_message(members[0], PushPull(tuple(alive(m) for m in members), reply=True), 0.0)
    return node


# --- start(known) ---------------------------------------------------------------------------------


def test_start_with_known_members_installs_them_silently_and_probes_each_in_one_pass():
    known = tuple(alive(n) for n in ("a", "b", "c", "d"))  # its own record is skipped
    node = Node("a", lan(), random.Random(11))
    effects = node.start(0.0, known)
    assert effects.sends == () and effects.events == ()  # no gossip, no notifications
    assert node.cluster_size() == 4 and dict(node.view()) == {u.member: u for u in known}
    targets, effects, t = [], node.handle_timer(ProbeTick(), 1.0), 1.0
    for _ in range(3):
        (ping,) = effects.sends
        targets.append(ping.dst)
        node.handle_message(ping.dst, Ack(ping.message.seq), t + 0.01)  # ends the probe
        t += 1.0
        effects = node.handle_timer(ProbeTick(), t)
    assert sorted(targets) == ["b", "c", "d"]  # round robin: each known member once per pass


def test_start_refuses_a_known_member_that_is_not_alive_and_stays_new():
    node = Node("a", lan(), random.Random(12))
    with pytest.raises(LocalProtocolError, match="takes alive members"):
        node.start(0.0, (alive("b"), Update(S, "c", 0, "b")))
    assert node.lifecycle is Lifecycle.NEW and dict(node.view()) == {"a": alive("a")}
    node.start(0.0, (alive("b"),))  # and can still be started properly


@pytest.mark.parametrize(
    ("name", "ok"), [("x" * 255, True), ("é" * 127 + "x", True), ("x" * 256, False), ("", False)]
)
def test_node_names_up_to_255_utf8_bytes(name, ok):
    if ok:
        assert Node(name, lan(), random.Random(0)).name == name
    else:
        with pytest.raises(LocalProtocolError, match=r"1\.\.255 UTF-8 bytes"):
            Node(name, lan(), random.Random(0))


# --- recover ---------------------------------------------------------------------------------------


def test_recover_outbids_the_old_life_rearms_every_timer_and_forgets_relays():
    node = node_knowing("b", "c", "d")
    suspected = node.handle_message("b", Gossip((Update(S, "c", 0, "b"),)), 1.0)
    (old_suspicion,) = [t for t in suspected.timers if isinstance(t.timer, SuspicionTimeout)]
    node.handle_message("b", Gossip((Update(D, "d", 0, "b"),)), 2.0)
    (relayed_ping,) = node.handle_message("b", PingReq(77, "c"), 3.0).sends
    effects = node.recover(10.0)
    assert node.incarnation == 1
    timers = [(type(t.timer), t.at) for t in effects.timers]
    assert [k for k, _ in timers[:4]] == [ProbeTick, GossipTick, PushPullTick, ReconnectTick]
    (suspicion,) = [t for t in effects.timers if isinstance(t.timer, SuspicionTimeout)]
    assert suspicion.at == old_suspicion.at  # same deadline as before the crash ...
    assert suspicion.timer.token > old_suspicion.timer.token  # ... with a fresh token
    assert SetTimer(2.0 + 3600.0, ReclaimDead("d", 0)) in effects.timers
    (sync,) = effects.sends
    assert sync.dst in ("b", "c") and alive("a", 1) in sync.message.members
    # The relay of the previous life is gone: a late ack for it is not forwarded to b.
    assert node.handle_message("c", Ack(relayed_ping.message.seq), 10.1).sends == ()
    # And the next message to anyone carries the new incarnation.
    (ack,) = node.handle_message("b", Ping(5, "a"), 10.2).sends
    assert alive("a", 1) in ack.message.updates


# --- suspicion tokens ------------------------------------------------------------------------------


def test_two_confirmations_after_the_deadline_rearm_at_now_and_only_the_newest_timer_counts():
    node = node_knowing(*(f"m{i}" for i in range(99)))
    node.handle_message("m1", Gossip((Update(S, "m0", 0, "m1"),)), 1.0)
    # 60 s later (past every deadline) two more accusers: each re-arms the timer at `now`.
    first = node.handle_message("m2", Gossip((Update(S, "m0", 0, "m2"),)), 60.0)
    second = node.handle_message("m3", Gossip((Update(S, "m0", 0, "m3"),)), 60.0)
    (t1,) = [t.timer for t in first.timers if isinstance(t.timer, SuspicionTimeout)]
    (t2,) = [t.timer for t in second.timers if isinstance(t.timer, SuspicionTimeout)]
    assert t1.token < t2.token and (t1.member, t1.incarnation) == (t2.member, t2.incarnation)
    assert node.handle_timer(t1, 60.0) is NO_EFFECTS  # superseded by token, though m0 is still suspect
    assert node.handle_timer(t2, 60.0).events == (MemberFailed("m0", 0, "a"),)


# --- gossip grid, nacks, buddy, datagram budget --------------------------------------------------------


def test_gossip_stops_when_idle_and_news_rearms_the_grid_strictly_after_now():
    node = Node("a", lan(), random.Random(13))
    (_probe, gossip, *_rest) = node.start(0.0).timers
    phase = gossip.at
    assert node.handle_timer(GossipTick(), phase) is NO_EFFECTS  # nothing to say: the grid idles
    effects = node.handle_message("b", Gossip((alive("c"),)), 1.03)
    expected = phase + (math.floor((1.03 - phase) / 0.2) + 1) * 0.2
    assert effects.timers == (SetTimer(expected, GossipTick()),) and 1.03 < expected <= 1.23
    # More news while a tick is pending does not add another.
    assert node.handle_message("b", Gossip((alive("d"),)), 1.05).timers == ()


@pytest.mark.parametrize("nacks", [0, 1, 2, 3])
def test_with_nacks_a_failed_probe_costs_health_only_for_the_nacks_that_did_not_come(nacks):
    node = node_knowing("b", "c", "d", "e")
    (ping,) = node.handle_timer(ProbeTick(), 1.0).sends
    *relays, fallback = node.handle_timer(ProbeTimeout(ping.message.seq), 1.5).sends
    assert len(relays) == 3 and all(isinstance(s.message, PingReq) for s in relays)
    assert fallback == Send(ping.dst, StreamPing(ping.message.seq, ping.dst))  # no nack from it
    for relay in relays[:nacks]:
        node.handle_message(relay.dst, Nack(ping.message.seq), 1.7)
    node.handle_timer(ProbeRoundEnd(ping.message.seq), 2.0)
    assert node.awareness == 3 - nacks  # memberlist: missed nacks, not the failed probe, count


def test_a_ping_to_a_suspect_carries_the_suspicion_even_after_the_queue_ran_dry():
    node = node_knowing("b")
    node.handle_message("c", Gossip((Update(S, "b", 0, "c"),)), 1.0)
    for seq in range(1, 30):  # acks spend the queue's retransmissions
        (ack,) = node.handle_message("b", Ping(seq, "a"), 1.0 + seq / 100).sends
        if not ack.message.updates:
            break
    else:
        pytest.fail("the gossip queue never ran dry")
    (ping,) = node.handle_timer(ProbeTick(), 2.0).sends
    assert ping == Send("b", Ping(ping.message.seq, "b", (Update(S, "b", 0, "c"),)))  # Lifeguard's buddy


def test_a_ping_between_nodes_with_the_longest_names_fits_the_datagram_budget():
    def longest(i: int) -> str:
        return f"{i:03d}".ljust(255, "x")

    node = node_knowing(*(longest(i) for i in range(1, 40)), name=longest(0))  # 39 joins queued
    (ping,) = node.handle_timer(ProbeTick(), 1.0).sends
    assert ping.message.updates  # it did piggyback ...
    assert len(codec.encode(ping.message)) <= lan().packet_budget_bytes  # ... within one datagram


def test_a_ping_to_a_member_with_a_long_name_fits_the_datagram_budget():
    """Regression (found by the mutation smoke run): the budget subtracted the sender's name, but
    a ping carries its target's: node "a" pinging a 255-byte name sent 1,532 bytes, which the
    Driver then had to push over a stream instead of a datagram."""
    long = "L" * 255
    others = [f"{i:03d}".ljust(60, "x") for i in range(1, 40)]
    node = node_knowing(*others, long)
    effects, t = node.handle_timer(ProbeTick(), 1.0), 1.0
    for round_ in range(1, 41):
        (ping,) = effects.sends
        assert len(codec.encode(ping.message)) <= lan().packet_budget_bytes, ping.dst[:8]
        if ping.dst == long:
            assert len(ping.message.updates) >= 5  # still well filled
            break
        # Each ack brings fresh news (six members at a new incarnation), so the queue is full
        # whenever the long-named member's turn comes.
        news = tuple(alive(m, round_) for m in others[:6])
        node.handle_message(ping.dst, Ack(ping.message.seq, news), t + 0.01)
        t += 1.0
        effects = node.handle_timer(ProbeTick(), t)
    else:
        pytest.fail("the long-named member was never probed")


# --- more behaviours the full mutation run (--budget 0) found unpinned ---------------------------------


def test_leave_records_the_node_itself_as_left():
    node = node_knowing("b")
    node.leave(1.0)
    assert node.view()["a"] == Update(MemberState.LEFT, "a", 0, "a")


def test_recover_drops_the_probe_of_the_previous_life_so_probing_resumes():
    node = node_knowing("b")
    node.handle_timer(ProbeTick(), 1.0)  # a probe round is running when the process crashes
    (tick,) = [t for t in node.recover(5.0).timers if isinstance(t.timer, ProbeTick)]
    (ping,) = node.handle_timer(ProbeTick(), tick.at).sends
    assert isinstance(ping.message, Ping) and ping.dst == "b"


def test_recover_does_not_rearm_a_suspicion_that_was_refuted():
    node = node_knowing("b", "c", "d")
    node.handle_message("c", Gossip((Update(S, "b", 0, "c"),)), 1.0)
    node.handle_message("b", Gossip((alive("b", 1),)), 2.0)  # b refuted
    assert not [t for t in node.recover(5.0).timers if isinstance(t.timer, SuspicionTimeout)]


def test_news_piggybacked_on_acks_and_nacks_is_learned_even_with_no_probe_running():
    node = node_knowing("b")
    node.handle_message("b", Ack(99, (alive("c"),)), 1.0)
    node.handle_message("b", Nack(98, (alive("d"),)), 1.1)
    assert {"c", "d"} <= set(node.view())


def test_an_acked_probe_restores_health_one_step():
    node = node_knowing("b")
    (ping,) = node.handle_timer(ProbeTick(), 1.0).sends
    node.handle_timer(ProbeTimeout(ping.message.seq), 1.5)  # nobody to relay through
    (ping2,) = node.handle_timer(ProbeRoundEnd(ping.message.seq), 2.0).sends
    assert node.awareness == 1
    node.handle_message("b", Ack(ping2.message.seq), 2.1)
    assert node.awareness == 0
    node.handle_message("b", Ack(ping2.message.seq), 2.2)  # a duplicate ack counts once
    assert node.awareness == 0


def test_one_relay_that_nacks_leaves_health_unchanged():
    node = node_knowing("b", "c")
    (ping,) = node.handle_timer(ProbeTick(), 1.0).sends
    relay, _fallback = node.handle_timer(ProbeTimeout(ping.message.seq), 1.5).sends
    node.handle_message(relay.dst, Nack(ping.message.seq), 1.7)
    node.handle_timer(ProbeRoundEnd(ping.message.seq), 2.0)
    assert node.awareness == 0


def test_without_lhm_health_never_moves():
    node = Node("a", lan().replace(lifeguard_lhm=False), random.Random(1))
    node.start(0.0)
    node.handle_message("b", PushPull((alive("b"),), reply=True), 0.0)
    (ping,) = node.handle_timer(ProbeTick(), 1.0).sends
    node.handle_timer(ProbeRoundEnd(ping.message.seq), 2.0)
    assert node.awareness == 0


def test_asked_to_relay_a_ping_to_itself_a_node_acks_at_once():
    node = node_knowing("b")
    effects = node.handle_message("b", PingReq(5, "a"), 1.0)
    assert effects == Effects(sends=(Send("b", Ack(5, (alive("b"),))),))  # no ping, no relay timer


def test_a_lone_node_rearms_its_probe_tick_one_interval_later():
    node = Node("a", lan(), random.Random(1))
    (tick, *_) = node.start(0.0).timers
    later = Effects(timers=(SetTimer(tick.at + 1.0, ProbeTick()),))
    assert node.handle_timer(ProbeTick(), tick.at) == later


def test_stale_probe_timers_do_nothing():
    node = node_knowing("b", "c", "d")
    (ping,) = node.handle_timer(ProbeTick(), 1.0).sends
    stale = ping.message.seq + 50
    assert node.handle_timer(ProbeTimeout(stale), 1.5) is NO_EFFECTS
    assert node.handle_timer(ProbeRoundEnd(stale), 1.6) is NO_EFFECTS
    assert node.handle_timer(ProbeTick(), 1.7) is NO_EFFECTS  # a round is already running


def test_a_death_arms_the_reclaim_which_spares_a_member_that_came_back():
    node = node_knowing("b", "c")
    effects = node.handle_message("c", Gossip((Update(D, "b", 0, "c"),)), 1.0)
    assert SetTimer(3601.0, ReclaimDead("b", 0)) in effects.timers
    node.handle_message("b", Gossip((alive("b", 1),)), 2.0)  # b rejoins
    assert node.handle_timer(ReclaimDead("b", 0), 3601.0) is NO_EFFECTS
    assert node.view()["b"] == alive("b", 1)


def test_an_independent_confirmation_is_gossiped_on():
    node = node_knowing("b", "c", "d")
    node.handle_message("b", Gossip((Update(S, "d", 0, "b"),)), 1.0)
    for seq in range(1, 30):  # spend the queue
        (ack,) = node.handle_message("b", Ping(seq, "a"), 1.0 + seq / 100).sends
        if not ack.message.updates:
            break
    node.handle_message("c", Gossip((Update(S, "d", 0, "c"),)), 2.0)
    (ack,) = node.handle_message("b", Ping(99, "a"), 2.1).sends
    assert Update(S, "d", 0, "c") in ack.message.updates  # memberlist re-gossips confirmations


def test_api_calls_refuse_time_going_backwards_too():
    node = node_knowing("b")
    node.handle_message("b", Ping(1, "a"), 5.0)
    with pytest.raises(LocalProtocolError, match="time went backwards"):
        node.join(("b",), 4.0)


def test_news_right_after_start_does_not_add_a_second_gossip_tick():
    node = Node("a", lan(), random.Random(1))
    node.start(0.0)  # its gossip tick is pending
    assert node.handle_message("b", Gossip((alive("c"),)), 0.01).timers == ()


def test_a_ping_to_an_alive_member_carries_nothing_once_the_queue_ran_dry():
    node = node_knowing("b")
    for seq in range(1, 30):
        (ack,) = node.handle_message("b", Ping(seq, "a"), 1.0 + seq / 100).sends
        if not ack.message.updates:
            break
    (ping,) = node.handle_timer(ProbeTick(), 2.0).sends
    assert ping.message.updates == ()  # no buddy for a member that is not suspect


def test_phi_probes_a_member_it_spared_again_next_round():
    node = Node("a", lan().replace(detector="phi"), random.Random(8))
    node.start(0.0)
    node.handle_message("b", PushPull((alive("b"), alive("c"), alive("d")), reply=True), 0.0)
    for t in range(1, 11):
        for m in ("b", "c", "d"):
            node.handle_message(m, Ping(t, "a"), float(t))
    (ping,) = node.handle_timer(ProbeTick(), 10.5).sends
    (next_ping,) = node.handle_timer(ProbeRoundEnd(ping.message.seq), 11.5).sends
    assert next_ping.dst == ping.dst  # heard from 1.5 s ago: no suspicion, probed again


def test_phi_forgets_a_dead_members_heartbeats_so_a_returning_member_starts_afresh():
    node = Node("a", lan().replace(detector="phi"), random.Random(8))
    node.start(0.0)
    node.handle_message("b", PushPull((alive("b"),), reply=True), 0.0)
    for i in range(1, 100):  # b was heard every 0.1 s: its old history expects 0.1 s gaps
        node.handle_message("b", Ping(i, "a"), i / 10)
    node.handle_message("c", Gossip((Update(D, "b", 0, "c"),)), 10.5)
    node.handle_message("b", Gossip((alive("b", 1),)), 20.0)  # back, and heard once
    node.handle_message("b", Ping(500, "a"), 20.0)
    (ping,) = node.handle_timer(ProbeTick(), 22.0).sends
    node.handle_timer(ProbeTimeout(ping.message.seq), 22.5)
    end = node.handle_timer(ProbeRoundEnd(ping.message.seq), 23.0)
    # A fresh detector (1 s first-heartbeat estimate) finds 3 s of silence unremarkable (phi ~4.7);
    # the dead life's 0.1 s history would have made it phi ~10 and suspected b at once.
    assert not [e for e in end.events if isinstance(e, MemberSuspected)]


def test_news_piggybacked_on_a_ping_request_is_learned():
    node = node_knowing("b")
    node.handle_message("b", PingReq(3, "b", (alive("c"),)), 1.0)
    assert "c" in node.view()


def test_a_stale_alive_record_about_ourselves_is_not_re_announced():
    node = node_knowing("b")
    node.handle_message("b", Gossip((Update(S, "a", 0, "b"),)), 1.0)  # refuted: incarnation 1
    for seq in range(1, 30):
        (ack,) = node.handle_message("b", Ping(seq, "a"), 1.0 + seq / 100).sends
        if not ack.message.updates:
            break
    node.handle_message("b", Gossip((alive("a", 0),)), 2.0)  # old news, but not an accusation
    (ack,) = node.handle_message("b", Ping(99, "a"), 2.1).sends
    assert ack.message.updates == ()


def test_a_death_is_resent_as_often_as_memberlist_resends_it_at_n_100():
    """memberlist's retransmit limit counts the dead member until resetNodes drops it
    (estNumNodes): at N = 100 a death goes out 4 × ceil(log10(101)) = 12 times, not the 8 that
    counting only the 99 live members would give (issue 10)."""
    node = node_knowing(*(f"m{i}" for i in range(1, 100)))
    death = Update(D, "m1", 0, "m2")
    node.handle_message("m2", Gossip((death,)), 1.0)
    assert node.cluster_size() == 100
    carried = 0
    for seq in range(1, 60):
        (ack,) = node.handle_message("m2", Ping(seq, "a"), 1.0 + seq / 100).sends
        carried += death in ack.message.updates
    assert carried == 12
