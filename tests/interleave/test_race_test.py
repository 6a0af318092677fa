"""`@race_test`, `check_model`, `always`, `watch` and the readable trace, in process."""

from __future__ import annotations

import asyncio

import pytest

from swimlab.sim.interleave import (
    Model,
    RaceFound,
    Replay,
    always,
    check_model,
    explore,
    point,
    race_test,
    replay,
    run_model,
    watch,
)


class Counter:
    def __init__(self) -> None:
        self.value = 0

    async def bump(self) -> None:
        seen = self.value
        await point("read")
        self.value = seen + 1


async def two_bumps() -> None:
    counter = Counter()
    watch(lambda: f"value={counter.value}")
    await asyncio.gather(counter.bump(), counter.bump())
    assert counter.value == 2, f"lost update: {counter.value}"


def test_a_race_fails_the_test_with_kind_replay_and_trace() -> None:
    with pytest.raises(RaceFound) as caught:
        race_test(strategy="random", budget=100)(two_bumps)()
    text = str(caught.value)
    assert text.startswith(
        "race found in two_bumps: exception after step 6: task 'main' raised AssertionError"
    )
    assert "at test_race_test.py:" in text and "in two_bumps" in text  # where the assert fired
    replay_string = text.split("replay: ", 1)[1].split()[0]
    # The same schedule, replayed deterministically, fails the same way every time.
    for _ in range(3):
        with pytest.raises(RaceFound, match=f"replay '{replay_string}' failed"):
            race_test(replay=replay_string)(two_bumps)()


def test_expect_bug_passes_only_when_a_failure_is_found_and_reproduced() -> None:
    race_test(strategy="dfs", budget=100, expect_bug=True)(two_bumps)()

    async def one_bump() -> None:
        await Counter().bump()

    with pytest.raises(RaceFound, match=r"expected a failure, none found \(schedules run: random: 30, pct"):
        race_test(budget=30, expect_bug=True)(one_bump)()


def test_a_typo_in_the_strategy_fails_at_decoration() -> None:
    with pytest.raises(ValueError, match="unknown strategy 'pcy'"):
        race_test(strategy="pcy")


@race_test(strategy="dfs", budget=50)
async def test_pytest_fixtures_reach_the_body(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert tmp_path.exists()
    await point("after the fixture")


def test_always_checks_every_step_without_assert_and_names_its_message() -> None:
    async def body() -> None:
        counter = Counter()
        always(lambda: counter.value < 1, "value reached 1")
        await counter.bump()

    with pytest.raises(RaceFound, match=r"invariant violated after step 2: value reached 1\n"):
        race_test(strategy="random", budget=5)(body)()
    with pytest.raises(RuntimeError, match="call it inside one"):
        always(lambda: True, "outside a run")
    with pytest.raises(RuntimeError, match="call it inside one"):
        watch(lambda: "outside a run")


def test_check_model_follows_the_models_expect_bug() -> None:
    racy = Model("racy", Counter, lambda c: {"a": c.bump(), "b": c.bump()}, at_end=lambda c: c.value == 2)
    with pytest.raises(RaceFound, match=r"race found in racy: end-of-run check \(at_end\) failed"):
        check_model(racy, "dfs", budget=50)
    results = check_model(Model("racy", racy.setup, racy.tasks, at_end=racy.at_end, expect_bug=True), "dfs")
    assert results[-1].found
    check_model(racy, replay_schedule="-")  # the natural order does not lose the update


def test_each_trace_step_names_task_resume_and_next_yield_with_lines_and_state() -> None:
    racy = Model(
        "racy",
        Counter,
        lambda c: {"a": c.bump(), "b": c.bump()},
        at_end=lambda c: c.value == 2,
        state_summary=lambda c: f"value={c.value}",
    )
    result = replay(racy, "0.1")
    assert result.failure is not None and result.failure.kind == "at_end"
    assert str(result.failure).startswith(
        "end-of-run check (at_end) failed after all tasks finished (4 steps)"
    )
    first, second, third, fourth = result.trace
    assert (first.task, first.resumed_at, first.label) == ("a", "start", None)
    assert first.next_at.startswith("test_race_test.py:") and first.next_label == "read"
    assert (second.task, second.next_label) == ("b", "read")
    assert (third.task, third.resumed_at, third.label, third.next_at) == (
        "b",
        first.next_at,
        "read",
        "finished",
    )
    assert (fourth.task, fourth.state) == ("a", "value=1")
    assert [e.step for e in result.trace] == [1, 2, 3, 4]
    # A search does not pay for locations; the result it reports has them.
    quick = run_model(racy, Replay([0, 1]), detailed=False)
    assert (
        quick.failure == result.failure
        and quick.trace[0].resumed_at == "start"
        and quick.trace[0].state is None
    )
    found = explore(racy, "dfs", budget=50)
    assert found.run is not None and found.run.trace[-1].state == "value=1"
