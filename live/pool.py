"""The connection pool of the live runtime: one connection per address, health from real use.

This module owns connection lifetime: creating (coalesced per address), lending
(`acquire`), evicting idle connections, and dropping unhealthy ones. It knows nothing about
QUIC: a connection is whatever the async `connect(addr)` factory returns, closed by the async
`close(conn)` callback. Time comes from the running loop (`loop.time()`), so the pool runs
unchanged under the interleaving explorer's virtual clock.

Rules (each one is a fix from the seed report, checked by `tests/interleave/live_pool_model.py`):

- At most one *acquirable* connection per address. Concurrent first uses of an address share
  one handshake: the first caller registers an in-flight future, later callers await it.
- A connection is closed only when no operation is using it. Eviction re-checks and claims an
  entry in the same step it removes it (the seed's double-checked compare-and-swap); a user's
  claim is the same check-and-set, so exactly one side wins.
- Health is measured on real operations: an exception of a `failure_types` type escaping
  `async with pool.acquire(addr)` counts as a failure, a clean exit resets the count. After
  `max_consecutive_failures` the connection is withdrawn at once (new callers get a fresh
  one) and closed when its last user leaves — never while in use.
- At most `max_connections` acquirable-or-connecting connections. A new address over the limit
  evicts the least recently used idle connection, or fails with `PoolExhausted`.

Two ways in. `async with acquire(addr)` holds a connection across awaits and judges the outcome
by exception. Synchronous callers (the QUIC endpoint, whose `send` never blocks) use the same
steps one by one: `lend(addr)` claims an open entry or returns None, `await lend_new(addr)`
connects if needed, `release(entry)` gives it back, and `report(entry, ok)` records an outcome
learnt later (a datagram answered or not). `adopt(addr, conn)` takes in a connection the peer
opened; `discard(entry)` withdraws one that died under us. Closes these steps need run as
tasks, after the entry was claimed for closing, so no one can take it in between.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

A = TypeVar("A", bound=Hashable)
C = TypeVar("C")


class PoolExhausted(RuntimeError):
    """The caller asked for a new connection while every pooled connection is in use."""


class PoolClosed(RuntimeError):
    """The caller used the pool after `close()`."""


class EntryState(enum.Enum):
    OPEN = "open"  # acquirable
    UNHEALTHY = "unhealthy"  # withdrawn; closed when the last user leaves
    CLOSING = "closing"  # claimed for closing; no one may use it again
    CLOSED = "closed"


@dataclass
class Entry(Generic[A, C]):
    addr: A
    conn: C
    last_used_at: float
    users: int = 0
    consecutive_failures: int = 0
    state: EntryState = EntryState.OPEN


@dataclass(frozen=True)
class PoolStats:
    open: int
    in_use: int
    connecting: int
    draining: int  # unhealthy connections waiting for their last user


@dataclass
class PoolCounters:
    """What the pool did since it was made (metrics)."""

    connected: int = 0  # connections made through `connect`
    connect_failed: int = 0
    adopted: int = 0  # connections the peer opened, taken in
    evicted_idle: int = 0
    evicted_for_room: int = 0
    withdrawn_unhealthy: int = 0  # after max_consecutive_failures in a row
    discarded: int = 0  # died under us (idle timeout, peer closed, replaced)
    exhausted: int = 0  # PoolExhausted raised
    failures: int = 0  # failed outcomes recorded
    successes: int = 0


class ConnectionPool(Generic[A, C]):
    def __init__(
        self,
        connect: Callable[[A], Awaitable[C]],
        close: Callable[[C], Awaitable[None]],
        *,
        max_connections: int = 64,
        idle_timeout_s: float = 30.0,
        max_consecutive_failures: int = 3,
        failure_types: tuple[type[BaseException], ...] = (Exception,),
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if max_connections < 1 or max_consecutive_failures < 1:
            raise ValueError("max_connections and max_consecutive_failures must be at least 1")
        self._connect = connect
        self._close = close
        self.max_connections = max_connections
        self.idle_timeout_s = idle_timeout_s
        self.max_consecutive_failures = max_consecutive_failures
        self.failure_types = failure_types
        self._entries: dict[A, Entry[A, C]] = {}
        self._connecting: dict[A, asyncio.Future[Entry[A, C]]] = {}
        self._draining: list[Entry[A, C]] = []
        self._closed = False
        self._loop = loop  # None: the running loop (the explorer runs the pool on its own)
        self.counters = PoolCounters()
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- lending --------------------------------------------------------------------------

    @asynccontextmanager
    async def acquire(self, addr: A) -> AsyncIterator[C]:
        """Lend the connection to `addr`, creating it if needed; records the outcome."""
        entry = await self._claim(addr)
        ok = False
        try:
            yield entry.conn
            ok = True
        except self.failure_types:
            self._record(entry, ok=False)
            raise
        finally:
            if ok:
                self._record(entry, ok=True)
            if self._give_back(entry):
                await self._close_entry(entry)

    def lend(self, addr: A) -> Entry[A, C] | None:
        """Claim the open connection to `addr` if there is one (no waiting, no connecting)."""
        entry = self._entries.get(addr)
        if self._closed or entry is None or entry.state is not EntryState.OPEN:
            return None
        entry.users += 1
        return entry

    async def lend_new(self, addr: A) -> Entry[A, C]:
        """Claim the connection to `addr`, connecting (or joining a handshake) if needed."""
        return await self._claim(addr)

    def release(self, entry: Entry[A, C]) -> None:
        """Give back a claim taken with `lend` or `lend_new`; a withdrawn entry closes now."""
        if self._give_back(entry):
            self._spawn_close(entry)

    def _give_back(self, entry: Entry[A, C]) -> bool:
        """Drop one claim; True if the caller must close the entry (claimed for closing here)."""
        entry.users -= 1
        entry.last_used_at = self._now()
        if entry.state is EntryState.UNHEALTHY and entry.users == 0:
            # Last user out of a withdrawn connection closes it.
            entry.state = EntryState.CLOSING
            self._draining.remove(entry)
            return True
        return False

    async def _claim(self, addr: A) -> Entry[A, C]:
        while True:
            entry = await self._get_or_create(addr)
            # Check and claim in one step (no await in between): an evictor that claimed the
            # entry first has set CLOSING; if so, loop and get a fresh one.
            if entry.state is EntryState.OPEN and self._entries.get(addr) is entry:
                entry.users += 1
                return entry

    async def _get_or_create(self, addr: A) -> Entry[A, C]:
        if self._closed:
            raise PoolClosed("the pool is closed")
        entry = self._entries.get(addr)
        if entry is not None:
            return entry
        pending = self._connecting.get(addr)
        if pending is not None:
            # shield: a cancelled waiter must not cancel the handshake others wait on.
            return await asyncio.shield(pending)
        await self._make_room()
        entry = self._entries.get(addr)  # _make_room may have awaited a close
        if entry is not None:
            return entry
        pending = self._connecting.get(addr)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Entry[A, C]] = asyncio.get_running_loop().create_future()
        self._connecting[addr] = future
        try:
            conn = await self._connect(addr)
        except BaseException as exc:
            self.counters.connect_failed += 1
            future.set_exception(exc)
            future.exception()  # retrieved here; waiters re-raise it themselves
            raise
        finally:
            del self._connecting[addr]
        self.counters.connected += 1
        entry = Entry(addr, conn, last_used_at=self._now())
        self._entries[addr] = entry
        future.set_result(entry)
        return entry

    async def _make_room(self) -> None:
        while len(self._entries) + len(self._connecting) >= self.max_connections:
            idle = [e for e in self._entries.values() if e.users == 0]
            if not idle:
                self.counters.exhausted += 1
                raise PoolExhausted(
                    f"{len(self._entries)} connections in use and {len(self._connecting)} "
                    f"connecting; max_connections={self.max_connections}"
                )
            victim = min(idle, key=lambda e: e.last_used_at)
            self.counters.evicted_for_room += 1
            self._withdraw(victim)
            await self._close_entry(victim)

    # --- health ---------------------------------------------------------------------------

    def report(self, entry: Entry[A, C], *, ok: bool) -> None:
        """Record an outcome learnt outside `acquire`; an unhealthy idle entry closes now."""
        self._record(entry, ok=ok)
        if entry.state is EntryState.UNHEALTHY and entry.users == 0:
            entry.state = EntryState.CLOSING
            self._draining.remove(entry)
            self._spawn_close(entry)

    def _record(self, entry: Entry[A, C], *, ok: bool) -> None:
        # Read and write in one step: concurrent outcomes cannot lose an update.
        entry.consecutive_failures = 0 if ok else entry.consecutive_failures + 1
        if ok:
            self.counters.successes += 1
        else:
            self.counters.failures += 1
        if entry.state is EntryState.OPEN and (entry.consecutive_failures >= self.max_consecutive_failures):
            self.counters.withdrawn_unhealthy += 1
            entry.state = EntryState.UNHEALTHY
            del self._entries[entry.addr]
            self._draining.append(entry)

    # --- connections from elsewhere -------------------------------------------------------

    def adopt(self, addr: A, conn: C) -> Entry[A, C] | None:
        """Take in a connection the peer opened, if `addr` has none, none is being made, and
        there is room; else None (the caller keeps it outside the pool)."""
        if (
            self._closed
            or addr in self._entries
            or addr in self._connecting
            or len(self._entries) + len(self._connecting) >= self.max_connections
        ):
            return None
        entry = Entry(addr, conn, last_used_at=self._now())
        self._entries[addr] = entry
        self.counters.adopted += 1
        return entry

    def discard(self, entry: Entry[A, C]) -> None:
        """Withdraw an entry whose connection died or was replaced; closed once unused."""
        if self._entries.get(entry.addr) is not entry:
            return
        self.counters.discarded += 1
        del self._entries[entry.addr]
        if entry.users == 0:
            entry.state = EntryState.CLOSING
            self._spawn_close(entry)
        else:
            entry.state = EntryState.UNHEALTHY
            self._draining.append(entry)

    # --- eviction -------------------------------------------------------------------------

    async def evict_idle(self) -> list[A]:
        """Close connections idle for at least `idle_timeout_s`; returns their addresses."""
        now = self._now()
        candidates = [
            e for e in self._entries.values() if e.users == 0 and now - e.last_used_at >= self.idle_timeout_s
        ]
        evicted: list[A] = []
        for entry in candidates:
            # Double-checked claim: closing the previous candidate awaited, so this entry may
            # have been claimed, used or replaced since the scan. Re-check and claim together.
            if (
                self._entries.get(entry.addr) is not entry
                or entry.users
                or self._now() - entry.last_used_at < self.idle_timeout_s
            ):
                continue
            self.counters.evicted_idle += 1
            self._withdraw(entry)
            await self._close_entry(entry)
            evicted.append(entry.addr)
        return evicted

    def _withdraw(self, entry: Entry[A, C]) -> None:
        entry.state = EntryState.CLOSING
        del self._entries[entry.addr]

    async def _close_entry(self, entry: Entry[A, C]) -> None:
        try:
            await self._close(entry.conn)
        finally:
            entry.state = EntryState.CLOSED

    def _spawn_close(self, entry: Entry[A, C]) -> None:
        task = (self._loop or asyncio.get_running_loop()).create_task(self._close_entry(entry))
        self._tasks.add(task)  # a reference, so the task is not collected mid-way
        task.add_done_callback(self._tasks.discard)

    # --- the rest -------------------------------------------------------------------------

    def _now(self) -> float:
        return (self._loop or asyncio.get_running_loop()).time()

    def stats(self) -> PoolStats:
        return PoolStats(
            open=len(self._entries),
            in_use=sum(1 for e in self._entries.values() if e.users),
            connecting=len(self._connecting),
            draining=len(self._draining),
        )

    def entry(self, addr: A) -> Entry[A, C] | None:
        """The acquirable entry for `addr`, for inspection (tests, metrics)."""
        return self._entries.get(addr)

    async def close(self) -> None:
        """Refuse new acquisitions and close idle connections; in-use ones close on release."""
        self._closed = True
        for entry in list(self._entries.values()):
            if entry.users == 0:
                self._withdraw(entry)
                await self._close_entry(entry)
            else:
                entry.state = EntryState.UNHEALTHY
                del self._entries[entry.addr]
                self._draining.append(entry)
