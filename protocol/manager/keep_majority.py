"""keep-majority: the side with more than half of the members survives (Akka's `KeepMajority`).

The rule, in order (members and unreachability as downing.py defines them):

1. some member is indirectly connected             -> DOWN_INDIRECTLY_CONNECTED
2. no members at all                               -> DOWN_ALL
3. reachable > unreachable (this side is bigger)    -> DOWN_UNREACHABLE
4. reachable < unreachable                          -> DOWN_REACHABLE (this side stops)
5. reachable == unreachable: the side holding the lowest address (lowest name in natural
   order, n2 before n10) survives: it is unreachable -> DOWN_REACHABLE, else DOWN_UNREACHABLE

So with three or more sides none of which holds a majority, every side downs itself: the whole
cluster stops (safe, not available).
"""

from __future__ import annotations

from dataclasses import dataclass

from .downing import Decision, Situation


@dataclass(frozen=True)
class KeepMajority:
    name: str = "keep-majority"

    def decide(self, s: Situation) -> Decision:
        if s.indirectly_connected:
            return Decision.DOWN_INDIRECTLY_CONNECTED
        if not s.members:
            return Decision.DOWN_ALL
        this_side, other_side = len(s.reachable), len(s.unreachable)
        if this_side == other_side:
            lowest = s.by_address()[0]
            return Decision.DOWN_REACHABLE if lowest in s.unreachable else Decision.DOWN_UNREACHABLE
        return Decision.DOWN_UNREACHABLE if this_side > other_side else Decision.DOWN_REACHABLE
