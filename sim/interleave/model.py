"""What a model is, and running it once under a strategy.

A model is `setup() -> state` and `tasks(state)`: a dict name -> coroutine (asyncio tasks run on
the controlled event loop) or name -> callable (threads run one at a time by the controlled
thread scheduler); a list works too, names are then generated. Checks, each failing by raising
AssertionError or returning False:

- `invariant(state)`: after every step;
- `at_end(state)`: once, after every task has finished (an *end-of-run check*);
- `always(predicate, message)` called from inside a running task: registers an extra
  invariant for the rest of the run (the form `race_test` bodies use, which have no state).

A run fails on the first of:

- ``invariant``: an invariant failed after some step;
- ``at_end``: the end-of-run check failed;
- ``exception``: a task raised (named with the file:line that raised);
- ``deadlock``: nothing can run, no timer is pending, and some task is unfinished;
- ``step-limit``: more than `max_steps` steps (a livelock guard);
- ``stalled``: a thread blocked on something the scheduler does not control (threads.py).

`state_summary(state) -> str` (or `watch(fn)` from inside a task) adds a column to each trace
step. Models must be deterministic given the schedule: no wall clock, no unseeded randomness,
no iteration over sets of strings (their order changes with PYTHONHASHSEED).

Runs are refused under `python -O`: it strips `assert`, so assert-based checks — the model's and
those in the code under test — would pass vacuously and a buggy model would look correct.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Protocol, TypeVar

from .loop import BlockedTask, Chooser, ControlledLoop, StepLimitExceeded
from .strategies import encode
from .thread_runtime import Stalled, ThreadRuntime
from .threads import patched_threading, real_primitives_in
from .trace import TraceEntry, format_trace, object_paths, raise_location

S = TypeVar("S")

TaskBody = Coroutine[Any, Any, Any] | Callable[[], object]
TaskSpec = Mapping[str, TaskBody] | Sequence[TaskBody]
Check = Callable[[Any], object]

FAILURE_KINDS = ("invariant", "at_end", "exception", "deadlock", "step-limit", "stalled")


class OptimizedModeError(RuntimeError):
    """Raised instead of exploring under `python -O`, where `assert` statements do nothing."""

    def __init__(self) -> None:
        super().__init__(
            "refusing to explore under python -O (or PYTHONOPTIMIZE): it strips assert "
            "statements, so assert-based invariants and the asserts in the code under test would "
            "pass vacuously and a buggy model would look correct. Run without -O."
        )


class ModelError(TypeError):
    """The model itself is malformed (not a failure the search found)."""


@dataclass(frozen=True)
class Model(Generic[S]):
    """A component under test: fresh state per schedule, its tasks, and what must hold."""

    name: str
    setup: Callable[[], S]  # called once per schedule, inside the controlled run
    tasks: Callable[[S], TaskSpec]  # coroutines (asyncio) or callables (threads), not mixed
    invariant: Callable[[S], object] | None = None  # checked after every step
    at_end: Callable[[S], object] | None = None  # checked once every task has finished
    max_steps: int = 5_000  # a run longer than this fails as "step-limit" (livelock guard)
    expect_bug: bool = False  # the CLI's verdict: True = this form must fail (exit 2 if not found)
    description: str = ""  # one line for `swimlab races --list`
    state_summary: Callable[[S], str] | None = None  # shown after each step of a reported trace


@dataclass(frozen=True)
class Failure:
    kind: str  # one of FAILURE_KINDS
    message: str
    step: int  # steps run when the failure was detected (the trace's last step number)
    blocked: tuple[BlockedTask, ...] = ()

    def __str__(self) -> str:
        if self.kind == "at_end":
            text = f"end-of-run check (at_end) failed after all tasks finished ({self.step} steps): "
        elif self.kind == "invariant":
            text = f"invariant violated after step {self.step}: "
        else:
            text = f"{self.kind} after step {self.step}: "
        text += self.message
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
        text = format_trace(entries)
        if len(entries) < len(self.trace):
            text = f"  ... {len(self.trace) - len(entries)} earlier steps\n" + text
        return text

    def report(self, last: int | None = 40) -> str:
        if self.failure is None:
            return f"{self.model}: ok after {self.steps} steps (replay {self.replay})"
        return (
            f"{self.model}: {self.failure}\nreplay: {self.replay}\n"
            f"trace (step, virtual time, task: resumed at → next yield [point label]"
            f"{' | state' if any(e.state is not None for e in self.trace) else ''}):\n"
            f"{self.format_trace(last)}"
        )


# --- run-scoped checks registered from inside tasks ----------------------------------------


@dataclass
class _RunHooks:
    checks: list[tuple[Callable[[], object], str | Callable[[], str]]] = field(default_factory=list)
    summaries: list[Callable[[], str]] = field(default_factory=list)


_current_hooks: _RunHooks | None = None


def always(predicate: Callable[[], object], message: str | Callable[[], str] = "") -> None:
    """From inside a task of a controlled run: check `predicate()` after every later step.

    It fails by returning False or raising AssertionError; `message` (or `message()`) says what
    broke. Needs no `assert`, so it also holds under tooling that strips asserts.
    """
    if _current_hooks is None:
        raise RuntimeError("always() registers a check for a controlled run; call it inside one")
    _current_hooks.checks.append((predicate, message))


def watch(summary: Callable[[], str]) -> None:
    """From inside a task of a controlled run: show `summary()` after each step of the trace."""
    if _current_hooks is None:
        raise RuntimeError("watch() adds a state summary to a controlled run; call it inside one")
    _current_hooks.summaries.append(summary)


@contextlib.contextmanager
def _hooks() -> Iterator[_RunHooks]:
    global _current_hooks
    previous, _current_hooks = _current_hooks, _RunHooks()
    try:
        yield _current_hooks
    finally:
        _current_hooks = previous


# --- runtimes: the asyncio loop and the thread scheduler behind one interface -------------


class Runtime(Protocol):
    @property
    def steps(self) -> int: ...
    @property
    def choices(self) -> list[int]: ...
    @property
    def trace(self) -> list[TraceEntry]: ...

    def running(self) -> contextlib.AbstractContextManager[None]: ...
    def attach(self, state: object) -> None: ...
    def spawn(self, name: str | None, body: TaskBody) -> None: ...
    def step(self) -> bool: ...
    def new_error(self) -> tuple[str, BaseException] | None: ...
    def describe_blocked(self) -> list[BlockedTask]: ...
    def annotate_last(self, state: str) -> None: ...
    def teardown(self) -> None: ...


class _AsyncRuntime:
    """The controlled event loop seen through the `Runtime` interface."""

    def __init__(self, chooser: Chooser, detailed: bool) -> None:
        self.loop = ControlledLoop(chooser, detailed=detailed)
        self._state: object = None
        self._reported: set[int] = set()  # indices of finished tasks already looked at
        self._named = False

    def attach(self, state: object) -> None:
        self._state = state
        if self.loop.detailed:  # a search does not print names: it pays for them only on a deadlock
            self._name_primitives()

    def _name_primitives(self) -> None:
        primitives = (asyncio.Lock, asyncio.Event, asyncio.Condition, asyncio.Semaphore, asyncio.Queue)
        self.loop.names = {id(obj): path for path, obj in object_paths(self._state, primitives)}
        self._named = True

    @property
    def steps(self) -> int:
        return self.loop.steps

    @property
    def choices(self) -> list[int]:
        return self.loop.choices

    @property
    def trace(self) -> list[TraceEntry]:
        return self.loop.trace

    def running(self) -> contextlib.AbstractContextManager[None]:
        return self.loop.running()

    def spawn(self, name: str | None, body: TaskBody) -> None:
        if not asyncio.iscoroutine(body):
            raise ModelError(f"task {name!r}: expected a coroutine, got {type(body).__name__}")
        self.loop.create_task(body, name=name)

    def step(self) -> bool:
        return self.loop.step()

    def new_error(self) -> tuple[str, BaseException] | None:
        for i, task in enumerate(self.loop.tasks):
            if i in self._reported or not task.done():
                continue
            self._reported.add(i)
            if not task.cancelled() and (error := task.exception()) is not None:
                return task.get_name(), error
        return None

    def describe_blocked(self) -> list[BlockedTask]:
        if not self._named and any(not t.done() for t in self.loop.tasks):
            self._name_primitives()
        return self.loop.describe_blocked()

    def annotate_last(self, state: str) -> None:
        if self.loop.trace:
            self.loop.trace[-1] = replace(self.loop.trace[-1], state=state)

    def teardown(self) -> None:
        _teardown_loop(self.loop)


def _choose_runtime(
    bodies: list[tuple[str | None, TaskBody]], loop_runtime: _AsyncRuntime, chooser: Chooser, detailed: bool
) -> Runtime:
    """The loop for coroutines, the thread scheduler for callables (whose loop is then closed)."""
    coroutines = [asyncio.iscoroutine(b) for _, b in bodies]
    if all(coroutines):
        return loop_runtime
    loop_runtime.loop.close()
    if not any(coroutines) and all(callable(b) for _, b in bodies):
        return ThreadRuntime(chooser, detailed=detailed)
    for _, body in bodies:
        if asyncio.iscoroutine(body):
            body.close()  # never awaited: close it so nothing warns
    kinds = ", ".join(f"{n or i}: {type(b).__name__}" for i, (n, b) in enumerate(bodies))
    raise ModelError(
        "tasks(state) must return coroutines (asyncio) or callables (threads), not a mix: " + kinds
    )


# --- one run --------------------------------------------------------------------------------


def _check(fn: Callable[[], object], what: str) -> str | None:
    try:
        verdict = fn()
    except AssertionError as exc:
        return str(exc) or f"{what} failed"
    return f"{what} returned False" if verdict is False else None


def _check_state(fn: Check | None, state: Any, role: str) -> str | None:
    if fn is None:
        return None
    return _check(lambda: fn(state), _named(fn, role))


def _named(fn: Callable[..., object], role: str) -> str:
    name = getattr(fn, "__name__", "")
    return role if not name or name == "<lambda>" or name == role else f"{role} {name}()"


def run_model(model: Model[Any], chooser: Chooser, *, detailed: bool = True) -> RunResult:
    """Run the model once; every scheduling decision goes to `chooser`.

    `detailed=False` skips locations and state summaries in the trace (a search does not read
    them; `explore` reruns the failure it reports with details).
    """
    if sys.flags.optimize:
        raise OptimizedModeError()
    with _hooks() as hooks, patched_threading():
        loop_runtime = _AsyncRuntime(chooser, detailed)
        with loop_runtime.running():  # setup may use the running loop (futures, tasks...)
            state = model.setup()
            spec = model.tasks(state)
        bodies: list[tuple[str | None, TaskBody]] = (
            list(spec.items()) if isinstance(spec, Mapping) else [(None, b) for b in spec]
        )
        runtime = _choose_runtime(bodies, loop_runtime, chooser, detailed)
        runtime.attach(state)
        if isinstance(runtime, ThreadRuntime) and (real := real_primitives_in(state)):
            raise ModelError(
                f"model {model.name!r}: {', '.join(f'`{p}`' for p in real)} in its state is a real "
                "threading primitive, created outside the controlled run (a reference to "
                "threading.Lock taken before it, such as field(default_factory=threading.Lock)?); "
                "create it inside setup, e.g. field(default_factory=lambda: threading.Lock())"
            )
        try:
            with runtime.running():
                for name, body in bodies:
                    runtime.spawn(name, body)
                failure = _run(runtime, model, state, hooks, detailed)
            # Snapshot before teardown, whose cancellation steps are not part of the schedule.
            result = RunResult(model.name, failure, list(runtime.choices), runtime.steps, list(runtime.trace))
        finally:
            runtime.teardown()
    return result


def _run(runtime: Runtime, model: Model[Any], state: Any, hooks: _RunHooks, detailed: bool) -> Failure | None:
    def invariants() -> str | None:
        if message := _check_state(model.invariant, state, "invariant"):
            return message
        for predicate, text in hooks.checks:
            label = text() if callable(text) else text
            if message := _check(predicate, "always()"):
                return (
                    message
                    if not label
                    else label
                    if message == "always() returned False"
                    else f"{label}: {message}"
                )
        return None

    if message := invariants():
        return Failure("invariant", message, 0)
    while True:
        if runtime.steps >= model.max_steps:
            return Failure("step-limit", f"more than {model.max_steps} steps (livelock?)", runtime.steps)
        try:
            progressed = runtime.step()
        except StepLimitExceeded as exc:
            return Failure("step-limit", str(exc), runtime.steps)
        except Stalled as exc:
            return Failure("stalled", str(exc), runtime.steps)
        if progressed and detailed and (model.state_summary is not None or hooks.summaries):
            parts = [_summary(model.state_summary, state)] if model.state_summary is not None else []
            parts += [_summary(fn) for fn in hooks.summaries]
            runtime.annotate_last("; ".join(parts))
        if (error := runtime.new_error()) is not None:
            name, raised = error
            at = raise_location(raised)
            return Failure(
                "exception", f"task {name!r} raised {raised!r}" + (f" at {at}" if at else ""), runtime.steps
            )
        if message := invariants():
            return Failure("invariant", message, runtime.steps)
        if not progressed:
            blocked = tuple(runtime.describe_blocked())
            if blocked:
                names = ", ".join(b.task for b in blocked)
                return Failure("deadlock", f"no task can run; blocked: {names}", runtime.steps, blocked)
            if message := _check_state(model.at_end, state, "at_end"):
                return Failure("at_end", message, runtime.steps)
            return None


def _summary(fn: Callable[..., str], *args: Any) -> str:
    try:
        return str(fn(*args))
    except Exception as exc:  # a broken summary must not hide the run's verdict
        return f"<state summary raised {exc!r}>"


class _Fifo:
    def choose(self, point: Any) -> int:
        return 0


def _teardown_loop(loop: ControlledLoop) -> None:
    """Cancel what is left so finally-blocks run and nothing warns at garbage collection."""
    from . import _cpython

    loop._chooser = _Fifo()
    loop.detailed = False
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
            _cpython.silence_pending_destroy(task)
            # A finally-block that awaits raises RuntimeError here: nothing more we can do.
            with contextlib.suppress(RuntimeError):
                task.get_coro().close()
    loop.close()
