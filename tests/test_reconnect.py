"""The reconnect walk (protocol/reconnect.py): a member that stays dead is contacted within D
attempts, D the distinct members held dead meanwhile; random choice (the code before) is not."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from swimlab.protocol.reconnect import DeadRotation

MEMBERS = [f"m{i}" for i in range(8)]


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    steps=st.lists(st.sets(st.sampled_from(MEMBERS)), min_size=1, max_size=60),
)
def test_a_member_that_stays_dead_is_reached_within_the_distinct_dead(
    seed: int, steps: list[set[str]]
) -> None:
    rotation = DeadRotation(random.Random(seed))
    waiting: dict[str, tuple[int, set[str]]] = {}  # member -> (attempts since it went dead, dead seen)
    order: list[str] = []  # in order of death, as MemberTable.dead() gives them
    for dead in steps:
        order = [m for m in order if m in dead] + sorted(dead - set(order))
        chosen = rotation.next(list(order))
        assert (chosen is None) == (not order)
        for member in list(waiting):
            if member not in dead:
                del waiting[member]
        for member in order:
            attempts, seen = waiting.get(member, (0, set()))
            seen |= set(order)
            if member == chosen:
                waiting.pop(member, None)
                continue
            attempts += 1
            assert attempts < len(seen), (member, attempts, seen)  # reached within len(seen) attempts
            waiting[member] = (attempts, seen)


def test_random_choice_has_no_such_bound() -> None:
    """What the walk replaced: one member among four dead missed 12 times in a row is common."""
    rng = random.Random(1)
    misses = 0
    for _ in range(2000):
        if all(rng.randrange(4) != 0 for _ in range(12)):
            misses += 1
    assert misses > 40  # (3/4)^12 ~ 3 %: a settle window of 12 intervals is not enough
    rotation = DeadRotation(random.Random(1))
    dead = ["a", "b", "c", "d"]
    assert {rotation.next(dead) for _ in range(4)} == set(dead)
