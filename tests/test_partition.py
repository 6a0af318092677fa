"""PartitionDetector: the seed's rule and the edge cases it left open, as tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest

from swimlab.protocol.errors import ConfigError, LocalProtocolError
from swimlab.protocol.partition import PartitionDetector, PartitionStatus

H, S, P = PartitionStatus.HEALTHY, PartitionStatus.SUSPECTED, PartitionStatus.PARTITIONED

# (expected_size, threshold, grace_period_s, [(current_size, now, expected status), ...])
SCENARIOS: dict[str, tuple[int, float, float, list[tuple[int, float, PartitionStatus]]]] = {
    "full cluster is healthy": (10, 0.5, 10.0, [(10, 0.0, H), (10, 100.0, H)]),
    "exactly at the threshold is healthy": (10, 0.5, 10.0, [(5, 0.0, H), (5, 50.0, H)]),
    "more members than expected is healthy": (10, 0.5, 10.0, [(25, 0.0, H)]),
    "below: suspected, then partitioned at the grace period": (
        10,
        0.5,
        10.0,
        [(4, 100.0, S), (4, 105.0, S), (4, 109.999, S), (4, 110.0, P), (3, 500.0, P)],
    ),
    "detection starts at the first check below, not before": (
        10,
        0.5,
        10.0,
        [(9, 0.0, H), (4, 50.0, S), (4, 59.0, S), (4, 60.0, P)],
    ),
    "recovery resets the clock": (
        10,
        0.5,
        10.0,
        [(4, 0.0, S), (4, 9.0, S), (6, 9.5, H), (4, 10.0, S), (4, 19.0, S), (4, 20.0, P)],
    ),
    "partitioned then healed is healthy": (10, 0.5, 1.0, [(1, 0.0, S), (1, 2.0, P), (10, 3.0, H)]),
    "odd expected size: 2 < 2.5": (5, 0.5, 10.0, [(3, 0.0, H), (2, 1.0, S)]),
    "0.7 of 10 is exactly 7 (no float rounding)": (10, 0.7, 10.0, [(7, 0.0, H), (6, 1.0, S)]),
    "0.1 of 10 is exactly 1": (10, 0.1, 10.0, [(1, 0.0, H), (0, 1.0, S)]),
    "zero grace: partitioned at once": (10, 0.5, 0.0, [(4, 7.0, P), (5, 8.0, H), (0, 9.0, P)]),
    "threshold 0 never detects": (10, 0.0, 0.0, [(0, 0.0, H)]),
    "threshold 1 detects any loss": (10, 1.0, 5.0, [(10, 0.0, H), (9, 1.0, S), (9, 6.0, P)]),
    "expected 0 is always healthy": (0, 0.5, 0.0, [(0, 0.0, H), (3, 1.0, H)]),
    "infinite grace stays suspected": (10, 0.5, math.inf, [(1, 0.0, S), (1, 1e12, S)]),
    "same instant twice is fine": (10, 0.5, 10.0, [(4, 3.0, S), (4, 3.0, S)]),
    "negative time origin is fine": (10, 0.5, 10.0, [(4, -20.0, S), (4, -10.0, P)]),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name: str) -> None:
    expected_size, threshold, grace, steps = SCENARIOS[name]
    detector = PartitionDetector(expected_size, threshold, grace)
    got = [detector.check(current, now) for current, now, _ in steps]
    assert got == [status for _, _, status in steps]


def test_defaults_are_half_and_ten_seconds() -> None:
    d = PartitionDetector(10)
    assert [d.check(4, 0.0), d.check(4, 9.9), d.check(4, 10.0), d.check(5, 10.0)] == [S, S, P, H]


@dataclass(frozen=True)
class Expect:
    size: int


@dataclass(frozen=True)
class Check:
    current: int
    now: float
    status: PartitionStatus


# The expectation moving mid-run; every run starts expecting 10 with threshold 0.5, grace 10 s.
EXPECTATION_CHANGES: dict[str, list[Expect | Check]] = {
    "growing expectation starts detection at the next check": [
        Check(6, 0.0, H),
        Expect(20),
        Check(6, 1.0, S),
        Check(6, 11.0, P),
    ],
    "shrinking expectation ends detection": [Check(4, 0.0, S), Expect(8), Check(4, 1.0, H)],
    "a detection in progress keeps its start when the expectation moves": [
        Check(4, 0.0, S),
        Expect(12),
        Check(4, 9.0, S),
        Check(4, 10.0, P),
    ],
    "expecting nobody clears everything": [
        Check(1, 0.0, S),
        Check(1, 20.0, P),
        Expect(0),
        Check(1, 21.0, H),
    ],
}


@pytest.mark.parametrize("name", EXPECTATION_CHANGES)
def test_expectation_changes(name: str) -> None:
    detector = PartitionDetector(10, 0.5, 10.0)
    for step in EXPECTATION_CHANGES[name]:
        match step:
            case Expect(size):
                detector.set_expected_size(size)
            case Check(current, now, status):
                assert detector.check(current, now) == status, step


# (kwargs, the argument the error must name)
BAD_CONFIGS: list[tuple[dict[str, Any], str]] = [
    ({"threshold": 1.01}, "threshold"),
    ({"threshold": 2.0}, "threshold"),
    ({"threshold": -0.1}, "threshold"),
    ({"threshold": math.nan}, "threshold"),
    ({"threshold": math.inf}, "threshold"),
    ({"grace_period_s": -1.0}, "grace_period_s"),
    ({"grace_period_s": math.nan}, "grace_period_s"),
    ({"expected_size": -1}, "expected_size"),
]


@pytest.mark.parametrize(("kwargs", "argument"), BAD_CONFIGS)
def test_bad_configuration_is_refused_naming_the_argument(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ConfigError, match=f"'{argument}'"):
        PartitionDetector(**{"expected_size": 10, **kwargs})


def test_set_expected_size_refuses_negative_and_keeps_the_old_value() -> None:
    d = PartitionDetector(10)
    with pytest.raises(ConfigError, match="'expected_size'"):
        d.set_expected_size(-3)
    assert d.check(4, 0.0) == S  # still expecting 10


# (checks that succeed first, then the check that must be refused)
MISUSE: dict[str, tuple[list[tuple[int, float]], tuple[int, float]]] = {
    "negative current size": ([], (-1, 0.0)),
    "time going backwards": ([(4, 10.0)], (4, 9.999)),
    "time going backwards while healthy": ([(10, 10.0)], (10, 5.0)),
    "NaN time": ([], (4, math.nan)),
    "infinite time": ([], (4, math.inf)),
}


@pytest.mark.parametrize("name", MISUSE)
def test_caller_misuse_raises_and_changes_nothing(name: str) -> None:
    before, bad = MISUSE[name]
    detector = PartitionDetector(10, 0.5, 10.0)
    for current, now in before:
        detector.check(current, now)
    with pytest.raises(LocalProtocolError):
        detector.check(*bad)
    # The refused check did not start, reset or advance anything.
    reference = PartitionDetector(10, 0.5, 10.0)
    for current, now in before:
        reference.check(current, now)
    for probe in [(4, 12.0), (4, 25.0), (10, 26.0)]:
        assert detector.check(*probe) == reference.check(*probe)
