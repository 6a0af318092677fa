"""The discrete-event kernel: a SimPy `Environment` that schedules plain callbacks cheaply.

Deliveries and timers are not SimPy processes (a generator per message costs ~5x): each is a
tiny slotted record pushed straight onto SimPy's heap, whose `step()` calls it back. Only two
attributes of a SimPy event are touched by `Environment.step` (`callbacks` and `_ok`), so the
record provides just those.

`run(until=t)` is SimPy's, with the loop inlined: it schedules the same stop event (same time,
priority and tie-break draw) and pops the heap itself, calling a `_Call` directly instead of
through `step()` and the callbacks list (two Python calls per event fewer); anything else on the
heap goes through SimPy's own `step()`.

Time: `Kernel.now` (SimPy's public property) is the one way the rest of sim/ reads the clock;
only this module touches SimPy's private `_now`, `_queue` and `_eid`, as it pushes onto its heap.

Same-instant ordering: SimPy breaks ties between events at the same time by a monotonically
increasing id (FIFO). Races between simultaneous events are exactly where bugs hide, so the id
here is a seeded random key with the counter in its low bits (unique, so ties never compare the
events themselves): same seed, same order; another seed, another order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from itertools import count
from typing import Any, cast

import simpy
from simpy.events import NORMAL, URGENT


def _dispatch(call: _Call) -> None:
    call.fn(*call.args)


_CALLBACKS = (_dispatch,)


class _Call:
    """A scheduled callback, shaped like the part of `simpy.Event` that `step()` uses."""

    __slots__ = ("_ok", "args", "callbacks", "fn")

    def __init__(self, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.callbacks: tuple[Callable[[_Call], None], ...] | None = _CALLBACKS
        self._ok = True
        self.fn = fn
        self.args = args


class _Stop:
    """The end of a `Kernel.run(until=...)`."""

    __slots__ = ()


def _tie_break_ids(rng: random.Random) -> Iterator[int]:
    getrandbits = rng.getrandbits
    for n in count():
        yield (getrandbits(24) << 40) | n


# SimPy's heap as we use it: its own events and our `_Call` records side by side.
_Heap = list[tuple[float, int, int, Any]]


class Kernel(simpy.Environment):
    """SimPy environment with seeded tie-breaks and a cheap `call_at`."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(0.0)
        # SimPy declares `_eid` an itertools.count; its scheduler only ever calls next() on it.
        self._eid = _tie_break_ids(rng)  # type: ignore[assignment]
        self._heap = cast(_Heap, self._queue)  # the same list, typed for the records we push
        self.scheduled = 0

    def call_at(self, when: float, fn: Callable[..., None], *args: Any) -> None:
        """Call `fn(*args)` at global time `when` (now, if `when` is in the past)."""
        now = self._now
        heappush(self._heap, (when if when > now else now, NORMAL, next(self._eid), _Call(fn, args)))
        self.scheduled += 1

    def call_urgent(self, when: float, fn: Callable[..., None], *args: Any) -> None:
        """Like `call_at`, but ahead of ordinary events at the same instant (fault operations)."""
        now = self._now
        heappush(self._heap, (when if when > now else now, URGENT, next(self._eid), _Call(fn, args)))
        self.scheduled += 1

    def run(self, until: Any = None) -> Any:
        """As `simpy.Environment.run`; a numeric `until` runs the inlined loop (see the module)."""
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = until if isinstance(until, int) else float(until)
        now = self._now
        if at <= now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = _Stop()
        heap = self._heap
        # Exactly what SimPy's run schedules: `schedule(until, URGENT, at - now)`.
        heappush(heap, (now + (at - now), URGENT, next(self._eid), stop))
        while True:
            item = heappop(heap)
            event = item[3]
            self._now = item[0]
            if type(event) is _Call:
                event.fn(*event.args)
            elif event is stop:
                return None
            else:  # a SimPy event: back on the heap (it is the smallest) for SimPy to process
                heappush(heap, item)
                self.step()

    @property
    def processed(self) -> int:
        """Callbacks run so far (scheduled minus still pending)."""
        return self.scheduled - sum(1 for e in self._heap if type(e[3]) is _Call)
