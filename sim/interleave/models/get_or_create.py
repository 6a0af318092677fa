"""Concurrent `get_or_create` for one address: at most one connection per address.

- BUGGY: look up, miss, await the handshake, store — two callers that miss together both
  connect, and the second store overwrites (leaks) the first connection.
- FIXED: the first caller registers an in-flight future before awaiting; later callers await
  that future instead of connecting (what `live/pool.py` does).

Invariant: handshakes started for the address ≤ 1, and every caller ends with the same
connection.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..loop import yield_point
from ..model import Model


@dataclass
class State:
    pool: dict[str, int] = field(default_factory=dict)
    pending: dict[str, asyncio.Future[int]] = field(default_factory=dict)
    handshakes: int = 0
    got: dict[str, int] = field(default_factory=dict)


async def connect(state: State, addr: str) -> int:
    state.handshakes += 1
    conn_id = state.handshakes
    await yield_point(f"handshake {addr}")
    return conn_id


async def get_or_create_buggy(state: State, addr: str) -> int:
    if addr in state.pool:
        return state.pool[addr]
    conn = await connect(state, addr)
    state.pool[addr] = conn
    return conn


async def get_or_create_fixed(state: State, addr: str) -> int:
    if addr in state.pool:
        return state.pool[addr]
    if addr in state.pending:
        return await state.pending[addr]
    fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    state.pending[addr] = fut
    try:
        conn = await connect(state, addr)
    except BaseException as exc:
        fut.set_exception(exc)
        raise
    finally:
        del state.pending[addr]
    state.pool[addr] = conn
    fut.set_result(conn)
    return conn


async def caller(state: State, name: str, fixed: bool) -> None:
    await yield_point("call")
    get = get_or_create_fixed if fixed else get_or_create_buggy
    state.got[name] = await get(state, "A")


def invariant(state: State) -> None:
    assert state.handshakes <= 1, f"{state.handshakes} connections opened to A"


def at_end(state: State) -> None:
    assert len(set(state.got.values())) == 1, f"callers got different connections: {state.got}"


def _tasks(fixed: bool):  # type: ignore[no-untyped-def]
    def tasks(state: State) -> dict:  # type: ignore[type-arg]
        return {f"caller{i}": caller(state, f"caller{i}", fixed) for i in (1, 2, 3)}

    return tasks


BUGGY = Model("get-or-create", State, _tasks(False), invariant, at_end, expect_bug=True)
FIXED = Model("get-or-create", State, _tasks(True), invariant, at_end)
