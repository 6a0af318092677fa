"""A node's local clock on an asyncio loop: offset, drift and forward steps over `loop.time()`.

This module owns the live runtime's `Clock` (`swimlab.protocol.transport`). As in the
simulator's `SimClock`, local time is piecewise linear in the loop's monotonic time `t`:
`local = base_local + rate * (t - base_t)`, `rate = 1 + drift_ppm / 1e6`; a step or a drift
change starts a new piece, and steps only go forward (the protocol reads a monotonic clock).

Rules:

- Timers are set on the local clock, mapped to loop time, and re-armed on the new mapping when a
  step or a drift change moves it (the handles are cancelled, so nothing fires twice).
- A timer never fires before its local deadline as the node sees it: loops may wake a hair
  early (uvloop rounds to milliseconds), so firing pins local time to at least the deadline.
- `reset()` drops every pending timer (a crashed process's timers die with it); the mapping
  stays, as a host's clock outlives its processes.
- Every firing reports its lateness (actual minus scheduled loop time) to the `LagMeter`.
- `dispatch` decides what firing means: by default call `callback(timer)`; a host that is
  paused queues it instead (see `live/host.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from itertools import count

from swimlab.protocol.timers import Timer

from .lag import LagMeter

TimerCallback = Callable[[Timer], None]
Dispatch = Callable[[float, TimerCallback, Timer], None]


class ClockError(ValueError):
    """An impossible clock operation (a backward step, a non-positive rate)."""


class LiveClock:
    """Implements `swimlab.protocol.transport.Clock` for one live host."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        offset_s: float = 0.0,
        drift_ppm: float = 0.0,
        lag: LagMeter | None = None,
    ) -> None:
        self.loop = loop
        self.lag = lag
        self.dispatch: Dispatch = self._run
        t = loop.time()
        self._base_t = t
        self._base_local = t + offset_s
        self._rate = _rate(drift_ppm)
        self._floor = float("-inf")
        self._keys = count()
        self._pending: dict[int, tuple[float, TimerCallback, Timer, asyncio.TimerHandle]] = {}

    # protocol.transport.Clock -------------------------------------------------------------
    def now(self) -> float:
        local = self._base_local + self._rate * (self.loop.time() - self._base_t)
        # Rounding in the loop<->local mapping must never make time run backwards.
        return local if local > self._floor else self._floor

    def call_at(self, when: float, callback: TimerCallback, timer: Timer) -> None:
        key = next(self._keys)
        at = self.to_loop_time(when)
        handle = self.loop.call_at(at, self._fire, key, at)
        self._pending[key] = (when, callback, timer, handle)

    # Mapping ------------------------------------------------------------------------------
    def to_loop_time(self, local: float) -> float:
        return self._base_t + (local - self._base_local) / self._rate

    def reached(self, when: float) -> None:
        """A timer for local `when` fires now: local time is at least `when` from here on."""
        if when > self._floor:
            self._floor = when

    @property
    def pending(self) -> int:
        return len(self._pending)

    # Faults -------------------------------------------------------------------------------
    def step(self, seconds: float) -> None:
        if seconds < 0:
            raise ClockError(f"clock step must be forward (monotonic clock), got {seconds} s")
        self._rebase()
        self._base_local += seconds
        self._rearm()

    def set_drift(self, drift_ppm: float) -> None:
        rate = _rate(drift_ppm)
        self._rebase()
        self._rate = rate
        self._rearm()

    def reset(self) -> None:
        """Drop every pending timer (the process they belonged to is gone)."""
        for _when, _callback, _timer, handle in self._pending.values():
            handle.cancel()
        self._pending.clear()

    # Internals ----------------------------------------------------------------------------
    def _fire(self, key: int, scheduled_at: float) -> None:
        entry = self._pending.pop(key, None)
        if entry is None:
            return
        when, callback, timer, _handle = entry
        if self.lag is not None:
            now = self.loop.time()
            self.lag.record(now - scheduled_at, now)
        self.dispatch(when, callback, timer)

    def _run(self, when: float, callback: TimerCallback, timer: Timer) -> None:
        self.reached(when)
        callback(timer)

    def _rebase(self) -> None:
        local = self.now()
        self._base_t = self.loop.time()
        self._base_local = local

    def _rearm(self) -> None:
        pending = list(self._pending.values())
        self.reset()
        for when, callback, timer, _handle in pending:
            self.call_at(when, callback, timer)


def _rate(drift_ppm: float) -> float:
    rate = 1.0 + drift_ppm / 1e6
    if rate <= 0:
        raise ClockError(f"clock drift must be > -1e6 ppm, got {drift_ppm}")
    return rate
