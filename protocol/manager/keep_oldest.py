"""keep-oldest: the side holding the oldest member survives (Akka's `KeepOldest`).

Age: the lowest `up_number` is the oldest (a member takes one more than the highest it has seen
when it comes up; the initial members of a formed cluster all take 0), ties by lowest name.
The rule, in order:

1. some member is indirectly connected             -> DOWN_INDIRECTLY_CONNECTED
2. no members at all                               -> DOWN_ALL
3. the oldest is on this side (reachable):
   down_if_alone and this side is the oldest alone (reachable == 1) and the other side has
   2 or more                                        -> DOWN_REACHABLE (the oldest stops alone)
   otherwise                                        -> DOWN_UNREACHABLE
4. the oldest is on the other side (unreachable):
   down_if_alone and the other side is the oldest alone (unreachable == 1) and this side has
   2 or more                                        -> DOWN_UNREACHABLE (we go on without it)
   otherwise                                        -> DOWN_REACHABLE (this side stops)

With two members and down_if_alone, 1 against 1 keeps the oldest: the other is no better. If
the oldest crashes and down_if_alone is off, everyone else downs itself with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .downing import Decision, Situation


@dataclass(frozen=True)
class KeepOldest:
    down_if_alone: bool = True
    name: str = "keep-oldest"

    def decide(self, s: Situation) -> Decision:
        if s.indirectly_connected:
            return Decision.DOWN_INDIRECTLY_CONNECTED
        if not s.members:
            return Decision.DOWN_ALL
        this_side, other_side = len(s.reachable), len(s.unreachable)
        if s.by_age()[0] in s.reachable:
            if self.down_if_alone and this_side == 1 and other_side >= 2:
                return Decision.DOWN_REACHABLE
            return Decision.DOWN_UNREACHABLE
        if self.down_if_alone and other_side == 1 and this_side >= 2:
            return Decision.DOWN_UNREACHABLE
        return Decision.DOWN_REACHABLE
