"""Two transfers that take two account locks in opposite orders: each holds one, waits for the
other, and neither ever finishes. The fix: take the locks in one global order (by account name).

The same component twice: with asyncio tasks, and with threads (`threading.Lock`, run one
thread at a time by the explorer).

    swimlab races docs/examples/races_two_locks.py
    pytest docs/examples/races_two_locks.py
"""

from __future__ import annotations

import asyncio
import threading

from swimlab.sim.interleave import Model, check_model, point


class Bank:
    def __init__(self) -> None:
        self.balances = {"alice": 100, "bob": 100}
        self.locks = {name: asyncio.Lock() for name in self.balances}

    async def transfer(self, src: str, dst: str, amount: int, ordered: bool) -> None:
        first, second = sorted((src, dst)) if ordered else (src, dst)
        async with self.locks[first]:
            await point(f"hold {first}")
            async with self.locks[second]:
                self.balances[src] -= amount
                self.balances[dst] += amount


class ThreadedBank:
    def __init__(self) -> None:
        self.balances = {"alice": 100, "bob": 100}
        self.locks = {name: threading.Lock() for name in self.balances}

    def transfer(self, src: str, dst: str, amount: int, ordered: bool) -> None:
        first, second = sorted((src, dst)) if ordered else (src, dst)
        with self.locks[first]:
            point(f"hold {first}")  # in a thread: no await
            with self.locks[second]:
                self.balances[src] -= amount
                self.balances[dst] += amount


def money_is_conserved(bank: Bank | ThreadedBank) -> None:
    assert sum(bank.balances.values()) == 200, f"balances {bank.balances}"


def _tasks(ordered: bool):  # type: ignore[no-untyped-def]
    def tasks(bank: Bank) -> dict:  # type: ignore[type-arg]
        return {
            "alice→bob": bank.transfer("alice", "bob", 10, ordered),
            "bob→alice": bank.transfer("bob", "alice", 20, ordered),
        }

    return tasks


def _threads(ordered: bool):  # type: ignore[no-untyped-def]
    def threads(bank: ThreadedBank) -> dict:  # type: ignore[type-arg]
        return {
            "alice→bob": lambda: bank.transfer("alice", "bob", 10, ordered),
            "bob→alice": lambda: bank.transfer("bob", "alice", 20, ordered),
        }

    return threads


BUGGY = Model("two-locks", Bank, _tasks(False), at_end=money_is_conserved, expect_bug=True)
FIXED = Model("two-locks", Bank, _tasks(True), at_end=money_is_conserved)
THREADS_BUGGY = Model(
    "two-locks-threads", ThreadedBank, _threads(False), at_end=money_is_conserved, expect_bug=True
)
THREADS_FIXED = Model("two-locks-threads", ThreadedBank, _threads(True), at_end=money_is_conserved)


def test_deadlock_is_found() -> None:
    check_model(BUGGY)  # expect_bug: passes only if the search finds the deadlock
    check_model(THREADS_BUGGY)


def test_ordered_locks_never_deadlock() -> None:
    check_model(FIXED)
    check_model(THREADS_FIXED)
