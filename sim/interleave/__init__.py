"""Property-testing race fixes: run unmodified asyncio code one task step at a time.

A strategy chooses which ready task runs next; `explore` searches schedules for an invariant
violation, a task exception or a deadlock, shrinks what it finds and prints a replay string.
See docs/races.md for a walk-through.
"""

from .explore import ExploreResult, explore, replay, shrink_run
from .loop import BlockedTask, ChoicePoint, ControlledLoop, current_step, yield_point
from .model import Failure, Model, RunResult, run_model
from .primitives import Event, Lock, Queue
from .strategies import DFS, PCT, RandomWalk, Replay, Strategy, decode, encode, make_strategy

point = yield_point  # `await point("read idle")` reads well inside models

__all__ = [
    "DFS",
    "PCT",
    "BlockedTask",
    "ChoicePoint",
    "ControlledLoop",
    "Event",
    "ExploreResult",
    "Failure",
    "Lock",
    "Model",
    "Queue",
    "RandomWalk",
    "Replay",
    "RunResult",
    "Strategy",
    "current_step",
    "decode",
    "encode",
    "explore",
    "make_strategy",
    "point",
    "replay",
    "run_model",
    "shrink_run",
    "yield_point",
]
