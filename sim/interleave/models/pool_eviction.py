"""Seed bug #1: an active connection evicted between the idle check and the removal.

The evictor picks an idle connection, then awaits (closing a QUIC connection, logging, taking
the map lock...) and removes it. If a user claimed the connection during that await, the user
is now holding a connection the pool closed.

- BUGGY: check idle → await → remove and close.
- FIXED: the seed's double-checked claim: after the await, re-check and claim the entry for the
  evictor (Rust: compare_exchange(false, true) on in_use) in the same step as the check, then
  await the close. A user's claim is the same check-and-set, so exactly one side wins.

Invariant: a connection in use by a user is never evicted (never closed under a user).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..loop import yield_point
from ..model import Model


@dataclass
class Conn:
    addr: str
    owner: str | None = None  # "user:<name>" or "evictor"; None = idle
    closed: bool = False


@dataclass
class State:
    pool: dict[str, Conn] = field(default_factory=dict)
    conns: list[Conn] = field(default_factory=list)


def setup() -> State:
    state = State()
    for addr in ("A", "B"):
        conn = Conn(addr)
        state.pool[addr] = conn
        state.conns.append(conn)
    return state


async def user(state: State, name: str, addr: str, rounds: int) -> None:
    for _ in range(rounds):
        await yield_point(f"acquire {addr}")
        conn = state.pool.get(addr)
        if conn is None or conn.owner is not None:
            continue  # the real pool would open a new connection; not what this model is about
        conn.owner = f"user:{name}"  # check-and-claim in one step: no await in between
        await yield_point(f"use {addr}")
        conn.owner = None


async def evictor(state: State, double_check: bool) -> None:
    await yield_point("scan")
    victim = next((c for c in state.pool.values() if c.owner is None), None)
    if victim is None:
        return
    await yield_point(f"about to evict {victim.addr}")  # the await between check and removal
    if double_check:
        if victim.owner is not None or state.pool.get(victim.addr) is not victim:
            return  # claimed meanwhile: leave it alone
        victim.owner = "evictor"
    del state.pool[victim.addr]
    await yield_point(f"close {victim.addr}")
    victim.closed = True


def invariant(state: State) -> None:
    for conn in state.conns:
        if conn.closed and conn.owner is not None and conn.owner.startswith("user:"):
            raise AssertionError(f"connection to {conn.addr} evicted while in use by {conn.owner}")


def _tasks(double_check: bool):  # type: ignore[no-untyped-def]
    def tasks(state: State) -> dict:  # type: ignore[type-arg]
        return {
            "user1": user(state, "user1", "A", 2),
            "user2": user(state, "user2", "B", 2),
            "evictor": evictor(state, double_check),
        }

    return tasks


BUGGY = Model("pool-eviction", setup, _tasks(False), invariant, expect_bug=True)
FIXED = Model("pool-eviction", setup, _tasks(True), invariant)
