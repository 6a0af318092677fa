"""The lease lease-majority decides by: one holder at a time, in the scenario's outside world.

Two parts, both pure (time and delivery are the runtime's, passed in as callables):

- `Lease`: the lease itself, Akka's `Lease` reduced to what SBR uses. `acquire(owner, now)`
  grants it when nobody holds it, when the holder's grant has expired (`ttl_s` after it was
  last granted), or when `owner` already holds it (re-entrant, and the grant is renewed);
  otherwise it refuses. A grant is never revoked before it expires.
- `LeaseService`: the lease where the runtime keeps it, reachable as a host next to node
  `near` would be: a request from node X reaches it only if packets from X reach `near`, and
  the answer reaches X only if packets from `near` reach X (both judged by the runtime's own
  partition state, `cut(src, dst)`, when each leg is sent); each leg takes `rtt_s / 2`. `near`
  itself always reaches it. A lost request or answer is never retried here: the manager's
  `lease_timeout_s` turns silence into "not acquired", as Akka's lease operation timeout does.
  The lease does not crash with `near`: it lives beside it, not on it.

Both runtimes own one `LeaseService` per run (the simulator schedules on its kernel, the live
cluster on its event loop); `driver.ManagerDriver` hands it each `LeaseRequest` and feeds the
answer back to the manager.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..errors import ConfigError
from ..messages import NodeId

Schedule = Callable[[float, Callable[[], None]], None]
"""Call a function after a delay in seconds (the runtime's clock)."""
Cut = Callable[[NodeId, NodeId], bool]
"""True when packets from the first node to the second are dropped right now."""


class Lease:
    __slots__ = ("expires_at", "grants", "holder", "ttl_s")

    def __init__(self, ttl_s: float) -> None:
        if not ttl_s > 0:
            raise ConfigError(f"lease ttl_s: expected > 0, got {ttl_s!r}")
        self.ttl_s = ttl_s
        self.holder: NodeId | None = None
        self.expires_at = -math.inf
        self.grants = 0

    def acquire(self, owner: NodeId, now: float) -> bool:
        if self.holder is not None and self.holder != owner and now < self.expires_at:
            return False
        self.holder = owner
        self.expires_at = now + self.ttl_s
        self.grants += 1
        return True


class LeaseService:
    def __init__(
        self,
        near: NodeId,
        ttl_s: float,
        now: Callable[[], float],
        schedule: Schedule,
        cut: Cut,
        rtt_s: float = 0.002,
    ) -> None:
        if not rtt_s >= 0:
            raise ConfigError(f"lease rtt_s: expected >= 0, got {rtt_s!r}")
        self.near = near
        self.lease = Lease(ttl_s)
        self.now = now
        self.schedule = schedule
        self.cut = cut
        self.rtt_s = rtt_s
        self.requests = 0
        self.lost = 0

    def _reaches(self, src: NodeId, dst: NodeId) -> bool:
        return src == dst or not self.cut(src, dst)

    def request(self, requester: NodeId, owner: NodeId, reply: Callable[[bool], None]) -> None:
        """`requester` asks for the lease on behalf of `owner`; `reply(granted)` comes later, or never."""
        self.requests += 1
        if not self._reaches(requester, self.near):
            self.lost += 1
            return

        def arrive() -> None:
            granted = self.lease.acquire(owner, self.now())

            def answer() -> None:
                if self._reaches(self.near, requester):
                    reply(granted)
                else:
                    self.lost += 1

            self.schedule(self.rtt_s / 2, answer)

        self.schedule(self.rtt_s / 2, arrive)
