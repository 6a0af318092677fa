"""`point(label)`: an explicit scheduling point, for asyncio tasks and for threads alike.

Mark the shared-state accesses a race needs — a check, then the act on it — with `point`; real
synchronisation (awaits, locks, events, queues) is a scheduling point anyway.

- in an asyncio task: `await point("read idle")` (the controlled loop may switch tasks here;
  outside the explorer it is `asyncio.sleep(0)`, so production code may keep it);
- in a thread: `point("read idle")`, no await (the thread scheduler may switch threads here;
  outside the explorer it does nothing). The returned object is awaitable and harmless if
  unused, so one helper serves code that runs both ways.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Generator
from typing import Any

from . import thread_runtime
from .loop import yield_point


class _Done:
    """An awaitable that completes at once (what `point` returns where it does not suspend)."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


_DONE = _Done()


def point(label: str | None = None) -> Awaitable[None]:
    """A scheduling point labelled `label` (shown in traces and deadlock reports)."""
    if thread_runtime.in_managed_thread():
        thread_runtime.thread_point(label)
        return _DONE
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _DONE  # plain synchronous code outside the explorer: nothing to yield to
    return yield_point(label)
