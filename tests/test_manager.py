"""The ClusterManager (protocol/manager/): its application view, gossip tables, decisions in a
cluster, the application event stream, the lease, and its wire message.

Clusters here are `ManagerCluster`s (tests/manager_cluster.py): PureCluster with managers,
explicit time, every message through the codec.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swimlab.protocol.codec import decode, encode, encode_trusted, encoded_size
from swimlab.protocol.errors import ConfigError, LocalProtocolError, RemoteProtocolError
from swimlab.protocol.event_stream import EventStream
from swimlab.protocol.events import EventsDropped, MemberAlive, MemberFailed, MemberJoined, MemberLeft
from swimlab.protocol.manager.config import ManagerConfig, check_applies
from swimlab.protocol.manager.events import (
    APPLICATION_EVENTS,
    MemberStatus,
    MemberStatusChanged,
    PartitionStatusChanged,
    ServingChanged,
)
from swimlab.protocol.manager.lease import Lease, LeaseService
from swimlab.protocol.manager.tables import Tables
from swimlab.protocol.manager.view import ApplicationView
from swimlab.protocol.messages import Downing, ManagerGossip, MemberLife, Observation, Unreachability

from .manager_cluster import ManagerCluster, settings

UP, UNREACHABLE, DOWN, REMOVED = (
    MemberStatus.UP,
    MemberStatus.UNREACHABLE,
    MemberStatus.DOWN,
    MemberStatus.REMOVED,
)


# The application view and its settle window ---------------------------------------------------


def test_a_flapping_member_does_not_flap_the_application_view() -> None:
    view = ApplicationView("a", settle_s=2.0, unreachable_on="suspect")
    assert view.install(["b"], 0.0) == [MemberStatusChanged("b", UP)]
    changes = []
    t = 10.0
    for _ in range(20):  # dead and alive again every second: never holds for 2 s
        view.swim_event(MemberFailed("b", 0, "a"), t)
        changes += view.settle(t + 0.5)
        view.swim_event(MemberAlive("b", 1), t + 1.0)
        changes += view.settle(t + 1.5)
        t += 2.0
    assert changes == [] and view.status("b") is UP
    view.swim_event(MemberFailed("b", 1, "a"), t)
    assert view.settle(t + 1.9) == []
    assert view.settle(t + 2.0) == [MemberStatusChanged("b", UNREACHABLE)]


def test_suspicion_counts_only_when_asked() -> None:
    from swimlab.protocol.events import MemberSuspected

    for on, expected in (("suspect", UNREACHABLE), ("dead", UP)):
        view = ApplicationView("a", 0.0, on)  # type: ignore[arg-type]
        view.install(["b"], 0.0)
        view.swim_event(MemberSuspected("b", 0, "a"), 1.0)
        view.settle(1.0)
        assert view.status("b") is expected


def test_down_is_sticky_until_a_new_life_and_a_leave_is_immediate() -> None:
    view = ApplicationView("a", 1.0, "suspect")
    view.install(["b", "c"], 0.0)
    assert view.down("b", 1.0) == MemberStatusChanged("b", DOWN)
    view.swim_event(MemberAlive("b", 3), 2.0)
    assert view.settle(10.0) == [] and view.status("b") is DOWN  # SWIM's belief does not lift it
    assert view.remove_downed(10.0, margin_s=5.0) == [MemberStatusChanged("b", REMOVED)]
    view.new_life("b", 11.0)
    assert view.settle(12.0) == [MemberStatusChanged("b", UP)]  # a new life comes back
    assert view.swim_event(MemberLeft("c", 0), 13.0) == [MemberStatusChanged("c", REMOVED)]


def test_an_introduced_member_is_unreachable_unless_swim_hears_of_it() -> None:
    view = ApplicationView("a", 1.0, "suspect")
    assert view.introduce("b", 0.0) and view.introduce("c", 0.0)
    assert not view.introduce("b", 0.5)  # once
    view.swim_event(MemberJoined("c", 0), 0.3)  # SWIM heard of c in time
    assert view.settle(1.0) == [MemberStatusChanged("b", UNREACHABLE)]
    assert view.settle(1.3) == [MemberStatusChanged("c", UP)]


# The gossiped tables ------------------------------------------------------------------------


def gossip(
    members: tuple[MemberLife, ...] = (),
    downs: tuple[Downing, ...] = (),
    observations: tuple[Observation, ...] = (),
    unreachable: tuple[Unreachability, ...] = (),
) -> ManagerGossip:
    return ManagerGossip(members, downs, observations, unreachable)


def test_a_new_life_outranks_the_old_and_rows_about_ourselves_are_not_taken() -> None:
    t = Tables("a", life=7)
    t.merge(gossip((MemberLife("b", 11, 0), MemberLife("a", 99, 5))))
    assert t.lives == {"b": (11, 0)} and t.highest_up_number == 5
    merged = t.merge(gossip((MemberLife("b", 12, 6),)))  # b restarted: a new life, ranked younger
    assert merged.new_lives == ["b"] and t.lives["b"] == (12, 6)
    assert t.merge(gossip((MemberLife("b", 11, 0),))).new_lives == []  # the old life is stale
    assert t.lives["b"] == (12, 6)
    assert t.take_up_number() == 7  # one more than the highest heard of


def test_downs_apply_to_the_life_they_name() -> None:
    t = Tables("a", life=7)
    t.merge(gossip((MemberLife("b", 12, 1),)))
    merged = t.merge(gossip(downs=(Downing("b", 11, "c"), Downing("a", 6, "c"))))
    assert merged.downed == [] and merged.self_downed_by is None  # old lives: not about us
    merged = t.merge(gossip(downs=(Downing("b", 12, "c"), Downing("a", 7, "d"))))
    assert merged.downed == [Downing("b", 12, "c")] and merged.self_downed_by == "d"
    assert t.merge(gossip(downs=(Downing("a", 0, "e"),))).self_downed_by == "e"  # unknown life: safety first
    assert len(t.gossip((), reply=False).downs) == 5  # every down is passed on, old lives too


def test_observations_keep_the_newest_version_per_observer_life() -> None:
    t = Tables("a", life=7)
    t.merge(gossip((MemberLife("b", 12, 1),)))
    rows = (Observation("b", 12, 3),), (Unreachability("b", "c"),)
    assert t.merge(gossip(observations=rows[0], unreachable=rows[1])).observations_changed
    assert t.records() == frozenset({("b", "c")})
    assert not t.merge(gossip(observations=(Observation("b", 12, 2),))).observations_changed  # older
    t.merge(gossip(observations=(Observation("b", 11, 9),)))  # another life's: ignored
    assert t.records() == frozenset({("b", "c")})
    t.merge(gossip(observations=(Observation("b", 12, 4),)))  # newer, empty: b sees everyone now
    assert t.records() == frozenset()
    assert t.observe(frozenset({"b"})) and not t.observe(frozenset({"b"}))  # ours: a new version on change


# The wire message ---------------------------------------------------------------------------

names = st.text(min_size=1, max_size=8)
uints = st.integers(0, 2**63 - 1)
gossips = st.builds(
    ManagerGossip,
    st.lists(st.builds(MemberLife, names, uints, uints), max_size=5).map(tuple),
    st.lists(st.builds(Downing, names, uints, names), max_size=5).map(tuple),
    st.lists(st.builds(Observation, names, uints, uints), max_size=5).map(tuple),
    st.lists(st.builds(Unreachability, names, names), max_size=5).map(tuple),
    st.booleans(),
)


@given(gossips)
def test_manager_gossip_round_trips(message: ManagerGossip) -> None:
    data = encode(message)
    assert decode(data) == message and type(decode(data).members) is tuple
    assert encode_trusted(message) == data and encoded_size(message) == len(data)


def test_manager_gossip_golden_bytes_and_refusals() -> None:
    m = ManagerGossip((MemberLife("a", 5, 0),), (Downing("b", 0, "a"),), (), (), True)
    assert encode(m) == bytes.fromhex("97 01 07 91 93 a161 05 00 91 93 a162 00 a161 90 90 c3")
    bad_row = bytes.fromhex("97 01 07 91 92 a161 05 90 90 90 c3")  # a 2-element lives row
    with pytest.raises(
        RemoteProtocolError, match=r"ManagerGossip field 'members'\[0\]: expected a 3-element row"
    ):
        decode(bad_row)
    bad_cell = bytes.fromhex("97 01 07 91 93 a161 a178 00 90 90 90 c3")  # life is a string
    with pytest.raises(RemoteProtocolError, match=r"'members\[0\]\.life': expected int"):
        decode(bad_cell)
    with pytest.raises(LocalProtocolError, match="expected a 3-element row"):
        encode(ManagerGossip((("a", 5, 0),), (), (), ()))  # type: ignore[arg-type]


# Config -------------------------------------------------------------------------------------


def test_config_errors_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="'quorum_size': static-quorum needs"):
        ManagerConfig(strategy="static-quorum")
    with pytest.raises(ConfigError, match="'referee'"):
        ManagerConfig(strategy="keep-referee")
    with pytest.raises(ConfigError, match="'tick_s': expected a number > 0"):
        ManagerConfig(tick_s=0.0)
    with pytest.raises(ConfigError, match="'strategy'"):
        ManagerConfig(strategy="keep-everything")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="applies to strategy 'keep-oldest' only"):
        check_applies("keep-majority", {"down_if_alone": True})
    assert ManagerConfig(stable_after_s=20.0).unstable_after_s == 35.0  # Akka's "on": 3/4 more
    assert ManagerConfig(down_all_when_unstable_s=0.0).unstable_after_s is None


# The lease ----------------------------------------------------------------------------------


def test_the_lease_has_one_holder_until_it_expires() -> None:
    lease = Lease(ttl_s=10.0)
    assert lease.acquire("a", 0.0) and lease.acquire("a", 5.0)  # re-entrant, renewed to 15
    assert not lease.acquire("b", 14.9)
    assert lease.acquire("b", 15.0) and lease.holder == "b"


def test_the_lease_service_is_as_reachable_as_its_node() -> None:
    later: list[tuple[float, object]] = []
    cut = {("d", "n0")}  # d cannot reach n0 (and so the lease); n0 still reaches d
    service = LeaseService(
        "n0",
        60.0,
        now=lambda: 0.0,
        schedule=lambda d, fn: later.append((d, fn)),
        cut=lambda s, t: (s, t) in cut,
    )
    answers: list[tuple[str, bool]] = []
    for who, owner in (("a", "a"), ("d", "d"), ("n0", "x")):
        service.request(who, owner, lambda granted, who=who: answers.append((who, granted)))
    while later:
        _, fn = later.pop(0)
        fn()  # type: ignore[operator]
    assert answers == [("a", True), ("n0", False)] and service.lost == 1


# Managers in a cluster ----------------------------------------------------------------------


def formed(n: int, **kw: object) -> ManagerCluster:
    c = ManagerCluster(n, **kw)  # type: ignore[arg-type]
    c.start_all()
    c.run_until(10.0)
    assert c.serving() == set(c.names), "the cluster formed and every manager is up"
    return c


def test_keep_majority_stops_the_minority_and_the_majority_downs_it() -> None:
    c = formed(5)
    majority, minority = c.names[:3], c.names[3:]
    c.partition(majority, minority)
    c.run_until(60.0)
    assert c.serving() == set(majority)
    for a in majority:
        assert all(c.manager(a).members()[b] in (DOWN, REMOVED) for b in minority)
    reasons = {n: e.reason for _, n, e in c.events if isinstance(e, ServingChanged) and not e.serving}
    assert set(reasons) == set(minority)
    statuses = [
        e.status for _, n, e in c.events if n == minority[0] and isinstance(e, PartitionStatusChanged)
    ]
    assert statuses[:1] == ["suspected"]  # the seed's PartitionDetector, fed by the view


def test_a_side_that_did_not_decide_learns_it_was_downed_when_it_hears_again() -> None:
    """The minority runs `none` (it never decides) and keeps serving through the partition; after
    the heal the majority's gossiped downs reach it and it stops."""
    c = formed(
        5,
        settings_for=lambda name: settings(strategy="none" if name in ("n003", "n004") else "keep-majority"),
    )
    c.partition(c.names[:3], c.names[3:])
    c.run_until(40.0)
    assert c.serving() == set(c.names)  # the minority did not decide
    c.heal()
    c.run_until(100.0)
    assert c.serving() == set(c.names[:3])
    reasons = {n: e.reason for _, n, e in c.events if isinstance(e, ServingChanged) and not e.serving}
    assert reasons.keys() == {"n003", "n004"} and all(r.startswith("downed by n00") for r in reasons.values())
    statuses = [e.status for _, n, e in c.events if n == "n003" and isinstance(e, PartitionStatusChanged)]
    assert statuses == ["suspected", "partitioned"]  # below the threshold past the grace (then downed)


def test_lease_majority_keeps_the_side_that_holds_the_lease() -> None:
    """The lease sits beside a minority node: the majority cannot reach it and stops; the
    minority acquires it after its delay and serves on."""
    c = formed(5, settings_for=lambda name: settings(strategy="lease-majority"), lease_near="n004")
    c.partition(c.names[:3], c.names[3:])
    c.run_until(60.0)
    assert c.serving() == {"n003", "n004"}
    assert c.lease is not None and c.lease.lease.holder == "n003"  # the minority's leader


def test_a_slow_consumer_sees_events_dropped_never_a_silent_gap() -> None:
    """The application reads the manager's events through its bounded EventStream. A consumer
    that polls rarely gets EventsDropped(n) where the lost events were, and every event the
    manager published is either delivered, in order, or counted."""
    c = ManagerCluster(5, events_capacity=4)
    c.start_all()
    published: list[object] = []
    delivered: list[object] = []
    dropped = 0
    stream = c.manager("n000").events
    assert isinstance(stream, EventStream)
    step = 0
    while c.now < 60.0:
        before = len(c.events)
        c.run_for(0.5)
        published += [e for _, n, e in c.events[before:] if n == "n000" and isinstance(e, APPLICATION_EVENTS)]
        step += 1
        if step == 20:
            c.partition(c.names[:3], c.names[3:])  # plenty of news for n000
        if step % 40 == 0:  # a consumer that wakes every 20 s
            for event in stream.drain():
                if isinstance(event, EventsDropped):
                    dropped += event.count
                else:
                    delivered.append(event)
    for event in stream.drain():
        if isinstance(event, EventsDropped):
            dropped += event.count
        else:
            delivered.append(event)
    assert dropped > 0, "the consumer was slow enough to lose events"
    assert len(delivered) + dropped == len(published) == stream.dropped_total + len(delivered)
    it = iter(published)
    assert all(any(e == p for p in it) for e in delivered)  # delivered events keep their order


def test_managers_are_deterministic() -> None:
    def run() -> list[str]:
        c = formed(5)
        c.partition(c.names[:2], c.names[2:])
        c.run_until(40.0)
        return [f"{t:.6f} {n} {e}" for t, n, e in c.events]

    assert run() == run()


def test_life_ids_are_valid_on_the_wire() -> None:
    from swimlab.protocol.config import lan
    from swimlab.protocol.manager.manager import ClusterManager
    from swimlab.protocol.node import Node

    for seed in range(50):
        m = ClusterManager(Node("a", lan(), random.Random(seed)), settings(), random.Random(seed))
        assert 0 < m.life < 2**63
