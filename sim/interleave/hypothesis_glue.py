"""Hypothesis draws the schedule, so a failing interleaving shrinks like any other input.

Every choice point becomes `data.draw(st.integers(0, n - 1))`. Option 0 is always the natural
continuation (see loop.py), so hypothesis's shrinking towards 0 and towards shorter choice
sequences means "fewer preemptions, earlier failure" — the minimal schedule a human wants.

Three ways in:

    @given(st.data())
    def test_pool(data):
        check_schedule(MODEL, data)           # AssertionError carrying the replay string

    @given(schedule_runs(MODEL))
    def test_pool(run):
        assert run.ok, run.report()

    result = hypothesis_search(MODEL, max_examples=500, seed=1)   # an ExploreResult
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st

from .explore import ExploreResult
from .loop import ChoicePoint
from .model import Model, RunResult, run_model
from .strategies import Replay, Strategy


class DrawnSchedule(Strategy):
    """Asks hypothesis for every choice."""

    name = "hypothesis"

    def __init__(self, draw: Any) -> None:
        self._draw = draw

    def choose(self, point: ChoicePoint) -> int:
        return int(self._draw(st.integers(0, len(point.options) - 1)))


def schedule_runs(model: Model[Any]) -> st.SearchStrategy[RunResult]:
    """A strategy whose values are finished runs of `model` under a drawn schedule."""

    @st.composite
    def runs(draw: Any) -> RunResult:
        return run_model(model, DrawnSchedule(draw))

    return runs()


def check_schedule(model: Model[Any], data: st.DataObject) -> RunResult:
    """Run `model` under a schedule drawn from `data`; raise AssertionError if it fails."""
    result = run_model(model, DrawnSchedule(data.draw), detailed=False)
    if not result.ok:
        result = run_model(model, Replay(result.choices))  # again, with the readable trace
        note(result.report())
        raise AssertionError(f"{result.failure} — replay with {result.replay!r}")
    return result


def hypothesis_search(model: Model[Any], max_examples: int = 500, seed_: int = 0) -> ExploreResult:
    """Search with hypothesis's generator and shrinker; report like `explore` does.

    `schedules` counts test-case executions before the first failure; shrinking runs are
    extra. `replay` is the schedule hypothesis shrank to (its final, minimal failing run).
    """
    calls = 0
    first: RunResult | None = None
    first_at: int | None = None
    last_failing: RunResult | None = None

    @seed(seed_)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        # The explain phase traces every line to explain the failure: 30x slower here, and a
        # schedule is explained better by its trace.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )
    @given(st.data())
    def search(data: st.DataObject) -> None:
        nonlocal calls, first, first_at, last_failing
        calls += 1
        result = run_model(model, DrawnSchedule(data.draw), detailed=False)
        if not result.ok:
            if first is None:
                first, first_at = result, calls
            last_failing = result
            raise AssertionError(result.replay)

    started = time.perf_counter()
    with contextlib.suppress(AssertionError):  # the failure is reported from the closure
        search()
    elapsed = time.perf_counter() - started
    if first is None or last_failing is None:
        return ExploreResult(model.name, "hypothesis", calls, False, None, None, None, None, None, elapsed)
    shown = run_model(model, Replay(last_failing.choices))  # with the readable trace
    return ExploreResult(
        model=model.name,
        strategy="hypothesis",
        schedules=first_at or calls,
        exhausted=False,
        first_failure_at=first_at,
        failure=shown.failure,
        found_length=first.length,
        shrunk_length=last_failing.length,
        replay=last_failing.replay,
        elapsed_s=elapsed,
        run=shown,
    )
