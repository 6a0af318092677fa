"""down-all: every member is downed at the first stable unreachability (Akka's `DownAllNodes`).

The rule: always DOWN_ALL. Safe by construction (nothing serves after a partition or even one
crash), at the price of the whole cluster; meant for small clusters that restart as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from .downing import Decision, Situation


@dataclass(frozen=True)
class DownAll:
    name: str = "down-all"

    def decide(self, s: Situation) -> Decision:
        return Decision.DOWN_ALL
