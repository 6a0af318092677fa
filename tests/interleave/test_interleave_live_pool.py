"""live/pool.py: plain asyncio behaviour, then the same pool under the explorer."""

from __future__ import annotations

import asyncio

import pytest

from swimlab.live.pool import ConnectionPool, PoolClosed, PoolExhausted
from swimlab.sim.interleave import explore, replay

from . import live_pool_model as live_pool


class Fake:
    def __init__(self, addr: str, serial: int) -> None:
        self.addr, self.serial, self.closed = addr, serial, False


def make_pool(**kw):  # type: ignore[no-untyped-def]
    made: list[Fake] = []

    async def connect(addr: str) -> Fake:
        made.append(Fake(addr, len(made)))
        await asyncio.sleep(0.01)
        return made[-1]

    async def close(conn: Fake) -> None:
        conn.closed = True

    return ConnectionPool(connect, close, **kw), made


def test_concurrent_first_use_shares_one_handshake() -> None:
    async def main() -> None:
        pool, made = make_pool()

        async def use() -> Fake:
            async with pool.acquire("A") as conn:
                return conn

        conns = await asyncio.gather(*(use() for _ in range(5)))
        assert len(made) == 1 and all(c is made[0] for c in conns)

    asyncio.run(main())


def test_failures_drop_after_n_in_a_row_but_never_while_in_use() -> None:
    async def main() -> None:
        pool, made = make_pool(max_consecutive_failures=2)
        async with pool.acquire("A") as holder:
            for _ in range(2):
                with pytest.raises(OSError):
                    async with pool.acquire("A"):
                        raise OSError("stream open failed")
            assert not holder.closed  # withdrawn, but still in use
            assert pool.entry("A") is None and pool.stats().draining == 1
        assert holder.closed  # closed by the last user out
        async with pool.acquire("A") as fresh:
            assert fresh is not holder and len(made) == 2

    asyncio.run(main())


def test_success_resets_and_non_failure_exceptions_do_not_count() -> None:
    async def main() -> None:
        pool, _ = make_pool(max_consecutive_failures=2, failure_types=(OSError,))
        for exc in (OSError, None, OSError, ValueError, KeyError):
            with pytest.raises(Exception) if exc else _null():
                async with pool.acquire("A"):
                    if exc:
                        raise exc()
        entry = pool.entry("A")
        assert entry is not None and entry.consecutive_failures == 1

    asyncio.run(main())


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_idle_eviction_and_max_connections() -> None:
    async def main() -> None:
        pool, made = make_pool(max_connections=2, idle_timeout_s=1.0)
        async with pool.acquire("A"):
            await asyncio.sleep(0.1)
            async with pool.acquire("B"):
                with pytest.raises(PoolExhausted):
                    async with pool.acquire("C"):
                        pass
            await asyncio.sleep(0.1)  # A, released last, is the most recently used
        async with pool.acquire("C"):  # evicts the least recently used idle one: B
            pass
        assert made[1].closed and pool.entry("B") is None and not made[0].closed
        assert await pool.evict_idle() == []  # nothing idle for 1 s yet
        await asyncio.sleep(1.0)
        assert sorted(await pool.evict_idle()) == ["A", "C"]
        await pool.close()
        with pytest.raises(PoolClosed):
            async with pool.acquire("A"):
                pass

    asyncio.run(main())


@pytest.mark.parametrize("model", [live_pool.EVICT, live_pool.HEALTH], ids=lambda m: m.name)
@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_real_pool_survives_the_explorer(model, strategy: str) -> None:  # type: ignore[no-untyped-def]
    result = explore(model, strategy, budget=250, seed=0, preemption_bound=1)
    assert not result.found, result.summary()


def test_explorer_catches_a_pool_without_the_double_check() -> None:
    result = explore(live_pool.MUTANT, "random", budget=500, seed=0)
    assert result.found and "closed while in use" in str(result.failure)
    assert replay(live_pool.MUTANT, result.replay or "-").failure == result.failure


def test_deeper_pct_and_dfs_find_the_live_pool_mutant() -> None:
    """PCT at its default depth misses the mutant (both connections must be idle at a precise
    step); at depth 5, and DFS with 3 preemptions, find it within 1000 schedules."""
    assert explore(live_pool.MUTANT, "pct", 1000, seed=0, depth=5, shrink=False).found
    assert explore(live_pool.MUTANT, "dfs", 1000, preemption_bound=3, shrink=False).found


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_the_synchronous_path_survives_the_explorer(strategy: str) -> None:
    """lend / lend_new / release / report / discard, as the QUIC endpoint uses them."""
    result = explore(live_pool.SYNC, strategy, budget=250, seed=0, preemption_bound=1)
    assert not result.found, result.summary()


def test_explorer_catches_a_report_that_closes_a_connection_in_use() -> None:
    result = explore(live_pool.SYNC_MUTANT, "random", budget=500, seed=0)
    assert result.found and "closed while in use" in str(result.failure), result.summary()
