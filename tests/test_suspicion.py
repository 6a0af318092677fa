"""Open suspicions (protocol/suspicion.py) through their own interface: the Lifeguard timeout
bounds and which accusers count. Each test was written for a mutant the Node tests let through.
"""

from __future__ import annotations

import pytest

from swimlab.protocol.config import lan
from swimlab.protocol.messages import MemberState, Update
from swimlab.protocol.suspicion import Suspicions

S = MemberState.SUSPECT


def test_suspicion_expects_confirmations_only_with_at_least_k_plus_2_members():
    # lan: suspicion_mult 4 → k = 2 confirmations; min = 4 × max(1, log10 n) s, max = 6 × min.
    suspicions = Suspicions(lan())
    news = Update(S, "m", 0, "b")
    assert suspicions.start(news, 10.0, cluster_size=4).at == 10.0 + 6 * 4.0  # n − 2 = k: expects k
    assert suspicions.start(news, 10.0, cluster_size=3).at == 10.0 + 4.0  # n − 2 < k: expects none


def test_accusers_beyond_k_confirmations_change_nothing():
    suspicions = Suspicions(lan())
    suspicions.start(Update(S, "m", 0, "b"), 0.0, cluster_size=100)
    assert suspicions.confirm(Update(S, "m", 0, "c"), 1.0) is not None
    assert suspicions.confirm(Update(S, "m", 0, "c"), 1.5) is None  # no accuser counts twice
    assert suspicions.confirm(Update(S, "m", 0, "b"), 1.6) is None  # the first accuser included
    assert suspicions.confirm(Update(S, "m", 0, "d"), 2.0) is not None  # k = 2 reached
    assert suspicions.confirm(Update(S, "m", 0, "e"), 3.0) is None


@pytest.mark.parametrize(
    ("changes", "n", "timeout_s"),
    [
        ({"lifeguard_dynamic_suspicion": False}, 100, 8.0),  # no confirmations expected: the minimum
        ({"suspicion_mult": 3}, 100, 36.0),  # k = 1: max = 6 × min (min = 3 × log10 100 = 6 s)
    ],
)
def test_suspicion_timeout_with_and_without_expected_confirmations(changes, n, timeout_s):
    suspicions = Suspicions(lan().replace(**changes))
    assert suspicions.start(Update(S, "m", 0, "b"), 0.0, cluster_size=n).at == timeout_s


def test_with_one_expected_confirmation_it_brings_the_minimum():
    suspicions = Suspicions(lan().replace(suspicion_mult=3))  # k = 1, min 6 s, max 36 s at n = 100
    suspicions.start(Update(S, "m", 0, "b"), 0.0, cluster_size=100)
    rearmed = suspicions.confirm(Update(S, "m", 0, "c"), 1.0)
    assert rearmed is not None and rearmed.at == 6.0
