"""What a run's trace records per step, how a code location is named, and how both are printed.

One step = one task (or thread) runs from one scheduling point to the next. Each entry names
the task, where it resumed and where it next yields (file:line of the innermost *user* frame,
with the `point("label")` it stopped at, if any), and the model's state summary after the step
when the model supplies one. "User frame": the first frame, counting from the innermost, that
is not in the standard library (asyncio, threading, queue...) nor in this package — so a step
that stops inside `await lock.acquire()` is reported at the user's `async with lock:` line.
Shipped examples under `models/` count as user code.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_STDLIB = os.path.normcase(sysconfig.get_paths()["stdlib"]) + os.sep
_HERE = os.path.normcase(os.path.dirname(os.path.abspath(__file__)))

START = "start"
FINISHED = "finished"


@lru_cache(maxsize=4096)
def is_user_file(filename: str) -> bool:
    path = os.path.normcase(os.path.abspath(filename))
    if os.path.dirname(path) == _HERE:
        return False
    return not (path.startswith(_STDLIB) and "-packages" not in path)


def where(filename: str, line: int | None) -> str:
    return f"{os.path.basename(filename)}:{line if line is not None else '?'}"


def innermost_user_frame(frames: Iterable[types.FrameType]) -> types.FrameType | None:
    """The last user frame of `frames` (given outermost first)."""
    found = None
    for frame in frames:
        if is_user_file(frame.f_code.co_filename):
            found = frame
    return found


def frame_location(frame: types.FrameType | None, *, with_function: bool = False) -> str:
    if frame is None:
        return "?"
    text = where(frame.f_code.co_filename, frame.f_lineno)
    return f"{text} in {frame.f_code.co_name}" if with_function else text


def raise_location(error: BaseException) -> str | None:
    """file:line in function of the innermost user frame that raised `error`."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if is_user_file(f.filename)]
    if not frames:
        return None
    last = frames[-1]
    return f"{where(last.filename, last.lineno)} in {last.name}"


def object_paths(root: object, wanted: tuple[type, ...], limit: int = 2000) -> list[tuple[str, object]]:
    """(path, object) for each `wanted` object reachable from `root` ("locks['alice']",
    "pool.mutex") through attributes, dict values and list/tuple items, breadth first, depth ≤ 3:
    the names reports give primitives that were not named explicitly."""
    found: list[tuple[str, object]] = []
    seen: set[int] = set()
    queue: list[tuple[str, object, int]] = [("", root, 0)]
    while queue and len(seen) < limit:
        path, obj, depth = queue.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, wanted):
            found.append((path or "state", obj))
            continue
        if depth >= 3 or isinstance(
            obj, str | bytes | int | float | type | types.ModuleType | types.FunctionType
        ):
            continue
        children: list[tuple[str, object]] = []
        if isinstance(obj, dict):
            children = [(f"{path or 'state'}[{k!r}]", v) for k, v in obj.items()]
        elif isinstance(obj, list | tuple):
            children = [(f"{path or 'state'}[{i}]", v) for i, v in enumerate(obj)]
        elif hasattr(obj, "__dict__"):
            children = [(f"{path}.{k}" if path else k, v) for k, v in vars(obj).items()]
        queue.extend((p, v, depth + 1) for p, v in children)
    return found


@dataclass(frozen=True)
class TraceEntry:
    """One task step: `task` resumed at `resumed_at` and ran until `next_at`."""

    step: int
    task: str
    label: str | None  # the point("label") it resumed from (None: an unlabelled await)
    time: float  # virtual time when the step ran
    resumed_at: str = START  # "file.py:42", or "start" for the task's first step
    next_at: str = FINISHED  # "file.py:57" where it yields next, "finished", "raised X"
    next_label: str | None = None
    state: str | None = None  # the model's state summary after the step, if it gives one


def format_trace(entries: Sequence[TraceEntry]) -> str:
    if not entries:
        return "  (no steps)"
    width = max(len(e.task) for e in entries)
    lines = []
    for e in entries:
        resumed = e.resumed_at + (f" [{e.label}]" if e.label else "")
        then = e.next_at + (f" [{e.next_label}]" if e.next_label else "")
        line = f"  {e.step:4d}  t={e.time:<4g} {e.task:<{width}}  {resumed} → {then}"
        if e.state is not None:
            line += f"  | {e.state}"
        lines.append(line)
    return "\n".join(lines)
