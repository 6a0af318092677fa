"""The connections of one endpoint: links by connection ID, the pool they live in, and dialing.

This module owns which QUIC connection carries a send to an address, and when connections are
made, adopted, replaced and forgotten. It is the `LinkOwner` of every `Link` of its endpoint.

Rules:

- Only verified links are pooled, one per address (`live/pool.py`): dialled ones when their
  handshake completes, ones the peer opened when theirs does (if the address has none).
- Sends to an address with no pooled link wait in a bounded queue while the pool dials; a
  failed or timed-out handshake drops the queue, counted. If the peer is already handshaking
  with us, that handshake is awaited instead of starting a second one.
- A reliable send holds its link in the pool until the peer confirms the whole message.
- Health: a send opens an answer window; hearing anything on that link within
  `answer_timeout_s` reports a success, silence a failure (the pool withdraws a link after
  `max_consecutive_failures`). Silence is judged only by a timer that fires on time: when the
  loop lags, the packets that would answer may be waiting unread in the socket, and blaming
  the peer would trade a slow loop for a storm of reconnections.
- A peer that lost its connection state (restarted at the same address) is noticed either way
  round, within a round trip: its new handshake, begun after ours was verified, replaces our
  stale link; and our packets for a connection it no longer knows make it dial us (what a
  stateless reset would do; aioquic does not act on received resets).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .connection import Link, LinkStats
from .pool import ConnectionPool, Entry, PoolClosed, PoolExhausted
from .udp import Address, format_address

if TYPE_CHECKING:
    from .endpoint import QuicEndpoint

STRAY_REDIAL_INTERVAL_S = 1.0  # at most one dial per address per second prompted by strays
LATE_JUDGEMENT_S = 0.02  # an answer-window timer later than this judges nothing (loop lag)
RECHECK_S = 0.005
FORGOTTEN_CIDS = 4096  # connection IDs of forgotten links still recognised as theirs


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


class Peers:
    def __init__(
        self,
        endpoint: QuicEndpoint,
        *,
        max_connections: int,
        idle_timeout_s: float,
        max_consecutive_failures: int,
        max_pending: int,
    ) -> None:
        self.endpoint = endpoint
        self.loop = endpoint.loop
        self.stats = endpoint.stats
        self.max_pending = max_pending
        self.pool: ConnectionPool[Address, Link] = ConnectionPool(
            self._connect,
            self._close_link,
            max_connections=max_connections,
            idle_timeout_s=idle_timeout_s,
            max_consecutive_failures=max_consecutive_failures,
            failure_types=(HandshakeFailed,),
            loop=self.loop,
        )
        self.links: set[Link] = set()
        self.by_cid: dict[bytes, Link] = {}
        # A client whose handshake we abandoned keeps sending padded Initials to the CID we
        # forgot; taken for new connections they fail ("no CRYPTO frame") and feed a spiral
        # under load. Packets to a recently forgotten CID are strays.
        self.forgotten: OrderedDict[bytes, None] = OrderedDict()
        self._pooled: dict[Link, Entry[Address, Link]] = {}
        self._stream_holds: dict[tuple[Link, int], Entry[Address, Link]] = {}
        self._ready: dict[Link, asyncio.Future[Link]] = {}
        self._verified_at: dict[Link, float] = {}
        self._waiting: dict[Address, deque[tuple[bytes, bool]]] = {}
        self._dialing: set[Address] = set()
        self._stray_dial_at: dict[Address, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # Sending ------------------------------------------------------------------------------
    def send(self, addr: Address, payload: bytes, on_stream: bool) -> None:
        entry = self.pool.lend(addr)
        if entry is not None:
            self._write(entry, payload, on_stream)
            self.pool.release(entry)
            return
        waiting = self._waiting.setdefault(addr, deque())
        if len(waiting) >= self.max_pending:
            self.stats.queue_full_dropped += 1
            return
        waiting.append((payload, on_stream))
        if not any(not lk.is_client and not lk.verified and lk.addr == addr for lk in self.links):
            self.dial(addr)  # else the peer's own handshake with us is about to do

    def _write(self, entry: Entry[Address, Link], payload: bytes, on_stream: bool) -> None:
        link = entry.conn
        self._pooled.setdefault(link, entry)
        stream_id = link.write(payload, on_stream, self.loop.time(), self.endpoint.answer_timeout_s)
        if stream_id is not None:
            self.stats.streams_sent += 1
            entry.users += 1  # the stream holds its connection until the peer has it all
            self._stream_holds[(link, stream_id)] = entry
        else:
            self.stats.datagrams_sent += 1
        self.endpoint.pump(link)

    def _flush(self, addr: Address, entry: Entry[Address, Link]) -> None:
        waiting = self._waiting.pop(addr, None)
        while waiting:
            self._write(entry, *waiting.popleft())

    # Health -------------------------------------------------------------------------------
    def heard_from(self, link: Link, now: float) -> None:
        link.last_heard_at = now
        if link.answer_due_at is not None:
            link.answer_due_at = None
            if (entry := self._pooled.get(link)) is not None:
                self.pool.report(entry, ok=True)

    def judge_silence(self, link: Link, now: float) -> None:
        """The answer window has passed. Judged only by a timer that fires on time: a late one
        means the loop has not yet read what may have arrived, so it looks again right after."""
        due = link.answer_due_at
        if due is None or now < due:
            return
        if now - due > LATE_JUDGEMENT_S:
            link.answer_due_at = now + RECHECK_S  # the loop lags: read first, then judge
            return
        link.answer_due_at = None
        if (entry := self._pooled.get(link)) is not None:
            self.pool.report(entry, ok=False)

    # Dialing ------------------------------------------------------------------------------
    def dial(self, addr: Address) -> None:
        """Make sure a connection to `addr` is being made (no-op if one exists or is coming)."""
        if self.pool.entry(addr) is not None:
            return
        if addr in self._dialing or self.endpoint.closed:
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
        endpoint = self.endpoint
        if endpoint.closed:
            raise HandshakeFailed("endpoint closed")
        config = dataclasses.replace(endpoint.client_config, server_name=addr[0])
        link = Link.dial(config, addr, self.loop.time(), self, self.stats.links)
        self.register(link, link.quic.host_cid)
        ready: asyncio.Future[Link] = self.loop.create_future()
        self._ready[link] = ready
        endpoint.pump(link)
        return await ready

    async def _close_link(self, link: Link) -> None:
        """The pool's closer: a polite CONNECTION_CLOSE (idle, evicted or unhealthy)."""
        if link in self.links:
            link.close(reason="closed by the pool")
            self.endpoint.pump(link)
            self.forget(link)

    def accept(self, addr: Address, original_cid: bytes, now: float) -> Link:
        endpoint = self.endpoint
        link = Link.accept(
            endpoint.server_config,
            original_cid,
            addr,
            now,
            self,
            self.stats.links,
            endpoint.credentials.ca_pem,
        )
        self.register(link, original_cid)
        self.register(link, link.quic.host_cid)
        return link

    def stray(self, addr: Address, one_rtt: bool, now: float) -> None:
        """A packet for a connection we do not know. A 1-RTT one means the peer holds a
        connection we lost (we restarted): dialing it makes the peer replace its stale one."""
        self.stats.stray_packets += 1
        if not one_rtt or self.pool.entry(addr) is not None:
            return
        if now - self._stray_dial_at.get(addr, -STRAY_REDIAL_INTERVAL_S) < STRAY_REDIAL_INTERVAL_S:
            return
        self._stray_dial_at[addr] = now
        self.stats.stray_redials += 1
        self.dial(addr)

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
        self.endpoint.deliver(link.addr, data)

    def link_stream_done(self, link: Link, stream_id: int) -> None:
        entry = self._stream_holds.pop((link, stream_id), None)
        if entry is not None:
            self.pool.report(entry, ok=True)
            self.pool.release(entry)

    def link_cid(self, link: Link, cid: bytes, issued: bool) -> None:
        if issued:
            self.by_cid[cid] = link
        elif self.by_cid.get(cid) is link:
            del self.by_cid[cid]

    def link_closed(self, link: Link) -> None:
        self.stats.connections_terminated += 1
        self.forget(link)

    # Bookkeeping --------------------------------------------------------------------------
    def register(self, link: Link, cid: bytes) -> None:
        self.links.add(link)
        self.by_cid[cid] = link

    def forget(self, link: Link) -> None:
        if link not in self.links:
            return
        self.links.discard(link)
        for cid in [cid for cid, lk in self.by_cid.items() if lk is link]:
            del self.by_cid[cid]
            self.forgotten[cid] = None
        while len(self.forgotten) > FORGOTTEN_CIDS:
            self.forgotten.popitem(last=False)
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
        if self._waiting.get(link.addr) and not self.endpoint.closed:
            self.dial(link.addr)  # sends were waiting on this handshake: try ours

    def _spawn(self, coroutine: Any) -> None:
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def evict_idle(self) -> None:
        self._spawn(self.pool.evict_idle())

    def close(self) -> None:
        """The endpoint crashed: forget everything, silently."""
        for ready in self._ready.values():
            ready.cancel()
        for task in self._tasks:
            task.cancel()
        self.links.clear()
        self.by_cid.clear()
