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
    passes = [[table.next_probe_target() for _ in range(8)] for _ in range(4)]
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


def test_a_member_added_mid_pass_is_probed_in_the_current_pass():
    table = table_of("b", "c", "d", "e")
    first = table.next_probe_target()
    table.install(None, alive("f"), 1.0)
    rest = [table.next_probe_target() for _ in range(4)]
    assert sorted([first, *rest]) == ["b", "c", "d", "e", "f"]
