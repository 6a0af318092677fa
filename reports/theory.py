"""The published analytic models that plots draw beside measured curves. Pure functions only.

- Serf's convergence model (the curve behind Serf's "convergence simulator" page): after `r`
  gossip rounds in a cluster of `n` nodes the informed fraction is
  `1 / (1 + (n + 1) * exp(-c * n * r))` with `c = (fanout / n) * (1 - loss) / 2`.
- SWIM (Das, Gupta, Motivala 2002, section 3.1): the expected time from a crash to its first
  detection by some member is `T' / (1 - exp(-q_f))`, i.e. `T' * e / (e - 1)` (about
  1.582 protocol periods) when every other member is non-faulty (`q_f = 1`).
- SWIM's false-positive probability for one probe of a live member: the direct ping or its ack
  is lost, and each of the `K` indirect probes fails (its relay is faulty, or one of its four
  messages is lost): `q_f * (1 - q_ml**2) * (1 - q_f * q_ml**4) ** K`, with `q_ml = 1 - loss`.
  SWIM without suspicion turns that into a false "failed" verdict; with suspicion (memberlist,
  Lifeguard) it becomes a false *suspicion* that the member normally refutes.

Everything here is unit-tested against hand-computed values (tests/test_reports_theory.py).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

SWIM_DETECTION_FACTOR = math.e / (math.e - 1.0)
"""SWIM's expected first-detection time in protocol periods when no other member is faulty."""


def serf_c(n: int, fanout: int, loss: float = 0.0) -> float:
    """Serf's per-round spreading constant `c = (fanout / n) * (1 - loss) / 2`."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return (fanout / n) * (1.0 - loss) / 2.0


def serf_convergence(n: int, fanout: int, rounds: ArrayLike, loss: float = 0.0) -> NDArray[np.float64]:
    """Fraction of the `n` nodes informed after `rounds` gossip rounds (array in, array out)."""
    r = np.asarray(rounds, dtype=float)
    return 1.0 / (1.0 + (n + 1) * np.exp(-serf_c(n, fanout, loss) * n * r))


def serf_rounds_to_fraction(n: int, fanout: int, fraction: float, loss: float = 0.0) -> float:
    """Gossip rounds until Serf's model reaches `fraction` (inverse of `serf_convergence`)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    cn = serf_c(n, fanout, loss) * n
    if cn <= 0:
        return math.inf
    # 1/(1 + (n+1) e^{-cnr}) = f  <=>  r = ln((n+1) f / (1 - f)) / cn; before r = 0 the model
    # already starts at 1/(n+2), so small fractions are reached at once.
    return max(0.0, math.log((n + 1) * fraction / (1.0 - fraction)) / cn)


def serf_time_to_fraction(
    n: int, fanout: int, gossip_interval_s: float, fraction: float, loss: float = 0.0
) -> float:
    """Seconds until Serf's model reaches `fraction` with one gossip round per interval."""
    return serf_rounds_to_fraction(n, fanout, fraction, loss) * gossip_interval_s


def swim_expected_detection_periods(non_faulty_fraction: float = 1.0) -> float:
    """SWIM's expected protocol periods from a crash to its first detection: 1/(1 - e^-q_f)."""
    if not 0.0 < non_faulty_fraction <= 1.0:
        raise ValueError(f"non_faulty_fraction must be in (0, 1], got {non_faulty_fraction}")
    return 1.0 / (1.0 - math.exp(-non_faulty_fraction))


def swim_expected_detection_s(protocol_period_s: float, non_faulty_fraction: float = 1.0) -> float:
    """SWIM's expected first-detection time in seconds: `T' * e / (e - 1)` when q_f = 1."""
    return protocol_period_s * swim_expected_detection_periods(non_faulty_fraction)


def swim_false_positive_probability(
    loss: float, indirect_checks: int, non_faulty_fraction: float = 1.0
) -> float:
    """Probability that one probe of a live member fails (SWIM section 3.1).

    `q_f * (1 - q_ml^2) * (1 - q_f * q_ml^4)^K` with `q_ml = 1 - loss`: the prober is up, the
    direct ping or ack is lost, and every indirect path (relay up, 4 messages) fails too.
    """
    if not 0.0 <= loss <= 1.0:
        raise ValueError(f"loss must be a probability, got {loss}")
    q_ml = 1.0 - loss
    q_f = non_faulty_fraction
    return q_f * (1.0 - q_ml**2) * (1.0 - q_f * q_ml**4) ** indirect_checks


def swim_false_suspicions_per_node_hour(
    loss: float, indirect_checks: int, probe_interval_s: float, non_faulty_fraction: float = 1.0
) -> float:
    """Expected failed probes of live members per node-hour: every node probes once per period,
    so this is `3600 / T'` times the per-probe probability. Compare it with the measured count of
    *originated* suspicions (one per accusation, not one per node that hears of it)."""
    p = swim_false_positive_probability(loss, indirect_checks, non_faulty_fraction)
    return 3600.0 / probe_interval_s * p
