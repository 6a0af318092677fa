"""keep-referee: the side that can reach the referee node survives (Akka's former `KeepReferee`).

The rule, in order:

1. some member is indirectly connected             -> DOWN_INDIRECTLY_CONNECTED
2. the referee is not a member (downed, removed, never joined), or it is unreachable
                                                    -> DOWN_REACHABLE (this side stops)
3. reachable < down_all_if_less_than_nodes           -> DOWN_ALL
4. otherwise                                        -> DOWN_UNREACHABLE

The referee is a single point of failure by design: if it crashes, every other side stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..messages import NodeId
from .downing import Decision, Situation


@dataclass(frozen=True)
class KeepReferee:
    referee: NodeId
    down_all_if_less_than_nodes: int = 1
    name: str = "keep-referee"

    def decide(self, s: Situation) -> Decision:
        if s.indirectly_connected:
            return Decision.DOWN_INDIRECTLY_CONNECTED
        if self.referee not in s.reachable:
            return Decision.DOWN_REACHABLE
        if len(s.reachable) < self.down_all_if_less_than_nodes:
            return Decision.DOWN_ALL
        return Decision.DOWN_UNREACHABLE
