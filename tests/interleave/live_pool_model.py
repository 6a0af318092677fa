"""The real `swimlab.live.pool.ConnectionPool` under the explorer, with a fake connection factory.

Two scenarios, each checked against the same invariants as the worked examples:

- ``evict``: users on addresses A, B, C share a pool of at most 2 connections while an evictor
  (idle timeout 0, so any idle moment counts) sweeps twice. Handshakes and closes await.
- ``health``: users on A whose operations fail or succeed; the pool must drop the connection
  after N consecutive failures, never while in use, and never lend it out again.

The ``mutant`` variant runs ``evict`` against a pool whose eviction skips the double-check —
proof that the invariants can see the bug in the real code, not only in the toy models.

Invariants (every step):
- no connection is closing or closed while a user holds it;
- per address, at most one connection is open and healthy (healthy = never failed N times
  in a row; a withdrawn connection stays withdrawn even if a straggler's request succeeds);
- at most `max_connections` connections are open;
- no request is sent on a connection that had already failed N times in a row.
At the end of ``health``: a connection is closed iff N consecutive requests on it failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from swimlab.live.pool import ConnectionPool, PoolExhausted
from swimlab.sim.interleave.loop import yield_point
from swimlab.sim.interleave.model import Model

N = 2
MAX_CONNECTIONS = 2


class RequestFailed(ConnectionError):
    pass


@dataclass
class FakeConn:
    addr: str
    serial: int
    holders: int = 0
    closing: bool = False
    closed: bool = False
    streak: int = 0  # consecutive failed requests, completion order
    longest_streak: int = 0
    sent_after_unhealthy: int = 0

    async def request(self, ok: bool) -> None:
        if self.longest_streak >= N:  # withdrawn for good once N in a row failed
            self.sent_after_unhealthy += 1
        await yield_point(f"request {self.addr}#{self.serial}")
        self.streak = 0 if ok else self.streak + 1
        self.longest_streak = max(self.longest_streak, self.streak)
        if not ok:
            raise RequestFailed(f"{self.addr}#{self.serial}")


@dataclass
class State:
    pool: ConnectionPool[str, FakeConn]
    conns: list[FakeConn] = field(default_factory=list)
    exhausted: int = 0


class NaiveEvictPool(ConnectionPool[str, FakeConn]):
    """Eviction without the double-check: trusts the scan across the awaits of closing."""

    async def evict_idle(self) -> list[str]:
        candidates = [e for e in self._entries.values() if e.users == 0]
        for entry in candidates:
            self._entries.pop(entry.addr, None)
            await self._close_entry(entry)
        return [e.addr for e in candidates]


def _setup(pool_type: type[ConnectionPool[str, FakeConn]], idle_timeout_s: float):  # type: ignore[no-untyped-def]
    def setup() -> State:
        conns: list[FakeConn] = []

        async def connect(addr: str) -> FakeConn:
            conn = FakeConn(addr, len(conns) + 1)
            conns.append(conn)
            await yield_point(f"handshake {addr}")
            return conn

        async def close(conn: FakeConn) -> None:
            conn.closing = True
            await yield_point(f"close {conn.addr}#{conn.serial}")
            conn.closed = True

        pool = pool_type(
            connect,
            close,
            max_connections=MAX_CONNECTIONS,
            idle_timeout_s=idle_timeout_s,
            max_consecutive_failures=N,
        )
        return State(pool, conns)

    return setup


async def user(state: State, addr: str, outcomes: list[bool]) -> None:
    for ok in outcomes:
        await yield_point(f"acquire {addr}")
        try:
            async with state.pool.acquire(addr) as conn:
                conn.holders += 1
                try:
                    await conn.request(ok)
                finally:
                    conn.holders -= 1
        except PoolExhausted:
            state.exhausted += 1
        except RequestFailed:
            pass


async def evictor(state: State, sweeps: int) -> None:
    for _ in range(sweeps):
        await yield_point("sweep")
        await state.pool.evict_idle()


def invariant(state: State) -> None:
    open_by_addr: dict[str, int] = {}
    for conn in state.conns:
        name = f"{conn.addr}#{conn.serial}"
        assert not (conn.holders and conn.closing), f"{name} closed while in use"
        assert not conn.sent_after_unhealthy, f"{name} lent out after {N} consecutive failures"
        if not conn.closing and conn.longest_streak < N:
            open_by_addr[conn.addr] = open_by_addr.get(conn.addr, 0) + 1
    for addr, count in open_by_addr.items():
        assert count <= 1, f"{count} healthy connections open to {addr}"
    open_total = sum(1 for c in state.conns if not c.closing)
    unhealthy = sum(1 for c in state.conns if not c.closing and c.longest_streak >= N)
    assert open_total - unhealthy <= MAX_CONNECTIONS, f"{open_total} connections open"


def health_at_end(state: State) -> None:
    for conn in state.conns:
        should_drop = conn.longest_streak >= N
        assert conn.closed == should_drop, (
            f"{conn.addr}#{conn.serial}: closed={conn.closed}, longest failure streak "
            f"{conn.longest_streak} (N={N})"
        )


def _evict_tasks(state: State) -> dict:  # type: ignore[type-arg]
    return {
        "userA1": user(state, "A", [True, True]),
        "userA2": user(state, "A", [True]),
        "userB": user(state, "B", [True, True, True]),
        "userC": user(state, "C", [True]),
        "evictor": evictor(state, 3),
    }


def _health_tasks(state: State) -> dict:  # type: ignore[type-arg]
    return {
        "u1": user(state, "A", [False, False]),
        "u2": user(state, "A", [True, False]),
        "u3": user(state, "A", [False]),
    }


EVICT = Model("live-pool-evict", _setup(ConnectionPool, 0.0), _evict_tasks, invariant)
MUTANT = Model("live-pool-evict", _setup(NaiveEvictPool, 0.0), _evict_tasks, invariant, expect_bug=True)
HEALTH = Model("live-pool-health", _setup(ConnectionPool, 1e9), _health_tasks, invariant, health_at_end)


# --- the synchronous path the QUIC endpoint uses: lend / lend_new / release / report / discard ---
#
# ``sync``: a stream sender holds a connection across awaits (the peer's FIN comes later), a
# datagram sender lends and gives back in one step and learns the outcome an answer window
# later (``report``), and a connection on A dies under everyone (``discard``), while an evictor
# sweeps. Closes triggered by the synchronous calls run as tasks; the invariants are the same.
# The ``sync-mutant`` reports a withdrawn connection as closable whether or not it is in use.


async def stream_sender(state: State, addr: str, outcomes: list[bool]) -> None:
    for ok in outcomes:
        await yield_point(f"stream {addr}")
        try:
            entry = await state.pool.lend_new(addr)
        except PoolExhausted:
            state.exhausted += 1
            continue
        conn = entry.conn
        conn.holders += 1
        try:
            await conn.request(ok)
        except RequestFailed:
            pass
        finally:
            conn.holders -= 1
        state.pool.report(entry, ok=ok)
        state.pool.release(entry)


async def datagram_sender(state: State, addr: str, outcomes: list[bool]) -> None:
    for ok in outcomes:
        await yield_point(f"datagram {addr}")
        entry = state.pool.lend(addr)
        if entry is None:
            continue  # the endpoint queues and dials; the stream sender covers that path
        conn = entry.conn
        if conn.longest_streak >= N:
            conn.sent_after_unhealthy += 1
        state.pool.release(entry)  # the write itself is synchronous
        await yield_point(f"answer window {addr}")
        conn.streak = 0 if ok else conn.streak + 1
        conn.longest_streak = max(conn.longest_streak, conn.streak)
        state.pool.report(entry, ok=ok)


async def link_death(state: State, addr: str) -> None:
    await yield_point(f"death {addr}")
    entry = state.pool.entry(addr)
    if entry is not None:
        entry.conn.longest_streak = N  # dead: it must never be lent again
        state.pool.discard(entry)


class NaiveReportPool(ConnectionPool[str, FakeConn]):
    """Closes an unhealthy connection on the report, without asking whether it is in use."""

    def report(self, entry, *, ok: bool) -> None:  # type: ignore[no-untyped-def]
        self._record(entry, ok=ok)
        if entry.state.value == "unhealthy":
            entry.state = type(entry.state).CLOSING
            self._draining.remove(entry)
            self._spawn_close(entry)


def _sync_tasks(state: State) -> dict:  # type: ignore[type-arg]
    return {
        "stream": stream_sender(state, "A", [False, True]),
        "datagram": datagram_sender(state, "A", [False, False, True]),
        "streamB": stream_sender(state, "B", [True]),
        "death": link_death(state, "B"),
        "evictor": evictor(state, 2),
    }


def sync_at_end(state: State) -> None:
    for conn in state.conns:
        assert not conn.holders, f"{conn.addr}#{conn.serial} still held at the end"


SYNC = Model("live-pool-sync", _setup(ConnectionPool, 0.0), _sync_tasks, invariant, sync_at_end)
SYNC_MUTANT = Model(
    "live-pool-sync", _setup(NaiveReportPool, 0.0), _sync_tasks, invariant, sync_at_end, expect_bug=True
)
