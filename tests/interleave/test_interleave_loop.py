"""The controlled loop: unmodified asyncio runs on it, time is virtual, runs are replayable."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swimlab.sim.interleave import (
    DFS,
    Lock,
    Model,
    RandomWalk,
    Replay,
    current_step,
    decode,
    encode,
    explore,
    point,
    replay,
    run_model,
)


def _model(tasks, **kw):  # type: ignore[no-untyped-def]
    return Model("t", dict, tasks, **kw)


def test_unmodified_asyncio_primitives_run_to_completion() -> None:
    async def producer(s: dict) -> None:  # type: ignore[type-arg]
        for i in range(3):
            await s["q"].put(i)
            await asyncio.sleep(0.5)
        s["done"].set()

    async def consumer(s: dict) -> None:  # type: ignore[type-arg]
        got = [await s["q"].get() for _ in range(3)]
        await s["done"].wait()
        async with s["lock"]:
            s["got"] = got
        s["t"] = asyncio.get_running_loop().time()
        s["late"] = await asyncio.wait_for(asyncio.sleep(10, result="late"), 20)
        child = asyncio.get_running_loop().create_task(asyncio.sleep(1, result="child"))
        s["child"], _ = await asyncio.gather(child, asyncio.sleep(0))

    def setup() -> dict:  # type: ignore[type-arg]
        return {"q": asyncio.Queue(), "done": asyncio.Event(), "lock": asyncio.Lock()}

    model = Model("asyncio", setup, lambda s: [producer(s), consumer(s)])
    states: list[dict] = []  # type: ignore[type-arg]
    model = Model("asyncio", lambda: states.append(setup()) or states[-1], model.tasks)
    for seed in range(5):
        result = run_model(model, RandomWalk(seed))
        assert result.ok, result.report()
        state = states[-1]
        assert state["got"] == [0, 1, 2]
        assert state["t"] == 1.5  # virtual: three 0.5 s sleeps, no wall time spent
        assert state["late"] == "late" and state["child"] == "child"


def test_wait_for_times_out_in_virtual_time() -> None:
    async def waiter(s: dict) -> None:  # type: ignore[type-arg]
        try:
            await asyncio.wait_for(asyncio.Event().wait(), 5)
        except TimeoutError:
            s["at"] = asyncio.get_running_loop().time()

    states: list[dict] = []  # type: ignore[type-arg]
    result = run_model(_model(lambda s: states.append(s) or [waiter(s)]), Replay([]))
    assert result.ok and states[0]["at"] == 5


def test_same_seed_same_schedule_and_replay_reproduces_it() -> None:
    async def worker(s: dict, name: str) -> None:  # type: ignore[type-arg]
        for i in range(3):
            await point(f"{name}{i}")
            s.setdefault("log", []).append(name)

    model = _model(lambda s: {n: worker(s, n) for n in "abc"})
    first = run_model(model, RandomWalk(7))
    again = run_model(model, RandomWalk(7))
    assert first.choices == again.choices and first.trace == again.trace
    replayed = replay(model, first.replay)
    assert replayed.trace == first.trace


def test_timers_due_together_are_ordered_by_the_strategy() -> None:
    orders: set[tuple[str, ...]] = set()

    async def arm(s: dict) -> None:  # type: ignore[type-arg]
        loop = asyncio.get_running_loop()
        for name in ("x", "y", "z"):
            loop.call_later(1.0, s.setdefault("fired", []).append, name)
        await asyncio.sleep(2)
        orders.add(tuple(s["fired"]))

    model = _model(lambda s: [arm(s)])
    result = explore(model, DFS(preemption_bound=3), budget=100)
    assert result.exhausted and not result.found
    assert len(orders) == 6  # every order of the three same-instant user timers


def test_deadlock_report_names_blocked_tasks_and_locks() -> None:
    async def left(s: dict) -> None:  # type: ignore[type-arg]
        async with s["a"]:
            await point("hold a")
            async with s["b"]:
                pass

    async def right(s: dict) -> None:  # type: ignore[type-arg]
        async with s["b"]:
            await point("hold b")
            async with s["a"]:
                pass

    model = Model(
        "abba",
        lambda: {"a": Lock("a"), "b": Lock("b")},
        lambda s: {"left": left(s), "right": right(s)},
    )
    result = explore(model, "dfs", budget=50)
    assert result.failure is not None and result.failure.kind == "deadlock"
    blocked = {b.task: b for b in result.failure.blocked}
    assert set(blocked) == {"left", "right"}
    assert blocked["left"].waits_on == "Lock 'b' held by 'right'"
    assert blocked["right"].waits_on == "Lock 'a' held by 'left'"
    assert "in left" in blocked["left"].location
    assert replay(model, result.replay or "").failure == result.failure


def test_plain_asyncio_lock_and_awaited_task_are_described() -> None:
    async def stuck(s: dict) -> None:  # type: ignore[type-arg]
        await s["q"].get()

    async def waits_for_stuck(s: dict) -> None:  # type: ignore[type-arg]
        await s["task"]

    async def spawner(s: dict) -> None:  # type: ignore[type-arg]
        s["task"] = asyncio.get_running_loop().create_task(stuck(s), name="stuck")
        await waits_for_stuck(s)

    model = Model("q", lambda: {"q": asyncio.Queue()}, lambda s: {"spawner": spawner(s)})
    failure = run_model(model, Replay([])).failure
    assert failure is not None and failure.kind == "deadlock"
    text = str(failure)
    assert "stuck waits on Queue state['q'] (size 0, nothing will put or get)" in text
    assert "spawner waits on task 'stuck'" in text


def test_livelock_hits_the_step_limit_and_task_exceptions_fail_the_run() -> None:
    async def spin(s: dict) -> None:  # type: ignore[type-arg]
        while True:
            await point("spin")

    failure = run_model(_model(lambda s: [spin(s)], max_steps=50), Replay([])).failure
    assert failure is not None and failure.kind == "step-limit"

    async def boom(s: dict) -> None:  # type: ignore[type-arg]
        await point()
        raise ValueError("boom")

    failure = run_model(_model(lambda s: {"boom": boom(s)}), Replay([])).failure
    assert failure is not None and failure.kind == "exception" and "boom" in failure.message


def test_current_step_counts_task_steps() -> None:
    seen: list[int] = []

    async def t(s: dict) -> None:  # type: ignore[type-arg]
        seen.append(current_step())
        await point()
        seen.append(current_step())

    assert run_model(_model(lambda s: [t(s)]), Replay([])).ok
    assert seen == [1, 2]


@given(st.lists(st.integers(0, 40), max_size=60))
def test_replay_strings_round_trip(choices: list[int]) -> None:
    text = encode(choices)
    trimmed = list(choices)
    while trimmed and trimmed[-1] == 0:
        trimmed.pop()
    assert decode(text) == trimmed


def test_bad_replay_string_is_refused() -> None:
    with pytest.raises(ValueError, match="N or N\\*COUNT"):
        decode("1.x.2")


def test_setup_runs_with_the_controlled_loop_running() -> None:
    async def waiter(s: dict) -> None:  # type: ignore[type-arg]
        s["got"] = await s["future"]

    async def resolver(s: dict) -> None:  # type: ignore[type-arg]
        s["future"].set_result(s["loop"].time())

    def setup() -> dict:  # type: ignore[type-arg]
        loop = asyncio.get_running_loop()  # the controlled loop, as when the tasks run
        return {"loop": loop, "future": loop.create_future()}

    states: list[dict] = []  # type: ignore[type-arg]
    model = Model(
        "setup-loop",
        lambda: states.append(setup()) or states[-1],
        lambda s: {"w": waiter(s), "r": resolver(s)},
    )
    assert run_model(model, Replay([])).ok and states[0]["got"] == 0.0
