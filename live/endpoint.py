"""One node's QUIC endpoint: a single UDP socket, its connections, one timer; the Driver's Transport.

This module owns the path between a node's socket and its QUIC connections, as aioquic's own
asyncio adapter does (receive, feed the connection, transmit, re-arm one timer), but with every
connection of a node sharing the node's socket, so its probes leave from the address that is its
name (`aioquic.asyncio.connect` would open a socket per connection). Which connection carries a
send is `live/peers.py`'s business; what happens inside one is `live/connection.py`'s.

Inputs: packets (`packet_received`), `send` calls from the Driver, the timer. Outputs: packets
(through `outbound`, which a fault shim may replace), and `on_receive(src, data)` per message.

Rules:

- Names are addresses: a node is "host:port" after its socket; `address_book` may map other
  names (a cluster's "n01") to addresses, and names the sources of what arrives.
- Packets go to connections by destination connection ID, never by address.
- Datagrams (RFC 9221) only within `datagram_budget`: aioquic drops an oversize DATAGRAM frame
  silently, and the small one queued behind it (FACTS). Reliable sends and anything larger go
  on a stream. Nothing here raises for a peer that is unknown, unreachable, refused or gone.
- `close()` is a crash: the socket closes, no CONNECTION_CLOSE is sent.
- `hold_timer()` (a paused process) stops the timer and housekeeping until `release_timer()`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any

from aioquic.buffer import Buffer  # type: ignore[attr-defined]  # re-exported from a C module
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.packet import QuicPacketType, pull_quic_header

from swimlab.protocol.messages import Message, NodeId

from .connection import Link
from .credentials import Credentials, self_signed
from .peers import EndpointStats, HandshakeFailed, Peers
from .pool import ConnectionPool
from .udp import Address, UdpSocket, format_address, parse_address

__all__ = ["EndpointStats", "HandshakeFailed", "QuicEndpoint", "format_address", "parse_address"]

Receiver = Callable[[NodeId, bytes], None]

ALPN = "swimlab/1"
CONNECTION_ID_BYTES = 8
# Bytes of a 1-RTT packet around a DATAGRAM frame's payload: short header (1) + destination CID
# (8) + packet number (aioquic sends 2) + AEAD tag (16) + frame type (1) + length varint (2).
DATAGRAM_OVERHEAD_BYTES = 1 + CONNECTION_ID_BYTES + 2 + 16 + 1 + 2
# 1,500-byte Ethernet MTU minus IPv6 (40) and UDP (8) headers: 1,422 B for a datagram's payload,
# enough for the Node's 1,400-byte packet budget. aioquic does no path-MTU discovery.
DEFAULT_MAX_UDP_PAYLOAD = 1452
_MIN_INITIAL_BYTES = 1200  # RFC 9000 §14.1: a client's Initial is padded to at least this


class QuicEndpoint:
    """A node's Transport over QUIC on one UDP socket. Make one with `QuicEndpoint.bind`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        credentials: Credentials,
        *,
        max_udp_payload: int = DEFAULT_MAX_UDP_PAYLOAD,
        idle_timeout_s: float = 120.0,
        handshake_timeout_s: float = 3.0,
        answer_timeout_s: float = 0.25,
        max_pending: int = 256,
        max_connections: int = 1024,
        max_consecutive_failures: int = 3,
    ) -> None:
        self.loop = loop
        self.credentials = credentials
        self.datagram_budget = max_udp_payload - DATAGRAM_OVERHEAD_BYTES
        self.handshake_timeout_s = handshake_timeout_s
        self.answer_timeout_s = answer_timeout_s
        self.on_receive: Receiver | None = None
        self.address_book: dict[NodeId, Address] = {}
        self.stats = EndpointStats()
        self.closed = False
        self.held = False
        self.udp: UdpSocket | None = None
        self.address: Address = ("", 0)
        self.name: NodeId = ""
        self.outbound: Callable[[bytes, Address], None] = lambda data, addr: None
        self.peers = Peers(
            self,
            max_connections=max_connections,
            idle_timeout_s=idle_timeout_s / 2,  # the pool closes politely before QUIC gives up
            max_consecutive_failures=max_consecutive_failures,
            max_pending=max_pending,
        )
        self.pool: ConnectionPool[Address, Link] = self.peers.pool
        self._names: dict[Address, NodeId] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        common: dict[str, Any] = {
            "alpn_protocols": [ALPN],
            "connection_id_length": CONNECTION_ID_BYTES,
            "idle_timeout": idle_timeout_s,
            "max_datagram_frame_size": 65536,
            "max_datagram_size": max_udp_payload,
            "certificate": credentials.certificate,
            "private_key": credentials.private_key,
        }
        self.server_config = QuicConfiguration(is_client=False, **common)
        verify = ssl.CERT_REQUIRED if credentials.ca_pem else ssl.CERT_NONE
        self.client_config = QuicConfiguration(
            is_client=True, verify_mode=verify, cadata=credentials.ca_pem, **common
        )

    @classmethod
    def bind(
        cls,
        loop: asyncio.AbstractEventLoop,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Credentials | None = None,
        **options: Any,
    ) -> QuicEndpoint:
        """Bind a UDP socket (port 0: any free port) and serve on it."""
        endpoint = cls(loop, credentials or self_signed(host), **options)
        endpoint.udp = UdpSocket.bind(loop, host, port, endpoint.packet_received)
        endpoint.outbound = endpoint.udp.sendto
        endpoint.address = endpoint.udp.address
        endpoint.name = format_address(endpoint.address)
        loop.call_later(endpoint.pool.idle_timeout_s, endpoint._evict_idle)
        return endpoint

    @classmethod
    async def open(cls, host: str = "127.0.0.1", port: int = 0, **options: Any) -> QuicEndpoint:
        return cls.bind(asyncio.get_running_loop(), host, port, **options)

    # Packets in ---------------------------------------------------------------------------
    def packet_received(self, data: bytes, addr: Address) -> None:
        if self.closed:
            return
        peers = self.peers
        try:
            header = pull_quic_header(Buffer(data=data), host_cid_length=CONNECTION_ID_BYTES)
        except ValueError:
            self.stats.stray_packets += 1
            return
        link = peers.by_cid.get(header.destination_cid)
        now = self.loop.time()
        if link is None:
            cid = header.destination_cid
            if (
                header.packet_type == QuicPacketType.INITIAL
                and len(data) >= _MIN_INITIAL_BYTES
                and cid not in peers.forgotten
            ):
                link = peers.accept(addr, cid, now)
            else:
                peers.stray(addr, header.packet_type == QuicPacketType.ONE_RTT, now)
                return
        peers.heard_from(link, now)
        link.quic.receive_datagram(data, addr, now=now)
        self.pump(link)

    # protocol.transport.Transport ---------------------------------------------------------
    def send(self, dst: NodeId, payload: bytes, message: Message, reliable: bool) -> None:
        if self.closed:
            return
        addr = self.address_book.get(dst) or parse_address(dst)
        if addr is None:
            self.stats.unresolvable_dropped += 1
            return
        on_stream = reliable or len(payload) > self.datagram_budget
        if on_stream and not reliable:
            self.stats.oversize_to_stream += 1
        self.peers.send(addr, payload, on_stream)

    # Links --------------------------------------------------------------------------------
    def pump(self, link: Link) -> None:
        """Handle a link's events, put its packets on the wire, re-arm the timer."""
        link.handle_events()
        if not self.closed:
            link.transmit(self.outbound, self.loop.time())
            self._arm_timer(link)

    def deliver(self, addr: Address, data: bytes) -> None:
        self.stats.messages_received += 1
        if self.on_receive is None:
            return
        src = self._names.get(addr)
        if src is None:
            src = next((n for n, a in self.address_book.items() if a == addr), None)
            src = self._names[addr] = src or format_address(addr)
        self.on_receive(src, data)

    def connection_count(self) -> int:
        return len(self.peers.links)

    def close(self) -> None:
        """Crash: drop every connection without a word and close the socket."""
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self.udp is not None:
            self.udp.close()
        self.peers.close()

    # The one timer ------------------------------------------------------------------------
    def hold_timer(self) -> None:
        """A paused process runs nothing: QUIC's timers wait until `release_timer`."""
        self.held = True

    def release_timer(self) -> None:
        self.held = False
        self._on_timer()

    def _arm_timer(self, changed: Link | None = None) -> None:
        """Arm the timer at the earliest deadline of any link. With `changed`, only that link
        moved: the timer can only need to come earlier (O(1) per packet); a timer that fires
        early finds nothing due, rescans every link and re-arms."""
        if self.closed or self.held:
            return
        hs, answer = self.handshake_timeout_s, self.answer_timeout_s
        if changed is not None and self._timer is not None:
            at = changed.deadline(hs, answer)
            if at is None or self._timer_at is None or at >= self._timer_at:
                return
            earliest: float | None = at
        else:
            deadlines = [at for link in self.peers.links if (at := link.deadline(hs, answer)) is not None]
            earliest = min(deadlines) if deadlines else None
        if earliest == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = earliest
        self._timer = None if earliest is None else self.loop.call_at(earliest, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        if self.held or self.closed:
            return
        peers = self.peers
        now = self.loop.time() + 1e-6  # loops wake a hair early; aioquic compares to its deadlines
        for link in list(peers.links):
            if link not in peers.links:
                continue  # forgotten while handling an earlier one
            if not link.verified and not link.closed and now >= link.started_at + self.handshake_timeout_s:
                link.close(reason="handshake timeout")
                self.pump(link)
                peers.forget(link)
                continue
            if link.answer_due_at is not None and now >= link.answer_due_at:
                peers.judge_silence(link, now)
            at = link.quic.get_timer()
            if at is not None and at <= now:
                link.quic.handle_timer(now=max(at, now))
                self.pump(link)
        self._arm_timer()

    def _evict_idle(self) -> None:
        if self.closed:
            return
        if not self.held:
            self.peers.evict_idle()
        self.loop.call_later(self.pool.idle_timeout_s / 2, self._evict_idle)
