"""The analytic overlays against hand-computed values."""

import math

import numpy as np
import pytest

from swimlab.reports import theory


def test_serf_30_nodes_fanout_3_reaches_999_near_1_4_s() -> None:
    # c = (3/30)(1 - 0)/2 = 0.05, c·n = 1.5 per round; 0.999 = 1/(1 + 31 e^{-1.5 r})
    # <=> r = ln(31 · 999) / 1.5 = 6.894 rounds = 1.379 s at 0.2 s per round.
    assert theory.serf_c(30, 3) == pytest.approx(0.05)
    r = math.log(31 * 999) / 1.5
    assert theory.serf_rounds_to_fraction(30, 3, 0.999) == pytest.approx(r)
    t = theory.serf_time_to_fraction(30, 3, 0.2, 0.999)
    assert t == pytest.approx(1.379, abs=0.001)
    assert float(theory.serf_convergence(30, 3, [r])[0]) == pytest.approx(0.999)


def test_serf_starts_at_one_informed_in_n_plus_2_and_loss_slows_it() -> None:
    assert float(theory.serf_convergence(30, 3, [0.0])[0]) == pytest.approx(1 / 32)
    curve = theory.serf_convergence(100, 3, np.arange(20))
    assert np.all(np.diff(curve) > 0) and curve[-1] > 0.999
    assert theory.serf_time_to_fraction(30, 3, 0.2, 0.99, loss=0.5) == pytest.approx(
        2 * theory.serf_time_to_fraction(30, 3, 0.2, 0.99)
    )


def test_swim_expected_first_detection_is_e_over_e_minus_1_periods() -> None:
    factor = theory.SWIM_DETECTION_FACTOR
    assert factor == pytest.approx(1.582, abs=5e-4)
    assert theory.swim_expected_detection_periods() == pytest.approx(math.e / (math.e - 1))
    assert theory.swim_expected_detection_s(0.5) == pytest.approx(0.791, abs=5e-4)
    # Half the members faulty: 1 / (1 - e^{-0.5}) = 2.541 periods.
    assert theory.swim_expected_detection_periods(0.5) == pytest.approx(2.541, abs=5e-4)


def test_swim_false_positive_formula() -> None:
    assert theory.swim_false_positive_probability(0.0, 3) == 0.0
    assert theory.swim_false_positive_probability(1.0, 3) == 1.0
    # 10% loss, K = 3: (1 - 0.81) · (1 - 0.6561)^3 = 0.19 · 0.040672 = 0.0077276
    p = theory.swim_false_positive_probability(0.1, 3)
    assert p == pytest.approx(0.19 * 0.3439**3)
    assert p == pytest.approx(0.0077276, abs=1e-7)
    # One probe per second per node: 3600 probes per node-hour.
    assert theory.swim_false_suspicions_per_node_hour(0.1, 3, 1.0) == pytest.approx(3600 * p)
    # More relays, fewer false positives: exponentially in K.
    assert theory.swim_false_positive_probability(0.1, 5) < p / 8
