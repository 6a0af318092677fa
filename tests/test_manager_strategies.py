"""Each downing strategy's rule as a table: the situation one node sees -> its decision -> whom it downs.

Rows read as "self | members | unreachable (observed by self) | expected decision | downed".
The rules are stated at the top of each strategy's module (protocol/manager/*.py); a row here
is one line of such a rule, with Akka's own examples where its source gives them.
"""

from __future__ import annotations

import pytest

from swimlab.protocol.manager.down_all import DownAll
from swimlab.protocol.manager.downing import Decision, LeaseDecision, Situation, nodes_to_down
from swimlab.protocol.manager.keep_majority import KeepMajority
from swimlab.protocol.manager.keep_oldest import KeepOldest
from swimlab.protocol.manager.keep_referee import KeepReferee
from swimlab.protocol.manager.lease_majority import LeaseMajority
from swimlab.protocol.manager.static_quorum import StaticQuorum

DU, DR, DA = Decision.DOWN_UNREACHABLE, Decision.DOWN_REACHABLE, Decision.DOWN_ALL
DIC = Decision.DOWN_INDIRECTLY_CONNECTED


def nodes(spec: str) -> frozenset[str]:
    return frozenset(spec.split()) if spec else frozenset()


def situation(me: str, members: str, unreachable: str, ages: dict[str, int] | None = None) -> Situation:
    return Situation(me, nodes(members), frozenset((me, u) for u in nodes(unreachable)), ages or {})


FIVE = "n0 n1 n2 n3 n4"
SIX = "n0 n1 n2 n3 n4 n5"

KEEP_MAJORITY = [
    # me, members, unreachable, decision, downed
    ("n0", FIVE, "n3 n4", DU, "n3 n4"),  # 3 against 2: we are the majority
    ("n3", FIVE, "n0 n1 n2", DR, "n3 n4"),  # 2 against 3: we stop
    ("n0", SIX, "n3 n4 n5", DU, "n3 n4 n5"),  # 3 against 3: we hold the lowest address
    ("n3", SIX, "n0 n1 n2", DR, "n3 n4 n5"),  # 3 against 3: they hold it
    ("n10", "n2 n10 n11 n12", "n2 n11", DR, "n10 n12"),  # natural order: n2 is lower than n10
    ("n0", FIVE, "n1", DU, "n1"),  # one crash
    ("n0", "n0 n1", "n1", DU, "n1"),  # 1 against 1, we are n0
    ("n1", "n0 n1", "n0", DR, "n1"),
    ("n0", FIVE, "n1 n2 n3 n4", DR, "n0"),  # alone
]


@pytest.mark.parametrize(("me", "members", "unreachable", "decision", "downed"), KEEP_MAJORITY)
def test_keep_majority(me: str, members: str, unreachable: str, decision: Decision, downed: str) -> None:
    s = situation(me, members, unreachable)
    strategy = KeepMajority()
    assert strategy.decide(s) is decision
    assert nodes_to_down(strategy, s, decision) == nodes(downed)


def test_keep_majority_three_way_split_stops_everyone() -> None:
    """2 | 2 | 2 of six: each side sees 2 against 4 and downs itself."""
    for me, unreachable in (("n0", "n2 n3 n4 n5"), ("n2", "n0 n1 n4 n5"), ("n4", "n0 n1 n2 n3")):
        assert KeepMajority().decide(situation(me, SIX, unreachable)) is DR


STATIC_QUORUM = [
    # quorum, me, members, unreachable, decision, downed
    (3, "n0", FIVE, "n3 n4", DU, "n3 n4"),
    (3, "n3", FIVE, "n0 n1 n2", DR, "n3 n4"),
    (3, "n0", FIVE, "n2 n3 n4", DR, "n0 n1"),  # 2 left, the quorum is 3
    (3, "n0", SIX, "n5", DA, "n0 n1 n2 n3 n4 n5"),  # 6 > 2 * 3 - 1: too many members
    (4, "n0", SIX, "n3 n4 n5", DR, "n0 n1 n2"),  # 3 < 4 on both sides of an even split
    (4, "n3", SIX, "n0 n1 n2", DR, "n3 n4 n5"),
    (1, "n0", "n0", "", DU, ""),  # a cluster of one keeps going
]


@pytest.mark.parametrize(("quorum", "me", "members", "unreachable", "decision", "downed"), STATIC_QUORUM)
def test_static_quorum(
    quorum: int, me: str, members: str, unreachable: str, decision: Decision, downed: str
) -> None:
    s = situation(me, members, unreachable)
    strategy = StaticQuorum(quorum)
    assert strategy.decide(s) is decision
    assert nodes_to_down(strategy, s, decision) == nodes(downed)


AGES = {"n0": 3, "n1": 1, "n2": 2, "n3": 0, "n4": 4}  # n3 is the oldest
KEEP_OLDEST = [
    # down_if_alone, me, unreachable, decision, downed
    (True, "n3", "n0 n1 n2", DU, "n0 n1 n2"),  # the oldest is on our (smaller) side
    (True, "n0", "n3 n4", DR, "n0 n1 n2"),  # the oldest is over there: we stop though bigger
    (True, "n3", "n0 n1 n2 n4", DR, "n3"),  # the oldest alone against 4: it stops
    (True, "n0", "n3", DU, "n3"),  # the oldest alone over there: we keep going without it
    (False, "n3", "n0 n1 n2 n4", DU, "n0 n1 n2 n4"),  # not down-if-alone: the oldest stays
    (False, "n0", "n3", DR, "n0 n1 n2 n4"),  # and the others stop if it crashed
]


@pytest.mark.parametrize(("alone", "me", "unreachable", "decision", "downed"), KEEP_OLDEST)
def test_keep_oldest(alone: bool, me: str, unreachable: str, decision: Decision, downed: str) -> None:
    s = situation(me, FIVE, unreachable, AGES)
    strategy = KeepOldest(alone)
    assert strategy.decide(s) is decision
    assert nodes_to_down(strategy, s, decision) == nodes(downed)


def test_keep_oldest_ties_and_unknown_ages() -> None:
    """Equal up_numbers (a formed cluster): the lowest name is the oldest; unknown is youngest."""
    formed = {m: 0 for m in nodes(FIVE)}
    assert KeepOldest().decide(situation("n3", FIVE, "n0 n1 n2", formed)) is DR
    assert KeepOldest().decide(situation("n0", FIVE, "n3 n4", {"n4": 0})) is DR  # n4 the only known age
    assert (
        KeepOldest(True).decide(situation("n0", "n0 n1", "n1", formed)) is DU
    )  # 1 against 1: keep the oldest


KEEP_REFEREE = [
    # referee, at_least, me, unreachable, decision, downed
    ("n2", 1, "n0", "n3 n4", DU, "n3 n4"),
    ("n2", 1, "n3", "n0 n1 n2", DR, "n3 n4"),  # the referee is over there
    ("n4", 1, "n0", "n3 n4", DR, "n0 n1 n2"),  # the minority holds the referee: it wins
    ("n0", 3, "n0", "n2 n3 n4", DA, "n0 n1 n2 n3 n4"),  # referee side too small
    ("n7", 1, "n0", "n4", DR, "n0 n1 n2 n3"),  # the referee is not a member
]


@pytest.mark.parametrize(("referee", "at_least", "me", "unreachable", "decision", "downed"), KEEP_REFEREE)
def test_keep_referee(
    referee: str, at_least: int, me: str, unreachable: str, decision: Decision, downed: str
) -> None:
    s = situation(me, FIVE, unreachable)
    strategy = KeepReferee(referee, at_least)
    assert strategy.decide(s) is decision
    assert nodes_to_down(strategy, s, decision) == nodes(downed)


LEASE_MAJORITY = [
    # me, members, unreachable, delay (minority waits), lease decision, reverse
    ("n0", FIVE, "n3 n4", 0.0, DU, DR),
    ("n3", FIVE, "n0 n1 n2", 2.0, DU, DR),
    ("n0", SIX, "n3 n4 n5", 0.0, DU, DR),  # tie: we hold the lowest address
    ("n3", SIX, "n0 n1 n2", 2.0, DU, DR),
]


@pytest.mark.parametrize(("me", "members", "unreachable", "delay", "decision", "reverse"), LEASE_MAJORITY)
def test_lease_majority(
    me: str, members: str, unreachable: str, delay: float, decision: Decision, reverse: Decision
) -> None:
    d = LeaseMajority(2.0).decide(situation(me, members, unreachable))
    assert d == LeaseDecision(decision, delay)
    assert d.reverse is reverse


def test_lease_majority_indirectly_connected_asks_at_once() -> None:
    s = Situation("n0", nodes(FIVE), frozenset({("n1", "n2"), ("n2", "n1")}))
    d = LeaseMajority(2.0).decide(s)
    assert d == LeaseDecision(DIC, 0.0)
    assert d.reverse is Decision.REVERSE_DOWN_INDIRECTLY_CONNECTED
    # refused: the indirectly connected and our own side stop
    assert nodes_to_down(LeaseMajority(), s, d.reverse) == nodes("n0 n1 n2 n3 n4")


def test_down_all() -> None:
    s = situation("n0", FIVE, "n4")
    assert DownAll().decide(s) is DA
    assert nodes_to_down(DownAll(), s, DA) == nodes(FIVE)


# Indirectly connected members (downing.py) ---------------------------------------------------


def test_clean_split_has_no_indirectly_connected() -> None:
    """Each side's observers only observe the other side: no cycle."""
    s = Situation("n0", nodes(FIVE), frozenset({("n0", "n3"), ("n1", "n4"), ("n2", "n3"), ("n0", "n4")}))
    assert s.indirectly_connected == frozenset()
    assert s.unreachable == nodes("n3 n4")


def test_bridge_cycle_downs_the_cycle_and_keeps_the_rest() -> None:
    """n1 and n3 cannot hear each other but both reach the rest (through n2, the bridge):
    they are indirectly connected; everyone else is clean, so only they are downed."""
    s = Situation("n0", nodes(FIVE), frozenset({("n1", "n3"), ("n3", "n1")}))
    assert s.indirectly_connected == nodes("n1 n3")
    for strategy in (KeepMajority(), StaticQuorum(3), KeepOldest(), KeepReferee("n0")):
        assert strategy.decide(s) is DIC, strategy
        assert nodes_to_down(strategy, s, DIC) == nodes("n1 n3"), strategy


def test_indirectly_connected_plus_a_clean_crash() -> None:
    """A cycle (n1 <-> n2) and n4 crashed, seen by n0: the cycle and, by the strategy's own
    decision without the cycle's records, n4 (Akka's additionalNodesToDownWhenIndirectlyConnected)."""
    records = frozenset({("n1", "n2"), ("n2", "n1"), ("n0", "n4"), ("n3", "n4")})
    s = Situation("n0", nodes(FIVE), records)
    assert KeepMajority().decide(s) is DIC
    assert nodes_to_down(KeepMajority(), s, DIC) == nodes("n1 n2 n4")


def test_a_deaf_node_is_cut_off_not_indirectly_connected() -> None:
    """n4 hears nobody (ingress dropped): everyone observes it unreachable and it observes
    everyone unreachable, and its gossip still gets out. Its records are set aside (it is cut
    off, not indirectly connected): the others down n4 alone; n4, hearing nobody, downs itself."""
    observers = nodes("n0 n1 n2 n3")
    records = frozenset({(o, "n4") for o in observers} | {("n4", o) for o in observers})
    s = Situation("n0", nodes(FIVE), records)
    assert s.indirectly_connected == frozenset()
    assert KeepMajority().decide(s) is DU
    assert nodes_to_down(KeepMajority(), s, DU) == nodes("n4")
    deaf = situation("n4", FIVE, "n0 n1 n2 n3")
    assert nodes_to_down(KeepMajority(), deaf, KeepMajority().decide(deaf)) == nodes("n4")


def test_one_way_cut_between_groups_is_decided_the_same_on_both_sides() -> None:
    """n3 and n4 cannot hear n0..n2, who still hear them: n3 and n4 observe n0..n2 unreachable,
    and n0..n2 (their pings unanswered) observe n3 and n4 unreachable; the deaf side's gossip
    still gets out. Each side sees the same two sides, and both conclude the same: the smaller,
    deaf side stops, whichever records each has."""
    deaf = {(o, s) for o in ("n3", "n4") for s in ("n0", "n1", "n2")}
    hearing = {(s, o) for o, s in deaf}
    for me, records in (("n0", deaf | hearing), ("n0", deaf), ("n3", deaf)):
        s = Situation(me, nodes(FIVE), frozenset(records))
        assert not s.indirectly_connected
        decision = KeepMajority().decide(s)
        assert nodes_to_down(KeepMajority(), s, decision) == nodes("n3 n4"), (me, records)


def test_sides_are_joined_through_third_parties() -> None:
    """n0 and n3 cannot talk, but n1 talks to both: one side (SWIM probes through n1)."""
    s = Situation("n0", nodes("n0 n1 n3"), frozenset({("n0", "n3"), ("n3", "n0")}))
    assert s.side == nodes("n0 n1 n3")
    assert s.indirectly_connected == nodes("n0 n3")
    apart = Situation("n0", nodes("n0 n3"), frozenset({("n0", "n3"), ("n3", "n0")}))
    assert apart.side == nodes("n0") and apart.unreachable == nodes("n3")


def test_chained_cycles_down_every_member_in_them() -> None:
    """Two cycles joined by a one-way record: all four are indirectly connected; n4 is clean."""
    records = frozenset({("n0", "n1"), ("n1", "n0"), ("n1", "n2"), ("n2", "n3"), ("n3", "n2")})
    s = Situation("n0", nodes(FIVE), records)
    assert s.indirectly_connected == nodes("n0 n1 n2 n3")
    assert nodes_to_down(KeepMajority(), s, DIC) == nodes("n0 n1 n2 n3")


def test_records_of_non_members_do_not_count() -> None:
    """A downed or removed observer's stale records, or records about non-members, are ignored."""
    s = Situation("n0", nodes("n0 n1 n2"), frozenset({("n9", "n1"), ("n0", "n9")}))
    assert s.unreachable == frozenset() and s.indirectly_connected == frozenset()
