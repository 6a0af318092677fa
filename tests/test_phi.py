"""Akka's AccrualFailureDetectorSpec, ported case by case (ms → s), plus our own edge cases.

Source: akka/akka `akka-remote/src/test/scala/akka/remote/AccrualFailureDetectorSpec.scala`.
Akka's detector reads a fake clock that pops the next timestamp from a list of intervals on
every `heartbeat`, `phi` or `isAvailable` call; `fake_clock` below reproduces that, and each
test passes `clock()` where Akka's detector would have called it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swimlab.protocol.errors import ConfigError, LocalProtocolError
from swimlab.protocol.phi import HeartbeatHistory, PhiAccrualDetector, phi


def fake_clock(intervals_ms: Sequence[int]) -> Callable[[], float]:
    """Akka's `fakeTimeGenerator`: each call returns the next cumulative timestamp, in seconds.

    Sums stay in integer milliseconds so 0.1 s steps do not accumulate float error.
    """
    times = iter(itertools.accumulate(intervals_ms))

    def clock() -> float:
        return next(times) / 1000.0

    return clock


def cdf(p: float) -> float:
    return 1.0 - math.pow(10.0, -p)


# --- "An AccrualFailureDetector" must ... -------------------------------------------------------


@pytest.mark.parametrize(
    ("time_diff_ms", "mean_ms", "std_ms", "expected_cdf", "tolerance"),
    [
        (0, 0, 10, 0.5, 0.001),
        (6, 0, 10, 0.7257, 0.001),
        (15, 0, 10, 0.9332, 0.001),
        (20, 0, 10, 0.97725, 0.001),
        (25, 0, 10, 0.99379, 0.001),
        (35, 0, 10, 0.99977, 0.001),
        (40, 0, 10, 0.99997, 0.0001),
        (22, 20, 3, 0.7475, 0.001),
    ],
)
def test_use_good_enough_cumulative_distribution_function(
    time_diff_ms: int, mean_ms: int, std_ms: int, expected_cdf: float, tolerance: float
) -> None:
    p = phi(time_diff_ms / 1000, mean_ms / 1000, std_ms / 1000)
    assert cdf(p) == pytest.approx(expected_cdf, abs=tolerance)


def test_cumulative_distribution_function_is_strictly_increasing_from_0_to_40_ms() -> None:
    values = [phi(x / 1000, 0.0, 0.010) for x in range(41)]
    assert all(a < b for a, b in itertools.pairwise(values))


def test_handle_outliers_without_losing_precision_or_hitting_exceptions() -> None:
    assert phi(10.0, 0.0, 1.0) == pytest.approx(38.0, abs=1.0)
    assert phi(-25.0, 0.0, 1.0) == 0.0


@pytest.mark.parametrize(
    ("time_diff_ms", "expected_phi"),
    [(0, 0.0), (500, 0.1), (1000, 0.3), (1200, 1.6), (1400, 4.7), (1600, 10.8), (1700, 15.3)],
)
def test_return_realistic_phi_values(time_diff_ms: int, expected_phi: float) -> None:
    assert phi(time_diff_ms / 1000, 1.0, 0.1) == pytest.approx(expected_phi, abs=0.1)


def test_larger_std_deviation_results_in_lower_phi() -> None:
    assert phi(1.1, 1.0, 0.5) < phi(1.1, 1.0, 0.1)


def test_return_phi_value_of_0_on_startup_when_no_heartbeats() -> None:
    fd = PhiAccrualDetector()
    assert fd.phi(0.0) == 0.0
    assert fd.phi(1000.0) == 0.0


def test_return_phi_based_on_guess_when_only_one_heartbeat() -> None:
    clock = fake_clock([0, 1000, 1000, 1000, 1000])
    fd = PhiAccrualDetector(first_heartbeat_estimate=1.0)
    fd.heartbeat(clock())
    assert fd.phi(clock()) == pytest.approx(0.3, abs=0.2)
    assert fd.phi(clock()) == pytest.approx(4.5, abs=0.3)
    assert fd.phi(clock()) > 15.0


def test_return_phi_value_using_first_interval_after_second_heartbeat() -> None:
    clock = fake_clock([0, 100, 100, 100])
    fd = PhiAccrualDetector()
    fd.heartbeat(clock())
    assert fd.phi(clock()) > 0.0
    fd.heartbeat(clock())
    assert fd.phi(clock()) > 0.0


def test_mark_node_as_monitored_after_a_series_of_successful_heartbeats() -> None:
    clock = fake_clock([0, 1000, 100, 100])
    fd = PhiAccrualDetector()
    assert not fd.is_monitoring
    fd.heartbeat(clock())
    fd.heartbeat(clock())
    fd.heartbeat(clock())
    assert fd.is_monitoring
    assert fd.is_available(clock())


def test_mark_node_as_dead_if_heartbeat_are_missed() -> None:
    clock = fake_clock([0, 1000, 100, 100, 7000])
    fd = PhiAccrualDetector(threshold=3)
    fd.heartbeat(clock())  # 0
    fd.heartbeat(clock())  # 1.0
    fd.heartbeat(clock())  # 1.1
    assert fd.is_available(clock())  # 1.2
    assert not fd.is_available(clock())  # 8.2


def test_mark_node_as_available_if_it_starts_heartbeat_again_after_being_marked_dead() -> None:
    # 1000 regular intervals, a 5 minute pause, then a 7 s pause that must trigger again.
    regular = [0] + [1000] * 999
    clock = fake_clock([*regular, 5 * 60 * 1000, 100, 900, 100, 7000, 100, 900, 100, 900])
    fd = PhiAccrualDetector(threshold=8, acceptable_heartbeat_pause=3.0)
    for _ in range(1000):
        fd.heartbeat(clock())
    assert not fd.is_available(clock())  # after the long pause
    fd.heartbeat(clock())
    assert fd.is_available(clock())
    fd.heartbeat(clock())
    assert not fd.is_available(clock())  # after the 7 s pause
    fd.heartbeat(clock())
    assert fd.is_available(clock())
    fd.heartbeat(clock())
    assert fd.is_available(clock())


def test_accept_some_configured_missing_heartbeats() -> None:
    clock = fake_clock([0, 1000, 1000, 1000, 4000, 1000, 1000])
    fd = PhiAccrualDetector(acceptable_heartbeat_pause=3.0)
    for _ in range(4):
        fd.heartbeat(clock())
    assert fd.is_available(clock())
    fd.heartbeat(clock())
    assert fd.is_available(clock())


def test_fail_after_configured_acceptable_missing_heartbeats() -> None:
    clock = fake_clock([0, 1000, 1000, 1000, 1000, 1000, 500, 500, 5000])
    fd = PhiAccrualDetector(acceptable_heartbeat_pause=3.0)
    for _ in range(6):
        fd.heartbeat(clock())
    assert fd.is_available(clock())
    fd.heartbeat(clock())
    assert not fd.is_available(clock())


def test_use_max_sample_size_heartbeats() -> None:
    clock = fake_clock([0, 100, 100, 100, 100, 600, 500, 500, 500, 500, 500])
    fd = PhiAccrualDetector(max_sample_size=3)
    # 100 ms intervals
    for _ in range(4):
        fd.heartbeat(clock())  # 0, 0.1, 0.2, 0.3
    phi1 = fd.phi(clock())  # 0.4
    # 500 ms intervals: once the 100 ms ones have been evicted, the same phi
    for _ in range(4):
        fd.heartbeat(clock())  # 1.0, 1.5, 2.0, 2.5
    phi2 = fd.phi(clock())  # 3.0
    assert phi2 == pytest.approx(phi1, abs=0.001)


# --- "Statistics for heartbeats" must ... --------------------------------------------------------
# Akka's tolerances are 1e-5 ms (mean) and 1e-5 ms² (variance): 1e-8 s and 1e-11 s² here.


def history_of(max_sample_size: int, intervals_ms: Sequence[int]) -> HeartbeatHistory:
    history = HeartbeatHistory(max_sample_size)
    for interval in intervals_ms:
        history.append(interval / 1000)
    return history


def test_calculate_correct_mean_and_variance() -> None:
    stats = history_of(20, [100, 200, 125, 340, 130])
    assert stats.mean == pytest.approx(0.179, abs=1e-8)
    assert stats.variance == pytest.approx(7584.0e-6, abs=1e-11)


def test_have_0_variance_for_one_sample() -> None:
    assert history_of(600, [1000]).variance == pytest.approx(0.0, abs=1e-11)


def test_be_capped_by_the_specified_max_sample_size() -> None:
    history = history_of(3, [100, 110, 90])
    assert history.mean == pytest.approx(0.100, abs=1e-8)
    assert history.variance == pytest.approx(66.6666667e-6, abs=1e-11)

    history.append(0.140)
    assert history.mean == pytest.approx(0.113333333, abs=1e-8)
    assert history.variance == pytest.approx(422.222222e-6, abs=1e-11)

    history.append(0.080)
    assert history.mean == pytest.approx(0.103333333, abs=1e-8)
    assert history.variance == pytest.approx(688.88888889e-6, abs=1e-11)
    assert len(history) == 3


# --- Ours -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("time_diff", [40.0, 1e3, 1e9, 1e200, math.inf])
def test_long_silence_gives_inf_not_an_exception(time_diff: float) -> None:
    assert phi(time_diff, 1.0, 0.1) == math.inf


def test_detector_after_a_long_silence_is_inf_and_unavailable() -> None:
    fd = PhiAccrualDetector()
    fd.heartbeat(0.0)
    fd.heartbeat(1.0)
    assert fd.phi(1e6) == math.inf
    assert not fd.is_available(1e6)


@pytest.mark.parametrize("time_diff", [-math.inf, -1e200, -1e6, -25.0])
def test_far_early_gives_zero_not_an_exception(time_diff: float) -> None:
    assert phi(time_diff, 0.0, 1.0) == 0.0


def test_zero_std_deviation_is_a_step_not_a_division_by_zero() -> None:
    assert phi(1.0, 1.0, 0.0) == 0.0
    assert phi(0.5, 1.0, 0.0) == 0.0
    assert phi(1.0 + 1e-9, 1.0, 0.0) == math.inf


def test_perfectly_regular_heartbeats_are_safe() -> None:
    # 0.1 s steps are inexact in binary: E[x²] - E[x]² would dip below zero without the clamp.
    fd = PhiAccrualDetector(max_sample_size=50, first_heartbeat_estimate=0.1)
    for i in range(10_000):
        fd.heartbeat(i * 0.1)
    last = 9_999 * 0.1
    assert fd.is_available(last + 0.1)
    assert fd.phi(last + 0.1) == pytest.approx(0.301, abs=0.001)  # exactly at the mean
    # min_std_deviation (0.1 s) is what keeps phi finite and gradual here.
    assert 0.0 < fd.phi(last + 0.3) < fd.phi(last + 0.5) < math.inf
    assert not fd.is_available(last + 1.0)


def test_history_variance_never_negative_for_identical_intervals() -> None:
    history = HeartbeatHistory(7)
    for _ in range(1000):
        history.append(0.1)
        assert history.variance >= 0.0
    # Float running sums leave a residue of a few ulps (Akka's integer millis leave none).
    assert history.variance == pytest.approx(0.0, abs=1e-15)
    assert history.std_deviation < 1e-6


def test_phi_before_the_last_heartbeat_is_zero() -> None:
    fd = PhiAccrualDetector()
    fd.heartbeat(10.0)
    assert fd.phi(5.0) == 0.0


def test_heartbeat_going_back_in_time_is_refused_and_changes_nothing() -> None:
    fd = PhiAccrualDetector()
    fd.heartbeat(10.0)
    fd.heartbeat(11.0)
    before = fd.phi(12.0)
    with pytest.raises(LocalProtocolError, match="before the previous heartbeat"):
        fd.heartbeat(9.0)
    assert fd.phi(12.0) == before


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": -1.0}, "threshold"),
        ({"threshold": math.nan}, "threshold"),
        ({"max_sample_size": 0}, "max_sample_size"),
        ({"min_std_deviation": 0.0}, "min_std_deviation"),
        ({"acceptable_heartbeat_pause": -0.001}, "acceptable_heartbeat_pause"),
        ({"first_heartbeat_estimate": 0.0}, "first_heartbeat_estimate"),
    ],
)
def test_invalid_arguments_raise_config_error_naming_the_argument(
    kwargs: dict[str, float], name: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        PhiAccrualDetector(**kwargs)  # type: ignore[arg-type]


def test_acceptable_pause_of_zero_is_valid_and_gives_no_slack_beyond_the_mean() -> None:
    strict = PhiAccrualDetector(acceptable_heartbeat_pause=0.0)
    lenient = PhiAccrualDetector(acceptable_heartbeat_pause=1.0)
    for t in range(10):  # 1 s heartbeats: history 0.75, 1.25 (the seed) + 9 × 1.0 → mean 1.0 s
        strict.heartbeat(float(t))
        lenient.heartbeat(float(t))
    # At exactly the mean interval the CDF is 0.5: phi = -log10(0.5) with no pause added ...
    assert strict.phi(10.0) == pytest.approx(0.301, abs=0.001)
    # ... while a 1 s acceptable pause shifts the expected arrival to 2 s: nothing suspicious yet.
    assert lenient.phi(10.0) < 1e-3
    assert not strict.is_available(11.0) and lenient.is_available(11.0)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(
    t1=finite,
    t2=finite,
    mean=st.floats(min_value=0.0, max_value=100.0),
    std=st.floats(min_value=1e-3, max_value=100.0),
)
def test_phi_is_monotone_in_elapsed_time(t1: float, t2: float, mean: float, std: float) -> None:
    lo, hi = sorted((t1, t2))
    assert 0.0 <= phi(lo, mean, std) <= phi(hi, mean, std)


@given(
    intervals=st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=1, max_size=60),
    waits=st.lists(st.floats(min_value=0.0, max_value=1e4), min_size=2, max_size=2),
)
def test_detector_phi_is_monotone_and_never_raises(intervals: list[float], waits: list[float]) -> None:
    fd = PhiAccrualDetector(max_sample_size=16)
    now = 0.0
    fd.heartbeat(now)
    for interval in intervals:
        now += interval
        fd.heartbeat(now)
    lo, hi = sorted(waits)
    assert 0.0 <= fd.phi(now + lo) <= fd.phi(now + hi)
