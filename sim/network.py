"""The simulated network: who can reach whom, how late, how lossy, how often twice.

A send becomes one scheduled delivery callback (two when duplicated); nothing else is
allocated per packet. Decisions, in order:

1. partitions are grudges: `grudges[dst]` is the set of sources whose packets `dst` drops, so
   symmetric, one-way and flip-flopping cuts are all just maps (checked again on arrival, so a
   cut made while a packet is in flight still stops it);
2. random loss (base rate, per-node ingress/egress, per-link). A datagram is lost. A reliable
   send (push-pull, the fallback ping and its answer, anything over the datagram budget: a
   stream) is not lost but late, under the `ReliableModel` (below); it still stops at
   partitions and crashes;
3. delay = latency model + node extra delay + uniform jitter (+ a reordering delay with some
   probability), after the sender's egress queue when a bandwidth limit is set;
4. duplication: a second copy with its own delay (datagrams only: a stream discards copies).

The reliable channel under loss (`ReliableModel`, the scenario's `[network.reliable]`):

- `retransmit` (the default): the message is cut into `segment_bytes` segments. Each
  transmission of a segment is lost with the link's loss rate; a lost one is sent again after
  the retransmission timeout, which starts at `rto_s` and is multiplied by `backoff` after each
  loss of that segment, up to `max_rto_s`. A segment lost `max_attempts` times fails the whole
  send (dropped as "loss", as a stream reset). The message is delivered when its last segment
  arrives: one path delay after the send plus the sum of the timeouts waited. The defaults
  are the first RTO of a fresh connection: 1 s (TCP, RFC 6298 §2.1, what memberlist's per-ping
  TCP connection pays; QUIC's first PTO, RFC 9002 §6.2.2 with kInitialRtt = 333 ms, is also
  about 1 s), doubling (RFC 6298 §5.5, RFC 9002 §6.2.1), capped at 60 s (RFC 6298 §2.5), given
  up after 6 tries (Linux tcp_syn_retries). A warm QUIC connection on a LAN retransmits much
  sooner (PTO = srtt + 4·rttvar + max_ack_delay ≈ 30 ms): `rto_ms = 30` models that. Not
  modelled: losses of acknowledgements (they only cause spurious retransmits) and of the
  handshake packets apart from the first segment's.
- `exempt`: reliable sends are never lost nor delayed by loss (the behaviour before issue 10,
  and what a test with loss on UDP only measures: the issue's memberlist runs dropped UDP
  datagrams and left TCP alone).

Delivery to a host that crashed (its epoch changed) after the send is dropped: the process that
the packet was meant for is gone.

Random draws come from the *sender's* stream (per-link streams would cost a `Random` object per
pair: 4 M of them at N = 2,000), so one node's traffic never shifts another's draws.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from swimlab.protocol import trace_schema
from swimlab.protocol.messages import Message, NodeId

from .latency import LatencyModel

if TYPE_CHECKING:
    from .host import Host
    from .kernel import Kernel

Sink = trace_schema.TraceSink


@dataclass(frozen=True, slots=True)
class ReliableModel:
    """How loss affects the reliable channel (see the module docstring)."""

    model: Literal["retransmit", "exempt"] = "retransmit"
    rto_s: float = 1.0
    backoff: float = 2.0
    max_rto_s: float = 60.0
    max_attempts: int = 6
    segment_bytes: int = 1200

    def __post_init__(self) -> None:
        if self.model not in ("retransmit", "exempt"):
            raise ValueError(f"reliable model: expected 'retransmit' or 'exempt', got {self.model!r}")
        if not (self.rto_s > 0 and self.backoff >= 1 and self.max_rto_s >= self.rto_s):
            raise ValueError(f"reliable model: need rto_s > 0, backoff >= 1, max_rto_s >= rto_s: {self}")
        if self.max_attempts < 1 or self.segment_bytes < 1:
            raise ValueError(f"reliable model: need max_attempts >= 1, segment_bytes >= 1: {self}")

    def late_by(self, size: int, loss: float, rng: random.Random) -> float | None:
        """Seconds a `size`-byte message waits on retransmissions; None if the send fails."""
        if self.model == "exempt" or not loss:
            return 0.0
        worst = 0.0
        for _ in range(-(-size // self.segment_bytes) or 1):
            waited, rto = 0.0, self.rto_s
            for _attempt in range(self.max_attempts):
                if rng.random() >= loss:
                    break
                waited += rto
                rto = min(rto * self.backoff, self.max_rto_s)
            else:
                return None
            worst = max(worst, waited)
        return worst


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
        reliable: ReliableModel | None = None,
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
        self.reliable = reliable or ReliableModel()
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
        late = 0.0
        if loss:
            if not reliable:
                if rng.random() < loss:
                    self._drop(now, src_name, dst, message, "loss")
                    return
            else:
                waited = self.reliable.late_by(size, loss, rng)
                if waited is None:
                    self._drop(now, src_name, dst, message, "loss")
                    return
                late = waited
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
        copies = 2 if duplicate and not reliable and rng.random() < duplicate else 1
        for _ in range(copies):
            kernel.call_at(
                depart + late + self._delay(src_name, dst, rng),
                self._arrive,
                src_name,
                host,
                epoch,
                message,
                data,
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
