"""Table tests for protocol.formulas, ported from hashicorp/memberlist's Go tests.

Sources: `util_test.go` (TestSuspicionTimeout, TestRetransmitLimit, TestPushPullScale),
`suspicion_test.go` (TestSuspicion_remainingSuspicionTime, and the expected totals of
TestSuspicion_Timer / TestSuspicion_Timer_Immediate) and `awareness_test.go` (TestAwareness).
"""

from __future__ import annotations

import itertools

import pytest

from swimlab.protocol.errors import ConfigError
from swimlab.protocol.formulas import (
    apply_awareness_delta,
    push_pull_scale,
    remaining_suspicion_time,
    retransmit_limit,
    scale_timeout,
    suspicion_timeout,
)

# --- suspicion_timeout (util_test.go TestSuspicionTimeout) ---------------------------------------


@pytest.mark.parametrize(
    ("n", "expected_s"),
    [(5, 1.000), (10, 1.000), (50, 1.698), (100, 2.000), (500, 2.698), (1000, 3.000)],
)
def test_suspicion_timeout(n: int, expected_s: float) -> None:
    # Go: suspicionTimeout(3, n, time.Second) / 3
    assert suspicion_timeout(3, n, 1.0) / 3 == pytest.approx(expected_s, abs=1e-12)


@pytest.mark.parametrize(
    ("mult", "n", "interval_s", "expected_s"),
    [
        (4, 0, 1.0, 4.0),  # max(1, n) keeps log10 defined
        (4, 1, 1.0, 4.0),
        (4, 50, 0.2, 4 * 1.698 * 0.2),  # the scale is truncated to 1.698, not 1.69897
        (5, 1000, 0.5, 7.5),
    ],
)
def test_suspicion_timeout_more_vectors(mult: int, n: int, interval_s: float, expected_s: float) -> None:
    assert suspicion_timeout(mult, n, interval_s) == pytest.approx(expected_s, abs=1e-9)


def test_suspicion_timeout_truncates_to_whole_nanoseconds_like_go() -> None:
    # 3 × 1698 × 1 ns / 1000 = 5.094 ns → Go's integer Duration arithmetic gives 5 ns.
    assert suspicion_timeout(3, 50, 1e-9) == 5e-9


# --- remaining_suspicion_time (suspicion_test.go) ----------------------------------------------


@pytest.mark.parametrize(
    ("n", "k", "elapsed_s", "min_s", "max_s", "expected_s"),
    [
        (0, 3, 0.0, 2.0, 30.0, 30.0),
        (1, 3, 2.0, 2.0, 30.0, 14.0),
        (2, 3, 3.0, 2.0, 30.0, 4.810),
        (3, 3, 4.0, 2.0, 30.0, -2.0),
        (4, 3, 5.0, 2.0, 30.0, -3.0),
        (5, 3, 10.0, 2.0, 30.0, -8.0),
    ],
)
def test_suspicion_remaining_suspicion_time(
    n: int, k: int, elapsed_s: float, min_s: float, max_s: float, expected_s: float
) -> None:
    got = remaining_suspicion_time(n, k, elapsed_s, min_s, max_s)
    assert got == pytest.approx(expected_s, abs=1e-9)


@pytest.mark.parametrize(
    ("confirmations", "expected_s"),
    [(0, 2.0), (1, 1.250), (2, 0.811), (3, 0.5)],
)
def test_suspicion_timer_totals(confirmations: int, expected_s: float) -> None:
    # TestSuspicion_Timer's expected firing times: k = 3, min = 500 ms, max = 2 s. Go's table
    # says 810 ms for two confirmations, but that test only resolves ±25 ms of wall clock; the
    # formula gives 2 - log(3)/log(4) × 1.5 = 0.81128 s, floored to 811 ms.
    got = remaining_suspicion_time(confirmations, 3, 0.0, 0.5, 2.0)
    assert got == pytest.approx(expected_s, abs=1e-9)


def test_suspicion_timer_immediate() -> None:
    # TestSuspicion_Timer_Immediate: one confirmation after 200 ms of a 100 ms minimum → fire now.
    assert remaining_suspicion_time(1, 1, 0.2, 0.1, 30.0) <= 0.0


@pytest.mark.parametrize(("n", "elapsed_s"), [(0, 0.0), (1, 0.0), (5, 1.5)])
def test_suspicion_with_no_confirmations_expected_uses_the_minimum(n: int, elapsed_s: float) -> None:
    assert remaining_suspicion_time(n, 0, elapsed_s, 2.0, 30.0) == pytest.approx(2.0 - elapsed_s)


def test_suspicion_truncates_to_whole_milliseconds() -> None:
    # raw = 30 - log(3)/log(4) × 28 = 7.81049...; Go floors to 7810 ms.
    assert remaining_suspicion_time(2, 3, 0.0, 2.0, 30.0) == pytest.approx(7.810, abs=1e-12)


# --- retransmit_limit (util_test.go TestRetransmitLimit, and the seed's formula) ----------------


@pytest.mark.parametrize(
    ("mult", "n", "expected"),
    [
        (3, 0, 0),
        (3, 1, 3),
        (3, 99, 6),
        # beyond Go's three: the boundaries of ceil(log10(n + 1))
        (3, 9, 3),
        (3, 10, 6),
        (3, 100, 9),
        (4, 999, 12),
        (4, 1000, 16),
    ],
)
def test_retransmit_limit_memberlist(mult: int, n: int, expected: int) -> None:
    assert retransmit_limit(mult, n) == expected
    assert retransmit_limit(mult, n, "memberlist") == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, 0),  # Rust: (0.0).log2() = -inf, `as usize` saturates to 0
        (1, 0),  # log2(1) = 0
        (2, 3),
        (3, 6),
        (4, 6),
        (5, 9),
        (8, 9),
        (9, 12),
        (16, 12),
        (17, 15),
        (1024, 30),
        (1025, 33),
    ],
)
def test_retransmit_limit_seed(n: int, expected: int) -> None:
    assert retransmit_limit(4, n, "seed") == expected


def test_retransmit_limit_seed_ignores_mult() -> None:
    assert retransmit_limit(1, 100, "seed") == retransmit_limit(10, 100, "seed") == 21


def test_retransmit_limit_unknown_formula() -> None:
    with pytest.raises(ConfigError, match="'gossip'"):
        retransmit_limit(3, 10, "gossip")


@pytest.mark.parametrize("formula", ["memberlist", "seed"])
def test_retransmit_limit_negative_cluster_size(formula: str) -> None:
    with pytest.raises(ConfigError, match="cluster size"):
        retransmit_limit(3, -1, formula)


@pytest.mark.parametrize("formula", ["memberlist", "seed"])
def test_retransmit_limit_never_negative_and_non_decreasing(formula: str) -> None:
    limits = [retransmit_limit(3, n, formula) for n in range(0, 5000)]
    assert limits[0] >= 0
    assert all(a <= b for a, b in itertools.pairwise(limits))


# --- push_pull_scale (util_test.go TestPushPullScale) --------------------------------------------


@pytest.mark.parametrize(
    ("n_range", "multiplier"),
    [(range(0, 33), 1), (range(33, 65), 2), (range(65, 129), 3)],
)
def test_push_pull_scale(n_range: range, multiplier: int) -> None:
    for n in n_range:
        assert push_pull_scale(1.0, n) == multiplier * 1.0, n


@pytest.mark.parametrize(("n", "expected_s"), [(129, 120.0), (256, 120.0), (257, 150.0)])
def test_push_pull_scale_larger_clusters(n: int, expected_s: float) -> None:
    assert push_pull_scale(30.0, n) == expected_s


# --- awareness (awareness_test.go TestAwareness) -------------------------------------------------

# (delta, score after, timeout for 1 s after), applied in sequence from score 0 with max 8.
AWARENESS_CASES = [
    (0, 0, 1.0),
    (-1, 0, 1.0),
    (-10, 0, 1.0),
    (1, 1, 2.0),
    (-1, 0, 1.0),
    (10, 7, 8.0),
    (-1, 6, 7.0),
    (-1, 5, 6.0),
    (-1, 4, 5.0),
    (-1, 3, 4.0),
    (-1, 2, 3.0),
    (-1, 1, 2.0),
    (-1, 0, 1.0),
    (-1, 0, 1.0),
]
_SCORES_BEFORE = [0] + [score for _, score, _ in AWARENESS_CASES[:-1]]


@pytest.mark.parametrize(
    ("score_before", "delta", "score_after", "timeout_s"),
    [
        (before, delta, after, timeout)
        for before, (delta, after, timeout) in zip(_SCORES_BEFORE, AWARENESS_CASES, strict=True)
    ],
)
def test_awareness(score_before: int, delta: int, score_after: int, timeout_s: float) -> None:
    assert apply_awareness_delta(score_before, delta, 8) == score_after
    assert scale_timeout(1.0, score_after) == timeout_s


def test_awareness_sequence_as_in_go() -> None:
    score = 0
    for delta, expected_score, expected_timeout in AWARENESS_CASES:
        score = apply_awareness_delta(score, delta, 8)
        assert (score, scale_timeout(1.0, score)) == (expected_score, expected_timeout)


def test_awareness_max_multiplier_one_pins_score_at_zero() -> None:
    assert apply_awareness_delta(0, 5, 1) == 0


def test_awareness_invalid_max_multiplier() -> None:
    with pytest.raises(ConfigError, match="max_multiplier"):
        apply_awareness_delta(0, 1, 0)


@pytest.mark.parametrize(
    "call",
    [lambda: suspicion_timeout(4, -1, 1.0), lambda: push_pull_scale(30.0, -1)],
    ids=["suspicion_timeout", "push_pull_scale"],
)
def test_negative_cluster_size_is_a_config_error(call) -> None:
    with pytest.raises(ConfigError, match="cluster size n must be >= 0"):
        call()


@pytest.mark.parametrize(("n", "expected_s"), [(0, 30.0), (1, 2.0)])
def test_suspicion_remaining_time_with_a_single_expected_confirmation(n: int, expected_s: float) -> None:
    # k = 1: no confirmation yet keeps the maximum, the one confirmation brings the minimum.
    assert remaining_suspicion_time(n, 1, 0.0, 2.0, 30.0) == expected_s
