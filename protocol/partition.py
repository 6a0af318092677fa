"""Partition detection: is this node's view suspiciously smaller than the cluster it expects?

This module owns one rule (the seed's `PartitionDetector`, made pure: time is an argument):
when the live member count drops below `threshold * expected_size`, detection starts at that
check; the status is SUSPECTED while less than `grace_period_s` has elapsed, PARTITIONED once
it has; the first check at or above the threshold reports HEALTHY and forgets the start.

Edge cases the seed left open, decided here:
- `threshold` outside [0, 1] or NaN, a negative or NaN `grace_period_s`, or a negative
  `expected_size` raise `ConfigError` naming the argument. `threshold == 0` never detects;
  `threshold == 1` detects any loss; an infinite grace period stays SUSPECTED forever.
- `grace_period_s == 0` reports PARTITIONED at the very first check below the threshold.
- `expected_size == 0` (nothing expected yet) is always HEALTHY.
- A negative `current_size`, a `now` earlier than the previous check's, or a non-finite `now` raise
  `LocalProtocolError`: they are the caller's bugs, and the detector's state is unchanged.
- `set_expected_size` keeps an ongoing detection running: the loss has not ended just because
  the expectation moved. The next `check` re-evaluates against the new threshold.
"""

from __future__ import annotations

import enum
import math
from fractions import Fraction

from .errors import ConfigError, LocalProtocolError


class PartitionStatus(enum.Enum):
    HEALTHY = "healthy"
    SUSPECTED = "suspected"  # below the threshold for less than the grace period
    PARTITIONED = "partitioned"


class PartitionDetector:
    """Compares the live member count with the expected cluster size, over time.

    Inputs: `check(current_size, now)` (now in seconds, any monotonic origin) and
    `set_expected_size`. Nothing here reads a clock.
    """

    __slots__ = ("_below_since_at", "_grace_period_s", "_last_now", "_min_size", "_threshold")

    def __init__(self, expected_size: int, threshold: float = 0.5, grace_period_s: float = 10.0) -> None:
        if math.isnan(threshold) or not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"argument 'threshold': expected 0.0 <= threshold <= 1.0, got {threshold!r}")
        if math.isnan(grace_period_s) or grace_period_s < 0.0:
            raise ConfigError(f"argument 'grace_period_s': expected >= 0.0 seconds, got {grace_period_s!r}")
        # The decimal the caller wrote, not its binary approximation: 0.7 * 10 must be exactly
        # 7 so that 7 members out of 10 are not "below 70%" (in floats 0.7 * 10 == 7.000...01).
        self._threshold = Fraction(repr(float(threshold)))
        self._grace_period_s = float(grace_period_s)
        self._min_size = Fraction(0)
        self._below_since_at: float | None = None
        self._last_now = -math.inf
        self.set_expected_size(expected_size)

    def set_expected_size(self, n: int) -> None:
        """Change the size the cluster should have (members joined or left gracefully)."""
        if n < 0:
            raise ConfigError(f"argument 'expected_size': expected >= 0, got {n!r}")
        self._min_size = self._threshold * n

    def check(self, current_size: int, now: float) -> PartitionStatus:
        """The status given `current_size` live members (this node included) at time `now`."""
        if current_size < 0:
            raise LocalProtocolError(f"check: current_size must be >= 0, got {current_size!r}")
        if not math.isfinite(now):
            raise LocalProtocolError(f"check: now must be a finite time in seconds, got {now!r}")
        if now < self._last_now:
            raise LocalProtocolError(
                f"check: time went backwards (now={now!r}, previous check at {self._last_now!r})"
            )
        self._last_now = now
        if current_size >= self._min_size:
            self._below_since_at = None
            return PartitionStatus.HEALTHY
        if self._below_since_at is None:
            self._below_since_at = now
        if now - self._below_since_at < self._grace_period_s:
            return PartitionStatus.SUSPECTED
        return PartitionStatus.PARTITIONED
