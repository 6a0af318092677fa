"""The one place that touches CPython's private asyncio internals, behind typed functions.

The three accessors on the loop's hot path return the private attribute as is (no `cast`: a
call per step adds up); their signatures are the typed interface.

The controlled loop needs five things asyncio does not expose: the ready queue and the timer
heap of `BaseEventLoop` (`_ready`, `_scheduled`), the callback of a handle (to trace a ready
step back to its task), the pure-Python task class (`_PyTask`, whose steps are ordinary
handles) and a few flags. They have been stable since Python 3.7; this module is tested on
3.11 by every interleave test. If a CPython release renames one, only this file changes.
"""

from __future__ import annotations

import asyncio
from asyncio import base_events, events
from asyncio import tasks as _asyncio_tasks
from collections import deque
from collections.abc import Callable
from typing import Any, cast

PyTask: type[asyncio.Task[Any]] = cast(type[asyncio.Task[Any]], _asyncio_tasks._PyTask)  # type: ignore[attr-defined]

get_running_loop_or_none: Callable[[], asyncio.AbstractEventLoop | None] = events._get_running_loop
set_running_loop: Callable[[asyncio.AbstractEventLoop | None], None] = events._set_running_loop


def ready_queue(loop: base_events.BaseEventLoop) -> deque[events.Handle]:
    """The loop's queue of callbacks ready to run now."""
    return loop._ready  # type: ignore[attr-defined,no-any-return]


def set_ready_queue(loop: base_events.BaseEventLoop, ready: deque[events.Handle]) -> None:
    loop._ready = ready  # type: ignore[attr-defined]


def timer_heap(loop: base_events.BaseEventLoop) -> list[events.TimerHandle]:
    """The loop's heap of pending timers (ordered by `TimerHandle.__lt__`)."""
    return loop._scheduled  # type: ignore[attr-defined,no-any-return]


def check_closed(loop: base_events.BaseEventLoop) -> None:
    loop._check_closed()  # type: ignore[attr-defined]


def set_owner_thread(loop: base_events.BaseEventLoop, ident: int | None) -> None:
    """What `run_forever` records so `call_soon_threadsafe` and debug checks know the thread."""
    loop._thread_id = ident  # type: ignore[attr-defined]


def handle_callback(handle: events.Handle) -> Callable[..., object]:
    return handle._callback  # type: ignore[attr-defined,no-any-return]


def mark_timer_scheduled(timer: events.TimerHandle, scheduled: bool) -> None:
    timer._scheduled = scheduled  # type: ignore[attr-defined]


def task_waiter(task: asyncio.Task[Any]) -> asyncio.Future[Any] | None:
    """The future a suspended task waits on, if any."""
    return cast("asyncio.Future[Any] | None", getattr(task, "_fut_waiter", None))


def silence_pending_destroy(task: asyncio.Task[Any]) -> None:
    """No "Task was destroyed but it is pending" warning: the run already reported the task."""
    task._log_destroy_pending = False  # type: ignore[attr-defined]
