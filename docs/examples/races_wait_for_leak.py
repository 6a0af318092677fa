"""A token pool that leaks a token when `asyncio.wait_for` cancels a waiting caller.

`release()` hands its token straight to the first waiter by resolving the waiter's future. If
the waiter's `wait_for` times out at that same instant, the waiter is cancelled after its future
was resolved but before it resumed: `acquire` raises CancelledError, the caller sees a
TimeoutError and never releases, and the token is gone for good. The fix: a waiter cancelled
after being handed a token passes the token on.

    swimlab races docs/examples/races_wait_for_leak.py
    pytest docs/examples/races_wait_for_leak.py
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from swimlab.sim.interleave import Model, check_model


class TokenPool:
    def __init__(self, tokens: int) -> None:
        self.free = tokens
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(handed)
        await handed  # release() hands its token over by resolving this future

    def release(self) -> None:
        while self.waiters:
            handed = self.waiters.popleft()
            if not handed.done():  # skip waiters that gave up
                handed.set_result(None)
                return
        self.free += 1


class FixedTokenPool(TokenPool):
    async def acquire(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(handed)
        try:
            await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self.release()  # handed a token we will never use: pass it on
            raise


@dataclass
class State:
    pool: TokenPool
    held: asyncio.Event = field(default_factory=asyncio.Event)
    outcome: list[str] = field(default_factory=list)


async def impatient(state: State) -> None:
    await state.held.wait()  # the holder has the only token
    try:
        await asyncio.wait_for(state.pool.acquire(), timeout=1.0)
    except TimeoutError:
        state.outcome.append("impatient timed out")
        return
    state.outcome.append("impatient got the token")
    state.pool.release()


async def holder(state: State) -> None:
    await state.pool.acquire()
    state.held.set()
    await asyncio.sleep(1.0)  # the work takes exactly as long as the other caller waits
    state.pool.release()


def no_token_leaked(state: State) -> None:
    assert state.pool.free == 1, f"token leaked: {state.pool.free} of 1 free after {state.outcome}"


def summary(state: State) -> str:
    return f"free={state.pool.free} waiters={len(state.pool.waiters)}"


def tasks(state: State) -> dict:  # type: ignore[type-arg]
    return {"impatient": impatient(state), "holder": holder(state)}


BUGGY = Model(
    "wait-for-leak",
    lambda: State(TokenPool(1)),
    tasks,
    at_end=no_token_leaked,
    expect_bug=True,
    description="a token pool leaks a token when wait_for cancels a caller it was handed to",
    state_summary=summary,
)
FIXED = Model(
    "wait-for-leak",
    lambda: State(FixedTokenPool(1)),
    tasks,
    at_end=no_token_leaked,
    description="a cancelled waiter passes on a token it was handed",
    state_summary=summary,
)


def test_token_leak_is_found() -> None:
    check_model(BUGGY)  # BUGGY.expect_bug: passes only if every ... a strategy finds the leak


def test_fixed_pool_never_leaks() -> None:
    check_model(FIXED)
