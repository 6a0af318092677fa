"""Property-testing race fixes: run unmodified asyncio or threading code one step at a time.

A strategy chooses which ready task (or thread) runs next; `explore` searches schedules for an
invariant violation, a task exception or a deadlock, shrinks what it finds and prints a replay
string; `race_test` does the same inside a pytest suite. See docs/races.md for the guide and
the full API.
"""

from . import thread_runtime, threads
from .explore import ExploreResult, explore, replay, shrink_run
from .loop import BlockedTask, ChoicePoint, ControlledLoop, current_step, yield_point
from .model import (
    FAILURE_KINDS,
    Failure,
    Model,
    ModelError,
    OptimizedModeError,
    RunResult,
    always,
    run_model,
    watch,
)
from .points import point
from .primitives import Event, Lock, Queue
from .strategies import DFS, PCT, RandomWalk, Replay, Strategy, decode, encode, make_strategy
from .testing import RaceFound, check_model, race_test
from .trace import TraceEntry

__all__ = [
    "DFS",
    "FAILURE_KINDS",
    "PCT",
    "BlockedTask",
    "ChoicePoint",
    "ControlledLoop",
    "Event",
    "ExploreResult",
    "Failure",
    "Lock",
    "Model",
    "ModelError",
    "OptimizedModeError",
    "Queue",
    "RaceFound",
    "RandomWalk",
    "Replay",
    "RunResult",
    "Strategy",
    "TraceEntry",
    "always",
    "check_model",
    "current_step",
    "decode",
    "encode",
    "explore",
    "make_strategy",
    "point",
    "race_test",
    "replay",
    "run_model",
    "shrink_run",
    "thread_runtime",
    "threads",
    "watch",
    "yield_point",
]
