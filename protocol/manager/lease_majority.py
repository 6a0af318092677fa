"""lease-majority: the side that acquires the lease survives (Akka's `LeaseMajority`).

The lease lives outside the cluster (lease.py); the minority waits before trying so the
majority wins when both can reach the lease. The rule:

1. some member is indirectly connected -> acquire at once; got it: DOWN_INDIRECTLY_CONNECTED,
   else REVERSE_DOWN_INDIRECTLY_CONNECTED (the indirectly connected and this side stop)
2. otherwise -> acquire after `acquire_delay_for_minority_s` if this side is the minority, at
   once if not; got it: DOWN_UNREACHABLE, refused or no answer in `lease_timeout_s`:
   DOWN_REACHABLE (this side stops)

Minority, as Akka reckons it: unreachable * 2 > members; a tie (unreachable * 2 == members) is
a minority when the lowest address (lowest name, natural order) is unreachable.

A side that cannot reach the lease stops even if it is the majority: the lease, not the count,
decides. Who asks: every node of a side asks for the lease on behalf of its side's leader (the
lowest reachable name), so the whole side holds it as one owner (the lease grants a request
from the holder again).
"""

from __future__ import annotations

from dataclasses import dataclass

from .downing import Decision, LeaseDecision, Situation


@dataclass(frozen=True)
class LeaseMajority:
    acquire_delay_for_minority_s: float = 2.0
    name: str = "lease-majority"

    def decide(self, s: Situation) -> LeaseDecision:
        if s.indirectly_connected:
            return LeaseDecision(Decision.DOWN_INDIRECTLY_CONNECTED, 0.0)
        delay = self.acquire_delay_for_minority_s if self.in_minority(s) else 0.0
        return LeaseDecision(Decision.DOWN_UNREACHABLE, delay)

    @staticmethod
    def in_minority(s: Situation) -> bool:
        if not s.members:
            return False
        unreachable, members = len(s.unreachable), len(s.members)
        if unreachable * 2 == members:
            return s.by_address()[0] in s.unreachable
        return unreachable * 2 > members
