"""memberlist's scaling math, as pure functions of cluster size, in seconds.

This module owns every formula that turns a cluster size or a health score into a timeout or a
count: the suspicion timeout and its Lifeguard acceleration by independent confirmations, the
gossip retransmit limit (memberlist's and the seed's), the push-pull interval scale, and the
Lifeguard local-health ("awareness") multiplier. Each names the Go function it ports; where Go
truncates to integer milliseconds or nanoseconds, so do we, so table tests match to the digit.
"""

from __future__ import annotations

import math

from .errors import ConfigError

__all__ = [
    "PUSH_PULL_SCALE_THRESHOLD",
    "apply_awareness_delta",
    "push_pull_scale",
    "remaining_suspicion_time",
    "retransmit_limit",
    "scale_timeout",
    "suspicion_timeout",
]

# memberlist util.go `pushPullScaleThreshold`: the 33rd node doubles the interval, the 65th
# triples it.
PUSH_PULL_SCALE_THRESHOLD = 32

_NS_PER_S = 1_000_000_000


def _require_cluster_size(n: int) -> None:
    if n < 0:
        raise ConfigError(f"cluster size n must be >= 0, got {n!r}")


def suspicion_timeout(suspicion_mult: int, n: int, interval_s: float) -> float:
    """Seconds a suspect has to refute before being declared dead.

    memberlist util.go `suspicionTimeout`: mult × max(1, log10(max(1, n))) × interval. Go keeps
    the node scale to integer thousandths (`time.Duration(nodeScale*1000)` truncates) and works
    in integer nanoseconds, so 50 nodes scale by 1.698, not 1.69897; we reproduce both
    truncations.
    """
    _require_cluster_size(n)
    node_scale = max(1.0, math.log10(max(1, n)))
    interval_ns = round(interval_s * _NS_PER_S)
    timeout_ns = suspicion_mult * int(node_scale * 1000) * interval_ns // 1000
    return timeout_ns / _NS_PER_S


def remaining_suspicion_time(n: int, k: int, elapsed_s: float, min_s: float, max_s: float) -> float:
    """Seconds still to wait on a suspicion after `n` of `k` wanted confirmations; may be < 0.

    memberlist suspicion.go `remainingSuspicionTime` (Lifeguard's dynamic suspicion timeout):
    the timeout falls from `max_s` towards `min_s` as log(n+1)/log(k+1), is truncated to whole
    milliseconds and floored at `min_s`; `elapsed_s` since the suspicion began is subtracted,
    so a negative result means "fire now". With k = 0 Go divides by log(1) = 0 and the
    resulting NaN/-Inf lands on the `min` floor; we return `min_s - elapsed_s` directly.
    """
    if k <= 0:
        timeout = min_s
    else:
        frac = math.log(n + 1.0) / math.log(k + 1.0)
        raw = max_s - frac * (max_s - min_s)
        timeout = max(math.floor(1000.0 * raw) / 1000.0, min_s)
    return timeout - elapsed_s


def retransmit_limit(mult: int, n: int, formula: str = "memberlist") -> int:
    """How many times one piece of gossip is sent before it is dropped from the queue.

    - "memberlist" (util.go `retransmitLimit`): mult × ceil(log10(n + 1)); 0 for n = 0,
      mult for 1..9 nodes, 2 × mult for 10..99.
    - "seed" (the seed implementation's GossipQueue): `(n as f64).log2().ceil() as usize * 3`.
      Its factor is a hard-coded 3, so `mult` is ignored. Rust's saturating float→usize cast
      makes n = 0 (log2 = -inf) give 0, and n = 1 gives 0 too: a node alone gossips nothing.
      Kept faithfully; both are ≥ 0 for every valid n.

    Unknown `formula` or a negative `n` raise `ConfigError`.
    """
    _require_cluster_size(n)
    if formula == "memberlist":
        return mult * math.ceil(math.log10(n + 1))
    if formula == "seed":
        if n <= 1:
            return 0
        return math.ceil(math.log2(n)) * 3
    raise ConfigError(f"retransmit formula: expected 'memberlist' or 'seed', got {formula!r}")


def push_pull_scale(interval_s: float, n: int) -> float:
    """The push-pull (anti-entropy) interval for a cluster of `n`, in seconds.

    memberlist util.go `pushPullScale`: unchanged up to 32 nodes, then multiplied by
    ceil(log2(n) - log2(32)) + 1, so full state syncs do not saturate the network as the
    cluster grows.
    """
    _require_cluster_size(n)
    if n <= PUSH_PULL_SCALE_THRESHOLD:
        return interval_s
    multiplier = math.ceil(math.log2(n) - math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1
    return multiplier * interval_s


def apply_awareness_delta(score: int, delta: int, max_multiplier: int) -> int:
    """The local health score after `delta`, clamped to [0, max_multiplier - 1].

    memberlist awareness.go `awareness.ApplyDelta` (Lifeguard's local health multiplier):
    lower is healthier; failed probes and missing nacks push it up, successes bring it down.
    """
    if max_multiplier < 1:
        raise ConfigError(f"max_multiplier must be >= 1, got {max_multiplier!r}")
    return min(max(score + delta, 0), max_multiplier - 1)


def scale_timeout(timeout_s: float, score: int) -> float:
    """`timeout_s` stretched by the local health score: timeout × (score + 1).

    memberlist awareness.go `awareness.ScaleTimeout`: an unhealthy node waits longer before
    blaming others for what may be its own slowness.
    """
    return timeout_s * (score + 1)
