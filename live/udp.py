"""The UDP socket under a node's endpoint, read by draining, and the event loop it runs on.

This module owns the raw packet I/O of the live runtime:

- `UdpSocket` binds one non-blocking UDP socket and, on every wake-up, reads datagrams until the
  kernel has none left (up to `max_batch`). asyncio's stock datagram transport takes one packet
  per wake-up and, under load, lets the kernel's receive buffer overflow long before the CPU is
  saturated (FACTS); draining fixes that on both loops. Sends go straight to `sendto`; a full
  send buffer or an ICMP error is counted, never raised (UDP promises nothing more).
- `new_event_loop()` returns a uvloop loop when uvloop is installed (about half the CPU per
  probe, FACTS), the stock asyncio loop otherwise or when asked.

`close()` is a crash as far as peers can tell: the socket goes, nothing is said.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass

Address = tuple[str, int]
PacketHandler = Callable[[bytes, Address], None]

MAX_DATAGRAM_BYTES = 65535


@dataclass(slots=True)
class SocketStats:
    packets_received: int = 0
    packets_sent: int = 0
    send_errors: int = 0  # EAGAIN (send buffer full) or an ICMP error surfacing on send
    receive_errors: int = 0
    largest_batch: int = 0  # most datagrams drained in one wake-up


class UdpSocket:
    """One bound UDP socket; `on_packet(data, addr)` is called for every datagram received."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        on_packet: PacketHandler,
        max_batch: int = 512,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.on_packet = on_packet
        self.max_batch = max_batch
        self.stats = SocketStats()
        self.closed = False
        host, port = sock.getsockname()[:2]
        self.address: Address = (host, port)
        self.receive_buffer_bytes = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        loop.add_reader(sock.fileno(), self._drain)

    @classmethod
    def bind(
        cls, loop: asyncio.AbstractEventLoop, host: str, port: int, on_packet: PacketHandler
    ) -> UdpSocket:
        """Bind `host:port` (port 0: any free port). Raises OSError if the address is taken."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        return cls(loop, sock, on_packet)

    def sendto(self, data: bytes, addr: Address) -> None:
        if self.closed:
            return
        try:
            self.sock.sendto(data, addr)
            self.stats.packets_sent += 1
        except OSError:
            self.stats.send_errors += 1

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.sock.fileno())
        self.sock.close()

    def _drain(self) -> None:
        recvfrom = self.sock.recvfrom
        handle = self.on_packet
        count = 0
        while count < self.max_batch and not self.closed:
            try:
                data, addr = recvfrom(MAX_DATAGRAM_BYTES)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                # A queued ICMP error (a peer's closed port) surfaces here on Linux: skip it.
                self.stats.receive_errors += 1
                continue
            count += 1
            handle(data, (addr[0], addr[1]))
        self.stats.packets_received += count
        if count > self.stats.largest_batch:
            self.stats.largest_batch = count


def uvloop_available() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def new_event_loop(use_uvloop: bool | None = None) -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop if installed (or if `use_uvloop`), else asyncio's default.

    `use_uvloop=True` without uvloop installed raises ImportError naming the package.
    """
    if use_uvloop is None:
        use_uvloop = uvloop_available()
    if use_uvloop:
        try:
            import uvloop
        except ImportError as exc:
            raise ImportError("uvloop was asked for but is not installed (pip install uvloop)") from exc
        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


def parse_address(name: str) -> Address | None:
    """("host", port) for a "host:port" name ("[v6]:port" too); None for anything else."""
    host, sep, port = name.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def format_address(addr: Address) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
