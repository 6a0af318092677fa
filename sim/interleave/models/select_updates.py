"""Seed bug #3: nested lock acquisition in `select_updates` → deadlock with a writer.

`select_updates` held the `updates` lock while `should_stop_gossiping` took `seen_count`;
a concurrent `mark_sent` takes `seen_count` then `updates` (it drops an update once it has been
sent enough). Opposite orders: each can hold one lock and wait for the other.

- BUGGY: selector nests seen_count inside updates.
- FIXED: selector snapshots seen counts under `seen_count` alone, releases it, then takes
  `updates` alone — it never holds two locks, so no cycle can form.

Invariant: no deadlock (detected by the loop), and at the end every selected update had been
sent fewer than max_rounds times according to a snapshot taken during the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..loop import yield_point
from ..model import Model
from ..primitives import Lock

MAX_ROUNDS = 2


@dataclass
class State:
    updates_lock: Lock = field(default_factory=lambda: Lock("updates"))
    seen_lock: Lock = field(default_factory=lambda: Lock("seen_count"))
    updates: dict[str, str] = field(default_factory=lambda: {"n1": "alive", "n2": "suspect"})
    seen: dict[str, int] = field(default_factory=lambda: {"n1": 1, "n2": 0})
    selected: list[str] = field(default_factory=list)


async def select_updates_buggy(state: State) -> None:
    async with state.updates_lock:
        await yield_point("iterate updates")
        for node in list(state.updates):
            async with state.seen_lock:  # should_stop_gossiping(): nested acquisition
                await yield_point("read seen_count")
                if state.seen.get(node, 0) < MAX_ROUNDS:
                    state.selected.append(node)


async def select_updates_fixed(state: State) -> None:
    async with state.seen_lock:
        await yield_point("snapshot seen_count")
        seen = dict(state.seen)
    async with state.updates_lock:
        await yield_point("iterate updates")
        state.selected.extend(n for n in state.updates if seen.get(n, 0) < MAX_ROUNDS)


async def mark_sent(state: State, node: str) -> None:
    async with state.seen_lock:
        await yield_point("bump seen_count")
        state.seen[node] = state.seen.get(node, 0) + 1
        if state.seen[node] >= MAX_ROUNDS:
            async with state.updates_lock:
                await yield_point("drop update")
                state.updates.pop(node, None)


def _tasks(fixed: bool):  # type: ignore[no-untyped-def]
    def tasks(state: State) -> dict:  # type: ignore[type-arg]
        select = select_updates_fixed if fixed else select_updates_buggy
        return {"selector": select(state), "writer": mark_sent(state, "n1")}

    return tasks


def at_end(state: State) -> None:
    assert all(n in ("n1", "n2") for n in state.selected)


BUGGY = Model("select-updates", State, _tasks(False), at_end=at_end, expect_bug=True)
FIXED = Model("select-updates", State, _tasks(True), at_end=at_end)
