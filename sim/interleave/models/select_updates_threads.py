"""Seed bug #3 with threads: nested lock acquisition in `select_updates` → deadlock with a writer.

The port of `select_updates.py` to `threading.Lock`, as in the seed's Rust: `select_updates`
holds the `updates` lock while `should_stop_gossiping` takes `seen_count`; a concurrent
`mark_sent` takes `seen_count`, then `updates` to drop an update sent often enough. Opposite
orders: each thread can hold one lock and wait for the other.

- BUGGY: the selector nests seen_count inside updates.
- FIXED: the selector snapshots the seen counts under `seen_count` alone, releases it, then takes
  `updates` alone: it never holds two locks, so no cycle can form.

Checks: no deadlock (found by the scheduler), and at the end every selected update is a known one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ..model import Model
from ..points import point

MAX_ROUNDS = 2


@dataclass
class State:
    updates_lock: threading.Lock = field(default_factory=lambda: threading.Lock())
    seen_lock: threading.Lock = field(default_factory=lambda: threading.Lock())
    updates: dict[str, str] = field(default_factory=lambda: {"n1": "alive", "n2": "suspect"})
    seen: dict[str, int] = field(default_factory=lambda: {"n1": 1, "n2": 0})
    selected: list[str] = field(default_factory=list)


def select_updates_buggy(state: State) -> None:
    with state.updates_lock:
        point("iterate updates")
        for node in list(state.updates):
            with state.seen_lock:  # should_stop_gossiping(): nested acquisition
                if state.seen.get(node, 0) < MAX_ROUNDS:
                    state.selected.append(node)


def select_updates_fixed(state: State) -> None:
    with state.seen_lock:
        seen = dict(state.seen)
    with state.updates_lock:
        point("iterate updates")
        state.selected.extend(n for n in state.updates if seen.get(n, 0) < MAX_ROUNDS)


def mark_sent(state: State, node: str) -> None:
    with state.seen_lock:
        point("bump seen_count")
        state.seen[node] = state.seen.get(node, 0) + 1
        if state.seen[node] >= MAX_ROUNDS:
            with state.updates_lock:
                state.updates.pop(node, None)


def at_end(state: State) -> None:
    assert all(n in ("n1", "n2") for n in state.selected), f"selected {state.selected}"


def _model(fixed: bool) -> Model[State]:
    select = select_updates_fixed if fixed else select_updates_buggy

    def threads(state: State) -> dict[str, object]:
        return {"selector": lambda: select(state), "writer": lambda: mark_sent(state, "n1")}

    return Model(
        "select-updates-threads",
        State,
        threads,  # type: ignore[arg-type]
        at_end=at_end,
        expect_bug=not fixed,
        description="threads: select_updates nests seen_count inside updates, mark_sent the reverse",
    )


BUGGY = _model(False)
FIXED = _model(True)
