"""The network side of a live cluster: a userspace fault shim on every endpoint's packets.

The kernel here has no `netem` (FACTS), so faults on real sockets are applied in userspace, on
the path between each endpoint and its UDP socket: `attach` interposes `egress` on what the
endpoint sends and `ingress` on what its socket receives. Decisions, in order (as in the
simulator's `sim/network.py`, but per UDP packet, not per message):

1. partitions are grudges: `grudges[dst]` is the set of sources whose packets `dst` drops, and
   `blackholed` nodes drop everything they receive. Checked when a packet leaves and again when
   it arrives, so a cut made while a packet is delayed still stops it;
2. random loss: a default rate on every link, per-node ingress/egress rates, per-link rates,
   combined as independent losses;
3. delay: the latency model (if any) + per-node extra delay (sender's and receiver's) + uniform
   jitter + a reordering delay with some probability; a delayed packet is sent later by a loop
   timer, so packets overtake each other as they would on a real path;
4. duplication: a second copy with its own delay;
5. bandwidth: an egress queue per sender at `bandwidth_bytes_per_s`.

Every random draw comes from one `random.Random(seed)`. Packets to addresses outside the
cluster pass untouched except for the sender's egress faults.

What a packet-level shim means on QUIC (and what a kernel-level fault would do the same way):
lost stream data is retransmitted (reliable sends survive loss, later); duplicated packets are
discarded by QUIC (RFC 9000 §12.3), so the Node never sees a duplicate message; a one-way cut
also stops the acknowledgements, so the other direction stalls once its congestion window is
full of unacknowledged packets.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from swimlab.protocol.messages import NodeId

from .udp import Address

SendTo = Callable[[bytes, Address], None]
Receive = Callable[[bytes, Address], None]
LatencyFn = Callable[[NodeId, NodeId, random.Random], float]


class ShimmedEndpoint(Protocol):
    outbound: SendTo


@dataclass(slots=True)
class NetworkCounters:
    packets_sent: int = 0
    bytes_sent: int = 0
    packets_delivered: int = 0
    packets_duplicated: int = 0  # second copies put on the wire


class LiveNetwork:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        rng: random.Random,
        *,
        loss: float = 0.0,
        jitter_s: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        reorder_delay_s: float = 0.0,
        bandwidth_bytes_per_s: float = 0.0,
        latency: LatencyFn | None = None,
    ) -> None:
        self.loop = loop
        self.rng = rng
        self.loss = loss
        self.jitter_s = jitter_s
        self.duplicate = duplicate
        self.reorder = reorder
        self.reorder_delay_s = reorder_delay_s
        self.bandwidth = bandwidth_bytes_per_s
        self.latency = latency
        self.names: dict[Address, NodeId] = {}  # every host's address → its name
        self.grudges: dict[NodeId, frozenset[NodeId]] = {}
        self.blackholed: set[NodeId] = set()
        self.ingress_loss: dict[NodeId, float] = {}
        self.egress_loss: dict[NodeId, float] = {}
        self.link_loss: dict[tuple[NodeId, NodeId], float] = {}
        self.extra_delay_s: dict[NodeId, float] = {}
        self.node_duplicate: dict[NodeId, float] = {}
        self.counters = NetworkCounters()
        self.dropped: Counter[str] = Counter()  # reason → packets
        self._egress_free_at: dict[NodeId, float] = {}
        self._impaired = False
        self.refresh()

    def refresh(self) -> None:
        """Recompute the fast-path flag after a fault changed a table."""
        self._impaired = bool(
            self.loss
            or self.jitter_s
            or self.duplicate
            or self.reorder
            or self.bandwidth
            or self.latency
            or self.ingress_loss
            or self.egress_loss
            or self.link_loss
            or self.extra_delay_s
            or self.node_duplicate
        )

    def attach(self, name: NodeId, endpoint: ShimmedEndpoint, sendto: SendTo, receive: Receive) -> Receive:
        """Put the shim between `endpoint` (node `name`) and its socket.

        `sendto` is the socket's send; `receive` is where an arriving packet goes once the shim
        lets it through. Returns the callable the socket must hand its packets to.
        """
        endpoint.outbound = lambda data, addr: self.egress(name, data, addr, sendto)
        return lambda data, addr: self.ingress(name, data, addr, receive)

    # The packet path ------------------------------------------------------------------------
    def egress(self, src: NodeId, data: bytes, addr: Address, sendto: SendTo) -> None:
        counters = self.counters
        counters.packets_sent += 1
        counters.bytes_sent += len(data)
        dst = self.names.get(addr)
        if (cut := self._cut(src, dst)) is not None:
            self.dropped[cut] += 1
            return
        if not self._impaired:
            sendto(data, addr)
            return
        rng = self.rng
        loss = _combine(
            self.loss,
            self.egress_loss.get(src, 0.0),
            self.ingress_loss.get(dst, 0.0) if dst is not None else 0.0,
            self.link_loss.get((src, dst), 0.0) if dst is not None else 0.0,
        )
        if loss and rng.random() < loss:
            self.dropped["loss"] += 1
            return
        depart = 0.0
        if self.bandwidth:
            now = self.loop.time()
            free_at = max(self._egress_free_at.get(src, now), now)
            self._egress_free_at[src] = free_at + len(data) / self.bandwidth
            depart = self._egress_free_at[src] - now
        duplicate = _combine(self.duplicate, self.node_duplicate.get(src, 0.0))
        copies = 2 if duplicate and rng.random() < duplicate else 1
        self.counters.packets_duplicated += copies - 1
        for _ in range(copies):
            delay = depart + self._delay(src, dst, rng)
            if delay > 0.0:
                self.loop.call_later(delay, self._depart, src, dst, data, addr, sendto)
            else:
                sendto(data, addr)

    def _depart(self, src: NodeId, dst: NodeId | None, data: bytes, addr: Address, sendto: SendTo) -> None:
        if (cut := self._cut(src, dst)) is not None:  # cut while the packet was on its way
            self.dropped[cut] += 1
            return
        sendto(data, addr)

    def ingress(self, dst: NodeId, data: bytes, addr: Address, receive: Receive) -> None:
        if (cut := self._cut(self.names.get(addr), dst)) is not None:
            self.dropped[cut] += 1
            return
        self.counters.packets_delivered += 1
        receive(data, addr)

    def _cut(self, src: NodeId | None, dst: NodeId | None) -> str | None:
        """Why a packet from `src` to `dst` cannot pass ("ingress", "partition"), or None."""
        if dst is None:
            return None
        if dst in self.blackholed:
            return "ingress"
        if self.grudges and src is not None and src in self.grudges.get(dst, ()):
            return "partition"
        return None

    def _delay(self, src: NodeId, dst: NodeId | None, rng: random.Random) -> float:
        delay = 0.0
        if self.latency is not None and dst is not None:
            delay += self.latency(src, dst, rng)
        if self.jitter_s:
            delay += self.jitter_s * rng.random()
        if self.reorder and rng.random() < self.reorder:
            delay += self.reorder_delay_s * rng.random()
        if self.extra_delay_s:
            delay += self.extra_delay_s.get(src, 0.0) + (self.extra_delay_s.get(dst, 0.0) if dst else 0.0)
        return delay


def _combine(*rates: float) -> float:
    """Probability that at least one of several independent losses hits."""
    keep = 1.0
    for rate in rates:
        keep *= 1.0 - rate
    return 1.0 - keep
