"""The phi accrual failure detector, as Akka implements it, in seconds.

This module owns the suspicion level of monitored peers: the history of heartbeat inter-arrival
times (`HeartbeatHistory`), the logistic approximation of the normal CDF (`phi`), the detector
that combines them (`PhiAccrualDetector`) and one per peer (`PeerDetectors`). It is a port of Akka's
`akka.remote.PhiAccrualFailureDetector` and `HeartbeatHistory` (Hayashibara et al., "The φ
accrual failure detector", 2004); Akka counts milliseconds, we count seconds.

Pure: every input takes `now` (seconds, any monotonic origin); nothing reads a clock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from .errors import ConfigError, LocalProtocolError

__all__ = ["HeartbeatHistory", "PeerDetectors", "PhiAccrualDetector", "phi"]


def phi(time_diff: float, mean: float, std_deviation: float) -> float:
    """Suspicion level -log10(1 - CDF(time_diff)) of N(mean, std_deviation), never raising.

    Akka's logistic approximation of the normal CDF (β Mathematics Handbook; error 0.00014 at
    ±3.16 std). Units only need to agree: the result depends on (time_diff - mean) / std.
    A silence so long that the tail probability underflows gives `math.inf`; a heartbeat far
    earlier than expected gives 0.0. A zero standard deviation is a step function.
    """
    if std_deviation <= 0.0:
        # Zero variance: every interval so far was identical; anything later is certain failure.
        return math.inf if time_diff > mean else 0.0
    y = (time_diff - mean) / std_deviation
    try:
        e = math.exp(-y * (1.5976 + 0.070566 * y * y))
    except OverflowError:
        # Far earlier than the mean (Akka's phi(-25, 0, 1)): Java's exp gives Infinity there,
        # so the CDF is 0 and phi is 0.
        e = math.inf
    # Past the mean, e/(1+e) keeps precision far into the tail; 1 - CDF would round to 0.
    tail = e / (1.0 + e) if time_diff > mean else 1.0 - 1.0 / (1.0 + e)
    if tail <= 0.0:
        # e underflowed to 0.0: the survival probability is below what a double can hold.
        return math.inf
    # `+ 0.0` turns -0.0 (from -log10(1.0)) into 0.0.
    return -math.log10(tail) + 0.0


class HeartbeatHistory:
    """The last `max_sample_size` heartbeat intervals (seconds), with O(1) mean and variance.

    As Akka's `HeartbeatHistory`, the running sum and squared sum are updated on every append
    and eviction, so a heartbeat costs O(1) whatever the window. Statistics of an empty history
    are undefined (Akka throws); the detector always seeds two intervals before asking.
    """

    __slots__ = ("_interval_sum", "_intervals", "_max_sample_size", "_squared_interval_sum")

    def __init__(self, max_sample_size: int) -> None:
        if max_sample_size < 1:
            raise ConfigError(f"max_sample_size must be >= 1, got {max_sample_size!r}")
        self._max_sample_size = max_sample_size
        self._intervals: deque[float] = deque()
        self._interval_sum = 0.0
        self._squared_interval_sum = 0.0

    def append(self, interval_s: float) -> None:
        """Record one inter-arrival time, evicting the oldest once the window is full."""
        if len(self._intervals) >= self._max_sample_size:
            oldest = self._intervals.popleft()
            self._interval_sum -= oldest
            self._squared_interval_sum -= oldest * oldest
        self._intervals.append(interval_s)
        self._interval_sum += interval_s
        self._squared_interval_sum += interval_s * interval_s

    def __len__(self) -> int:
        return len(self._intervals)

    @property
    def mean(self) -> float:
        """Mean interval in seconds. Raises ZeroDivisionError when empty, as Akka does."""
        return self._interval_sum / len(self._intervals)

    @property
    def variance(self) -> float:
        """Population variance in s², never negative."""
        mean = self.mean
        # E[x²] - E[x]² cancels catastrophically for identical intervals and can land a few ulps
        # below zero, where sqrt would raise; the true value there is 0.
        return max(0.0, self._squared_interval_sum / len(self._intervals) - mean * mean)

    @property
    def std_deviation(self) -> float:
        """Population standard deviation in seconds."""
        return math.sqrt(self.variance)


class PhiAccrualDetector:
    """Akka's `PhiAccrualFailureDetector` for one peer, in seconds, driven by explicit `now`.

    Inputs: `heartbeat(now)` when the peer shows a sign of life; `phi(now)` and
    `is_available(now)` ask for the verdict at `now`. Before the first heartbeat the peer is not
    monitored and phi is 0.0 (healthy). The first heartbeat seeds the history with two intervals
    of mean `first_heartbeat_estimate` and std a quarter of it, so a peer that beats once and
    falls silent still becomes suspect. A heartbeat that arrives while phi is already at the
    threshold updates the timestamp but is not added to the history: one long pause must not
    teach the detector that long pauses are normal.
    """

    __slots__ = (
        "_acceptable_heartbeat_pause",
        "_first_heartbeat_estimate",
        "_history",
        "_last_heartbeat_at",
        "_max_sample_size",
        "_min_std_deviation",
        "threshold",
    )

    def __init__(
        self,
        *,
        threshold: float = 8.0,
        max_sample_size: int = 1000,
        min_std_deviation: float = 0.1,
        acceptable_heartbeat_pause: float = 0.0,
        first_heartbeat_estimate: float = 1.0,
    ) -> None:
        """All durations in seconds. Invalid values raise `ConfigError` naming the argument."""
        # `not (x > 0)` rather than `x <= 0` so that NaN is refused too.
        if not threshold > 0.0:
            raise ConfigError(f"threshold must be > 0, got {threshold!r}")
        if max_sample_size < 1:
            raise ConfigError(f"max_sample_size must be >= 1, got {max_sample_size!r}")
        if not min_std_deviation > 0.0:
            raise ConfigError(f"min_std_deviation must be > 0 s, got {min_std_deviation!r}")
        if not acceptable_heartbeat_pause >= 0.0:
            raise ConfigError(
                f"acceptable_heartbeat_pause must be >= 0 s, got {acceptable_heartbeat_pause!r}"
            )
        if not first_heartbeat_estimate > 0.0:
            raise ConfigError(f"first_heartbeat_estimate must be > 0 s, got {first_heartbeat_estimate!r}")
        self.threshold = threshold
        self._max_sample_size = max_sample_size
        self._min_std_deviation = min_std_deviation
        self._acceptable_heartbeat_pause = acceptable_heartbeat_pause
        self._first_heartbeat_estimate = first_heartbeat_estimate
        self._history = self._seeded_history()
        self._last_heartbeat_at: float | None = None

    def _seeded_history(self) -> HeartbeatHistory:
        # Two intervals mean ± std give exactly that mean and std: a wide prior, since nothing
        # is known about the peer's link yet. (Akka divides integer millis by 4; we do not.)
        mean = self._first_heartbeat_estimate
        std_deviation = mean / 4.0
        history = HeartbeatHistory(self._max_sample_size)
        history.append(mean - std_deviation)
        history.append(mean + std_deviation)
        return history

    @property
    def is_monitoring(self) -> bool:
        """True once at least one heartbeat has been received."""
        return self._last_heartbeat_at is not None

    def heartbeat(self, now: float) -> None:
        """Record a sign of life at `now`. Raises `LocalProtocolError` if time went backwards."""
        last = self._last_heartbeat_at
        if last is None:
            self._history = self._seeded_history()
        else:
            if now < last:
                raise LocalProtocolError(
                    f"heartbeat at {now!r} s is before the previous heartbeat at {last!r} s"
                )
            if self.is_available(now):
                self._history.append(now - last)
        self._last_heartbeat_at = now

    def phi(self, now: float) -> float:
        """Suspicion level at `now`: 0.0 before any heartbeat, `math.inf` for a hopeless silence."""
        last = self._last_heartbeat_at
        if last is None:
            return 0.0
        std_deviation = max(self._history.std_deviation, self._min_std_deviation)
        return phi(now - last, self._history.mean + self._acceptable_heartbeat_pause, std_deviation)

    def is_available(self, now: float) -> bool:
        """True while phi at `now` is below the threshold."""
        return self.phi(now) < self.threshold


class PeerDetectors:
    """One `PhiAccrualDetector` per monitored peer, made by `new()` at the peer's first heartbeat.

    A peer never heard from has phi `math.inf`: with no sign of life there is no evidence that
    it is up. `forget` drops a peer that left the live set; it starts afresh if it comes back.
    """

    __slots__ = ("_by_peer", "_new")

    def __init__(self, new: Callable[[], PhiAccrualDetector]) -> None:
        self._new = new
        self._by_peer: dict[str, PhiAccrualDetector] = {}

    def heartbeat(self, peer: str, now: float) -> None:
        detector = self._by_peer.get(peer)
        if detector is None:
            detector = self._by_peer[peer] = self._new()
        detector.heartbeat(now)

    def phi(self, peer: str, now: float) -> float:
        detector = self._by_peer.get(peer)
        return math.inf if detector is None else detector.phi(now)

    def forget(self, peer: str) -> None:
        self._by_peer.pop(peer, None)
