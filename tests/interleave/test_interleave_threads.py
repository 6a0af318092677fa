"""The controlled thread scheduler: threading code runs one thread at a time, every primitive
behaves as documented, runs replay exactly, and nothing leaks into the rest of the process."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

import pytest

from swimlab.sim.interleave import (
    DFS,
    Model,
    ModelError,
    RandomWalk,
    Replay,
    explore,
    point,
    race_test,
    replay,
    run_model,
    thread_runtime,
    threads,
)


def _states(setup):  # type: ignore[no-untyped-def]
    """A setup that also keeps every state it made, for assertions after the run."""
    made: list[object] = []

    def wrapped():  # type: ignore[no-untyped-def]
        made.append(setup())
        return made[-1]

    return wrapped, made


def test_only_one_thread_runs_at_a_time_and_points_interleave() -> None:
    log: list[str] = []
    running = []

    def worker(name: str) -> None:
        for i in range(3):
            running.append(name)
            assert len(running) == 1, f"{running} ran at once"
            log.append(f"{name}{i}")
            running.pop()
            point(f"{name} step {i}")

    model = Model("points", lambda: None, lambda _: {"a": lambda: worker("a"), "b": lambda: worker("b")})
    orders = set()
    for seed in range(20):
        log.clear()
        result = run_model(model, RandomWalk(seed))
        assert result.ok, result.report()
        orders.add(tuple(log))
    assert len(orders) > 5  # the strategy really chooses


def test_same_seed_same_schedule_and_the_replay_string_reproduces_it() -> None:
    def worker(s: dict, name: str) -> None:  # type: ignore[type-arg]
        for _ in range(3):
            with s["lock"]:
                point(f"{name} holds")
                s.setdefault("log", []).append(name)

    model = Model(
        "det", lambda: {"lock": threading.Lock()}, lambda s: {n: (lambda n=n: worker(s, n)) for n in "abc"}
    )
    first = run_model(model, RandomWalk(3))
    again = run_model(model, RandomWalk(3))
    assert first.choices == again.choices and first.trace == again.trace
    assert replay(model, first.replay).trace == first.trace


def test_deadlock_report_names_threads_locks_holders_and_lines() -> None:
    def left(s: dict) -> None:  # type: ignore[type-arg]
        with s["a"]:
            point("hold a")
            with s["b"]:
                pass

    def right(s: dict) -> None:  # type: ignore[type-arg]
        with s["b"]:
            point("hold b")
            with s["a"]:
                pass

    model = Model(
        "abba",
        lambda: {"a": threading.Lock(), "b": threading.Lock()},
        lambda s: {"left": lambda: left(s), "right": lambda: right(s)},
    )
    result = explore(model, "dfs", budget=50)
    assert result.failure is not None and result.failure.kind == "deadlock", result.summary()
    blocked = {b.task: b for b in result.failure.blocked}
    assert blocked["left"].waits_on == "Lock 'b' held by 'right'"  # named after its dict key
    assert blocked["right"].waits_on == "Lock 'a' held by 'left'"
    assert (
        blocked["left"].location.startswith("test_interleave_threads.py:")
        and "in left" in blocked["left"].location
    )
    assert replay(model, result.replay or "-").failure == result.failure
    assert threading.active_count() == 1, "the deadlocked threads were not unwound"


def test_condition_wait_and_notify_with_a_lost_wakeup_bug() -> None:
    """Consumers that `if` instead of `while` around `Condition.wait` take from an empty list
    when two are woken for one item: found; the `while` form holds."""

    @dataclass
    class Box:
        cond: threading.Condition = field(default_factory=lambda: threading.Condition())
        items: list[int] = field(default_factory=list)
        got: list[int] = field(default_factory=list)

    def consumer(box: Box, careful: bool) -> None:
        with box.cond:
            if careful:
                while not box.items:
                    box.cond.wait()
            elif not box.items:
                box.cond.wait()
            box.got.append(box.items.pop())

    def producer(box: Box) -> None:
        for i in range(2):
            with box.cond:
                box.items.append(i)
                box.cond.notify_all()

    def model(careful: bool) -> Model[Box]:
        return Model(
            "condition",
            Box,
            lambda b: {
                "c1": lambda: consumer(b, careful),
                "c2": lambda: consumer(b, careful),
                "p": lambda: producer(b),
            },
            at_end=lambda b: sorted(b.got) == [0, 1],
        )

    buggy = explore(model(False), "random", budget=300)
    assert buggy.failure is not None and buggy.failure.kind == "exception", buggy.summary()
    assert "IndexError" in buggy.failure.message and "in consumer" in buggy.failure.message
    assert not explore(model(True), DFS(2), budget=2000).found


def test_queue_queue_built_in_the_run_is_controlled() -> None:
    def producer(q: queue.Queue[int]) -> None:
        for i in range(3):
            q.put(i)

    def consumer(q: queue.Queue[int], out: list[int]) -> None:
        out.extend(q.get() for _ in range(3))

    outs: list[list[int]] = []

    def setup() -> tuple[queue.Queue[int], list[int]]:
        outs.append([])
        return queue.Queue(maxsize=1), outs[-1]

    model = Model("queue", setup, lambda s: {"p": lambda: producer(s[0]), "c": lambda: consumer(*s)})
    result = explore(model, DFS(3), budget=500)
    assert not result.found and result.exhausted, result.summary()
    assert all(out == [0, 1, 2] for out in outs)


def test_events_semaphores_rlocks_and_joins() -> None:
    seen: dict[str, object] = {}

    @race_test(strategy="dfs", budget=300)
    def body() -> None:
        ready = threading.Event()
        slots = threading.BoundedSemaphore(1)
        reentrant = threading.RLock()
        in_slot: list[str] = []

        def worker(name: str) -> None:
            assert ready.wait()  # no timeout: wakes when set
            with slots:
                in_slot.append(name)
                assert len(in_slot) == 1, f"two in the slot: {in_slot}"
                point("in the slot")
                in_slot.remove(name)
            with reentrant, reentrant:  # re-entry by the owner does not block
                pass

        workers = [threading.Thread(target=worker, args=(n,), name=n) for n in ("w1", "w2")]
        for t in workers:
            t.start()
        assert all(t.is_alive() for t in workers)
        ready.set()
        for t in workers:
            t.join()
        assert not any(t.is_alive() for t in workers)
        with pytest.raises(ValueError, match="released too many times"):
            slots.release()
        seen["names"] = [t.name for t in workers]

    body()
    assert seen["names"] == ["w1", "w2"]


def test_timed_waits_time_out_in_virtual_time_only_when_nothing_else_can_run() -> None:
    @race_test(strategy="random", budget=50)
    def body() -> None:
        never = threading.Event()
        lock = threading.Lock()
        lock.acquire()
        results: dict[str, object] = {}

        def waiter() -> None:
            results["event"] = never.wait(timeout=5)
            results["lock"] = lock.acquire(timeout=1)
            results["free"] = lock.acquire(blocking=False)

        def busy() -> None:
            for i in range(3):
                point(f"work {i}")
                results.setdefault("work", 0)
                results["work"] = int(results["work"]) + 1  # type: ignore[call-overload]

        ts = [threading.Thread(target=waiter), threading.Thread(target=busy)]
        for t in ts:
            t.start()
        ts[1].join()
        assert results["work"] == 3 and "event" not in results  # no timeout while work remained
        ts[0].join(timeout=100)
        assert results == {"work": 3, "event": False, "lock": False, "free": False}

    body()


def test_exceptions_in_threads_fail_the_run_with_their_line() -> None:
    def boom() -> None:
        point("before")
        raise KeyError("missing")

    result = run_model(Model("boom", lambda: None, lambda _: {"boom": boom}), Replay([]))
    assert result.failure is not None and result.failure.kind == "exception"
    assert "task 'boom' raised KeyError('missing') at test_interleave_threads.py:" in result.failure.message


def test_a_spinning_thread_hits_the_step_limit() -> None:
    def spin() -> None:
        while True:
            point("spin")

    result = run_model(Model("spin", lambda: None, lambda _: {"spin": spin}, max_steps=30), Replay([]))
    assert result.failure is not None and result.failure.kind == "step-limit"
    assert threading.active_count() == 1


def test_a_thread_blocked_on_an_uncontrolled_lock_is_reported_as_stalled(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(thread_runtime, "STALL_TIMEOUT_S", 0.3)
    real = threading.Lock()  # created before the run: a real lock
    real.acquire()

    def stuck() -> None:
        real.acquire()  # blocks for real: the scheduler cannot see it

    try:
        result = run_model(Model("stuck", lambda: None, lambda _: {"stuck": stuck}), Replay([]))
        assert result.failure is not None and result.failure.kind == "stalled"
        assert "thread 'stuck' did not reach a scheduling point within 0.3 s" in result.failure.message
        assert "test_interleave_threads.py:" in result.failure.message
    finally:
        real.release()  # lets the stuck thread finish


def test_a_real_lock_in_the_state_is_refused_with_the_field_named() -> None:
    @dataclass
    class State:
        lock: threading.Lock = field(default_factory=threading.Lock)  # the real one, captured early

    with pytest.raises(
        ModelError, match=r"`lock` in its state is a real threading primitive.*default_factory=lambda"
    ):
        run_model(Model("real", State, lambda s: {"t": lambda: None}), Replay([]))


def test_threading_is_restored_and_other_threads_keep_real_primitives() -> None:
    real_lock_type = type(threading.Lock())
    made: dict[str, object] = {}

    def other() -> None:
        made["other thread"] = threading.Lock()

    with threads.patched_threading():
        made["controller"] = threading.Lock()
        foreign = threading.Thread(target=other)
        thread_runtime._real_start(foreign)  # a thread of the process the run does not own
        thread_runtime._real_join(foreign)
    made["after"] = threading.Lock()

    def body() -> None:
        made["managed"] = threading.Lock()

    assert run_model(Model("m", lambda: None, lambda _: {"main": body}), Replay([])).ok
    assert isinstance(made["controller"], threads.Lock) and isinstance(made["managed"], threads.Lock)
    assert isinstance(made["other thread"], real_lock_type) and isinstance(made["after"], real_lock_type)
    assert threading.Thread.start.__module__ == "threading" and threading.Event.__module__ == "threading"


def test_named_primitives_work_outside_a_run_like_real_ones() -> None:
    lock = threads.Lock("named")
    assert lock.acquire() and lock.locked()
    assert not lock.acquire(blocking=False)
    lock.release()
    assert not lock.locked()
    assert point("outside") is not None  # harmless: nothing to yield to


def test_many_failing_runs_leak_no_threads() -> None:
    def left(s: dict) -> None:  # type: ignore[type-arg]
        with s["a"], s["b"]:
            pass

    def right(s: dict) -> None:  # type: ignore[type-arg]
        with s["b"], s["a"]:
            pass

    model = Model(
        "abba",
        lambda: {"a": threading.Lock(), "b": threading.Lock()},
        lambda s: {"left": lambda: left(s), "right": lambda: right(s)},
    )
    before = threading.active_count()
    for seed in range(30):
        run_model(model, RandomWalk(seed))
    assert threading.active_count() == before


def test_an_asyncio_model_starting_a_thread_is_told_why_it_cannot() -> None:
    import asyncio

    async def offload(s: dict) -> None:  # type: ignore[type-arg]
        await asyncio.to_thread(len, "abc")

    result = run_model(Model("to-thread", dict, lambda s: {"t": offload(s)}), Replay([]))
    assert result.failure is not None and result.failure.kind == "exception"
    assert "started where the explorer cannot control it" in result.failure.message
    assert "asyncio.to_thread" in result.failure.message
