"""Race tests in your own pytest suite: `@race_test(...)` over a test body, or `check_model`.

    @race_test(strategy="pct", budget=500)
    async def test_bucket_never_overdraws():          # or a plain def: the body runs as a thread
        bucket = TokenBucket(capacity=1)
        always(lambda: bucket.tokens >= 0, "tokens went negative")
        await asyncio.gather(bucket.take(), bucket.take())

The decorated test runs its body as the task (or thread) "main" of a fresh run per schedule —
everything it creates, every task it starts and every thread it spawns is under the explorer's
control — searches up to `budget` schedules per strategy and, on the first failure, shrinks it
and fails the test with a `RaceFound` error (an AssertionError): the failure, the replay
string, and the step-by-step trace. `@race_test(replay="0.1.0.1")` reruns exactly that schedule.
`expect_bug=True` turns the verdict around: the test passes only if a failure is found and its
replay string reproduces it (a test that the race, or a planted one, is caught).

pytest fixtures may be parameters of the body; their values are created once per test, not per
schedule, so build mutable state inside the body. `check_model(MODEL, ...)` does the same for a
`Model`, honouring its `expect_bug`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .explore import ExploreResult, explore, replay
from .model import Model, TaskBody

ALL_STRATEGIES = ("random", "pct", "dfs")

F = TypeVar("F", bound=Callable[..., Any])


class RaceFound(AssertionError):
    """A race test's verdict was not the expected one; the message carries replay and trace."""


def _strategies(strategy: str | Sequence[str]) -> tuple[str, ...]:
    names: tuple[str, ...]
    if isinstance(strategy, str):
        names = ALL_STRATEGIES if strategy == "all" else (strategy,)
    else:
        names = tuple(strategy)
    for name in names:
        if name not in ALL_STRATEGIES:
            raise ValueError(f"unknown strategy {name!r}: expected {', '.join(ALL_STRATEGIES)} or 'all'")
    return names


def check_model(
    model: Model[Any],
    strategy: str | Sequence[str] = "all",
    budget: int = 500,
    seed: int = 0,
    *,
    replay_schedule: str | None = None,
    expect_bug: bool | None = None,
    depth: int = 3,
    preemptions: int = 2,
) -> list[ExploreResult]:
    """Search `model` with each strategy in turn (up to `budget` schedules each, stopping at the
    first failure) or replay one schedule; raise `RaceFound` unless the verdict is the expected
    one (`expect_bug`, default `model.expect_bug`). Returns the searches it ran."""
    __tracebackhide__ = True
    expected = model.expect_bug if expect_bug is None else expect_bug
    if replay_schedule is not None:
        run = replay(model, replay_schedule)
        if run.ok == expected:
            verdict = "passed" if run.ok else "failed"
            raise RaceFound(f"{model.name}: replay {replay_schedule!r} {verdict}\n{run.report()}")
        return []
    results: list[ExploreResult] = []
    for name in _strategies(strategy):
        result = explore(model, name, budget, seed, depth=depth, preemption_bound=preemptions)
        results.append(result)
        if result.found and not expected:
            raise RaceFound(_found_message(model, result))
        if result.found and result.failure is not None and result.replay is not None:
            again = replay(model, result.replay, detailed=False)
            # Kind and step, not the message: a message may quote object addresses.
            if again.failure is None or (again.failure.kind, again.failure.step) != (
                result.failure.kind,
                result.failure.step,
            ):
                raise RaceFound(
                    f"{model.name}: the replay string {result.replay!r} did not reproduce the "
                    f"failure:\n{result.report()}\nreplayed: {again.failure}"
                )
            return results
    if expected:
        tried = ", ".join(f"{r.strategy}: {r.schedules}" for r in results)
        raise RaceFound(f"{model.name}: expected a failure, none found (schedules run: {tried})")
    return results


def _found_message(model: Model[Any], result: ExploreResult) -> str:
    assert result.failure is not None and result.run is not None
    return (
        f"race found in {model.name}: {result.failure}\n"
        f"found by {result.strategy} at schedule {result.first_failure_at}; choice points "
        f"{result.found_length} → {result.shrunk_length} after shrinking\n"
        f"replay: {result.replay}   (rerun exactly this schedule: replay={result.replay!r})\n"
        f"trace (step, virtual time, task: resumed at → next yield [point label]"
        f"{' | state' if any(e.state is not None for e in result.run.trace) else ''}):\n"
        f"{result.run.format_trace()}"
    )


def body_model(
    fn: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    max_steps: int = 5_000,
    expect_bug: bool = False,
) -> Model[None]:
    """The model whose one task (or thread) "main" runs `fn(*args, **kwargs)`."""
    kw = dict(kwargs or {})

    def tasks(_: None) -> dict[str, TaskBody]:
        if inspect.iscoroutinefunction(fn):
            return {"main": fn(*args, **kw)}
        return {"main": functools.partial(fn, *args, **kw)}

    doc = (inspect.getdoc(fn) or "").split("\n", 1)[0]
    return Model(
        fn.__name__, lambda: None, tasks, max_steps=max_steps, expect_bug=expect_bug, description=doc
    )


def race_test(
    strategy: str | Sequence[str] = "all",
    budget: int = 500,
    seed: int = 0,
    *,
    replay: str | None = None,
    expect_bug: bool = False,
    max_steps: int = 5_000,
    depth: int = 3,
    preemptions: int = 2,
) -> Callable[[F], F]:
    """Turn a test body (async def: asyncio; def: threads) into a race test (module docstring)."""
    names = _strategies(strategy)  # a typo fails at import, not after a long search

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def test(*args: Any, **kwargs: Any) -> None:
            __tracebackhide__ = True
            model = body_model(fn, args, kwargs, max_steps=max_steps, expect_bug=expect_bug)
            check_model(
                model, names, budget, seed, replay_schedule=replay, depth=depth, preemptions=preemptions
            )

        test.race_model = (  # type: ignore[attr-defined]
            body_model(fn, max_steps=max_steps, expect_bug=expect_bug)
            if not inspect.signature(fn).parameters
            else None
        )  # what `swimlab races FILE.py` runs
        return test  # type: ignore[return-value]

    return decorate
