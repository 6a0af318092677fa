"""Searching a model's schedules: `explore`, `replay`, `shrink`.

`explore(model, "pct", budget=500, seed=1)` runs up to `budget` schedules and stops at the
first failure, which it then shrinks (fewer choice points, fewer preemptions, smaller indices)
so the printed replay string is short. `replay(model, text)` reruns one schedule exactly.

The shrinker is a small deterministic delta-debugger over the choice list — delete choices,
lower one, raise one when that makes the run shorter, move a switch earlier — keeping a
candidate when it fails the same way (same failure kind). It orders candidates by (length,
lexicographic), the order hypothesis uses, so the result is never longer than what was
found. `hypothesis_glue` offers hypothesis's own shrinker for @given tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .model import Failure, Model, RunResult, run_model
from .strategies import DFS, Replay, Strategy, decode, encode, make_strategy, trim


@dataclass(frozen=True)
class ExploreResult:
    model: str
    strategy: str
    schedules: int  # schedules run (including the failing one)
    exhausted: bool  # DFS enumerated every schedule within its bound
    first_failure_at: int | None  # 1-based number of the first failing schedule
    failure: Failure | None  # of the shrunk schedule when shrunk, else of the one found
    found_length: int | None  # choice points of the failing schedule as found
    shrunk_length: int | None  # ... after shrinking (None when not shrunk)
    replay: str | None  # the shortest failing schedule known
    elapsed_s: float  # wall time of the search and the shrinking
    run: RunResult | None = field(default=None, repr=False)  # the replay's run, with its trace

    @property
    def found(self) -> bool:
        return self.failure is not None

    def report(self, last: int | None = 40) -> str:
        """The summary and, for a failure, the step-by-step trace of the shrunk schedule."""
        if self.run is None:
            return self.summary()
        return f"{self.summary()}\n{self.run.report(last)}"

    def summary(self) -> str:
        if self.failure is None:
            scope = "all schedules within the bound" if self.exhausted else f"{self.schedules} schedules"
            return f"{self.model} [{self.strategy}]: no failure in {scope}"
        return (
            f"{self.model} [{self.strategy}]: {self.failure}\n"
            f"found at schedule {self.first_failure_at}; replay: {self.replay}"
        )


def explore(
    model: Model[Any],
    strategy: str | Strategy = "pct",
    budget: int = 1000,
    seed: int = 0,
    *,
    shrink: bool = True,
    depth: int = 3,
    preemption_bound: int = 2,
) -> ExploreResult:
    """Run up to `budget` schedules of `model`; stop at the first failure and shrink it."""
    strat = (
        strategy
        if isinstance(strategy, Strategy)
        else make_strategy(strategy, seed, depth=depth, preemption_bound=preemption_bound)
    )
    started = time.perf_counter()
    runs = 0
    failing: RunResult | None = None
    exhausted = False
    while runs < budget:
        if not strat.start_run(runs):
            exhausted = True
            break
        result = run_model(model, strat, detailed=False)
        strat.end_run(result.choices)
        runs += 1
        if not result.ok:
            failing = result
            break
    if failing is None and isinstance(strat, DFS) and strat.exhausted:
        exhausted = True
    if failing is None:
        return ExploreResult(
            model.name, strat.describe(), runs, exhausted, None, None, None, None, None,
            time.perf_counter() - started,
        )  # fmt: skip
    best = shrink_run(model, failing) if shrink else failing
    shown = replay(model, best.choices)  # again, with locations and state in the trace
    return ExploreResult(
        model=model.name,
        strategy=strat.describe(),
        schedules=runs,
        exhausted=False,
        first_failure_at=runs,
        failure=shown.failure,
        found_length=failing.length,
        shrunk_length=best.length if shrink else None,
        replay=shown.replay,
        elapsed_s=time.perf_counter() - started,
        run=shown,
    )


def replay(model: Model[Any], schedule: str | list[int], *, detailed: bool = True) -> RunResult:
    """Rerun one schedule given as a replay string (or a list of choices), deterministically."""
    choices = decode(schedule) if isinstance(schedule, str) else list(schedule)
    return run_model(model, Replay(choices), detailed=detailed)


def _key(choices: list[int]) -> tuple[int, list[int]]:
    # Shortlex on the choices actually made — hypothesis's order: fail after fewer choice
    # points first, then with smaller (less preempting) choices.
    return (len(choices), choices)


def shrink_run(model: Model[Any], failing: RunResult, max_runs: int = 2000) -> RunResult:
    """Greedy shrinking of a failing run; keeps failures of the same kind."""
    assert failing.failure is not None
    kind = failing.failure.kind
    best = failing
    runs = 0
    seen: set[str] = {encode(failing.choices)}

    def attempt(candidate: list[int]) -> bool:
        nonlocal best, runs
        text = encode(candidate)
        if text in seen or runs >= max_runs:
            return False
        seen.add(text)
        runs += 1
        result = replay(model, candidate, detailed=False)
        # Compare the choices actually made: Replay clamps indices that no longer fit.
        fails_alike = result.failure is not None and result.failure.kind == kind
        if fails_alike and _key(result.choices) < _key(best.choices):
            best = result
            return True
        return False

    improved = True
    while improved and runs < max_runs:
        improved = False
        current = trim(best.choices)
        # Bigger cuts first: drop the tail half, then chunks, then single choices.
        for size in (len(current) // 2, 8, 4, 2, 1):
            if size < 1:
                continue
            i = len(current) - size
            while i >= 0:
                current = trim(best.choices)
                if i + size <= len(current) and attempt(current[:i] + current[i + size :]):
                    improved = True
                i -= size
        current = trim(best.choices)
        for i in range(len(current)):
            current = trim(best.choices)
            if i < len(current) and current[i] > 0:
                for lower in range(current[i]):
                    if attempt([*current[:i], lower, *current[i + 1 :]]):
                        improved = True
                        break
        if improved:
            continue
        # Pick another option at one point, keeping the rest: a different first move (another
        # task starts) can lead to a much shorter failure; only shorter ones are kept.
        current = trim(best.choices)
        widest = max(current, default=0) + 1
        for i in range(len(current)):
            current = trim(best.choices)
            for other in range(widest + 1):
                if (
                    i < len(current)
                    and other > current[i]
                    and attempt([*current[:i], other, *current[i + 1 :]])
                ):
                    improved = True
                    break
        if improved:
            continue
        # Move a switch earlier (its value to position i, a zero where it was): a preemption
        # that happens sooner often makes the failure sooner, which deleting cannot reach.
        current = trim(best.choices)
        for j in range(len(current) - 1, 0, -1):
            for i in range(j):
                current = trim(best.choices)
                if j < len(current) and current[j] > 0 and current[i] == 0:
                    moved = list(current)
                    moved[i], moved[j] = current[j], 0
                    if attempt(moved):
                        improved = True
                        break
    return best
