"""Controlled `threading` primitives, and the patching that makes `threading` create them.

The scheduler that runs threads one at a time is `thread_runtime.py`; this module holds what
parks them: `Lock`, `RLock`, `Condition`, `Event`, `Semaphore`, `BoundedSemaphore`, each
behaving like its `threading` namesake but stopping at a scheduling point before any operation
that may block (thread_runtime.py, rule 1), and reporting what it waits on and who holds it.

Rules:

1. While a run is active (`patched_threading`), `threading.Lock`, `RLock`, `Condition`, `Event`,
   `Semaphore` and `BoundedSemaphore` create controlled primitives when called from the
   controller or a managed thread (so `queue.Queue` built in a run is controlled too), and
   `Thread.start/join/is_alive` are intercepted for threads started from those. The `threading`
   module's own internals and every other thread of the process keep the real primitives.
2. Primitives created before the run are real ones: a managed thread blocking on one cannot be
   controlled. `real_primitives_in(state)` finds them in a model's state so the run can refuse it.
3. Used by the controller (setup, a check) a controlled primitive acts at once and raises
   instead of blocking forever; used by a thread outside any run it is a plain real primitive.
4. Unnamed primitives are named after the variable, attribute or dict key they are assigned to,
   or their path in the model state (`locks['alice']`), or their file:line.
5. Not controlled: `threading.Barrier`, `threading.Timer`, `concurrent.futures`, `SimpleQueue`,
   timeouts measured with `time.monotonic` by the code under test (they see wall time).
"""

from __future__ import annotations

import _thread
import contextlib
import linecache
import re
import sys
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import thread_runtime
from .thread_runtime import (
    Op,
    controlled_creation,
    join_thread,
    managed_thread,
    on_controller,
    start_thread,
    thread_is_alive,
    timed,
)
from .trace import frame_location, is_user_file, object_paths

_RealEvent = threading.Event
_RealCondition = threading.Condition
_RealSemaphore = threading.Semaphore
_RealBoundedSemaphore = threading.BoundedSemaphore
_real_rlock = threading.RLock


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
    count = thread_runtime.count_unnamed(site)
    return None, f"#{count}@{site}" if count else f"@{site}"


class _Acquire(Op):
    def __init__(self, lock: _Lockish, blocking: bool, timeout: float | None, now: float) -> None:
        self.lock = lock
        self.blocking = blocking and timeout != 0
        timed(self, timeout if self.blocking else None, now)

    def enabled(self) -> bool:
        return not self.blocking or self.timed_out or self.lock._can_take()

    def label(self) -> str:
        return f"acquire {self.lock._describe_short()}"

    def waits_on(self) -> str:
        return self.lock._describe()


class _Wait(Op):
    """Condition.wait: notified (or timed out) and the condition's lock free again."""

    def __init__(self, cond: Condition, waiter: _Waiter, timeout: float | None, now: float) -> None:
        self.cond, self.waiter = cond, waiter
        timed(self, timeout, now)

    def enabled(self) -> bool:
        return (self.waiter.notified or self.timed_out) and self.cond._lock_obj()._can_take()

    def label(self) -> str:
        return f"wait {self.cond._describe_short()}"

    def waits_on(self) -> str:
        if self.waiter.notified or self.timed_out:
            return f"{self.cond._describe_short()}'s lock, {self.cond._lock_obj()._describe()}"
        return f"{self.cond._describe_short()} that nothing will notify"


class _EventWait(Op):
    def __init__(self, event: Event, timeout: float | None, now: float) -> None:
        self.event = event
        timed(self, timeout, now)

    def enabled(self) -> bool:
        return self.event._flag or self.timed_out

    def label(self) -> str:
        return f"wait {self.event._describe_short()}"

    def waits_on(self) -> str:
        return f"{self.event._describe_short()} that nothing will set"


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
    managed = managed_thread()
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
        managed = managed_thread()
        if managed is not None:
            runtime, me = managed
            runtime.park(me, _Acquire(self, blocking, None if timeout < 0 else timeout, runtime.now))
            if self._holder is None:
                self._holder = me.name
                return True
            return False
        if on_controller():
            if self._holder is None:
                self._holder = "controller"
                return True
            if blocking and timeout < 0:
                raise RuntimeError(f"{self._describe()}: the controller (setup, a check) would block forever")
            return False
        return self._real_lock().acquire(blocking, timeout)

    def release(self) -> None:
        managed = managed_thread()
        if managed is None and not on_controller():
            self._real_lock().release()
            return
        if self._holder is None:
            raise RuntimeError("release unlocked lock")
        self._holder = None

    def locked(self) -> bool:
        if managed_thread() is None and not on_controller():
            return self._real_lock().locked()
        return self._holder is not None

    def _real_lock(self) -> _thread.LockType:
        if self._real is None:
            self._real = _thread.allocate_lock()
        return self._real

    def _at_fork_reinit(self) -> None:  # what threading calls in a forked child
        self._holder, self._real = None, None

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
        managed = managed_thread()
        if managed is None and not on_controller():
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
        managed = managed_thread()
        if managed is None and not on_controller():
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

    def _at_fork_reinit(self) -> None:  # what threading calls in a forked child
        self._owner, self._count, self._real = None, 0, None

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
        if cls is Condition and not controlled_creation():
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
        managed = managed_thread()
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
        managed = managed_thread()
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
        if cls is Event and not controlled_creation():
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
        managed = managed_thread()
        if managed is None:
            if self._flag:
                return True
            raise RuntimeError(f"{self._describe_short()}: the controller (setup, a check) cannot wait")
        runtime, me = managed
        runtime.park(me, _EventWait(self, timeout, runtime.now))
        return self._flag

    def __repr__(self) -> str:
        return f"<controlled {self._describe_short()} {'set' if self._flag else 'unset'}>"


class _SemAcquire(Op):
    def __init__(self, sem: Semaphore, blocking: bool, timeout: float | None, now: float) -> None:
        self.sem = sem
        self.blocking = blocking and timeout != 0
        timed(self, timeout if self.blocking else None, now)

    def enabled(self) -> bool:
        return not self.blocking or self.timed_out or self.sem._count > 0

    def label(self) -> str:
        return f"acquire {self.sem._describe_short()}"

    def waits_on(self) -> str:
        return f"{self.sem._describe_short()} (value 0, nothing will release it)"


class Semaphore(_RealSemaphore):
    """A controlled `threading.Semaphore`."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls in (Semaphore, BoundedSemaphore) and not controlled_creation():
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
        managed = managed_thread()
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
    return Lock() if controlled_creation() else _thread.allocate_lock()


def _rlock_factory(*args: Any, **kwargs: Any) -> Any:
    return RLock() if controlled_creation() else _real_rlock(*args, **kwargs)


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
    creates controlled primitives (rule 1). Re-entrant; not for two controllers at once."""
    controller = thread_runtime.active_controller()
    if controller is not None:
        if controller != threading.get_ident():
            raise RuntimeError("another thread is already running a controlled run in this process")
        yield
        return
    saved = {name: getattr(threading, name) for name in _PATCHES}
    thread_runtime.activate()
    for name, value in _PATCHES.items():
        setattr(threading, name, value)
    methods = {"start": start_thread, "join": join_thread, "is_alive": thread_is_alive}
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
        thread_runtime.deactivate()
