"""The member table (protocol/members.py) through its own interface: random choice, probe order,
the down list. Each test was written for a mutant of members.py that the Node tests let through.
"""

from __future__ import annotations

import random

import pytest

from swimlab.protocol.members import MemberTable
from swimlab.protocol.messages import MemberState, Update

A, D = MemberState.ALIVE, MemberState.DEAD


def alive(name: str, inc: int = 0) -> Update:
    return Update(A, name, inc, name)


def table_of(*members: str, seed: int = 5) -> MemberTable:
    table = MemberTable("a", random.Random(seed))
    table.install_alive(alive(m) for m in members)
    return table


def test_probe_order_is_reshuffled_after_each_full_pass():
    table = table_of(*(f"m{i}" for i in range(8)))
    passes = [[table.next_probe_target(0.0) for _ in range(8)] for _ in range(4)]
    assert all(sorted(p) == [f"m{i}" for i in range(8)] for p in passes)  # each pass visits all once
    assert len({tuple(p) for p in passes[1:]}) > 1  # SWIM §4.3: a new random order every pass


@pytest.mark.parametrize("seed", range(20))
def test_random_members_are_distinct_live_and_never_the_excluded_one(seed):
    table = table_of(*(f"m{i}" for i in range(6)), seed=seed)
    chosen = table.random_members(3, exclude="m0")
    assert len(chosen) == len(set(chosen)) == 3 and "m0" not in chosen
    assert sorted(table.random_members(10, exclude="m0")) == [f"m{i}" for i in range(1, 6)]
    assert len(table.random_members(5, exclude="m0")) == 5  # exactly all the others
    assert len(table.random_members(5, exclude="zz")) == 5  # an unknown exclusion removes nobody


def test_recently_dead_members_are_chosen_only_since_the_horizon_newest_first():
    table = table_of("b", "c", "d")
    for t, m in ((1.0, "b"), (2.0, "c")):
        table.install(table.records[m], Update(D, m, 0, "x"), t)
    assert table.dead() == ["b", "c"]  # in order of death
    assert sorted(table.random_members(5, recently_dead_since=1.0)) == ["b", "c", "d"]  # since: inclusive
    assert sorted(table.random_members(5, recently_dead_since=1.5)) == ["c", "d"]
    table.install(table.records["b"], alive("b", 1), 3.0)  # b comes back: no longer down
    assert table.dead() == ["c"] and table.down_since == {"c": 2.0}
    table.install(table.records["c"], Update(MemberState.LEFT, "c", 0, "c"), 4.0)
    assert table.down_since == {"c": 4.0}  # re-recorded: order of death is the latest news


@pytest.mark.parametrize("seed", range(40))
def test_a_new_member_swaps_with_a_random_offset_of_the_whole_probe_list(seed):
    # memberlist aliveNode: append, swap with randomOffset(n); the new member may land behind
    # the probe pointer, and the member it displaces moves to the end of the list.
    table = table_of("b", "c", "d", "e", seed=seed)
    first = table.next_probe_target(0.0)
    before = list(table.probe_order)
    table.install(None, alive("f"), 1.0)
    after = table.probe_order
    offset = after.index("f")
    assert len(after) == 5 and offset < 4
    assert after[4] == before[offset] and after[:offset] == before[:offset]
    assert after[offset + 1 : 4] == before[offset + 1 :]
    rest = [table.next_probe_target(1.0) for _ in range(4)]
    assert first is not None and set(rest) <= {"b", "c", "d", "e", "f"}
    # Behind the pointer (offset 0: already passed) f waits for the next pass, and the member
    # it displaced (the one probed first) is probed again at the end of this one.
    assert ("f" in rest) == (offset >= 1) and (rest[-1] == first) == (offset == 0)


def test_new_members_land_behind_the_probe_pointer_about_as_often_as_memberlist_s():
    behind = 0
    for seed in range(400):
        table = table_of(*(f"m{i}" for i in range(9)), seed=seed)
        for _ in range(3):
            table.next_probe_target(0.0)
        table.install(None, alive("new"), 1.0)
        behind += table.probe_order.index("new") < table.probe_pos
    assert 100 < behind < 170  # 3 of 9 offsets are behind: expect 133


def test_cluster_size_counts_down_members_until_a_pass_ends_past_gossip_to_the_dead():
    table = MemberTable("a", random.Random(1), keep_listed_s=30.0)
    table.install_alive(alive(m) for m in ("b", "c", "d"))
    assert table.cluster_size() == 4
    table.install(table.records["b"], Update(D, "b", 0, "x"), 10.0)
    table.install(table.records["c"], Update(MemberState.LEFT, "c", 0, "c"), 20.0)
    assert table.cluster_size() == 4  # memberlist's estNumNodes still lists both
    for now in (15.0, 39.0, 45.0):  # passes end at each call (one live member): trims at 45 only b
        table.next_probe_target(now)
        table.next_probe_target(now)
    assert table.listed_down == {"c"} and table.cluster_size() == 3
    table.install(table.records["c"], alive("c", 1), 46.0)  # back while listed: not counted twice
    assert table.cluster_size() == 3 and table.probe_order.count("c") <= 1
    table.next_probe_target(60.0)
    table.forget("b")
    assert table.cluster_size() == 3
