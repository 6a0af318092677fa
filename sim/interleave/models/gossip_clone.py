"""Seed bug #2: GossipQueue clones that copied `cluster_size` instead of sharing it.

In Rust the field was an `AtomicUsize` cloned by value; in Python the same bug is copying an
int where a shared cell was meant. A clone taken before the membership update never sees it,
and keeps computing the retransmit limit from the old size.

- BUGGY: `clone()` copies the int.
- FIXED: clones share one `Cell` (the Rust fix: `Arc<AtomicUsize>`).
  (`protocol/gossip_queue.py` avoids the bug another way: it reads size through a callable.)

Invariant: once the update is applied, every clone sees the new cluster size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..loop import yield_point
from ..model import Model


@dataclass
class Cell:
    value: int


class QueueBuggy:
    def __init__(self, cluster_size: int) -> None:
        self.cluster_size = cluster_size

    def clone(self) -> QueueBuggy:
        return QueueBuggy(self.cluster_size)  # copies the value: the bug

    def set_cluster_size(self, n: int) -> None:
        self.cluster_size = n

    def size(self) -> int:
        return self.cluster_size


class QueueFixed:
    def __init__(self, cluster_size: Cell) -> None:
        self._cluster_size = cluster_size

    def clone(self) -> QueueFixed:
        return QueueFixed(self._cluster_size)  # shares the cell

    def set_cluster_size(self, n: int) -> None:
        self._cluster_size.value = n

    def size(self) -> int:
        return self._cluster_size.value


@dataclass
class State:
    queue: QueueBuggy | QueueFixed
    clones: list[QueueBuggy | QueueFixed] = field(default_factory=list)
    published: int | None = None


async def sender(state: State) -> None:
    await yield_point("clone queue")
    clone = state.queue.clone()  # each sender task gets its own handle, as in the Rust code
    state.clones.append(clone)
    await yield_point("select updates")
    _ = clone.size()


async def membership(state: State) -> None:
    await yield_point("member joined")
    state.queue.set_cluster_size(8)
    state.published = 8


def invariant(state: State) -> None:
    if state.published is None:
        return
    for i, clone in enumerate(state.clones):
        assert clone.size() == state.published, (
            f"clone {i} sees cluster_size {clone.size()}, the queue was updated to {state.published}"
        )


def tasks(state: State) -> dict:  # type: ignore[type-arg]
    # Membership first: the natural schedule applies the update before anyone clones, so the
    # bug only shows when a sender is scheduled ahead of it.
    return {"membership": membership(state), "sender1": sender(state), "sender2": sender(state)}


BUGGY = Model("gossip-clone", lambda: State(QueueBuggy(4)), tasks, invariant, expect_bug=True)
FIXED = Model("gossip-clone", lambda: State(QueueFixed(Cell(4))), tasks, invariant)
