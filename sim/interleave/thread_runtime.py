"""The controlled thread scheduler: run threads one at a time, and a strategy picks which.

The thread counterpart of `loop.py`, after shuttle (awslabs/shuttle) and loom for Rust: every
thread of the model is a real OS thread, but exactly one runs at a time; the others are parked
at a *scheduling point*, each waiting for its own baton. The controller — the thread that called
`run_model` — chooses at every step which parked thread runs next, hands it the baton and waits
until it parks again or finishes. So a run is a sequence of steps, like an asyncio run, and the
same strategies, replay strings, shrinking and deadlock reports apply unchanged. The controlled
primitives that park threads, and the patching of `threading`, are in `threads.py`.

Rules:

1. Scheduling points: before every operation that may block — acquiring a lock or semaphore
   (blocking or not), `Event.wait`, `Condition.wait`, `Thread.join` — and at `point("label")`,
   an explicit shared-memory access worth interleaving. Code between two points runs
   atomically, exactly as between two awaits of an asyncio task, so mark the unprotected
   accesses a race needs with `point`. Unlike shuttle there is no point *after* a release, set,
   notify or start: what they enable can run at the thread's next point, and everything in
   between is atomic by this rule anyway — so the extra point would only double the depth of
   every schedule (with it, DFS needed 1105 schedules instead of 429 to find the pool-eviction
   port).
2. A parked thread is *enabled* when its pending operation can proceed (the lock is free, the
   event is set, the condition was notified and its lock is free, the joined thread finished).
   Canonical order as in loop.py: the thread that ran last first, then by creation order.
3. Time is virtual. A timed wait (`acquire(timeout=...)`, `wait(timeout)`, `join(timeout)`) times
   out only when no thread is enabled: time then jumps to the earliest deadline.
4. A managed thread that does not reach its next scheduling point within `STALL_TIMEOUT_S` of
   wall time (blocked on an uncontrolled primitive, I/O, `time.sleep`, or looping without a
   point) stops the run as a ``stalled`` failure naming the thread and where it is.
5. Threads started (`Thread.start`) from the controller or a managed thread are managed; their
   names, when `threading` made them up ("Thread-7", a process-wide counter), become
   "<target>#<order>" so runs replay. Other threads of the process are left alone.
"""

from __future__ import annotations

import _thread
import contextlib
import itertools
import re
import sys
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .loop import BlockedTask, Choice, ChoicePoint, Chooser
from .trace import (
    FINISHED,
    START,
    TraceEntry,
    frame_location,
    innermost_user_frame,
    is_user_file,
    raise_location,
)

STALL_TIMEOUT_S = 10.0

_real_start = threading.Thread.start
_real_join = threading.Thread.join
_real_is_alive = threading.Thread.is_alive
_AUTO_NAME = re.compile(r"Thread-\d+( \(.*\))?")


class Stalled(RuntimeError):
    """A managed thread did not come back to a scheduling point in time (rule 4)."""


class _Abort(BaseException):
    """Unwinds a parked thread when its run is over (BaseException: `except Exception` in the
    code under test does not swallow it)."""


# --- which world the calling thread lives in -------------------------------------------------


@dataclass
class _Context:
    controller: int  # thread ident of the controller
    runtime: ThreadRuntime | None = None
    unnamed: dict[str, int] = field(default_factory=dict)  # site -> unnamed primitives made there


_context: _Context | None = None


def activate() -> None:
    """Make the calling thread the controller of a controlled run (threads.patched_threading)."""
    global _context
    _context = _Context(threading.get_ident())


def deactivate() -> None:
    global _context
    _context = None


def active_controller() -> int | None:
    return _context.controller if _context is not None else None


def count_unnamed(site: str) -> int:
    """How many unnamed primitives the current run has made at `site`, this one included."""
    if _context is None:
        return 0
    _context.unnamed[site] = count = _context.unnamed.get(site, 0) + 1
    return count


def _caller_is_threading_module(depth: int) -> bool:
    return sys._getframe(depth + 1).f_globals.get("__name__") == "threading"


def controlled_creation(depth: int = 1) -> bool:
    """Whether a primitive created now (by the frame `depth` above the caller) is controlled."""
    ctx = _context
    if ctx is None or _caller_is_threading_module(depth + 1):
        return False
    ident = threading.get_ident()
    return ident == ctx.controller or (ctx.runtime is not None and ident in ctx.runtime.by_ident)


def managed_thread() -> tuple[ThreadRuntime, _Managed] | None:
    ctx = _context
    if ctx is None or ctx.runtime is None:
        return None
    me = ctx.runtime.by_ident.get(threading.get_ident())
    return (ctx.runtime, me) if me is not None else None


def on_controller() -> bool:
    ctx = _context
    return ctx is not None and threading.get_ident() == ctx.controller


# --- pending operations: what a parked thread is about to do ------------------------------


class Op:
    """What a parked thread waits to do; `enabled()` says whether it may run now."""

    deadline: float | None = None  # virtual time at which a timed wait gives up
    timed_out = False

    def enabled(self) -> bool:
        return True

    def expire(self) -> None:
        self.timed_out, self.deadline = True, None

    def label(self) -> str | None:
        return None

    def waits_on(self) -> str:
        return "nothing (ready)"


@dataclass(eq=False)
class _Point(Op):
    text: str | None

    def label(self) -> str | None:
        return self.text


@dataclass(eq=False)
class _Start(Op):
    pass


def timed(op: Op, timeout: float | None, now: float) -> None:
    if timeout is not None and timeout >= 0:
        op.deadline = now + timeout


class _Join(Op):
    def __init__(self, target: _Managed, timeout: float | None, now: float) -> None:
        self.target = target
        timed(self, timeout, now)

    def enabled(self) -> bool:
        return self.target.finished or self.timed_out

    def label(self) -> str:
        return f"join {self.target.name!r}"

    def waits_on(self) -> str:
        return f"thread {self.target.name!r} to finish"


# --- the scheduler ----------------------------------------------------------------------------


@dataclass(eq=False)
class _Managed:
    name: str
    order: int
    thread: threading.Thread
    baton: _thread.LockType
    pending: Op = field(default_factory=_Start)
    where: str = START
    finished: bool = False
    error: BaseException | None = None
    abort: bool = False
    ident: int | None = None


class ThreadRuntime:
    """Runs managed threads one step at a time; the `Runtime` that `run_model` drives."""

    def __init__(
        self, chooser: Chooser, *, detailed: bool = True, stall_timeout_s: float | None = None
    ) -> None:
        self._chooser = chooser
        self.detailed = detailed
        self.stall_timeout_s = STALL_TIMEOUT_S if stall_timeout_s is None else stall_timeout_s
        self.now = 0.0
        self.threads: list[_Managed] = []
        self.by_ident: dict[int, _Managed] = {}
        self.by_thread: dict[threading.Thread, _Managed] = {}
        self.choices: list[int] = []
        self.trace: list[TraceEntry] = []
        self.steps = 0
        self.last: _Managed | None = None
        self.stalled: _Managed | None = None
        self._seq = itertools.count()
        self._to_controller = _thread.allocate_lock()
        self._to_controller.acquire()
        self._reported: set[int] = set()

    # --- the Runtime interface ------------------------------------------------------------

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        ctx = _context
        if ctx is None or ctx.controller != threading.get_ident():
            raise RuntimeError("ThreadRuntime.running() needs patched_threading() on this thread")
        ctx.runtime = self
        try:
            yield
        finally:
            ctx.runtime = None

    def attach(self, state: object) -> None:
        """Name the unnamed primitives of the model's state after their place in it."""
        from .threads import name_primitives  # threads.py builds on this module

        name_primitives(state)

    def spawn(self, name: str | None, body: Callable[[], object] | Any) -> None:
        if not callable(body):
            raise TypeError(f"thread {name!r}: expected a callable, got {type(body).__name__}")
        thread = threading.Thread(target=body, name=name)
        self.start_managed(thread)

    def step(self) -> bool:
        """Run one thread from its scheduling point to the next. False: nothing can ever run."""
        while True:
            enabled = [m for m in self.threads if not m.finished and m.pending.enabled()]
            if enabled:
                break
            if not self._expire_earliest_timeout():
                return False
        natural = self.last if self.last in enabled else enabled[0]
        canonical = [natural] + [m for m in enabled if m is not natural]
        chosen = 0
        if len(canonical) > 1:
            point = ChoicePoint(
                options=tuple(Choice(m.name, m.order, _user_label(m.pending)) for m in canonical),
                index=len(self.choices),
                step=self.steps,
                continuing=natural is self.last,
            )
            chosen = self._chooser.choose(point)
            if not 0 <= chosen < len(canonical):
                raise ValueError(f"strategy chose {chosen} among {len(canonical)} options")
            self.choices.append(chosen)
        me = canonical[chosen]
        label = me.pending.label() if self.detailed else _user_label(me.pending)
        resumed_at, now = me.where, self.now
        self.last = me
        self.steps += 1
        self._resume(me)
        if not self.detailed:
            self.trace.append(TraceEntry(self.steps, me.name, label, now))
            return True
        if me.finished:
            next_at = FINISHED
            if me.error is not None:
                at = raise_location(me.error)
                next_at = f"raised {type(me.error).__name__}" + (f" at {at}" if at else "")
            next_label = None
        else:
            next_at, next_label = me.where, me.pending.label()
        self.trace.append(TraceEntry(self.steps, me.name, label, now, resumed_at, next_at, next_label))
        return True

    def new_error(self) -> tuple[str, BaseException] | None:
        for m in self.threads:
            if m.finished and m.error is not None and m.order not in self._reported:
                self._reported.add(m.order)
                return m.name, m.error
        return None

    def describe_blocked(self) -> list[BlockedTask]:
        frames = sys._current_frames()
        out = []
        for m in self.threads:
            if m.finished:
                continue
            location = "?"
            if m.ident is not None and m.ident in frames:
                location = frame_location(innermost_user_frame(_stack(frames[m.ident])), with_function=True)
            out.append(BlockedTask(m.name, m.pending.waits_on(), location))
        return out

    def annotate_last(self, state: str) -> None:
        if self.trace:
            last = self.trace[-1]
            self.trace[-1] = TraceEntry(
                last.step, last.task, last.label, last.time, last.resumed_at, last.next_at,
                last.next_label, state,
            )  # fmt: skip

    def teardown(self) -> None:
        """Unwind every parked thread (`_Abort` runs its finally-blocks) and reap the OS threads."""
        for m in self.threads:
            if m.finished or m is self.stalled:
                continue
            m.abort = True
            m.baton.release()
            self._to_controller.acquire(timeout=self.stall_timeout_s)
        for m in self.threads:
            if m is not self.stalled:
                _real_join(m.thread, self.stall_timeout_s)

    # --- managed threads --------------------------------------------------------------------

    def start_managed(self, thread: threading.Thread) -> None:
        order = next(self._seq)
        if _AUTO_NAME.fullmatch(thread.name):  # "Thread-N" counts process-wide: not replayable
            target = getattr(thread, "_target", None)
            thread.name = f"{getattr(target, '__name__', 'thread')}#{order}"
        baton = _thread.allocate_lock()
        baton.acquire()
        me = _Managed(thread.name, order, thread, baton)
        self.threads.append(me)
        self.by_thread[thread] = me
        body = thread.run

        def run() -> None:
            me.ident = threading.get_ident()
            self.by_ident[me.ident] = me
            me.baton.acquire()  # wait to be scheduled for the first time
            try:
                if not me.abort:
                    body()
            except _Abort:
                pass
            except BaseException as exc:  # the run reports it; threading.excepthook stays quiet
                me.error = exc
            finally:
                me.finished = True
                self._to_controller.release()

        thread.run = run  # type: ignore[method-assign]
        thread.daemon = True  # a thread stalled on a real lock must not keep the process alive
        _real_start(thread)

    def park(self, me: _Managed, op: Op) -> None:
        """Called by the running managed thread: stop at a scheduling point until chosen again."""
        if me.abort:
            raise _Abort
        me.pending = op
        if self.detailed:
            me.where = frame_location(_innermost_user(sys._getframe(1)))
        self._to_controller.release()
        me.baton.acquire()
        if me.abort:
            raise _Abort

    def _resume(self, me: _Managed) -> None:
        me.baton.release()
        if not self._to_controller.acquire(timeout=self.stall_timeout_s):
            self.stalled = me
            frames = sys._current_frames()
            where = "?"
            if me.ident is not None and me.ident in frames:
                where = frame_location(innermost_user_frame(_stack(frames[me.ident])), with_function=True)
            raise Stalled(
                f"thread {me.name!r} did not reach a scheduling point within {self.stall_timeout_s:g} s; "
                f"it is at {where} (blocked on a primitive created before the run, I/O, time.sleep, "
                "or looping without a point)"
            )

    def _expire_earliest_timeout(self) -> bool:
        timed = [m for m in self.threads if not m.finished and m.pending.deadline is not None]
        if not timed:
            return False
        earliest = min(m.pending.deadline for m in timed if m.pending.deadline is not None)
        self.now = max(self.now, earliest)
        for m in timed:
            if m.pending.deadline is not None and m.pending.deadline <= self.now:
                m.pending.expire()
        return True


def _user_label(op: Op) -> str | None:
    return op.text if isinstance(op, _Point) else None


def _stack(frame: types.FrameType | None) -> list[types.FrameType]:
    frames = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    return frames


def _innermost_user(frame: types.FrameType | None) -> types.FrameType | None:
    while frame is not None and not is_user_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


# --- explicit scheduling points ---------------------------------------------------------------


def in_managed_thread() -> bool:
    return managed_thread() is not None


def thread_point(label: str | None = None) -> None:
    """In a managed thread: a scheduling point (another thread may run before this one goes
    on). Anywhere else: nothing."""
    managed = managed_thread()
    if managed is not None:
        runtime, me = managed
        runtime.park(me, _Point(label))


# --- Thread interception ------------------------------------------------------------------


def start_thread(thread: threading.Thread) -> None:
    ctx = _context
    runtime = ctx.runtime if ctx is not None else None
    managed = managed_thread()
    if managed is None and not on_controller():
        _real_start(thread)  # some other thread of the process: not ours to control
        return
    if runtime is None:
        raise RuntimeError(
            f"thread {thread.name!r} started where the explorer cannot control it: in setup, "
            "tasks(state), or a task of an asyncio model (run_in_executor, asyncio.to_thread). "
            "Threads are explored in thread models: return the thread bodies from tasks(state), "
            "or start threads from inside them"
        )
    runtime.start_managed(thread)


def join_thread(thread: threading.Thread, timeout: float | None = None) -> None:
    managed = managed_thread()
    target = managed[0].by_thread.get(thread) if managed is not None else None
    if managed is None or target is None:
        _real_join(thread, timeout)
        return
    runtime, me = managed
    if target is me:
        raise RuntimeError("cannot join current thread")
    runtime.park(me, _Join(target, timeout, runtime.now))


def thread_is_alive(thread: threading.Thread) -> bool:
    ctx = _context
    if ctx is not None and ctx.runtime is not None and thread in ctx.runtime.by_thread:
        return not ctx.runtime.by_thread[thread].finished
    return _real_is_alive(thread)
