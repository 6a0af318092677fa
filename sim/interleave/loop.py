"""The controlled asyncio event loop: one task step at a time, and a strategy picks which.

This module owns scheduling and nothing else: which ready task step runs next, virtual time,
and the description of a stuck run (each blocked task and what it awaits). It knows nothing
about models, invariants or search; `model.py` drives it and `strategies.py` chooses for it.

Rules, in the order the loop applies them at every step:

1. Callbacks that are not task steps (future plumbing such as a done-callback, a timer that
   completes a `sleep`) run as soon as they are ready, in scheduling order. They only make
   tasks ready; which of those tasks runs first is still the strategy's choice.
2. Timers due at the current instant fire. When two or more are due together and at least one
   of them is a user callback (`call_later(f)` with `f` outside asyncio), the strategy orders
   them; timers that only wake a task fire in creation order, because the tasks they wake are
   ordered by the strategy anyway and enumerating both orders would double the search.
3. If no task step is ready, virtual time jumps to the next timer; if there is none, the loop
   is idle (the run ended, or it is deadlocked if some task is unfinished).
4. Otherwise exactly one ready task step runs: the strategy picks it from the ready steps in
   *canonical order* — the task that ran last first (if it is ready again), then the others by
   creation order. Index 0 therefore always means "no preemption", which is what makes
   recorded choice lists short, shrinkable and replayable.

Everything is ordered by creation counters kept here, never by `id()` or hashing, so the same
choices reproduce the same run. Tasks are pure-Python `asyncio.Task` objects (`_PyTask`) so a
ready handle can be traced back to its task. The CPython internals this needs (the ready queue
and timer heap of `BaseEventLoop`, a handle's callback) are reached only through `_cpython.py`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import types
from asyncio import base_events, events
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from . import _cpython
from .primitives import describe_primitive
from .trace import START, TraceEntry, frame_location, innermost_user_frame, raise_location

_PyTask = _cpython.PyTask


class StepLimitExceeded(RuntimeError):
    """Raised inside the loop when plumbing callbacks keep rescheduling themselves forever."""


@dataclass(frozen=True)
class Choice:
    """One option at a choice point: a ready task step (or a due timer when kind == "timer")."""

    actor: str  # task name; for timers "timer:<name of the task that set it>"
    order: int  # creation order of the task (or timer): the stable key
    label: str | None  # the yield-point label the task will run past next, if any


@dataclass(frozen=True)
class ChoicePoint:
    """What a strategy sees: options in canonical order (index 0 = the natural continuation)."""

    options: tuple[Choice, ...]
    index: int  # how many choice points came before this one in the run
    step: int  # task steps run so far
    continuing: bool  # options[0] is the task that ran last, so any other pick is a preemption
    kind: str = "task"  # "task" or "timer"


class Chooser(Protocol):
    def choose(self, point: ChoicePoint) -> int: ...


class _SeqTimerHandle(events.TimerHandle):
    """A timer that remembers its creation order and creator, for stable same-instant ordering."""

    __slots__ = ("creator", "seq")

    seq: int
    creator: str

    def __lt__(self, other: object) -> bool:
        if isinstance(other, _SeqTimerHandle):
            return (self.when(), self.seq) < (other.when(), other.seq)
        return NotImplemented


class ControlledLoop(base_events.BaseEventLoop):
    """An asyncio event loop that runs one task step per `step()` and asks `chooser` which."""

    def __init__(self, chooser: Chooser, *, plumbing_limit: int = 100_000, detailed: bool = True) -> None:
        super().__init__()
        self._chooser = chooser
        self.detailed = detailed  # False: trace names tasks only (no locations); searches are faster
        self._now = 0.0
        self._task_seq = itertools.count()
        self._timer_seq = itertools.count()
        self._order: dict[asyncio.Task[Any], int] = {}
        self._where: dict[asyncio.Task[Any], str] = {}  # where each started task is suspended
        self.tasks: list[asyncio.Task[Any]] = []
        self.labels: dict[asyncio.Task[Any], str | None] = {}
        self.choices: list[int] = []
        self.trace: list[TraceEntry] = []
        self.steps = 0
        self.last_task: asyncio.Task[Any] | None = None
        self.errors: list[dict[str, Any]] = []
        self.names: dict[int, str] = {}  # id -> path in the model state, for unnamed primitives
        self._plumbing_runs = 0
        self._plumbing_limit = plumbing_limit
        self.set_exception_handler(lambda _loop, ctx: self.errors.append(ctx))

    # --- the parts of BaseEventLoop that touch the outside world --------------------------

    def time(self) -> float:
        return self._now

    def _process_events(self, event_list: Any) -> None:  # no selector: nothing to process
        pass

    def _write_to_self(self) -> None:  # single-threaded by construction
        pass

    def create_task(  # type: ignore[override]
        self,
        coro: Coroutine[Any, Any, Any],
        *,
        name: str | None = None,
        context: Any = None,
    ) -> asyncio.Task[Any]:
        _cpython.check_closed(self)
        seq = next(self._task_seq)
        if name is None:
            # asyncio's default "Task-N" uses a process-wide counter: not stable across runs.
            name = f"{getattr(coro, '__qualname__', 'task')}#{seq}"
        task = _PyTask(coro, loop=self, name=name, context=context)
        self._order[task] = seq
        self.tasks.append(task)
        return task

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> events.TimerHandle:
        _cpython.check_closed(self)
        timer = _SeqTimerHandle(when, callback, args, self, context)
        timer.seq = next(self._timer_seq)
        current = asyncio.current_task(self) if self.is_running() else None
        timer.creator = current.get_name() if current is not None else "loop"
        heapq.heappush(_cpython.timer_heap(self), timer)
        _cpython.mark_timer_scheduled(timer, True)
        return timer

    @contextmanager
    def running(self) -> Iterator[None]:
        """Make this the running loop of the current thread (what `run_forever` would do)."""
        previous = _cpython.get_running_loop_or_none()
        _cpython.set_owner_thread(self, threading.get_ident())
        _cpython.set_running_loop(self)
        try:
            yield
        finally:
            _cpython.set_running_loop(previous)
            _cpython.set_owner_thread(self, None)

    # --- scheduling -----------------------------------------------------------------------

    def task_of(self, handle: events.Handle) -> asyncio.Task[Any] | None:
        owner = getattr(_cpython.handle_callback(handle), "__self__", None)
        if isinstance(owner, _PyTask) and owner in self._order:
            return owner
        return None

    def step(self) -> bool:
        """Run one task step. Returns False when nothing can ever run again (idle)."""
        ready_queue = _cpython.ready_queue(self)
        while True:
            self._run_plumbing()
            if ready_queue:
                break
            if not self._advance_time():
                return False
        ready = [(self._order[t], i, h, t) for i, h in enumerate(ready_queue) if (t := self.task_of(h))]
        ready.sort(key=lambda r: (r[0], r[1]))
        natural = next((r for r in ready if r[3] is self.last_task), ready[0])
        canonical = [natural] + [r for r in ready if r is not natural]
        chosen = 0
        if len(canonical) > 1:
            point = ChoicePoint(
                options=tuple(Choice(r[3].get_name(), r[0], self.labels.get(r[3])) for r in canonical),
                index=len(self.choices),
                step=self.steps,
                continuing=natural[3] is self.last_task,
            )
            chosen = self._chooser.choose(point)
            if not 0 <= chosen < len(canonical):
                raise ValueError(f"strategy chose {chosen} among {len(canonical)} options")
            self.choices.append(chosen)
        _, _, handle, task = canonical[chosen]
        _cpython.set_ready_queue(self, deque(h for h in ready_queue if h is not handle))
        label, now = self.labels.get(task), self._now
        self.labels[task] = None
        self.last_task = task
        self.steps += 1
        if not self.detailed:
            handle._run()
            self.trace.append(TraceEntry(self.steps, task.get_name(), label, now))
            return True
        resumed_at = self._where.get(task, START)
        handle._run()
        next_at = self._where[task] = _suspended_at(task)
        next_label = None
        if not task.done():
            next_label = self.labels.get(task)
            if next_label is None and (waited := _waited_primitive(_coroutine_frames(task))) is not None:
                next_label = f"waits on {describe_primitive(waited, self.names.get(id(waited)))}"
        self.trace.append(
            TraceEntry(self.steps, task.get_name(), label, now, resumed_at, next_at, next_label)
        )
        return True

    def _run_plumbing(self) -> None:
        ready_queue = _cpython.ready_queue(self)
        while True:
            self._fire_due_timers()
            index = next(
                (i for i, h in enumerate(ready_queue) if h.cancelled() or self.task_of(h) is None),
                None,
            )
            if index is None:
                return
            handle = ready_queue[index]
            del ready_queue[index]
            if handle.cancelled():
                continue
            self._plumbing_runs += 1
            if self._plumbing_runs > self._plumbing_limit:
                raise StepLimitExceeded(f"more than {self._plumbing_limit} non-task callbacks ran")
            handle._run()

    def _fire_due_timers(self) -> None:
        heap = _cpython.timer_heap(self)
        due: list[_SeqTimerHandle] = []
        while heap and (heap[0].cancelled() or heap[0].when() <= self._now):
            timer = heapq.heappop(heap)
            _cpython.mark_timer_scheduled(timer, False)
            if timer.cancelled():
                continue
            if not isinstance(timer, _SeqTimerHandle):
                raise TypeError(f"timer {timer!r} was not created by ControlledLoop.call_at")
            due.append(timer)
        if len(due) > 1 and any(not _is_asyncio_callback(_cpython.handle_callback(t)) for t in due):
            due = self._order_timers(due)
        _cpython.ready_queue(self).extend(due)

    def _order_timers(self, due: list[_SeqTimerHandle]) -> list[_SeqTimerHandle]:
        remaining = sorted(due, key=lambda t: t.seq)
        ordered: list[_SeqTimerHandle] = []
        while len(remaining) > 1:
            point = ChoicePoint(
                options=tuple(Choice(f"timer:{t.creator}", t.seq, None) for t in remaining),
                index=len(self.choices),
                step=self.steps,
                continuing=False,
                kind="timer",
            )
            chosen = self._chooser.choose(point)
            self.choices.append(chosen)
            ordered.append(remaining.pop(chosen))
        return ordered + remaining

    def _advance_time(self) -> bool:
        heap = _cpython.timer_heap(self)
        while heap and heap[0].cancelled():
            _cpython.mark_timer_scheduled(heapq.heappop(heap), False)
        if not heap:
            return False
        self._now = max(self._now, heap[0].when())
        return True

    def describe_blocked(self) -> list[BlockedTask]:
        return [describe_wait(t, self.names) for t in self.tasks if not t.done()]


def _is_asyncio_callback(callback: Callable[..., object]) -> bool:
    module = getattr(callback, "__module__", None) or ""
    return module.startswith("asyncio") or module == "_asyncio"


def _suspended_at(task: asyncio.Task[Any]) -> str:
    """Where a task that just ran a step stopped: its next yield, or how it ended."""
    if not task.done():
        return frame_location(innermost_user_frame(_coroutine_frames(task)))
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    if error is None:
        return "finished"
    at = raise_location(error)
    return f"raised {type(error).__name__}" + (f" at {at}" if at else "")


# --- yield points ---------------------------------------------------------------------------


async def yield_point(label: str | None = None) -> None:
    """Mark a shared-state access: the strategy may run any other ready task before the caller
    resumes. Outside a ControlledLoop it is `asyncio.sleep(0)`, so production code may keep it.
    """
    loop = asyncio.get_running_loop()
    if isinstance(loop, ControlledLoop):
        task = asyncio.current_task()
        if task is not None:
            loop.labels[task] = label
    await asyncio.sleep(0)


def current_step() -> int:
    """Task steps run so far in the current controlled run (0 outside one): a clock for models
    whose invariant bounds how long something may wait."""
    loop = asyncio.get_running_loop()
    return loop.steps if isinstance(loop, ControlledLoop) else 0


# --- describing a stuck task ----------------------------------------------------------------


@dataclass(frozen=True)
class BlockedTask:
    """An unfinished task (or thread) of a stuck run and what it waits on."""

    task: str
    waits_on: str  # e.g. "Lock 'seen_count' held by 'writer'"
    location: str  # innermost user frame: "file.py:42 in select_updates"

    def __str__(self) -> str:
        return f"{self.task} waits on {self.waits_on} at {self.location}"


def _coroutine_frames(task: asyncio.Task[Any]) -> list[types.FrameType]:
    """Frames of the task's await chain, outermost first (Task.get_stack shows only one)."""
    frames: list[types.FrameType] = []
    coro: Any = task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frames


_PRIMITIVES = (asyncio.Lock, asyncio.Event, asyncio.Condition, asyncio.Semaphore, asyncio.Queue)


def _waited_primitive(frames: list[types.FrameType]) -> object | None:
    """The asyncio primitive whose method the task is suspended in, if any."""
    for frame in reversed(frames):
        owner = frame.f_locals.get("self")
        if isinstance(owner, _PRIMITIVES):
            return owner
    return None


def describe_wait(task: asyncio.Task[Any], names: dict[int, str] | None = None) -> BlockedTask:
    frames = _coroutine_frames(task)
    primitive = _waited_primitive(frames)
    waits_on = None if primitive is None else describe_primitive(primitive, (names or {}).get(id(primitive)))
    waiter = _cpython.task_waiter(task)
    if waits_on is None:
        if isinstance(waiter, asyncio.Task | _PyTask):
            waits_on = f"task {waiter.get_name()!r}"
        elif waiter is not None:
            waits_on = f"a future nothing will complete: {waiter!r}"
        else:
            waits_on = "nothing (ready but never scheduled)"
    location = frame_location(innermost_user_frame(frames), with_function=True)
    return BlockedTask(task.get_name(), waits_on, location)
