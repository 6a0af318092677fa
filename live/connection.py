"""One QUIC connection of an endpoint: the aioquic adapter, as aioquic keeps its own.

This module owns what happens inside one `QuicConnection`: the handshake and the peer check
(`live/identity.py`) on `HandshakeCompleted`, turning aioquic's events into whole messages
(DATAGRAM frames as they are, bidirectional streams reassembled up to `MAX_MESSAGE_BYTES`),
and putting the connection's packets on the wire. The endpoint (`live/endpoint.py`) owns the
socket, routing and the pool; it hears from a `Link` through the `LinkOwner` callbacks.

Rules:

- Nothing from the peer is delivered before the peer is verified: data events that arrive on an
  unverified link are dropped and counted. A peer that fails verification is closed with a TLS
  `bad_certificate` error (CRYPTO_ERROR + 42) and reported as refused.
- Every server-side connection requests a client certificate when the endpoint has a cluster
  CA; aioquic has no public switch for that, so `_ServerConnection` sets its TLS context's flag.
- A reliable send is a fresh bidirectional stream ended with FIN; the peer answers with an
  empty FIN once it has the whole message, which is the send's proof of delivery
  (`link_stream_done`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aioquic import tls
from aioquic.quic import events
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.packet import QuicErrorCode

from swimlab.protocol.codec import MAX_MESSAGE_BYTES

from .identity import PeerRefused, peer_certificate, verify_peer

Address = tuple[str, int]

STREAM_TOO_LARGE = 0x100  # application error code for STOP_SENDING on an oversize stream
BAD_CERTIFICATE = QuicErrorCode.CRYPTO_ERROR + 42  # TLS alert bad_certificate (RFC 8446 §6)


class _ServerConnection(QuicConnection):
    """A server connection that asks the client for its certificate."""

    def _initialize(self, peer_cid: bytes) -> None:
        super()._initialize(peer_cid)
        # aioquic 1.7 keeps this switch private ("for test purposes only", aiortc/aioquic#541).
        self.tls._request_client_certificate = True


class LinkOwner(Protocol):
    def link_verified(self, link: Link) -> None: ...
    def link_message(self, link: Link, data: bytes) -> None: ...
    def link_stream_done(self, link: Link, stream_id: int) -> None: ...
    def link_cid(self, link: Link, cid: bytes, issued: bool) -> None: ...
    def link_closed(self, link: Link) -> None: ...


@dataclass(slots=True)
class LinkStats:
    unverified_dropped: int = 0  # data that arrived before the peer was verified
    oversize_stream_dropped: int = 0  # a peer's stream past MAX_MESSAGE_BYTES


@dataclass(eq=False, slots=True)
class Link:
    """One QUIC connection to a peer address and what the endpoint keeps beside it."""

    quic: QuicConnection
    addr: Address
    is_client: bool
    started_at: float
    owner: LinkOwner
    ca_pem: bytes | None
    stats: LinkStats
    verified: bool = False
    closed: bool = False
    refusal: PeerRefused | None = None  # set when we refused the peer's certificate
    close_reason: str = ""
    inbound: dict[int, bytearray] = field(default_factory=dict)  # peer stream id → bytes so far
    refused_streams: set[int] = field(default_factory=set)  # oversize: the rest is ignored
    open_streams: set[int] = field(default_factory=set)  # our streams awaiting the peer's FIN
    answer_due_at: float | None = None  # a send since the peer was last heard from awaits this
    last_heard_at: float = 0.0

    @classmethod
    def dial(
        cls, config: QuicConfiguration, addr: Address, now: float, owner: LinkOwner, stats: LinkStats
    ) -> Link:
        link = cls(QuicConnection(configuration=config), addr, True, now, owner, config.cadata, stats)
        link.quic.connect(addr, now=now)
        return link

    @classmethod
    def accept(
        cls,
        config: QuicConfiguration,
        original_cid: bytes,
        addr: Address,
        now: float,
        owner: LinkOwner,
        stats: LinkStats,
        ca_pem: bytes | None,
    ) -> Link:
        quic_type = _ServerConnection if ca_pem else QuicConnection
        quic = quic_type(configuration=config, original_destination_connection_id=original_cid)
        return cls(quic, addr, False, now, owner, ca_pem, stats)

    # Sending ------------------------------------------------------------------------------
    def write(
        self, payload: bytes, on_stream: bool, now: float, answer_timeout_s: float = 0.25
    ) -> int | None:
        """Queue `payload` as a DATAGRAM frame, or on a new stream (its id is returned)."""
        stream_id = None
        if on_stream:
            stream_id = self.quic.get_next_available_stream_id()
            self.quic.send_stream_data(stream_id, payload, end_stream=True)
            self.open_streams.add(stream_id)
        else:
            self.quic.send_datagram_frame(payload)
        if self.answer_due_at is None:
            self.answer_due_at = now + answer_timeout_s
        return stream_id

    def transmit(self, sendto: Callable[[bytes, Address], None], now: float) -> None:
        for data, addr in self.quic.datagrams_to_send(now=now):
            sendto(data, addr)

    def close(self, error_code: int = QuicErrorCode.NO_ERROR, reason: str = "") -> None:
        """Say goodbye (CONNECTION_CLOSE); the caller transmits and forgets the link."""
        if not self.closed:
            self.closed = True
            self.close_reason = reason
            self.quic.close(error_code=error_code, reason_phrase=reason)

    # Receiving ----------------------------------------------------------------------------
    def handle_events(self) -> None:
        quic = self.quic
        event = quic.next_event()
        while event is not None:
            self._handle(event)
            event = quic.next_event()

    def _handle(self, event: events.QuicEvent) -> None:
        if isinstance(event, events.DatagramFrameReceived):
            if self._deliverable():
                self.owner.link_message(self, event.data)
        elif isinstance(event, events.StreamDataReceived):
            if self._deliverable():
                self._stream_data(event)
        elif isinstance(event, events.HandshakeCompleted):
            self._verify()
        elif isinstance(event, events.ConnectionIdIssued):
            self.owner.link_cid(self, event.connection_id, True)
        elif isinstance(event, events.ConnectionIdRetired):
            self.owner.link_cid(self, event.connection_id, False)
        elif isinstance(event, events.ConnectionTerminated):
            if not self.closed:
                self.closed = True
                self.close_reason = event.reason_phrase or _describe(event.error_code)
            self.owner.link_closed(self)
        elif isinstance(event, events.StreamReset):
            self.inbound.pop(event.stream_id, None)

    def _deliverable(self) -> bool:
        if self.verified and not self.closed:
            return True
        self.stats.unverified_dropped += 1
        return False

    def _verify(self) -> None:
        if self.ca_pem is not None:
            certificate, chain = peer_certificate(self.quic.tls)
            try:
                verify_peer(certificate, chain, self.addr[0], self.ca_pem)
            except PeerRefused as refused:
                self.refusal = refused
                self.close(BAD_CERTIFICATE, f"peer refused: {refused}")
                return
        self.verified = True
        self.owner.link_verified(self)

    def _stream_data(self, event: events.StreamDataReceived) -> None:
        stream_id = event.stream_id
        quic = self.quic
        # Stream ids carry their initiator in bit 0 (0: client). Our own streams only ever
        # bring back the peer's empty FIN: the message arrived whole.
        if bool(stream_id & 1) != self.is_client:
            if event.end_stream and stream_id in self.open_streams:
                self.open_streams.discard(stream_id)
                self.owner.link_stream_done(self, stream_id)
            return
        if stream_id in self.refused_streams:
            if event.end_stream:
                self.refused_streams.discard(stream_id)
            return
        buffer = self.inbound.setdefault(stream_id, bytearray())
        buffer += event.data
        if len(buffer) > MAX_MESSAGE_BYTES:
            # Bound memory: no message may be larger (decode would refuse it anyway).
            del self.inbound[stream_id]
            self.stats.oversize_stream_dropped += 1
            if not event.end_stream:
                self.refused_streams.add(stream_id)
                quic.stop_stream(stream_id, STREAM_TOO_LARGE)
            quic.send_stream_data(stream_id, b"", end_stream=True)
            return
        if event.end_stream:
            del self.inbound[stream_id]
            # Close our half too: aioquic frees a stream, and grants the peer a new one, only
            # when both halves are finished (else a peer gets ~128 streams per connection).
            quic.send_stream_data(stream_id, b"", end_stream=True)
            self.owner.link_message(self, bytes(buffer))

    # Time ---------------------------------------------------------------------------------
    def deadline(self, handshake_timeout_s: float, answer_timeout_s: float) -> float | None:
        """The earliest instant this link needs the endpoint's timer."""
        at = self.quic.get_timer()
        if not self.verified and not self.closed:
            give_up_at = self.started_at + handshake_timeout_s
            at = give_up_at if at is None else min(at, give_up_at)
        if self.answer_due_at is not None and self.verified:
            at = self.answer_due_at if at is None else min(at, self.answer_due_at)
        return at


def _describe(error_code: int) -> str:
    """A QUIC error code in words: CRYPTO_ERROR + n is TLS alert n (RFC 9001 §4.8)."""
    alert = error_code - QuicErrorCode.CRYPTO_ERROR
    if 0 <= alert < 256:
        try:
            return f"TLS alert {tls.AlertDescription(alert).name}"
        except ValueError:
            return f"TLS alert {alert}"
    try:
        return QuicErrorCode(error_code).name
    except ValueError:
        return f"error 0x{error_code:x}"
