"""The simulated network: who can reach whom, how late, how lossy, how often twice.

A send becomes one scheduled delivery callback (two when duplicated); nothing else is
allocated per packet. Decisions, in order:

1. partitions are grudges: `grudges[dst]` is the set of sources whose packets `dst` drops, so
   symmetric, one-way and flip-flopping cuts are all just maps (checked again on arrival, so a
   cut made while a packet is in flight still stops it);
2. random loss (base rate, per-node ingress/egress, per-link) - reliable sends (a push-pull over
   a stream) are exempt, as a retransmitting stream would be, but not from partitions or crashes;
3. delay = latency model + node extra delay + uniform jitter (+ a reordering delay with some
   probability), after the sender's egress queue when a bandwidth limit is set;
4. duplication: a second copy with its own delay.

Delivery to a host that crashed (its epoch changed) after the send is dropped: the process that
the packet was meant for is gone.

Random draws come from the *sender's* stream (per-link streams would cost a `Random` object per
pair: 4 M of them at N = 2,000), so one node's traffic never shifts another's draws.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import TYPE_CHECKING

from swimlab.protocol import trace_schema
from swimlab.protocol.messages import Message, NodeId

from .latency import LatencyModel

if TYPE_CHECKING:
    from .host import Host
    from .kernel import Kernel

Sink = trace_schema.TraceSink


class Network:
    def __init__(
        self,
        kernel: Kernel,
        hosts: dict[NodeId, Host],
        latency: LatencyModel,
        sink: Sink,
        *,
        jitter_s: float = 0.0,
        loss: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        reorder_delay_s: float = 0.0,
        bandwidth_bytes_per_s: float = 0.0,
        full_decode: bool = False,
        trace_messages: bool = False,
    ) -> None:
        self.kernel = kernel
        self.hosts = hosts
        self.latency = latency
        self.sink = sink
        self.jitter_s = jitter_s
        self.loss = loss
        self.duplicate = duplicate
        self.reorder = reorder
        self.reorder_delay_s = reorder_delay_s
        self.bandwidth = bandwidth_bytes_per_s
        self.full_decode = full_decode
        self.trace_messages = trace_messages
        # Faults, all keyed by node name (or (src, dst) for links).
        self.grudges: dict[NodeId, frozenset[NodeId]] = {}
        self.blackholed: set[NodeId] = set()  # nodes dropping all ingress
        self.ingress_loss: dict[NodeId, float] = {}
        self.egress_loss: dict[NodeId, float] = {}
        self.link_loss: dict[tuple[NodeId, NodeId], float] = {}
        self.extra_delay_s: dict[NodeId, float] = {}
        self.node_duplicate: dict[NodeId, float] = {}
        self._egress_free_at: dict[NodeId, float] = {}
        self._impaired = False
        # Counters kept whatever the trace level.
        self.sent = 0
        self.sent_bytes = 0
        self.delivered = 0
        self.dropped: Counter[str] = Counter()

    def refresh(self) -> None:
        """Recompute the fast-path flag after a fault changed the per-node tables."""
        self._impaired = bool(
            self.ingress_loss
            or self.egress_loss
            or self.link_loss
            or self.extra_delay_s
            or self.node_duplicate
        )

    # Sending ----------------------------------------------------------------------------------
    def send(
        self, src: Host, dst: NodeId, size: int, payload: bytes | None, message: Message, reliable: bool
    ) -> None:
        """`payload` may be None (not built: the host needs only `size`) unless `full_decode`."""
        kernel = self.kernel
        now = kernel.now
        self.sent += 1
        self.sent_bytes += size
        src_name = src.name
        if self.trace_messages:
            self.sink(trace_schema.send(now, src_name, dst, type(message).__name__, size, reliable))
        host = self.hosts.get(dst)
        if host is None:
            self._drop(now, src_name, dst, message, "unknown")
            return
        grudges = self.grudges
        if (grudges and src_name in grudges.get(dst, ())) or dst in self.blackholed:
            self._drop(now, src_name, dst, message, "partition")
            return
        rng = src.net_rng
        loss = self.loss
        if self._impaired:
            loss = _combine(
                loss,
                self.egress_loss.get(src_name, 0.0),
                self.ingress_loss.get(dst, 0.0),
                self.link_loss.get((src_name, dst), 0.0),
            )
        if loss and not reliable and rng.random() < loss:
            self._drop(now, src_name, dst, message, "loss")
            return
        depart = now
        if self.bandwidth:
            free_at = self._egress_free_at.get(src_name, now)
            depart = (free_at if free_at > now else now) + size / self.bandwidth
            self._egress_free_at[src_name] = depart
        data = payload if self.full_decode else None
        if self.full_decode and data is None:
            raise ValueError(f"full_decode: {src_name} sent {type(message).__name__} without its bytes")
        epoch = host.epoch
        duplicate = self.duplicate
        if self._impaired and self.node_duplicate:
            duplicate = _combine(duplicate, self.node_duplicate.get(src_name, 0.0))
        # The copy's delay is drawn after the duplication draw, as for an independent packet.
        copies = 2 if duplicate and rng.random() < duplicate else 1
        for _ in range(copies):
            kernel.call_at(
                depart + self._delay(src_name, dst, rng), self._arrive, src_name, host, epoch, message, data
            )

    def _delay(self, src: NodeId, dst: NodeId, rng: random.Random) -> float:
        delay = self.latency.sample(src, dst, rng)
        if self.jitter_s:
            delay += self.jitter_s * rng.random()
        if self.reorder and rng.random() < self.reorder:
            delay += self.reorder_delay_s * rng.random()
        if self._impaired and self.extra_delay_s:
            delay += self.extra_delay_s.get(src, 0.0) + self.extra_delay_s.get(dst, 0.0)
        return delay

    # Arriving ---------------------------------------------------------------------------------
    def _arrive(self, src: NodeId, host: Host, epoch: int, message: Message, data: bytes | None) -> None:
        if host.epoch != epoch or not host.up:
            self._drop(self.kernel.now, src, host.name, message, "down")
            return
        grudges = self.grudges
        if (grudges and src in grudges.get(host.name, ())) or host.name in self.blackholed:
            self._drop(self.kernel.now, src, host.name, message, "partition")
            return
        self.delivered += 1
        if self.trace_messages:
            self.sink(trace_schema.deliver(self.kernel.now, src, host.name, type(message).__name__))
        host.receive(src, message, data)

    def _drop(
        self, now: float, src: NodeId, dst: NodeId, message: Message, reason: trace_schema.DropReason
    ) -> None:
        self.dropped[reason] += 1
        if self.trace_messages:
            self.sink(trace_schema.drop(now, src, dst, type(message).__name__, reason))


def _combine(*rates: float) -> float:
    """Probability that at least one of several independent losses hits."""
    keep = 1.0
    for rate in rates:
        keep *= 1.0 - rate
    return 1.0 - keep
