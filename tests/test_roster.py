"""Formed-start sharing (protocol/members.py `Roster`, `shuffle`) and PushPull sizes without
encoding (`MemberTable.wire_bytes`, `Send.size`): each must give exactly what the plain path gives."""

from __future__ import annotations

import random

import pytest

from swimlab.protocol.codec import encode
from swimlab.protocol.config import Config
from swimlab.protocol.errors import LocalProtocolError
from swimlab.protocol.members import MemberTable, Roster, shuffle
from swimlab.protocol.messages import MemberState, PushPull, Update
from swimlab.protocol.node import Node

A, S, D = MemberState.ALIVE, MemberState.SUSPECT, MemberState.DEAD


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 15, 16, 17, 100, 1000, 1025])
def test_shuffle_is_the_stdlib_shuffle_draw_for_draw(n: int) -> None:
    for seed in range(6):
        ours, theirs = list(range(n)), list(range(n))
        a, b = random.Random(seed), random.Random(seed)
        shuffle(a, ours)  # type: ignore[arg-type]
        b.shuffle(theirs)
        assert ours == theirs and a.getstate() == b.getstate(), (n, seed)


def names(n: int) -> list[str]:
    return [f"n{i}" for i in range(n)]


def alive(name: str) -> Update:
    return Update(A, name, 0, name)


def twin_tables(owner: str, n: int, seed: int) -> tuple[MemberTable, MemberTable]:
    """The same start twice: records copied in (`install_alive`), and shared (`install_roster`)."""
    records = [alive(m) for m in names(n)]
    copied, shared = MemberTable(owner, random.Random(seed)), MemberTable(owner, random.Random(seed))
    copied.install_alive(r for r in records if r.member != owner)
    shared.install_roster(Roster(records))
    return copied, shared


def assert_same(copied: MemberTable, shared: MemberTable) -> None:
    assert shared.snapshot() == copied.snapshot()  # same records, same order (owner first)
    assert list(shared.live) == list(copied.live) and shared.cluster_size() == copied.cluster_size()
    empty = len(encode(PushPull(())))
    assert (
        shared.wire_bytes
        == copied.wire_bytes
        == sum(len(encode(PushPull((u,)))) - empty for u in copied.snapshot())
    )
    assert shared.probe_order == copied.probe_order and shared.rng.getstate() == copied.rng.getstate()
    assert dict(shared.view()) == dict(copied.view()) and list(shared.view()) == list(copied.view())


@pytest.mark.parametrize("owner", ["n0", "n7", "n19"])
def test_a_table_on_a_roster_behaves_as_a_copied_one_through_changes(owner: str) -> None:
    copied, shared = twin_tables(owner, 20, seed=3)
    assert shared.records is not copied.records and shared.snapshot() == copied.snapshot()
    for member in names(20):  # live checks and random choices, before any change
        assert shared.is_live(member) == copied.is_live(member) == (member != owner)
    assert [shared.next_probe_target(0.0) for _ in range(25)] == [
        copied.next_probe_target(0.0) for _ in range(25)
    ]
    assert shared.random_members(3, exclude="n5") == copied.random_members(3, exclude="n5")
    # a change copies the roster; from then on both tables are plain ones
    victim = "n3" if owner != "n3" else "n4"
    for table in (copied, shared):
        held = table.records[victim]
        table.install(held, Update(S, victim, 0, owner), 1.0)
        table.install(table.records[victim], Update(D, victim, 0, owner), 2.0)
        table.set_own(Update(A, owner, 1000, owner))  # a size that differs from 0's
    assert_same(copied, shared)
    assert shared.random_members(4, recently_dead_since=0.0) == copied.random_members(
        4, recently_dead_since=0.0
    )
    for table in (copied, shared):
        table.forget(victim)
    assert_same(copied, shared)


def test_a_roster_takes_only_alive_records_each_member_once() -> None:
    with pytest.raises(LocalProtocolError, match="alive"):
        Roster([alive("a"), Update(D, "b", 0, "a")])
    with pytest.raises(LocalProtocolError, match="once"):
        Roster([alive("a"), alive("a")])


def test_a_roster_without_us_is_copied_in() -> None:
    table = MemberTable("x", random.Random(1))
    table.install_roster(Roster(alive(m) for m in names(5)))
    assert table.snapshot()[0] == alive("x") and table.cluster_size() == 6


@pytest.mark.parametrize("seed", range(4))
def test_every_push_pull_size_the_node_states_is_its_encoded_size(seed: int) -> None:
    """Nodes on a roster exchange state through changes (a death, a refutation, a forget):
    each PushPull's `Send.size` equals `len(encode(message))`."""
    cfg = Config(push_pull_interval_s=1.0, probe_interval_s=0.5)
    roster = Roster(alive(m) for m in names(6))
    nodes = {m: Node(m, cfg, random.Random(seed * 100 + i)) for i, m in enumerate(names(6))}
    pending = []
    for m, node in nodes.items():
        pending.extend((m, s) for s in node.start(0.0, roster).sends)
    checked, now = 0, 0.0
    rng = random.Random(seed)
    # Drive by messages only: every node pushes to every other once per round, "n5" is gone.
    for round_ in range(6):
        now += 1.0
        for m, node in nodes.items():
            if m == "n5":
                continue
            effects = node.handle_timer(_push_pull_tick(), now)
            pending.extend((m, s) for s in effects.sends)
        while pending:
            src, send = pending.pop(rng.randrange(len(pending)))
            if type(send.message) is PushPull:
                assert send.size == len(encode(send.message)), (round_, src, send.dst)
                checked += 1
            if send.dst == "n5" or src == "n5":
                continue
            effects = nodes[send.dst].handle_message(src, send.message, now)
            pending.extend((send.dst, s) for s in effects.sends)
        if round_ == 1:  # a death and a refutation change the tables
            nodes["n0"]._learn(Update(D, "n5", 0, "n0"), now)
            nodes["n1"]._learn(Update(S, "n1", 300, "n2"), now)  # refuted at 301: a longer record
            nodes["n0"]._flush()
            nodes["n1"]._flush()
    assert checked > 20


def _push_pull_tick():  # type: ignore[no-untyped-def]
    from swimlab.protocol.timers import PushPullTick

    return PushPullTick()
