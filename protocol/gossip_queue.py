"""The queue of membership news waiting to be piggybacked: what to send next, and when to stop.

This module owns the dissemination order and the retransmit bookkeeping (memberlist's
`TransmitLimitedQueue`). It does not decide whether news is worth queueing (the node's
precedence rules do) nor how many bytes a message may carry (the caller passes the budget).

Order, best first: fewest transmissions, then DEAD/LEFT before SUSPECT before ALIVE, then the
most recently enqueued. An update is dropped once it has been sent `retransmit_limit(n)` times,
where `n = cluster_size()` is read at every `select` — a callable, never a copied int, so the
queue sees membership changes (the seed's bug #2 was a copied size that went stale).

Complexity: entries live in one heap per encoded size, with lazy invalidation (a replaced or
re-keyed entry leaves a stale heap item behind that is discarded when it surfaces). `select`
asks "best entry among those that still fit the remaining budget": it looks only at the heads
of the size buckets that fit, so updates too big for the budget are never scanned. A select of
k updates costs O(k · (D + log n)), D being the number of distinct update sizes (a few dozen:
sizes differ only by name and varint lengths).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass

from .errors import LocalProtocolError
from .messages import MemberState, NodeId, Update

# Lower sends first: a death is the most urgent news, a suspicion must reach the suspect in
# time to refute, and "alive" news is the least harmful to delay.
_STATE_RANK: dict[MemberState, int] = {
    MemberState.DEAD: 0,
    MemberState.LEFT: 0,
    MemberState.SUSPECT: 1,
    MemberState.ALIVE: 2,
}

# Rebuild the heaps when stale items outnumber live entries by this factor, so churn on the
# same members (many enqueues, few selects) cannot grow memory without bound.
_COMPACT_FACTOR = 2
_COMPACT_MIN_ITEMS = 64


@dataclass(eq=False, slots=True)
class _Entry:
    update: Update
    size: int
    seq: int  # enqueue order; unique, so heap keys never tie
    transmits: int = 0
    live: bool = True


# (transmits, state rank, -seq, entry). `-seq` is unique per entry and each entry has at most
# one item per transmit count, so comparison never reaches the entry itself.
_Item = tuple[int, int, int, _Entry]


class GossipQueue:
    """Membership news ordered for piggybacking, each item retransmitted a bounded number of times.

    Inputs: `enqueue` (news the node accepted or created), `select` (a message is being built),
    `clear`. The three callables are the caller's: `retransmit_limit(cluster_size)` is the
    retransmit formula, `cluster_size()` the live member count, `size_of(update)` the codec's
    exact encoded size of one update (called once per enqueue, as an Update is immutable).
    """

    __slots__ = (
        "_buckets",
        "_by_member",
        "_items",
        "_next_seq",
        "_sizes",
        "cluster_size",
        "retransmit_limit",
        "size_of",
    )

    def __init__(
        self,
        retransmit_limit: Callable[[int], int],
        cluster_size: Callable[[], int],
        size_of: Callable[[Update], int],
    ) -> None:
        self.retransmit_limit = retransmit_limit
        self.cluster_size = cluster_size
        self.size_of = size_of
        self._by_member: dict[NodeId, _Entry] = {}
        self._buckets: dict[int, list[_Item]] = {}  # encoded size -> heap of that size
        self._sizes: list[int] = []  # sorted keys of _buckets
        self._items = 0  # heap items, stale ones included
        self._next_seq = 0

    def __len__(self) -> int:
        return len(self._by_member)

    def enqueue(self, update: Update) -> None:
        """Queue `update`, replacing any queued news about the same member (its count restarts).

        Replacement is unconditional: the caller has already decided this news supersedes what
        it knew, and older news about a member must not be gossiped after newer news.
        """
        size = self.size_of(update)
        if size < 0:
            raise LocalProtocolError(f"size_of({update!r}) returned a negative size {size}")
        old = self._by_member.get(update.member)
        if old is not None:
            old.live = False  # its heap item is now stale
        entry = _Entry(update, size, self._next_seq)
        self._next_seq += 1
        self._by_member[update.member] = entry
        self._push(entry)
        if self._items > _COMPACT_MIN_ITEMS + _COMPACT_FACTOR * len(self._by_member):
            self._compact()

    def select(self, max_updates: int, byte_budget: int, first: Update | None = None) -> tuple[Update, ...]:
        """Take up to `max_updates` updates totalling at most `byte_budget` bytes, best first.

        An update that does not fit the remaining budget is skipped and later, smaller ones
        are still taken. Each taken queued update counts one transmission and leaves the queue
        when its count reaches `retransmit_limit(cluster_size())`, evaluated now (a limit below
        1 still lets each update go out once, as in memberlist).

        `first` (Lifeguard's buddy system: the suspicion a ping to a suspect must carry) goes
        first if it fits. It counts as a transmission only if it is the very update queued for
        its member; then it is not repeated later in the same selection.
        """
        if max_updates < 0 or byte_budget < 0:
            raise LocalProtocolError(
                "select needs max_updates >= 0 and byte_budget >= 0, "
                f"got max_updates={max_updates}, byte_budget={byte_budget}"
            )
        # Asked before any state changes, so a caller's callable that raises leaves no trace.
        limit = self.retransmit_limit(self.cluster_size())
        chosen: list[Update] = []
        sent: list[_Entry] = []
        remaining = byte_budget
        if first is not None and max_updates > 0:
            first_size = self.size_of(first)
            if first_size <= remaining:
                chosen.append(first)
                remaining -= first_size
                queued = self._by_member.get(first.member)
                if queued is not None and queued.update == first:
                    # Bumping the count now makes its heap item stale, so the loop below
                    # cannot pick it a second time.
                    queued.transmits += 1
                    sent.append(queued)
        while len(chosen) < max_updates:
            entry = self._pop_best_fitting(remaining)
            if entry is None:
                break
            chosen.append(entry.update)
            remaining -= entry.size
            entry.transmits += 1
            sent.append(entry)
        # Re-queue only after the loop so an entry is never taken twice in one selection.
        for entry in sent:
            if entry.transmits >= limit:
                entry.live = False
                del self._by_member[entry.update.member]
            else:
                self._push(entry)
        return tuple(chosen)

    def clear(self) -> None:
        """Forget all queued news (a node leaving or restarting)."""
        for entry in self._by_member.values():
            entry.live = False
        self._by_member.clear()
        self._buckets.clear()
        self._sizes.clear()
        self._items = 0

    # -- internals ---------------------------------------------------------------------------

    def _push(self, entry: _Entry) -> None:
        bucket = self._buckets.get(entry.size)
        if bucket is None:
            bucket = self._buckets[entry.size] = []
            insort(self._sizes, entry.size)
        item: _Item = (entry.transmits, _STATE_RANK[entry.update.state], -entry.seq, entry)
        heapq.heappush(bucket, item)
        self._items += 1

    def _pop_best_fitting(self, remaining: int) -> _Entry | None:
        """Remove and return the best live entry of size <= `remaining`, or None."""
        best_size = -1
        best: _Item | None = None
        emptied: list[int] = []
        sizes = self._sizes
        for i in range(bisect_right(sizes, remaining)):
            bucket = self._buckets[sizes[i]]
            while bucket:
                head = bucket[0]
                entry = head[3]
                # Stale: replaced or dropped, or re-pushed under a higher transmit count.
                if entry.live and entry.transmits == head[0]:
                    break
                heapq.heappop(bucket)
                self._items -= 1
            if not bucket:
                emptied.append(sizes[i])
            elif best is None or head < best:
                best, best_size = head, sizes[i]
        for size in emptied:
            del self._buckets[size]
            self._sizes.remove(size)
        if best is None:
            return None
        heapq.heappop(self._buckets[best_size])
        self._items -= 1
        return best[3]

    def _compact(self) -> None:
        self._buckets.clear()
        self._sizes.clear()
        self._items = 0
        for entry in self._by_member.values():
            self._push(entry)
