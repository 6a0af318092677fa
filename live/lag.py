"""Event-loop lag: how late timers fire compared with when they were due.

A live run's detection times are the protocol's only if its timers fire on time. Every timer a
node's `LiveClock` fires reports `actual - scheduled` (seconds on the loop's monotonic clock)
here, with the loop time it fired at; `summary(since)` gives p50 / p99 / max of the firings
from `since` on (a run is judged from its first convergence, not its boot burst). A run whose
lag is a large fraction of the probe timeout measured the loop, not the protocol.
"""

from __future__ import annotations

from array import array


class LagMeter:
    """Collects timer lateness samples (seconds, >= 0) from every clock of a process."""

    __slots__ = ("_at", "_samples", "worst_s")

    def __init__(self) -> None:
        self._samples = array("d")
        self._at = array("d")
        self.worst_s = 0.0

    def record(self, late_s: float, at: float = 0.0) -> None:
        """One firing `late_s` late, at loop time `at`."""
        late = late_s if late_s > 0.0 else 0.0
        self._samples.append(late)
        self._at.append(at)
        if late > self.worst_s:
            self.worst_s = late

    def __len__(self) -> int:
        return len(self._samples)

    def reset(self) -> None:
        """Forget the samples so far (e.g. the start-up burst before steady state)."""
        self._samples = array("d")
        self._at = array("d")
        self.worst_s = 0.0

    def summary(self, since: float | None = None) -> dict[str, float | int]:
        """{"samples", "p50_s", "p99_s", "max_s"} of the firings at loop time >= `since` (all if
        None); zeros when nothing fired."""
        if since is None:
            ordered = sorted(self._samples)
        else:
            ordered = sorted(late for late, at in zip(self._samples, self._at, strict=True) if at >= since)
        if not ordered:
            return {"samples": 0, "p50_s": 0.0, "p99_s": 0.0, "max_s": 0.0}
        return {
            "samples": len(ordered),
            "p50_s": _quantile(ordered, 0.50),
            "p99_s": _quantile(ordered, 0.99),
            "max_s": ordered[-1],
        }


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted samples."""
    index = max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.5) - 1))
    return ordered[index]
