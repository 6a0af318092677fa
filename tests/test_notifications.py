"""Every cell of the notification table, checked against the rules and against a real Node.

The rules below are written from memberlist's event delegate (NotifyJoin / NotifyUpdate /
NotifyLeave) and Serf's member events, independently of the table. The Node test drives a node
into holding member `m` in each state, feeds it the news of each reachable transition, and
asserts the notifications it emits are exactly the table's.
"""

from __future__ import annotations

import random

import pytest

from swimlab.protocol.config import lan
from swimlab.protocol.events import (
    MemberAlive,
    MemberFailed,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberSuspected,
    MemberUpdated,
)
from swimlab.protocol.messages import Gossip, MemberState, PushPull, Update
from swimlab.protocol.node import Node
from swimlab.protocol.notifications import NOTIFICATIONS
from swimlab.protocol.precedence import ABOUT_OTHERS, Verdict
from swimlab.protocol.timers import ReclaimDead

A, S, D, L = MemberState.ALIVE, MemberState.SUSPECT, MemberState.DEAD, MemberState.LEFT


def expected(old: MemberState | None, new: MemberState | None) -> type | None:
    if new is None:
        return MemberRemoved  # forgotten
    if new is A:
        if old in (None, D, L):
            return MemberJoined  # first seen, or back after dying or leaving
        return MemberAlive if old is S else MemberUpdated  # refuted vs plain incarnation bump
    if new is S:
        return MemberSuspected  # every new suspicion is news, a newer one included
    if new is D:
        return None if old is D else MemberFailed  # a death is announced once
    return None if old is L else MemberLeft  # a leave is announced once


def test_the_table_has_exactly_the_cells_a_node_can_reach():
    applied = {cell for cell, verdicts in ABOUT_OTHERS.items() if Verdict.APPLY in verdicts}
    forgotten = {(D, None), (L, None)}
    assert set(NOTIFICATIONS) == applied | forgotten


def event_type(notify):
    return None if notify is None else type(notify(Update(A, "m", 5, "x")))


@pytest.mark.parametrize(("old", "new"), list(NOTIFICATIONS))
def test_every_cell_against_the_rules(old, new):
    assert event_type(NOTIFICATIONS[(old, new)]) is expected(old, new)


def test_each_notification_carries_member_incarnation_and_accuser():
    record = Update(S, "m", 7, "accuser")
    assert NOTIFICATIONS[(A, S)](record) == MemberSuspected("m", 7, "accuser")
    assert NOTIFICATIONS[(A, D)](record) == MemberFailed("m", 7, "accuser")
    assert NOTIFICATIONS[(A, L)](record) == MemberLeft("m", 7)
    assert NOTIFICATIONS[(S, A)](record) == MemberAlive("m", 7)
    assert NOTIFICATIONS[(A, A)](record) == MemberUpdated("m", 7)
    assert NOTIFICATIONS[(None, A)](record) == MemberJoined("m", 7)
    assert NOTIFICATIONS[(D, None)](record) == MemberRemoved("m", 7)


def node_holding(old: MemberState | None) -> Node:
    """Node `a` (b known alive, so m's suspicion has company) holding m as `old` at incarnation 5."""
    node = Node("a", lan(), random.Random(1))
    node.start(0.0)
    node.handle_message("b", PushPull((Update(A, "b", 0, "b"),), reply=True), 0.1)
    if old is not None:
        node.handle_message("b", Gossip((Update(A, "m", 5, "m"),)), 0.2)
        if old is not A:
            node.handle_message("b", Gossip((Update(old, "m", 5, "b"),)), 0.3)
    assert node.view().get("m", Update(A, "-", 0, "-")).state is (old or A)
    return node


@pytest.mark.parametrize(("old", "new"), list(NOTIFICATIONS))
def test_node_emits_what_each_cell_says(old, new):
    node = node_holding(old)
    if new is None:
        effects = node.handle_timer(ReclaimDead("m", 5), 1.0)
        record = Update(old, "m", 5, "b")
        assert "m" not in node.view()
    else:
        record = Update(new, "m", 6, "c")  # newer than held: precedence applies every cell
        effects = node.handle_message("c", Gossip((record,)), 1.0)
        assert node.view()["m"] == record
    notify = NOTIFICATIONS[(old, new)]
    assert effects.events == (() if notify is None else (notify(record),))
