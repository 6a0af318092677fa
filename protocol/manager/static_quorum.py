"""static-quorum: a side survives if it still has `quorum_size` members (Akka's `StaticQuorum`).

The rule, in order:

1. members > 2 * quorum_size - 1 (too many members: two sides could both reach the quorum)
                                                    -> DOWN_ALL
2. some member is indirectly connected             -> DOWN_INDIRECTLY_CONNECTED
3. members - unreachable >= quorum_size             -> DOWN_UNREACHABLE
4. otherwise                                        -> DOWN_REACHABLE (this side stops)

The quorum is fixed: a cluster that shrinks below it (crashes already downed count as gone)
stops at its next unreachability, and one that grows past 2 * quorum_size - 1 downs itself at
its first. Akka logs a warning for the latter; here rule 1 is simply what happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from .downing import Decision, Situation


@dataclass(frozen=True)
class StaticQuorum:
    quorum_size: int
    name: str = "static-quorum"

    def decide(self, s: Situation) -> Decision:
        if len(s.members) > 2 * self.quorum_size - 1:
            return Decision.DOWN_ALL
        if s.indirectly_connected:
            return Decision.DOWN_INDIRECTLY_CONNECTED
        if len(s.members) - len(s.unreachable) >= self.quorum_size:
            return Decision.DOWN_UNREACHABLE
        return Decision.DOWN_REACHABLE
