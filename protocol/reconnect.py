"""Which dead member a node's next reconnect attempt goes to (Serf's reconnect, made bounded).

Every `reconnect_interval_s` a node sends a push-pull to one member it holds dead, so a healed
partition re-merges: the member learns it is held dead, refutes, and the two views meet. The
rule here: walk the dead members round-robin in a shuffled order. A member that dies is
inserted at a random place still ahead of the cursor (as SWIM inserts new members into the
probe order), so it is reached before the walk wraps; members that come back are dropped.

Bound: a member that stays dead is contacted within D attempts of any instant, D the number of
distinct members held dead meanwhile (each other dead member is visited at most once before it,
or inserted once ahead of it), so within D * reconnect_interval_s <= (n - 1) *
reconnect_interval_s. A random choice each interval (Serf's, and this project's before issue 15)
gives no bound: with d dead members it misses a given one k times in a row with probability
(1 - 1/d)^k, which is how two survivors could each hold the other dead through a whole settle
window.
"""

from __future__ import annotations

import random

from .messages import NodeId


class DeadRotation:
    """The walk's order and cursor; `next` takes the dead members now, in order of death."""

    __slots__ = ("_order", "_pos", "_rng")

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._order: list[NodeId] = []
        self._pos = 0  # the next index of `_order` to visit

    def next(self, dead: list[NodeId]) -> NodeId | None:
        """The member to contact now (None: nobody is dead)."""
        if not dead:
            self._order, self._pos = [], 0
            return None
        still = set(dead)
        pos = self._pos
        order: list[NodeId] = []
        for i, member in enumerate(self._order):
            if member in still:
                order.append(member)
            elif i < self._pos:
                pos -= 1  # keep the cursor on the member it was about to visit
        known = set(order)
        for member in dead:
            if member not in known:
                order.insert(self._rng.randint(pos, len(order)), member)
        if pos >= len(order):
            pos = 0
        self._order, self._pos = order, pos + 1
        return order[pos]
