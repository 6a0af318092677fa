"""The seed's worked examples (and their thread ports): the explorer finds every buggy form and
no fixed form fails.

Budgets are stated here and are the claim: with these seeds, each strategy finds each bug
within BUG_BUDGET schedules (the medians are far lower, see docs/races.md), and each fixed form
survives FIXED_BUDGET schedules per strategy (DFS: every schedule within 2 preemptions, or
DFS_BUDGET, whichever comes first). The nightly profile multiplies the fixed budget.
"""

from __future__ import annotations

import os

import pytest

from swimlab.sim.interleave import explore, replay
from swimlab.sim.interleave.models import EXAMPLES

NIGHTLY = os.environ.get("SWIMLAB_HYPOTHESIS_PROFILE") == "nightly"
BUG_BUDGET = 1000
FIXED_BUDGET = 5000 if NIGHTLY else 300
DFS_BUDGET = 20000 if NIGHTLY else 400
SEEDS = (0, 1)

# Every strategy must find every buggy seed example (the real pool's mutant, which needs more
# depth, is tested in test_interleave_live_pool.py).
BUGGY = [
    (example, variant, strategy)
    for example, variants in EXAMPLES.items()
    for variant, model in variants.items()
    if model.expect_bug
    for strategy in ("random", "pct", "dfs")
]
FIXED = [
    (example, variant, strategy)
    for example, variants in EXAMPLES.items()
    for variant, model in variants.items()
    if not model.expect_bug
    for strategy in ("random", "pct", "dfs")
]


@pytest.mark.parametrize(("example", "variant", "strategy"), BUGGY)
def test_explorer_finds_the_bug(example: str, variant: str, strategy: str) -> None:
    model = EXAMPLES[example][variant]
    for seed in SEEDS if strategy != "dfs" else (0,):
        result = explore(model, strategy, BUG_BUDGET, seed)
        assert result.found, f"{example}/{variant}: {strategy} seed {seed}: {result.summary()}"
        assert result.shrunk_length is not None and result.found_length is not None
        assert result.shrunk_length <= result.found_length
        # The printed replay string reproduces the (shrunk) failure exactly.
        again = replay(model, result.replay or "-")
        assert again.failure == result.failure, again.report()


@pytest.mark.parametrize(("example", "variant", "strategy"), FIXED)
def test_fixed_form_survives(example: str, variant: str, strategy: str) -> None:
    model = EXAMPLES[example][variant]
    budget = DFS_BUDGET if strategy == "dfs" else FIXED_BUDGET
    result = explore(model, strategy, budget, seed=0)
    assert not result.found, result.summary() + "\n" + (result.replay or "")
    assert result.exhausted or result.schedules == budget


# Shrunk schedules the explorer printed for each bug, kept as plain regression tests: the buggy
# form fails on them, the fixed form (same tasks, same choices) does not.
REGRESSIONS = {
    ("pool-eviction", "buggy"): ("0.2.0.1.2", "evicted while in use"),
    ("get-or-create", "buggy"): ("0.0.1", "2 connections opened to A"),
    ("gossip-clone", "buggy"): ("1", "sees cluster_size 4"),
    ("select-updates", "buggy"): ("0.0.1", "no task can run"),
    ("partition-detector", "buggy"): ("0.0.1.0.1", "a reader waited"),
    ("partition-detector", "naive"): ("0.0.1", "stale status published"),
    ("conn-health", "buggy"): ("0.1.0.1", "dropped with 1 operation(s) in flight"),
    ("pool-eviction-threads", "buggy"): ("2.0.1.0.2", "closed while in use by user:user1"),
    ("select-updates-threads", "buggy"): ("0.0.1", "selector waits on Lock seen_lock held by 'writer'"),
}


@pytest.mark.parametrize(("example", "variant"), list(REGRESSIONS))
def test_recorded_schedule_still_fails_buggy_and_passes_fixed(example: str, variant: str) -> None:
    schedule, message = REGRESSIONS[example, variant]
    failing = replay(EXAMPLES[example][variant], schedule)
    assert failing.failure is not None and message in str(failing.failure), failing.report()
    fixed = replay(EXAMPLES[example]["fixed"], schedule)
    assert fixed.ok, fixed.report()
