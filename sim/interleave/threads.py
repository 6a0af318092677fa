"""Controlled threads: run `threading` code one thread at a time, and a strategy picks which.

The thread counterpart of `loop.py`, after shuttle (awslabs/shuttle) and loom for Rust: every
thread of the model is a real OS thread, but exactly one runs at a time; the others are parked
at a *scheduling point*, each waiting for its own baton. The controller — the thread that called
`run_model` — chooses at every step which parked thread runs next, hands it the baton and waits
until it parks again or finishes. So a run is a sequence of steps, like an asyncio run, and the
same strategies, replay strings, shrinking and deadlock reports apply unchanged.

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
4. While a run is active, `threading.Lock`, `RLock`, `Condition`, `Event`, `Semaphore` and
   `BoundedSemaphore` create controlled primitives when called from the controller or a managed
   thread (so `queue.Queue` built in a run is controlled too), and `Thread.start/join/is_alive`
   are intercepted for threads started from those. The `threading` module's own internals and
   every other thread of the process keep the real primitives. Primitives created before the run
   are real ones: a managed thread blocking on one cannot be controlled.
5. A managed thread that does not reach its next scheduling point within `STALL_TIMEOUT_S` of
   wall time (blocked on an uncontrolled primitive, I/O, `time.sleep`, or looping without a
   point) stops the run as a ``stalled`` failure naming the thread and where it is.
6. Not controlled: `threading.Barrier`, `threading.Timer`, `concurrent.futures`, `SimpleQueue`,
   timeouts measured with `time.monotonic` by the code under test (they see wall time).
"""

from __future__ import annotations

import _thread
import contextlib
import itertools
import linecache
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
    object_paths,
    raise_location,
)

STALL_TIMEOUT_S = 10.0

_RealEvent = threading.Event
_RealCondition = threading.Condition
_RealSemaphore = threading.Semaphore
_RealBoundedSemaphore = threading.BoundedSemaphore
_real_rlock = threading.RLock
_real_start = threading.Thread.start
_real_join = threading.Thread.join
_real_is_alive = threading.Thread.is_alive
_AUTO_NAME = re.compile(r"Thread-\d+( \(.*\))?")


class Stalled(RuntimeError):
    """A managed thread did not come back to a scheduling point in time (see rule 5)."""


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


def _caller_is_threading_module(depth: int) -> bool:
    return sys._getframe(depth + 1).f_globals.get("__name__") == "threading"


def _controlled_creation(depth: int = 1) -> bool:
    """Whether a primitive created now (by the frame `depth` above the caller) is controlled."""
    ctx = _context
    if ctx is None or _caller_is_threading_module(depth + 1):
        return False
    ident = threading.get_ident()
    return ident == ctx.controller or (ctx.runtime is not None and ident in ctx.runtime.by_ident)


def _managed() -> tuple[ThreadRuntime, _Managed] | None:
    ctx = _context
    if ctx is None or ctx.runtime is None:
        return None
    me = ctx.runtime.by_ident.get(threading.get_ident())
    return (ctx.runtime, me) if me is not None else None


def _on_controller() -> bool:
    ctx = _context
    return ctx is not None and threading.get_ident() == ctx.controller


_TARGET = re.compile(r"""(?:(\w+)\s*(?::\s*[\w.\[\]| ]+)?=|["'](\w+)["']\s*:)\s*$""")


def _creation_name() -> tuple[str | None, str]:
    """(name, site) for a primitive created without a name.

    The name is what the creating call is assigned to — variable, attribute or dict key
    (`self.updates = threading.Lock()`, `{"a": threading.Lock()}`), read from the source left of
    the call's column; the site is file:line, numbered "#k" when unnamed. Generated code (a
    dataclass `__init__`) is skipped like library code.
    """
    frame: types.FrameType | None = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<") or not is_user_file(frame.f_code.co_filename)
    ):
        frame = frame.f_back
    if frame is None:
        return None, "?"
    site = frame_location(frame)
    positions = list(frame.f_code.co_positions())
    index = frame.f_lasti // 2
    column = positions[index][2] if 0 <= index < len(positions) else None
    if column is not None:
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).encode()
        if match := _TARGET.search(line[:column].decode(errors="replace")):
            return match.group(1) or match.group(2), site
    if _context is not None:
        _context.unnamed[site] = count = _context.unnamed.get(site, 0) + 1
        site = f"#{count}@{site}"
    else:
        site = f"@{site}"
    return None, site


# --- pending operations: what a parked thread is about to do ------------------------------


class _Op:
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
class _Point(_Op):
    text: str | None

    def label(self) -> str | None:
        return self.text


@dataclass(eq=False)
class _Start(_Op):
    pass


def _timed(op: _Op, timeout: float | None, now: float) -> None:
    if timeout is not None and timeout >= 0:
        op.deadline = now + timeout


class _Acquire(_Op):
    def __init__(self, lock: _Lockish, blocking: bool, timeout: float | None, now: float) -> None:
        self.lock = lock
        self.blocking = blocking and timeout != 0
        _timed(self, timeout if self.blocking else None, now)

    def enabled(self) -> bool:
        return not self.blocking or self.timed_out or self.lock._can_take()

    def label(self) -> str:
        return f"acquire {self.lock._describe_short()}"

    def waits_on(self) -> str:
        return self.lock._describe()


class _Wait(_Op):
    """Condition.wait: notified (or timed out) and the condition's lock free again."""

    def __init__(self, cond: Condition, waiter: _Waiter, timeout: float | None, now: float) -> None:
        self.cond, self.waiter = cond, waiter
        _timed(self, timeout, now)

    def enabled(self) -> bool:
        return (self.waiter.notified or self.timed_out) and self.cond._lock_obj()._can_take()

    def label(self) -> str:
        return f"wait {self.cond._describe_short()}"

    def waits_on(self) -> str:
        if self.waiter.notified or self.timed_out:
            return f"{self.cond._describe_short()}'s lock, {self.cond._lock_obj()._describe()}"
        return f"{self.cond._describe_short()} that nothing will notify"


class _EventWait(_Op):
    def __init__(self, event: Event, timeout: float | None, now: float) -> None:
        self.event = event
        _timed(self, timeout, now)

    def enabled(self) -> bool:
        return self.event._flag or self.timed_out

    def label(self) -> str:
        return f"wait {self.event._describe_short()}"

    def waits_on(self) -> str:
        return f"{self.event._describe_short()} that nothing will set"


class _Join(_Op):
    def __init__(self, target: _Managed, timeout: float | None, now: float) -> None:
        self.target = target
        _timed(self, timeout, now)

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
    pending: _Op = field(default_factory=_Start)
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

    def park(self, me: _Managed, op: _Op) -> None:
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


def _user_label(op: _Op) -> str | None:
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


_REAL_TYPES: tuple[type, ...] = (
    _thread.LockType, type(_real_rlock()), _RealCondition, _RealEvent, _RealSemaphore,
)  # fmt: skip


def real_primitives_in(state: object) -> list[str]:
    """Paths (`cache.lock`) to real threading primitives reachable from `state`.

    A thread model's state must hold controlled primitives; a real one appears when a reference
    to `threading.Lock` was taken before the run — typically `field(default_factory=threading.Lock)`
    — and a managed thread blocking on it would stall the run.
    """
    controlled = (Lock, RLock, Condition, Event, Semaphore)
    return [
        p for p, obj in object_paths(state, (*_REAL_TYPES, *controlled)) if not isinstance(obj, controlled)
    ]


def name_primitives(state: object) -> None:
    """Name the unnamed controlled primitives reachable from `state` after their path in it."""
    for path, obj in object_paths(state, (Lock, RLock, Condition, Event, Semaphore)):
        if getattr(obj, "name", None) is None:
            setattr(obj, "name", _Path(path))  # noqa: B010 - the union has no common `name` attribute


class _Path(str):
    """A name taken from the primitive's place in the model state: printed without quotes."""

    def __repr__(self) -> str:
        return str(self)


# --- explicit scheduling points ---------------------------------------------------------------


def in_managed_thread() -> bool:
    return _managed() is not None


def thread_point(label: str | None = None) -> None:
    """In a managed thread: a scheduling point (another thread may run before this one goes
    on). Anywhere else: nothing."""
    managed = _managed()
    if managed is not None:
        runtime, me = managed
        runtime.park(me, _Point(label))


# --- controlled primitives ----------------------------------------------------------------


class _Lockish:
    """What conditions and deadlock reports need from Lock and RLock."""

    name: str | None
    site: str

    def _can_take(self) -> bool:
        raise NotImplementedError

    def _owner_name(self) -> str | None:
        raise NotImplementedError

    def _describe_short(self) -> str:
        kind = type(self).__name__
        return f"{kind} {self.name!r}" if self.name else f"{kind}{self.site}"

    def _describe(self) -> str:
        owner = self._owner_name()
        return f"{self._describe_short()} held by {owner!r}" if owner else f"{self._describe_short()} (free)"


def _who() -> str:
    managed = _managed()
    return managed[1].name if managed is not None else "controller"


class Lock(_Lockish):
    """A controlled `threading.Lock` (created by `threading.Lock()` during a run, or directly
    with a name for readable reports). Outside a run it is a plain real lock."""

    def __init__(self, name: str | None = None) -> None:
        inferred, self.site = _creation_name()
        self.name = name or inferred
        self._holder: str | None = None
        self._real: _thread.LockType | None = None

    def _can_take(self) -> bool:
        return self._holder is None

    def _owner_name(self) -> str | None:
        return self._holder

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        managed = _managed()
        if managed is not None:
            runtime, me = managed
            runtime.park(me, _Acquire(self, blocking, None if timeout < 0 else timeout, runtime.now))
            if self._holder is None:
                self._holder = me.name
                return True
            return False
        if _on_controller():
            if self._holder is None:
                self._holder = "controller"
                return True
            if blocking and timeout < 0:
                raise RuntimeError(f"{self._describe()}: the controller (setup, a check) would block forever")
            return False
        return self._real_lock().acquire(blocking, timeout)

    def release(self) -> None:
        managed = _managed()
        if managed is None and not _on_controller():
            self._real_lock().release()
            return
        if self._holder is None:
            raise RuntimeError("release unlocked lock")
        self._holder = None

    def locked(self) -> bool:
        if _managed() is None and not _on_controller():
            return self._real_lock().locked()
        return self._holder is not None

    def _real_lock(self) -> _thread.LockType:
        if self._real is None:
            self._real = _thread.allocate_lock()
        return self._real

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<controlled {self._describe()}>"


class RLock(_Lockish):
    """A controlled `threading.RLock`: re-entry by the owner is not a scheduling point."""

    def __init__(self, name: str | None = None) -> None:
        inferred, self.site = _creation_name()
        self.name = name or inferred
        self._owner: str | None = None
        self._count = 0
        self._real: Any = None

    def _can_take(self) -> bool:
        return self._owner is None

    def _owner_name(self) -> str | None:
        return self._owner

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        managed = _managed()
        if managed is None and not _on_controller():
            return bool(self._real_lock().acquire(blocking, timeout))
        me_name = managed[1].name if managed is not None else "controller"
        if self._owner == me_name:
            self._count += 1
            return True
        if managed is not None:
            runtime, me = managed
            runtime.park(me, _Acquire(self, blocking, None if timeout < 0 else timeout, runtime.now))
        elif self._owner is not None:
            if blocking and timeout < 0:
                raise RuntimeError(f"{self._describe()}: the controller (setup, a check) would block forever")
            return False
        if self._owner is None:
            self._owner, self._count = me_name, 1
            return True
        return False

    def release(self) -> None:
        managed = _managed()
        if managed is None and not _on_controller():
            self._real_lock().release()
            return
        if self._owner != _who():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count:
            return
        self._owner = None

    def _real_lock(self) -> Any:
        if self._real is None:
            self._real = _real_rlock()
        return self._real

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<controlled {self._describe()} count={self._count}>"


@dataclass(eq=False)
class _Waiter:
    notified: bool = False


class Condition(_RealCondition):
    """A controlled `threading.Condition` over a controlled Lock or RLock."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Condition and not _controlled_creation():
            return _RealCondition(*args, **kwargs)
        return object.__new__(cls)

    def __init__(self, lock: Lock | RLock | None = None, name: str | None = None) -> None:
        if lock is not None and not isinstance(lock, Lock | RLock):
            raise TypeError(
                f"a controlled Condition needs a controlled lock, got {lock!r} (created before the run?)"
            )
        inferred, self.site = _creation_name()
        self.name = name or inferred
        self._clock: Lock | RLock = lock if lock is not None else RLock()
        self._waiters: list[_Waiter] = []

    def _lock_obj(self) -> Lock | RLock:
        return self._clock

    def _describe_short(self) -> str:
        return f"Condition {self.name!r}" if self.name else f"Condition{self.site}"

    def __enter__(self) -> bool:
        return self._clock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._clock.release()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._clock.acquire(blocking, timeout)

    def release(self) -> None:
        self._clock.release()

    def _owned(self) -> bool:
        owner = self._clock._owner_name()
        return owner is not None and owner == _who()

    def wait(self, timeout: float | None = None) -> bool:
        if not self._owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        managed = _managed()
        if managed is None:
            raise RuntimeError(f"{self._describe_short()}: the controller (setup, a check) cannot wait")
        runtime, me = managed
        lock = self._clock
        saved = lock._count if isinstance(lock, RLock) else 1
        if isinstance(lock, RLock):
            lock._owner, lock._count = None, 0
        else:
            lock._holder = None
        waiter = _Waiter()
        self._waiters.append(waiter)
        op = _Wait(self, waiter, timeout, runtime.now)
        runtime.park(me, op)
        if not waiter.notified:
            self._waiters.remove(waiter)
        if isinstance(lock, RLock):
            lock._owner, lock._count = me.name, saved
        else:
            lock._holder = me.name
        return waiter.notified

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        managed = _managed()
        end = None if timeout is None or managed is None else managed[0].now + timeout
        result = predicate()
        while not result:
            if end is not None and managed is not None:
                remaining = end - managed[0].now
                if remaining <= 0:
                    break
                self.wait(remaining)
            else:
                self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        if not self._owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        for waiter in self._waiters[:n]:
            waiter.notified = True
        del self._waiters[:n]

    def notify_all(self) -> None:
        self.notify(len(self._waiters))

    def __repr__(self) -> str:
        return f"<controlled {self._describe_short()} waiters={len(self._waiters)}>"


class Event(_RealEvent):
    """A controlled `threading.Event`."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Event and not _controlled_creation():
            return _RealEvent()
        return object.__new__(cls)

    def __init__(self, name: str | None = None) -> None:
        inferred, self.site = _creation_name()
        self.name = name or inferred
        self._flag = False

    def _describe_short(self) -> str:
        return f"Event {self.name!r}" if self.name else f"Event{self.site}"

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True

    def clear(self) -> None:
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        managed = _managed()
        if managed is None:
            if self._flag:
                return True
            raise RuntimeError(f"{self._describe_short()}: the controller (setup, a check) cannot wait")
        runtime, me = managed
        runtime.park(me, _EventWait(self, timeout, runtime.now))
        return self._flag

    def __repr__(self) -> str:
        return f"<controlled {self._describe_short()} {'set' if self._flag else 'unset'}>"


class _SemAcquire(_Op):
    def __init__(self, sem: Semaphore, blocking: bool, timeout: float | None, now: float) -> None:
        self.sem = sem
        self.blocking = blocking and timeout != 0
        _timed(self, timeout if self.blocking else None, now)

    def enabled(self) -> bool:
        return not self.blocking or self.timed_out or self.sem._count > 0

    def label(self) -> str:
        return f"acquire {self.sem._describe_short()}"

    def waits_on(self) -> str:
        return f"{self.sem._describe_short()} (value 0, nothing will release it)"


class Semaphore(_RealSemaphore):
    """A controlled `threading.Semaphore`."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls in (Semaphore, BoundedSemaphore) and not _controlled_creation():
            real = _RealBoundedSemaphore if cls is BoundedSemaphore else _RealSemaphore
            return real(*args, **kwargs)
        return object.__new__(cls)

    def __init__(self, value: int = 1, name: str | None = None) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        inferred, self.site = _creation_name()
        self.name = name or inferred
        self._count = value
        self._initial = value

    def _describe_short(self) -> str:
        kind = type(self).__name__
        return f"{kind} {self.name!r}" if self.name else f"{kind}{self.site}"

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        managed = _managed()
        if managed is not None:
            runtime, me = managed
            runtime.park(me, _SemAcquire(self, blocking, timeout, runtime.now))
        elif self._count == 0 and blocking and timeout is None:
            raise RuntimeError(
                f"{self._describe_short()}: the controller (setup, a check) would block forever"
            )
        if self._count > 0:
            self._count -= 1
            return True
        return False

    def release(self, n: int = 1) -> None:
        self._count += n

    def __enter__(self, blocking: bool = True, timeout: float | None = None) -> bool:
        return self.acquire(blocking, timeout)

    def __exit__(self, *exc: object) -> None:
        self.release()


class BoundedSemaphore(Semaphore, _RealBoundedSemaphore):
    """A controlled `threading.BoundedSemaphore`."""

    def release(self, n: int = 1) -> None:
        if self._count + n > self._initial:
            raise ValueError("Semaphore released too many times")
        super().release(n)


def _lock_factory() -> Any:
    return Lock() if _controlled_creation() else _thread.allocate_lock()


def _rlock_factory(*args: Any, **kwargs: Any) -> Any:
    return RLock() if _controlled_creation() else _real_rlock(*args, **kwargs)


# --- Thread interception ------------------------------------------------------------------


def _start(thread: threading.Thread) -> None:
    ctx = _context
    runtime = ctx.runtime if ctx is not None else None
    managed = _managed()
    if managed is None and not _on_controller():
        _real_start(thread)  # some other thread of the process: not ours to control
        return
    if runtime is None:
        raise RuntimeError(
            f"thread {thread.name!r} started outside the model's threads (in setup or tasks?): "
            "return the thread bodies from tasks(state), or start threads from inside them"
        )
    runtime.start_managed(thread)


def _join(thread: threading.Thread, timeout: float | None = None) -> None:
    managed = _managed()
    target = managed[0].by_thread.get(thread) if managed is not None else None
    if managed is None or target is None:
        _real_join(thread, timeout)
        return
    runtime, me = managed
    if target is me:
        raise RuntimeError("cannot join current thread")
    runtime.park(me, _Join(target, timeout, runtime.now))


def _is_alive(thread: threading.Thread) -> bool:
    ctx = _context
    if ctx is not None and ctx.runtime is not None and thread in ctx.runtime.by_thread:
        return not ctx.runtime.by_thread[thread].finished
    return _real_is_alive(thread)


_PATCHES: dict[str, object] = {
    "Lock": _lock_factory,
    "RLock": _rlock_factory,
    "Condition": Condition,
    "Event": Event,
    "Semaphore": Semaphore,
    "BoundedSemaphore": BoundedSemaphore,
}


@contextlib.contextmanager
def patched_threading() -> Iterator[None]:
    """Within this block, on this thread and the threads a ThreadRuntime manages, `threading`
    creates controlled primitives (rule 4). Re-entrant; not for two controllers at once."""
    global _context
    if _context is not None:
        if _context.controller != threading.get_ident():
            raise RuntimeError("another thread is already running a controlled run in this process")
        yield
        return
    saved = {name: getattr(threading, name) for name in _PATCHES}
    _context = _Context(threading.get_ident())
    for name, value in _PATCHES.items():
        setattr(threading, name, value)
    methods = {"start": _start, "join": _join, "is_alive": _is_alive}
    saved_methods = {name: getattr(threading.Thread, name) for name in methods}
    for name, method in methods.items():
        setattr(threading.Thread, name, method)
    try:
        yield
    finally:
        for name, method in saved_methods.items():
            setattr(threading.Thread, name, method)
        for name, value in saved.items():
            setattr(threading, name, value)
        _context = None
