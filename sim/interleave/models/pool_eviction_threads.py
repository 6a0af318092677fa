"""Seed bug #1 with threads: an active connection evicted between the idle check and the removal.

The port of `pool_eviction.py` to `threading`, closer to the seed's Rust (a map behind a mutex,
an evictor thread, user threads). The evictor finds an idle connection under the pool lock,
releases the lock to log and prepare the close (I/O must not run under the map lock), then
takes the lock again and removes the connection. A user that claimed it in between is now
holding a connection the pool closes.

- BUGGY: the second critical section trusts the first one's verdict.
- FIXED: the seed's double-checked claim: under the lock again, re-check that the connection
  is still idle and still in the map, and claim it for the evictor (Rust: compare_exchange on
  in_use) before removing it; a user's claim is the same check-and-set under the same lock.

Invariant: a connection in use by a user is never closed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ..model import Model
from ..points import point


@dataclass
class Conn:
    addr: str
    owner: str | None = None  # "user:<name>" or "evictor"; None = idle
    closed: bool = False


@dataclass
class State:
    lock: threading.Lock = field(default_factory=lambda: threading.Lock())  # created inside the run
    pool: dict[str, Conn] = field(default_factory=dict)
    conns: list[Conn] = field(default_factory=list)


def setup() -> State:
    state = State()
    for addr in ("A", "B"):
        conn = Conn(addr)
        state.pool[addr] = conn
        state.conns.append(conn)
    return state


def user(state: State, name: str, addr: str, rounds: int) -> None:
    for _ in range(rounds):
        with state.lock:
            conn = state.pool.get(addr)
            claimed = conn is not None and conn.owner is None
            if conn is not None and claimed:
                conn.owner = f"user:{name}"
        if conn is None or not claimed:
            continue  # the real pool would open a new connection; not what this model is about
        point(f"use {addr}")
        with state.lock:
            conn.owner = None


def evictor(state: State, double_check: bool) -> None:
    with state.lock:
        victim = next((c for c in state.pool.values() if c.owner is None), None)
    if victim is None:
        return
    point(f"log eviction of {victim.addr}")  # outside the lock: I/O
    with state.lock:
        if double_check:
            if victim.owner is not None or state.pool.get(victim.addr) is not victim:
                return  # claimed meanwhile: leave it alone
            victim.owner = "evictor"
        del state.pool[victim.addr]
    point(f"close {victim.addr}")
    victim.closed = True


def invariant(state: State) -> None:
    for conn in state.conns:
        if conn.closed and conn.owner is not None and conn.owner.startswith("user:"):
            raise AssertionError(f"connection to {conn.addr} closed while in use by {conn.owner}")


def summary(state: State) -> str:
    return " ".join(f"{c.addr}:{c.owner or 'idle'}{'(closed)' if c.closed else ''}" for c in state.conns)


def _model(double_check: bool) -> Model[State]:
    def threads(state: State) -> dict[str, object]:
        return {
            "user1": lambda: user(state, "user1", "A", 2),
            "user2": lambda: user(state, "user2", "B", 2),
            "evictor": lambda: evictor(state, double_check),
        }

    return Model(
        "pool-eviction-threads",
        setup,
        threads,  # type: ignore[arg-type]
        invariant,
        expect_bug=not double_check,
        description="threads: an evictor closes a connection a user claimed after the idle check",
        state_summary=summary,
    )


BUGGY = _model(False)
FIXED = _model(True)
