"""Named asyncio primitives: drop-in subclasses that know their name and holder.

They behave exactly like `asyncio.Lock`, `asyncio.Event` and `asyncio.Queue`; the only addition
is bookkeeping that makes a deadlock report readable ("Lock 'seen_count' held by 'writer'").
Plain asyncio primitives work under the explorer too, they are just described less precisely.
"""

from __future__ import annotations

import asyncio
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")


def _current_name() -> str:
    task = asyncio.current_task()
    return task.get_name() if task is not None else "?"


class Lock(asyncio.Lock):
    """An asyncio.Lock that records which task holds it."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.holder: str | None = None

    async def acquire(self) -> Literal[True]:
        await super().acquire()
        self.holder = _current_name()
        return True

    def release(self) -> None:
        self.holder = None
        super().release()

    def __repr__(self) -> str:
        return f"<Lock {self.name!r} held by {self.holder!r}>"


class Event(asyncio.Event):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __repr__(self) -> str:
        return f"<Event {self.name!r} {'set' if self.is_set() else 'unset'}>"


class Queue(asyncio.Queue[T], Generic[T]):
    def __init__(self, name: str, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.name = name

    def __repr__(self) -> str:
        return f"<Queue {self.name!r} size={self.qsize()}>"


def describe_primitive(obj: Any, path: str | None = None) -> str:
    """One phrase for a deadlock report or a trace. `path`: where the model state holds `obj`
    ("locks['alice']"), used when the primitive has no name of its own."""
    name = getattr(obj, "name", None)
    kind = type(obj).__name__
    called = f"{name!r}" if name else path
    if isinstance(obj, asyncio.Lock):
        if called is None:
            return f"an unnamed asyncio.Lock ({'locked' if obj.locked() else 'free'})"
        holder = getattr(obj, "holder", None)
        if holder:
            return f"Lock {called} held by {holder!r}"
        return f"Lock {called} ({'locked' if obj.locked() else 'free'})"
    if isinstance(obj, asyncio.Queue):
        what = f"Queue {called}" if called else "an unnamed asyncio.Queue"
        return f"{what} (size {obj.qsize()}, nothing will put or get)"
    if isinstance(obj, asyncio.Event):
        return f"Event {called} that nothing will set" if called else "an unnamed asyncio.Event"
    return f"{kind} {called}" if called else f"an unnamed asyncio.{kind}"
