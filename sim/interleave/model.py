"""What a model is, and running it once under a strategy.

A model is three functions: `setup() -> state`, `tasks(state) -> coroutines` (a list, or a
dict name -> coroutine so reports name them), and `invariant(state)`, checked after every task
step. Optionally `at_end(state)`, checked once every task has finished. A check fails by raising
AssertionError or returning False. A run fails on the first of:

- ``invariant``: the invariant (or `at_end`) failed;
- ``exception``: a task raised;
- ``deadlock``: nothing can run, no timer is pending, and some task is unfinished;
- ``step-limit``: more than `max_steps` task steps (a livelock guard).

Models must be deterministic given the schedule: no wall clock, no unseeded randomness, no
iteration over sets of strings (their order changes with PYTHONHASHSEED).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .loop import BlockedTask, Chooser, ControlledLoop, StepLimitExceeded, TraceEntry
from .strategies import encode

S = TypeVar("S")

TaskSpec = Mapping[str, Coroutine[Any, Any, Any]] | Sequence[Coroutine[Any, Any, Any]]


@dataclass(frozen=True)
class Model(Generic[S]):
    name: str
    setup: Callable[[], S]
    tasks: Callable[[S], TaskSpec]
    invariant: Callable[[S], object] | None = None
    at_end: Callable[[S], object] | None = None
    max_steps: int = 5_000
    expect_bug: bool = False  # documentation for catalogues and the CLI, not used by the search
    description: str = ""


@dataclass(frozen=True)
class Failure:
    kind: str  # "invariant" | "exception" | "deadlock" | "step-limit"
    message: str
    step: int
    blocked: tuple[BlockedTask, ...] = ()

    def __str__(self) -> str:
        text = f"{self.kind} at step {self.step}: {self.message}"
        if self.blocked:
            text += "".join(f"\n  - {b}" for b in self.blocked)
        return text


@dataclass
class RunResult:
    model: str
    failure: Failure | None
    choices: list[int]
    steps: int
    trace: list[TraceEntry] = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def replay(self) -> str:
        return encode(self.choices)

    @property
    def length(self) -> int:
        """Choice points until the run ended (or failed): what shrinking minimises first."""
        return len(self.choices)

    def format_trace(self, last: int | None = 40) -> str:
        entries = self.trace if last is None else self.trace[-last:]
        return "\n".join(
            f"  {e.step:4d} t={e.time:g} {e.task}" + (f" @ {e.label}" if e.label else "") for e in entries
        )

    def report(self) -> str:
        if self.failure is None:
            return f"{self.model}: ok after {self.steps} steps (replay {self.replay})"
        return (
            f"{self.model}: {self.failure}\nreplay: {self.replay}\n"
            f"last steps (step, virtual time, task @ yield point):\n{self.format_trace()}"
        )


def _check(fn: Callable[[Any], object] | None, state: Any, what: str) -> str | None:
    if fn is None:
        return None
    try:
        verdict = fn(state)
    except AssertionError as exc:
        return str(exc) or f"{what} failed"
    return f"{what} returned False" if verdict is False else None


def run_model(model: Model[Any], chooser: Chooser) -> RunResult:
    """Run the model once; every scheduling decision goes to `chooser`."""
    loop = ControlledLoop(chooser)
    failure: Failure | None = None
    try:
        with loop.running():
            state = model.setup()
            spec = model.tasks(state)
            items = list(spec.items()) if isinstance(spec, Mapping) else [(None, c) for c in spec]
            for name, coro in items:
                loop.create_task(coro, name=name)
            failure = _run(loop, model, state)
        # Snapshot before teardown, whose cancellation steps are not part of the schedule.
        result = RunResult(model.name, failure, list(loop.choices), loop.steps, list(loop.trace))
    finally:
        _teardown(loop)
    return result


def _run(loop: ControlledLoop, model: Model[Any], state: Any) -> Failure | None:
    if message := _check(model.invariant, state, "invariant"):
        return Failure("invariant", message, 0)
    reported: set[int] = set()
    while True:
        if loop.steps >= model.max_steps:
            return Failure("step-limit", f"more than {model.max_steps} steps (livelock?)", loop.steps)
        try:
            progressed = loop.step()
        except StepLimitExceeded as exc:
            return Failure("step-limit", str(exc), loop.steps)
        for i, task in enumerate(loop.tasks):
            if i in reported or not task.done():
                continue
            reported.add(i)
            if not task.cancelled() and (error := task.exception()) is not None:
                return Failure("exception", f"task {task.get_name()!r} raised {error!r}", loop.steps)
        if message := _check(model.invariant, state, "invariant"):
            return Failure("invariant", message, loop.steps)
        if not progressed:
            blocked = tuple(loop.describe_blocked())
            if blocked:
                names = ", ".join(b.task for b in blocked)
                return Failure("deadlock", f"no task can run; blocked: {names}", loop.steps, blocked)
            if message := _check(model.at_end, state, "at_end"):
                return Failure("invariant", message, loop.steps)
            return None


class _Fifo:
    def choose(self, point: Any) -> int:
        return 0


def _teardown(loop: ControlledLoop) -> None:
    """Cancel what is left so finally-blocks run and nothing warns at garbage collection."""
    loop._chooser = _Fifo()
    try:
        with loop.running():
            for task in loop.tasks:
                if not task.done():
                    task.cancel()
            for _ in range(10_000):
                if all(t.done() for t in loop.tasks) or not loop.step():
                    break
    except Exception:  # teardown of an already-judged run must not mask its verdict
        pass
    for task in loop.tasks:
        if task.done():
            if not task.cancelled():
                task.exception()  # mark retrieved: the run already reported it
        else:
            task._log_destroy_pending = False  # type: ignore[attr-defined]
            # A finally-block that awaits raises RuntimeError here: nothing more we can do.
            with contextlib.suppress(RuntimeError):
                task.get_coro().close()
    loop.close()
