"""Hypothesis draws schedules: fixed forms hold under @given, failures shrink and replay."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swimlab.sim.interleave import explore, replay
from swimlab.sim.interleave.hypothesis_glue import check_schedule, hypothesis_search, schedule_runs
from swimlab.sim.interleave.models import conn_health, pool_eviction, select_updates, select_updates_threads


@given(st.data())
def test_fixed_pool_eviction_holds_for_drawn_schedules(data: st.DataObject) -> None:
    check_schedule(pool_eviction.FIXED, data)


@given(schedule_runs(conn_health.FIXED))
def test_fixed_conn_health_holds_for_drawn_schedules(run) -> None:  # type: ignore[no-untyped-def]
    assert run.ok, run.report()


@pytest.mark.parametrize(
    "model",
    [pool_eviction.BUGGY, conn_health.BUGGY, select_updates.BUGGY, select_updates_threads.BUGGY],
    ids=lambda m: m.name,
)
def test_hypothesis_finds_and_shrinks_and_the_replay_reproduces(model) -> None:  # type: ignore[no-untyped-def]
    result = hypothesis_search(model, max_examples=300, seed_=1)
    assert result.found, result.summary()
    assert result.shrunk_length is not None and result.found_length is not None
    assert result.shrunk_length <= result.found_length
    again = replay(model, result.replay or "-")
    assert again.failure == result.failure
    # The built-in shrinker reaches a schedule as short as hypothesis's.
    ours = explore(model, "random", 1000, seed=1)
    assert ours.shrunk_length is not None and ours.shrunk_length <= result.shrunk_length + 2


def test_check_schedule_failure_message_carries_the_replay_string() -> None:
    @given(st.data())
    def inner(data: st.DataObject) -> None:
        check_schedule(select_updates.BUGGY, data)

    with pytest.raises(AssertionError, match=r"(?s)deadlock .* replay with '"):
        inner()
