"""One node's QUIC endpoint: a single UDP socket, its connections, one timer; the Driver's Transport.

This module owns routing between a node's socket, its QUIC connections (`live/connection.py`,
the aioquic adapter) and its connection pool (`live/pool.py`). Every connection of a node shares
the node's socket, so a node's probes leave from the address that is its name
(`aioquic.asyncio.connect` would open a socket per connection).

Inputs: packets (`packet_received`), `send` calls from the Driver, the timer. Outputs: packets
(through `outbound`, which a fault shim may replace), and `on_receive(src, data)` per message.

Rules:

- Names are addresses: a node is "host:port" after its socket; `address_book` may map other
  names (a cluster's "n01") to addresses, and reverse-maps the sources of what arrives.
- Packets go to connections by destination connection ID, never by address.
- Sends to an address use its pooled connection; only verified connections are pooled. With none,
  sends wait in a bounded queue while the pool dials (one handshake however many sends); a
  failed or timed-out handshake drops the queue, counted. Nothing here raises for a peer that is
  unknown, unreachable, refused or gone.
- Datagrams (RFC 9221) only within `datagram_budget`: aioquic drops an oversize DATAGRAM frame
  silently, and the small one queued behind it (FACTS). Reliable sends and anything larger use
  a stream, which holds its connection in the pool until the peer confirms the whole message.
- Health comes from real sends: a send starts an answer window; hearing anything from the peer
  on that connection within `answer_timeout_s` is a success, silence a failure; after the pool's
  `max_consecutive_failures` the connection is withdrawn and the next send dials afresh.
- A peer that lost its connection state (a restart at the same address) is noticed either way
  round: its new handshake, arriving after ours was verified, replaces our stale connection; and
  our packets for a connection it no longer knows make it dial us (what a stateless reset
  would do; aioquic does not implement receiving them). Both within a round trip.
- `close()` is a crash: the socket closes, no CONNECTION_CLOSE is sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aioquic.buffer import Buffer  # type: ignore[attr-defined]  # re-exported from a C module
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.packet import QuicPacketType, pull_quic_header

from swimlab.protocol.messages import Message, NodeId

from .connection import Link, LinkStats
from .credentials import Credentials, self_signed
from .pool import ConnectionPool, Entry, PoolClosed, PoolExhausted
from .udp import Address, UdpSocket

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
STRAY_REDIAL_INTERVAL_S = 1.0  # at most one dial per address per second prompted by strays


class HandshakeFailed(ConnectionError):
    """A connection could not be made (timeout, refused certificate, closed by the peer)."""


@dataclass(slots=True)
class EndpointStats:
    datagrams_sent: int = 0
    streams_sent: int = 0
    oversize_to_stream: int = 0  # non-reliable sends moved to a stream by the budget
    messages_received: int = 0
    unresolvable_dropped: int = 0  # destination is neither in the address book nor host:port
    queue_full_dropped: int = 0  # no connection yet and the queue is full
    handshake_dropped: int = 0  # queued sends lost with a failed handshake
    stray_packets: int = 0  # unparseable, or for a connection we do not know
    stray_redials: int = 0  # dials prompted by packets of a connection we do not know
    handshakes_completed: int = 0  # verified, both directions
    handshakes_failed: Counter[str] = field(default_factory=Counter)  # reason → count
    peers_refused: Counter[str] = field(default_factory=Counter)  # our verdicts: reason → count
    replaced_links: int = 0  # a peer's new handshake superseded our connection with it
    connections_terminated: int = 0
    links: LinkStats = field(default_factory=LinkStats)
    handshake_s: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


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
        self.max_pending = max_pending
        self.on_receive: Receiver | None = None
        self.address_book: dict[NodeId, Address] = {}
        self.stats = EndpointStats()
        self.closed = False
        self.held = False  # paused process: no timers, no housekeeping
        self.udp: UdpSocket | None = None
        self.address: Address = ("", 0)
        self.name: NodeId = ""
        self.outbound: Callable[[bytes, Address], None] = lambda data, addr: None
        self.pool: ConnectionPool[Address, Link] = ConnectionPool(
            self._connect,
            self._close_link,
            max_connections=max_connections,
            idle_timeout_s=idle_timeout_s / 2,
            max_consecutive_failures=max_consecutive_failures,
            failure_types=(HandshakeFailed,),
            loop=loop,
        )
        self._links: set[Link] = set()
        self._by_cid: dict[bytes, Link] = {}
        self._pooled: dict[Link, Entry[Address, Link]] = {}
        self._stream_holds: dict[tuple[Link, int], Entry[Address, Link]] = {}
        self._ready: dict[Link, asyncio.Future[Link]] = {}
        self._verified_at: dict[Link, float] = {}
        self._waiting: dict[Address, deque[tuple[bytes, bool]]] = {}
        self._dialing: set[Address] = set()
        self._stray_dial_at: dict[Address, float] = {}
        self._names: dict[Address, NodeId] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
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
        try:
            header = pull_quic_header(Buffer(data=data), host_cid_length=CONNECTION_ID_BYTES)
        except ValueError:
            self.stats.stray_packets += 1
            return
        link = self._by_cid.get(header.destination_cid)
        now = self.loop.time()
        if link is None:
            if header.packet_type == QuicPacketType.INITIAL and len(data) >= _MIN_INITIAL_BYTES:
                link = self._new_link(addr, header.destination_cid, now)
            else:
                self.stats.stray_packets += 1
                self._stray_redial(addr, header.packet_type, now)
                return
        link.last_heard_at = now
        if link.unanswered_since is not None:
            link.unanswered_since = None
            if (entry := self._pooled.get(link)) is not None:
                self.pool.report(entry, ok=True)
        link.quic.receive_datagram(data, addr, now=now)
        self._pump(link)
        self._arm_timer()

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
        entry = self.pool.lend(addr)
        if entry is None:
            waiting = self._waiting.setdefault(addr, deque())
            if len(waiting) >= self.max_pending:
                self.stats.queue_full_dropped += 1
                return
            waiting.append((payload, on_stream))
            if not any(not lk.is_client and not lk.verified and lk.addr == addr for lk in self._links):
                self._dial(addr)  # else the peer's own handshake with us is about to do
            return
        self._write(entry, payload, on_stream)
        self.pool.release(entry)

    def _write(self, entry: Entry[Address, Link], payload: bytes, on_stream: bool) -> None:
        link = entry.conn
        self._pooled.setdefault(link, entry)
        stream_id = link.write(payload, on_stream, self.loop.time())
        if stream_id is not None:
            self.stats.streams_sent += 1
            entry.users += 1  # the stream holds its connection until the peer has it all
            self._stream_holds[(link, stream_id)] = entry
        else:
            self.stats.datagrams_sent += 1
        self._pump(link)
        self._arm_timer()

    def _flush(self, addr: Address, entry: Entry[Address, Link]) -> None:
        waiting = self._waiting.pop(addr, None)
        while waiting:
            self._write(entry, *waiting.popleft())

    # Dialing ------------------------------------------------------------------------------
    def _dial(self, addr: Address) -> None:
        if addr in self._dialing or self.closed:
            return
        self._dialing.add(addr)
        self._spawn(self._dial_and_flush(addr))

    async def _dial_and_flush(self, addr: Address) -> None:
        try:
            entry = await self.pool.lend_new(addr)
        except (HandshakeFailed, PoolExhausted, PoolClosed) as exc:
            dropped = self._waiting.pop(addr, ())
            self.stats.handshake_dropped += len(dropped)
            if isinstance(exc, PoolExhausted):
                self.stats.handshakes_failed["pool exhausted"] += 1
            return
        finally:
            self._dialing.discard(addr)
        self._flush(addr, entry)
        self.pool.release(entry)

    async def _connect(self, addr: Address) -> Link:
        """The pool's factory: a verified connection to `addr`, or HandshakeFailed."""
        if self.closed:
            raise HandshakeFailed("endpoint closed")
        config = dataclasses.replace(self.client_config, server_name=addr[0])
        link = Link.dial(config, addr, self.loop.time(), self, self.stats.links)
        self._register(link, link.quic.host_cid)
        ready: asyncio.Future[Link] = self.loop.create_future()
        self._ready[link] = ready
        self._pump(link)
        self._arm_timer()
        return await ready

    async def _close_link(self, link: Link) -> None:
        """The pool's closer: a polite CONNECTION_CLOSE (idle, evicted or unhealthy)."""
        if link in self._links:
            link.close(reason="closed by the pool")
            self._pump(link)
            self._forget(link)

    def _new_link(self, addr: Address, original_cid: bytes, now: float) -> Link:
        link = Link.accept(
            self.server_config, original_cid, addr, now, self, self.stats.links, self.credentials.ca_pem
        )
        self._register(link, original_cid)
        self._register(link, link.quic.host_cid)
        return link

    def _stray_redial(self, addr: Address, packet_type: QuicPacketType, now: float) -> None:
        # A 1-RTT packet for a connection we do not know: the peer holds one we lost (we
        # restarted). Dialing it makes the peer replace its stale connection.
        if packet_type != QuicPacketType.ONE_RTT or self.pool.entry(addr) is not None:
            return
        if now - self._stray_dial_at.get(addr, -STRAY_REDIAL_INTERVAL_S) < STRAY_REDIAL_INTERVAL_S:
            return
        self._stray_dial_at[addr] = now
        self.stats.stray_redials += 1
        self._dial(addr)

    # LinkOwner ----------------------------------------------------------------------------
    def link_verified(self, link: Link) -> None:
        now = self.loop.time()
        self.stats.handshakes_completed += 1
        self.stats.handshake_s.append(now - link.started_at)
        self._verified_at[link] = now
        ready = self._ready.pop(link, None)
        if ready is not None:
            ready.set_result(link)  # the pool takes it in and lends it to the dialer
            return
        current = self.pool.entry(link.addr)
        if current is not None and self._verified_at.get(current.conn, now) < link.started_at:
            # The peer opened a new connection after ours was up: it has lost ours.
            self.stats.replaced_links += 1
            self.pool.discard(current)
        entry = self.pool.adopt(link.addr, link)
        if entry is not None:
            self._pooled[link] = entry
            entry.users += 1
            self._flush(link.addr, entry)
            self.pool.release(entry)

    def link_message(self, link: Link, data: bytes) -> None:
        self.stats.messages_received += 1
        if self.on_receive is None:
            return
        src = self._names.get(link.addr)
        if src is None:
            src = next((n for n, a in self.address_book.items() if a == link.addr), None)
            src = self._names[link.addr] = src or format_address(link.addr)
        self.on_receive(src, data)

    def link_stream_done(self, link: Link, stream_id: int) -> None:
        entry = self._stream_holds.pop((link, stream_id), None)
        if entry is not None:
            self.pool.report(entry, ok=True)
            self.pool.release(entry)

    def link_cid(self, link: Link, cid: bytes, issued: bool) -> None:
        if issued:
            self._by_cid[cid] = link
        elif self._by_cid.get(cid) is link:
            del self._by_cid[cid]

    def link_closed(self, link: Link) -> None:
        self.stats.connections_terminated += 1
        self._forget(link)

    # Bookkeeping --------------------------------------------------------------------------
    def _register(self, link: Link, cid: bytes) -> None:
        self._links.add(link)
        self._by_cid[cid] = link

    def _forget(self, link: Link) -> None:
        if link not in self._links:
            return
        self._links.discard(link)
        for cid in [cid for cid, lk in self._by_cid.items() if lk is link]:
            del self._by_cid[cid]
        self._verified_at.pop(link, None)
        if not link.verified:
            reason = str(link.refusal) if link.refusal else link.close_reason or "handshake failed"
            if link.refusal is not None:
                self.stats.peers_refused[link.refusal.reason] += 1
            self.stats.handshakes_failed[reason] += 1
        ready = self._ready.pop(link, None)
        if ready is not None and not ready.done():
            ready.set_exception(HandshakeFailed(f"{format_address(link.addr)}: {link.close_reason}"))
        entry = self._pooled.pop(link, None)
        if entry is not None:
            self.pool.discard(entry)
        for key in [key for key in self._stream_holds if key[0] is link]:
            self.pool.release(self._stream_holds.pop(key))
        if self._waiting.get(link.addr) and not self.closed:
            self._dial(link.addr)  # sends were waiting on this handshake: try ours

    def _spawn(self, coroutine: Any) -> None:
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _pump(self, link: Link) -> None:
        link.handle_events()
        if not self.closed:
            link.transmit(self.outbound, self.loop.time())

    def close(self) -> None:
        """Crash: drop every connection without a word and close the socket."""
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self.udp is not None:
            self.udp.close()
        for ready in self._ready.values():
            ready.cancel()
        for task in self._tasks:
            task.cancel()
        self._links.clear()
        self._by_cid.clear()

    def connection_count(self) -> int:
        return len(self._links)

    # The one timer ------------------------------------------------------------------------
    def _arm_timer(self) -> None:
        if self.closed or self.held:
            return
        hs, answer = self.handshake_timeout_s, self.answer_timeout_s
        deadlines = [at for link in self._links if (at := link.deadline(hs, answer)) is not None]
        earliest = min(deadlines) if deadlines else None
        if earliest == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = earliest
        self._timer = None if earliest is None else self.loop.call_at(earliest, self._on_timer)

    def hold_timer(self) -> None:
        """A paused process runs nothing: QUIC's timers wait until `release_timer`."""
        self.held = True

    def release_timer(self) -> None:
        self.held = False
        self._on_timer()

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        if self.held:
            return
        now = self.loop.time() + 1e-6  # loops wake a hair early; aioquic compares to its deadlines
        for link in list(self._links):
            if link not in self._links:
                continue  # forgotten while handling an earlier one
            if not link.verified and not link.closed and now >= link.started_at + self.handshake_timeout_s:
                link.close(reason="handshake timeout")
                self._pump(link)
                self._forget(link)
                continue
            if link.unanswered_since is not None and now >= link.unanswered_since + self.answer_timeout_s:
                link.unanswered_since = None
                if (entry := self._pooled.get(link)) is not None:
                    self.pool.report(entry, ok=False)
            at = link.quic.get_timer()
            if at is not None and at <= now:
                link.quic.handle_timer(now=max(at, now))
                self._pump(link)
        self._arm_timer()

    def _evict_idle(self) -> None:
        if self.closed:
            return
        if not self.held:
            self._spawn(self.pool.evict_idle())
        self.loop.call_later(self.pool.idle_timeout_s / 2, self._evict_idle)


def parse_address(name: NodeId) -> Address | None:
    """("host", port) for a "host:port" name ("[v6]:port" too); None for anything else."""
    host, sep, port = name.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def format_address(addr: Address) -> NodeId:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
