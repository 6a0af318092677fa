"""One node's QUIC endpoint: a single UDP socket, many aioquic connections, one asyncio timer.

This module owns the live runtime's side of `swimlab.protocol.transport`: `QuicEndpoint` (a Transport)
and `AsyncioClock` (a Clock). It drives aioquic's sans-I/O `QuicConnection` directly, as
aioquic's own asyncio adapter does (receive, feed the connection, transmit, re-arm one timer),
but with every connection of a node sharing the node's socket, so a node's probes leave from
the address that is its name. `aioquic.asyncio.connect` would open a socket per connection.

Inputs: UDP packets (`datagram_received`), `send` calls from the Driver, and the one timer.
Outputs: UDP packets, and `on_receive(src, data)` for every message that arrives whole.

Rules:

- Names are addresses. A node is named "host:port" after its socket, so a peer's UDP address is
  its name; `address_book` may override that (the conformance suite's nodes are "a" and "b").
- Packets are routed to connections by destination connection ID, not by address, so two
  nodes that connect to each other at the same moment keep two clean connections. Sends to an
  address use one connection: ours if we opened one, else the one the peer opened to us.
- Datagrams (RFC 9221) only within `datagram_budget`. aioquic drops an oversize DATAGRAM
  frame without a word, and the small one queued behind it with it (FACTS), so every reliable
  send and anything over the budget goes on a fresh bidirectional stream ended with FIN.
- Sends before the handshake completes wait in a bounded queue; a handshake that has not
  completed after `handshake_timeout_s` is abandoned and its queue dropped (counted). Nothing
  here raises for a peer that is unknown, unreachable or gone.
- `close()` is a crash: the socket closes, no CONNECTION_CLOSE is sent, peers find out by
  silence, as SWIM expects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aioquic.buffer import Buffer  # type: ignore[attr-defined]  # re-exported from a C module
from aioquic.quic import events
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.packet import QuicPacketType, pull_quic_header

from swimlab.protocol.codec import MAX_MESSAGE_BYTES
from swimlab.protocol.messages import Message, NodeId
from swimlab.protocol.timers import Timer

from .credentials import Credentials, self_signed

Address = tuple[str, int]
Receiver = Callable[[NodeId, bytes], None]

ALPN = "swimlab/1"
CONNECTION_ID_BYTES = 8
# Bytes of a 1-RTT packet around a DATAGRAM frame's payload: short header (1) + destination
# CID (8) + packet number (aioquic always sends 2) + AEAD tag (16) + frame type (1) + length
# varint (2 up to 16,383). 1,200 - 30 = 1,170, the largest payload FACTS measured round-tripping.
DATAGRAM_OVERHEAD_BYTES = 1 + CONNECTION_ID_BYTES + 2 + 16 + 1 + 2
# 1,500-byte Ethernet MTU minus IPv6 (40) and UDP (8) headers: leaves 1,422 B for a datagram,
# enough for the Node's 1,400-byte packet budget (memberlist's). aioquic does no path-MTU
# discovery, so a path with a smaller MTU needs a smaller value.
DEFAULT_MAX_UDP_PAYLOAD = 1452
_MIN_INITIAL_BYTES = 1200  # RFC 9000 §14.1: a client's Initial is padded to at least this
_STREAM_TOO_LARGE = 0x100  # application error code for STOP_SENDING on an oversize stream


@dataclass(slots=True)
class EndpointStats:
    datagrams_sent: int = 0
    streams_sent: int = 0
    oversize_to_stream: int = 0  # non-reliable sends moved to a stream by the budget
    messages_received: int = 0
    unresolvable_dropped: int = 0  # destination is neither in the address book nor host:port
    queue_full_dropped: int = 0  # handshake still running and the queue is full
    handshake_dropped: int = 0  # queued sends lost with an abandoned or failed handshake
    oversize_stream_dropped: int = 0  # a peer's stream past MAX_MESSAGE_BYTES
    stray_packets: int = 0  # unparseable, or for a connection we do not know
    handshakes_completed: int = 0
    connections_terminated: int = 0
    # connect → HandshakeCompleted, in seconds, for the most recent handshakes
    handshake_s: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


@dataclass(slots=True, eq=False)
class _Connection:
    """One QUIC connection and what the endpoint keeps beside it."""

    quic: QuicConnection
    addr: Address
    is_client: bool
    started_at: float
    established: bool = False
    pending: deque[tuple[bytes, bool]] = field(default_factory=deque)  # (payload, on a stream)
    inbound: dict[int, bytearray] = field(default_factory=dict)  # peer stream id → bytes so far
    refused_streams: set[int] = field(default_factory=set)  # oversize: rest of the data ignored


class AsyncioClock:
    """A Clock on an asyncio loop: `loop.time()` and `loop.call_at`.

    `stop()` silences every timer not yet fired, which is how a crashed node's timers die.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._stopped = False

    def now(self) -> float:
        return self._loop.time()

    def call_at(self, when: float, callback: Callable[[Timer], None], timer: Timer) -> None:
        self._loop.call_at(when, self._fire, when, callback, timer)

    def stop(self) -> None:
        self._stopped = True

    def _fire(self, when: float, callback: Callable[[Timer], None], timer: Timer) -> None:
        if self._stopped:
            return
        if self._loop.time() < when:
            # asyncio runs a handle up to one clock resolution early; the Clock contract says
            # "not before `when`", and the Node checks that time never runs backwards.
            self._loop.call_at(when, self._fire, when, callback, timer)
            return
        callback(timer)


def parse_address(name: NodeId) -> Address | None:
    """("host", port) for a "host:port" name ("[v6]:port" too); None for anything else."""
    host, sep, port = name.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def format_address(addr: Address) -> NodeId:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class QuicEndpoint(asyncio.DatagramProtocol):
    """A node's Transport over QUIC on one UDP socket. Create it with `await QuicEndpoint.open()`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        credentials: Credentials,
        *,
        max_udp_payload: int = DEFAULT_MAX_UDP_PAYLOAD,
        idle_timeout_s: float = 120.0,
        handshake_timeout_s: float = 3.0,
        max_pending: int = 256,
    ) -> None:
        self.loop = loop
        self.credentials = credentials
        self.datagram_budget = max_udp_payload - DATAGRAM_OVERHEAD_BYTES
        self.handshake_timeout_s = handshake_timeout_s
        self.max_pending = max_pending
        self.on_receive: Receiver | None = None
        self.address_book: dict[NodeId, Address] = {}
        self.stats = EndpointStats()
        self.address: Address = ("", 0)
        self.name: NodeId = ""
        self.closed = False
        self._udp: asyncio.DatagramTransport | None = None
        self._by_cid: dict[bytes, _Connection] = {}
        self._by_addr: dict[Address, _Connection] = {}  # the connection a send to addr uses
        self._connections: set[_Connection] = set()
        self._names: dict[Address, NodeId] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        common: dict[str, Any] = {
            "alpn_protocols": [ALPN],
            "connection_id_length": CONNECTION_ID_BYTES,
            "idle_timeout": idle_timeout_s,
            "max_datagram_frame_size": 65536,
            "max_datagram_size": max_udp_payload,
        }
        self._server_config = QuicConfiguration(
            is_client=False,
            certificate=credentials.certificate,
            private_key=credentials.private_key,
            **common,
        )
        self._client_config = QuicConfiguration(
            is_client=True,
            verify_mode=ssl.CERT_REQUIRED if credentials.ca_pem else ssl.CERT_NONE,
            cadata=credentials.ca_pem,
            **common,
        )

    @classmethod
    async def open(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Credentials | None = None,
        **options: Any,
    ) -> QuicEndpoint:
        """Bind a UDP socket (port 0: any free port) and start serving on it."""
        loop = asyncio.get_running_loop()
        endpoint = cls(loop, credentials or self_signed(host), **options)
        transport, _ = await loop.create_datagram_endpoint(lambda: endpoint, local_addr=(host, port))
        endpoint._bound(transport)
        return endpoint

    def _bound(self, transport: asyncio.DatagramTransport) -> None:
        # Not in connection_made: asyncio calls that one soon, not before open() returns.
        self._udp = transport
        sockname = transport.get_extra_info("sockname")
        self.address = (sockname[0], sockname[1])
        self.name = format_address(self.address)

    # asyncio.DatagramProtocol ----------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.closed:
            return
        peer: Address = (addr[0], addr[1])  # IPv6 sockets add flowinfo and scope id
        try:
            header = pull_quic_header(Buffer(data=data), host_cid_length=CONNECTION_ID_BYTES)
        except ValueError:
            self.stats.stray_packets += 1
            return
        conn = self._by_cid.get(header.destination_cid)
        if conn is None:
            if header.packet_type != QuicPacketType.INITIAL or len(data) < _MIN_INITIAL_BYTES:
                self.stats.stray_packets += 1  # e.g. for a connection we abandoned
                return
            conn = self._accept(peer, header.destination_cid)
        now = self.loop.time()
        conn.quic.receive_datagram(data, peer, now=now)
        self._pump(conn)
        self._arm_timer()

    def error_received(self, exc: Exception) -> None:
        # An ICMP error for an earlier send (a crashed peer's port is closed): the silence the
        # protocol is built to detect, not an error of ours.
        pass

    # protocol.transport.Transport ------------------------------------------------------------
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
        conn = self._by_addr.get(addr) or self._connect(addr)
        if not conn.established:
            if len(conn.pending) >= self.max_pending:
                self.stats.queue_full_dropped += 1
            else:
                conn.pending.append((payload, on_stream))
            return
        self._write(conn, payload, on_stream)
        self._pump(conn)
        self._arm_timer()

    # Lifetime ----------------------------------------------------------------------------------
    def close(self) -> None:
        """Crash: drop every connection without a word and close the socket."""
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._udp is not None:
            self._udp.abort()
        self._connections.clear()
        self._by_cid.clear()
        self._by_addr.clear()

    def connection_count(self) -> int:
        return len(self._connections)

    # Connections -------------------------------------------------------------------------------
    def _connect(self, addr: Address) -> _Connection:
        config = dataclasses.replace(self._client_config, server_name=addr[0])
        quic = QuicConnection(configuration=config)
        now = self.loop.time()
        conn = _Connection(quic, addr, is_client=True, started_at=now)
        self._register(conn, quic.host_cid)
        self._by_addr[addr] = conn
        quic.connect(addr, now=now)
        self._pump(conn)
        self._arm_timer()
        return conn

    def _accept(self, addr: Address, original_cid: bytes) -> _Connection:
        quic = QuicConnection(
            configuration=self._server_config, original_destination_connection_id=original_cid
        )
        conn = _Connection(quic, addr, is_client=False, started_at=self.loop.time())
        self._register(conn, original_cid)
        self._register(conn, quic.host_cid)
        # Reply over the peer's connection unless we have our own: one connection per pair of
        # nodes in the usual case, half the handshakes and memory.
        self._by_addr.setdefault(addr, conn)
        return conn

    def _register(self, conn: _Connection, cid: bytes) -> None:
        self._connections.add(conn)
        self._by_cid[cid] = conn

    def _forget(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        for cid in [cid for cid, c in self._by_cid.items() if c is conn]:
            del self._by_cid[cid]
        if self._by_addr.get(conn.addr) is conn:
            del self._by_addr[conn.addr]
            # Fall back on another live connection to the same peer, if there is one.
            for other in self._connections:
                if other.addr == conn.addr:
                    self._by_addr[conn.addr] = other
                    break
        if conn.pending:
            self.stats.handshake_dropped += len(conn.pending)
            conn.pending.clear()

    def _write(self, conn: _Connection, payload: bytes, on_stream: bool) -> None:
        if on_stream:
            stream_id = conn.quic.get_next_available_stream_id()
            conn.quic.send_stream_data(stream_id, payload, end_stream=True)
            self.stats.streams_sent += 1
        else:
            conn.quic.send_datagram_frame(payload)
            self.stats.datagrams_sent += 1

    def _pump(self, conn: _Connection) -> None:
        """Handle the connection's events, then put its packets on the wire."""
        quic = conn.quic
        event = quic.next_event()
        while event is not None:
            self._handle(conn, event)
            event = quic.next_event()
        if self._udp is None or self.closed:
            return
        sendto = self._udp.sendto
        for data, addr in quic.datagrams_to_send(now=self.loop.time()):
            sendto(data, addr)

    def _handle(self, conn: _Connection, event: events.QuicEvent) -> None:
        if isinstance(event, events.DatagramFrameReceived):
            self._deliver(conn, event.data)
        elif isinstance(event, events.StreamDataReceived):
            self._stream_data(conn, event)
        elif isinstance(event, events.HandshakeCompleted):
            conn.established = True
            self.stats.handshakes_completed += 1
            self.stats.handshake_s.append(self.loop.time() - conn.started_at)
            while conn.pending:
                self._write(conn, *conn.pending.popleft())
        elif isinstance(event, events.ConnectionIdIssued):
            self._by_cid[event.connection_id] = conn
        elif isinstance(event, events.ConnectionIdRetired):
            if self._by_cid.get(event.connection_id) is conn:
                del self._by_cid[event.connection_id]
        elif isinstance(event, events.ConnectionTerminated):
            self.stats.connections_terminated += 1
            self._forget(conn)
        elif isinstance(event, events.StreamReset):
            conn.inbound.pop(event.stream_id, None)

    def _stream_data(self, conn: _Connection, event: events.StreamDataReceived) -> None:
        stream_id = event.stream_id
        # Stream ids carry their initiator in bit 0 (0: client). Our own streams only ever
        # bring back the peer's empty FIN, which closes them.
        if bool(stream_id & 1) != conn.is_client:
            return
        if stream_id in conn.refused_streams:
            if event.end_stream:
                conn.refused_streams.discard(stream_id)
            return
        buffer = conn.inbound.setdefault(stream_id, bytearray())
        buffer += event.data
        if len(buffer) > MAX_MESSAGE_BYTES:
            # Bound memory: no message may be larger (decode would refuse it anyway).
            del conn.inbound[stream_id]
            self.stats.oversize_stream_dropped += 1
            if not event.end_stream:
                conn.refused_streams.add(stream_id)
                conn.quic.stop_stream(stream_id, _STREAM_TOO_LARGE)
            conn.quic.send_stream_data(stream_id, b"", end_stream=True)
            return
        if event.end_stream:
            del conn.inbound[stream_id]
            # Close our half of the bidirectional stream: aioquic frees a stream, and grants
            # the peer a new one, only when both halves are finished; without this a peer
            # could open only ~128 streams per connection.
            conn.quic.send_stream_data(stream_id, b"", end_stream=True)
            self._deliver(conn, bytes(buffer))

    def _deliver(self, conn: _Connection, data: bytes) -> None:
        self.stats.messages_received += 1
        if self.on_receive is None:
            return
        src = self._names.get(conn.addr)
        if src is None:
            src = next((n for n, a in self.address_book.items() if a == conn.addr), None)
            src = self._names[conn.addr] = src or format_address(conn.addr)
        self.on_receive(src, data)

    # The one timer -----------------------------------------------------------------------------
    def _deadline(self, conn: _Connection) -> float | None:
        at = conn.quic.get_timer()
        if not conn.established:
            give_up_at = conn.started_at + self.handshake_timeout_s
            at = give_up_at if at is None else min(at, give_up_at)
        return at

    def _arm_timer(self) -> None:
        """Re-arm the single timer at the earliest deadline of any connection."""
        if self.closed:
            return
        earliest: float | None = None
        for conn in self._connections:
            at = self._deadline(conn)
            if at is not None and (earliest is None or at < earliest):
                earliest = at
        if earliest == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = earliest
        self._timer = None if earliest is None else self.loop.call_at(earliest, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        now = self.loop.time()
        for conn in list(self._connections):
            if conn not in self._connections:
                continue  # forgotten while handling an earlier one
            if not conn.established and now >= conn.started_at + self.handshake_timeout_s:
                self._abandon(conn)
                continue
            at = conn.quic.get_timer()
            # asyncio may wake us a hair early; aioquic compares `now` to its own deadlines.
            if at is not None and at <= now + 1e-6:
                conn.quic.handle_timer(now=max(at, now))
                self._pump(conn)
        self._arm_timer()

    def _abandon(self, conn: _Connection) -> None:
        """A handshake that did not complete in time: tell the peer if it is there, forget it."""
        conn.quic.close(reason_phrase="handshake timeout")
        self._pump(conn)
        self._forget(conn)
