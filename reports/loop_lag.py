"""Judging a real-time run by its event loop: is what it measured the protocol or the loop?

Rule: a live run's detection times are the protocol's only while the loop's p99 timer lag,
measured from the first convergence (the boot burst of handshakes left out; from the start if
the views never agreed), stays within `LAG_LIMIT_FRACTION` of the probe timeout. A timer or an
acknowledgement handled that late is a small part of the timeout; past it, a probe can time out
because the loop was busy, not because the peer was silent, so the run's verdict is `unknown`
whatever its checks say, with the lag as the reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from .schema import LoopLag

LAG_LIMIT_FRACTION = 0.25
"""p99 loop lag allowed, as a fraction of the probe timeout (local: 50 ms, lan: 125 ms)."""

REAL_TIME_NOTE = (
    "fault times and targets, node and network random draws come from the seed (as on the "
    "simulator); the real-time scheduling of packets and timers does not, so a rerun with the "
    "same seed is a new sample, not the same trace"
)


def judge(summary: Mapping[str, float | int], since_s: float, probe_timeout_s: float) -> LoopLag:
    """The `loop_lag` of result.json from a `LagMeter.summary` (live/lag.py)."""
    limit = LAG_LIMIT_FRACTION * probe_timeout_s
    p99 = float(summary["p99_s"])
    return LoopLag(
        samples=int(summary["samples"]),
        since_s=round(since_s, 6),
        p50_s=round(float(summary["p50_s"]), 6),
        p99_s=round(p99, 6),
        max_s=round(float(summary["max_s"]), 6),
        limit_s=limit,
        ok=p99 <= limit,
        note=REAL_TIME_NOTE,
    )


def reason(lag: LoopLag) -> str:
    """The verdict reason of a run whose loop lagged past the limit."""
    return (
        f"loop lag p99 {lag.p99_s * 1000:.0f} ms > {LAG_LIMIT_FRACTION:.0%} of the probe timeout "
        f"({lag.limit_s * 1000:.0f} ms) since t={lag.since_s:.1f} s: detection times are the loop's, "
        "not the protocol's"
    )
