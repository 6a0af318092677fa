"""A node's local clock in the simulator: offset, drift and forward steps over global sim time.

Local time is piecewise linear in global time `t`: `local = base_local + rate * (t - base_t)`
with `rate = 1 + drift_ppm / 1e6`. A step or a drift change starts a new piece. Steps may only go
forward: the protocol reads a monotonic clock, and a backward step is a scenario error.

Timers are set on the local clock and mapped back to global time. When the mapping changes
(step, drift change) pending timers would fire at the wrong instant, so a clock created with
`track_timers=True` remembers them and re-arms them on the new mapping; the old arming is
recognised as stale by its generation number and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from swimlab.protocol.timers import Timer

if TYPE_CHECKING:
    from .kernel import Kernel


FireTimer = Callable[[int, int, float, Callable[[Timer], None], Timer, int], None]
"""The host's callback for a due timer: (epoch, clock generation, local `when`, callback, timer,
key in `pending`, 0 when timers are not tracked)."""


class ClockError(ValueError):
    """An impossible clock operation (a backward step, a non-positive rate)."""


class SimClock:
    """Implements `swimlab.protocol.transport.Clock` for one simulated host."""

    __slots__ = (
        "_base_local",
        "_base_t",
        "_floor",
        "_next_key",
        "_rate",
        "epoch_of",
        "fire",
        "generation",
        "kernel",
        "pending",
        "track_timers",
    )

    def __init__(
        self,
        kernel: Kernel,
        fire: FireTimer,
        epoch_of: Callable[[], int],
        offset_s: float = 0.0,
        drift_ppm: float = 0.0,
        track_timers: bool = False,
    ) -> None:
        self.kernel = kernel
        self.fire = fire
        self.epoch_of = epoch_of
        self._base_t = kernel.now
        self._base_local = offset_s + kernel.now
        self._rate = _rate(drift_ppm)
        self._floor = float("-inf")
        self.generation = 0
        self.track_timers = track_timers
        self._next_key = 0
        self.pending: dict[int, tuple[float, Callable[[Timer], None], Timer]] = {}

    # protocol.transport.Clock -------------------------------------------------------------
    def now(self) -> float:
        local = self._base_local + self._rate * (self.kernel.now - self._base_t)
        # Float rounding in the global<->local mapping must never make time run backwards.
        return local if local > self._floor else self._floor

    def call_at(self, when: float, callback: Callable[[Timer], None], timer: Timer) -> None:
        key = 0
        if self.track_timers:
            self._next_key = key = self._next_key + 1
            self.pending[key] = (when, callback, timer)
        self.kernel.call_at(
            self.to_global(when),
            self.fire,
            self.epoch_of(),
            self.generation,
            when,
            callback,
            timer,
            key,
        )

    # Mapping --------------------------------------------------------------------------------
    def to_global(self, local: float) -> float:
        return self._base_t + (local - self._base_local) / self._rate

    def reached(self, when: float) -> None:
        """A timer for local `when` fires now: pin local time to at least `when`."""
        if when > self._floor:
            self._floor = when

    # Clock faults -----------------------------------------------------------------------------
    def step(self, seconds: float) -> None:
        if seconds < 0:
            raise ClockError(f"clock step must be forward (monotonic clock), got {seconds} s")
        self._rebase()
        self._base_local += seconds
        self._rearm()

    def set_drift(self, drift_ppm: float) -> None:
        self._rebase()
        self._rate = _rate(drift_ppm)
        self._rearm()

    def _rebase(self) -> None:
        local = self.now()
        self._base_t = self.kernel.now
        self._base_local = local

    def _rearm(self) -> None:
        # Without tracking, pending timers keep their old global instants (late after a forward
        # step, off by the drift change): the runner enables tracking for every host it steps.
        if not self.track_timers:
            return
        self.generation += 1
        pending, self.pending = self.pending, {}
        for when, callback, timer in pending.values():
            self.call_at(when, callback, timer)


def _rate(drift_ppm: float) -> float:
    rate = 1.0 + drift_ppm / 1e6
    if rate <= 0:
        raise ClockError(f"clock drift must be > -1e6 ppm, got {drift_ppm}")
    return rate
