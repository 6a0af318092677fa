"""Scheduling strategies, and the replay string that makes any schedule reproducible.

A strategy answers one question, asked by the controlled loop at every choice point (two or
more ready task steps): which option runs next. Options arrive in canonical order, where index
0 is the natural continuation (the task that ran last, if it is ready again). The loop records
every answer, so a run is fully described by its list of ints, whatever strategy produced it.

- `RandomWalk`  — uniform choice at every point; cheap, finds shallow bugs fast.
- `PCT`         — probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
                  ASPLOS 2010): a bug of depth d in a run of n tasks and k choice points is found
                  by one run with probability at least 1/(n·k^(d-1)).
- `DFS`         — exhaustive depth-first search over schedules with at most P preemptions
                  (iterative context bounding, Musuvathi & Qadeer, PLDI 2007); stateless: each
                  run replays a prefix of choices and then runs without preemption.
- `Replay`      — plays a recorded list back (0 once the list runs out).

Replay strings: choices joined by ".", with runs of three or more equal values written
`value*count`, trailing zeros dropped ("" is printed as "-"). E.g. "0*5.1.0.2".
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from .loop import ChoicePoint


class Strategy(ABC):
    """Chooses at choice points; told when each run starts and ends."""

    name: str = "strategy"

    def start_run(self, run: int) -> bool:
        """Prepare run number `run` (0-based). False: nothing left to explore."""
        return True

    @abstractmethod
    def choose(self, point: ChoicePoint) -> int: ...

    def end_run(self, choices: Sequence[int]) -> None:  # noqa: B027 - optional hook
        """The choices the finished run actually made."""

    def describe(self) -> str:
        return self.name


class RandomWalk(Strategy):
    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)

    def choose(self, point: ChoicePoint) -> int:
        return self._rng.randrange(len(point.options))


class PCT(Strategy):
    """Probabilistic concurrency testing with bug depth `depth`.

    Each task gets a random distinct priority above `depth` the first time it is seen; `depth-1`
    change points are drawn uniformly among the first k choice points of the run; at a change
    point the task about to run drops to priority `depth - i` (below every initial priority).
    The highest-priority ready option always runs. Guarantee (ASPLOS'10, Theorem 9): a bug that
    needs d specific ordering constraints is hit by one run with probability ≥ 1/(n·k^(d-1)),
    n tasks, k steps. k is not known in advance: it starts at `k_hint` and then tracks the
    longest run seen, so change points stay spread over the whole run.
    """

    name = "pct"

    def __init__(self, seed: int = 0, depth: int = 3, k_hint: int = 20) -> None:
        if depth < 1:
            raise ValueError("PCT depth must be at least 1")
        self._rng = random.Random(seed)
        self.depth = depth
        self._k = k_hint
        self._priority: dict[str, float] = {}
        self._change_points: dict[int, int] = {}

    def start_run(self, run: int) -> bool:
        self._priority = {}
        points = self._rng.sample(range(self._k), min(self.depth - 1, self._k))
        self._change_points = {step: i + 1 for i, step in enumerate(sorted(points))}
        return True

    def _prio(self, actor: str) -> float:
        if actor not in self._priority:
            # Uniform in (depth, depth+1): distinct with probability 1, random relative order.
            self._priority[actor] = self.depth + self._rng.random()
        return self._priority[actor]

    def choose(self, point: ChoicePoint) -> int:
        best = max(range(len(point.options)), key=lambda i: self._prio(point.options[i].actor))
        change = self._change_points.get(point.index)
        if change is not None:
            self._priority[point.options[best].actor] = self.depth - change
            best = max(range(len(point.options)), key=lambda i: self._prio(point.options[i].actor))
        return best

    def end_run(self, choices: Sequence[int]) -> None:
        self._k = max(self._k, len(choices))

    def describe(self) -> str:
        return f"pct(d={self.depth})"


@dataclass
class _Frame:
    options: int
    chosen: int
    continuing: bool
    preemptions_before: int


class DFS(Strategy):
    """Depth-first enumeration of all schedules with at most `preemption_bound` preemptions.

    A preemption is picking anything but option 0 while option 0 is the task that ran last.
    Switching when the last task blocked or finished is free. Stateless: run i replays the
    prefix chosen by backtracking over run i-1, then always takes option 0.
    """

    name = "dfs"

    def __init__(self, preemption_bound: int = 2) -> None:
        self.bound = preemption_bound
        self._prefix: list[int] = []
        self._stack: list[_Frame] = []
        self._preemptions = 0
        self.exhausted = False

    def start_run(self, run: int) -> bool:
        self._stack = []
        self._preemptions = 0
        return not self.exhausted

    def choose(self, point: ChoicePoint) -> int:
        depth = len(self._stack)
        choice = self._prefix[depth] if depth < len(self._prefix) else 0
        choice = min(choice, len(point.options) - 1)
        self._stack.append(_Frame(len(point.options), choice, point.continuing, self._preemptions))
        if point.continuing and choice != 0:
            self._preemptions += 1
        return choice

    def end_run(self, choices: Sequence[int]) -> None:
        for depth in range(len(self._stack) - 1, -1, -1):
            frame = self._stack[depth]
            alternative = frame.chosen + 1
            cost = 1 if frame.continuing else 0  # every alternative to option 0 costs the same
            if alternative < frame.options and frame.preemptions_before + cost <= self.bound:
                self._prefix = [f.chosen for f in self._stack[:depth]] + [alternative]
                return
        self.exhausted = True

    def describe(self) -> str:
        return f"dfs(preemptions≤{self.bound})"


class Replay(Strategy):
    """Plays back recorded choices; past the end, or if a choice no longer fits, the nearest
    valid one (so shrinking candidates never crash)."""

    name = "replay"

    def __init__(self, choices: Sequence[int]) -> None:
        self.choices = list(choices)

    def choose(self, point: ChoicePoint) -> int:
        if point.index < len(self.choices):
            return min(self.choices[point.index], len(point.options) - 1)
        return 0


def make_strategy(name: str, seed: int = 0, *, depth: int = 3, preemption_bound: int = 2) -> Strategy:
    if name == "random":
        return RandomWalk(seed)
    if name == "pct":
        return PCT(seed, depth=depth)
    if name == "dfs":
        return DFS(preemption_bound)
    raise ValueError(f"unknown strategy {name!r}: expected random, pct or dfs")


# --- replay strings -------------------------------------------------------------------------


def trim(choices: Sequence[int]) -> list[int]:
    """Drop trailing zeros: replay takes option 0 past the end anyway."""
    out = list(choices)
    while out and out[-1] == 0:
        out.pop()
    return out


def encode(choices: Sequence[int]) -> str:
    values = trim(choices)
    if not values:
        return "-"
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        run = j - i
        parts.append(f"{values[i]}*{run}" if run >= 3 else ".".join([str(values[i])] * run))
        i = j
    return ".".join(parts)


def decode(text: str) -> list[int]:
    text = text.strip()
    if text in ("", "-"):
        return []
    out: list[int] = []
    for part in text.split("."):
        value, _, count = part.partition("*")
        try:
            out.extend([int(value)] * (int(count) if count else 1))
        except ValueError:
            raise ValueError(f"bad replay string {text!r}: {part!r} is not N or N*COUNT") from None
    return out
