"""A read-through cache where a slow load overwrites a newer write.

`get` misses, loads from the database (slow), and fills the cache. If a `put` lands while the
load is in flight, the fill writes the old value over the new one: the cache now disagrees
with the database until the entry expires. The fix: a write bumps the key's generation at its
start and its end; a load fills the cache only if the generation it saw before loading is
even (no write in flight) and unchanged (no write since).

    swimlab races docs/examples/races_cache.py
    pytest docs/examples/races_cache.py
"""

from __future__ import annotations

from dataclasses import dataclass, field

from swimlab.sim.interleave import Model, check_model, point


@dataclass
class Database:
    rows: dict[str, str] = field(default_factory=lambda: {"k": "v0"})

    async def load(self, key: str) -> str:
        value = self.rows[key]
        await point(f"load {key} returns")  # a slow query: the value is read, the reply is on its way
        return value

    async def store(self, key: str, value: str) -> None:
        await point(f"store {key}")
        self.rows[key] = value


class Cache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str:
        if key in self.values:
            return self.values[key]
        value = await self.db.load(key)
        self.values[key] = value  # may overwrite what a put wrote meanwhile
        return value

    async def put(self, key: str, value: str) -> None:
        await self.db.store(key, value)
        self.values[key] = value


class FixedCache(Cache):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.generation: dict[str, int] = {}  # odd while a write is in flight

    async def get(self, key: str) -> str:
        if key in self.values:
            return self.values[key]
        seen = self.generation.get(key, 0)
        value = await self.db.load(key)
        if seen % 2 == 0 and self.generation.get(key, 0) == seen:
            self.values[key] = value  # no write started since the load did
        return value

    async def put(self, key: str, value: str) -> None:
        self.generation[key] = self.generation.get(key, 0) + 1
        try:
            await self.db.store(key, value)
            self.values[key] = value
        finally:
            self.generation[key] += 1


@dataclass
class State:
    db: Database
    cache: Cache


def tasks(state: State) -> dict:  # type: ignore[type-arg]
    return {
        "reader": state.cache.get("k"),
        "writer": state.cache.put("k", "v1"),
        "late reader": state.cache.get("k"),
    }


def cache_agrees_with_db(state: State) -> None:
    for key, cached in state.cache.values.items():
        assert cached == state.db.rows[key], f"cache says {key}={cached}, the database {state.db.rows[key]}"


def summary(state: State) -> str:
    return f"db={state.db.rows['k']} cache={state.cache.values.get('k', '-')}"


def _state(cache: type[Cache]) -> State:
    db = Database()
    return State(db, cache(db))


BUGGY = Model(
    "read-through-cache",
    lambda: _state(Cache),
    tasks,
    at_end=cache_agrees_with_db,  # while a put is in flight they may differ; once all is done, never
    expect_bug=True,
    description="a slow load overwrites a newer write",
    state_summary=summary,
)
FIXED = Model(
    "read-through-cache",
    lambda: _state(FixedCache),
    tasks,
    at_end=cache_agrees_with_db,
    description="loads fill the cache only if no write started since",
    state_summary=summary,
)


def test_stale_fill_is_found() -> None:
    check_model(BUGGY)  # BUGGY.expect_bug: the test passes only if the search finds the race


def test_fixed_cache_agrees_with_the_database() -> None:
    check_model(FIXED)
