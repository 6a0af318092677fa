"""A token bucket whose `take` checks, awaits, then decrements: two callers can spend one token."""

import asyncio

from swimlab.sim.interleave import always, point, race_test, watch


class TokenBucket:
    def __init__(self, tokens: int) -> None:
        self.tokens = tokens

    async def take(self) -> bool:
        if self.tokens == 0:  # check ...
            return False
        await point("record the grant")  # ... await (metrics, logging): others run here ...
        self.tokens -= 1  # ... act on a stale check
        return True


class FixedTokenBucket(TokenBucket):
    async def take(self) -> bool:
        if self.tokens == 0:
            return False
        self.tokens -= 1  # check and act with no await in between
        await point("record the grant")
        return True


async def three_callers(bucket: TokenBucket) -> None:
    always(lambda: bucket.tokens >= 0, "the bucket went negative")
    watch(lambda: f"tokens={bucket.tokens}")
    granted = await asyncio.gather(bucket.take(), bucket.take(), bucket.take())
    assert sum(granted) == 1, f"{sum(granted)} grants from 1 token"


@race_test(strategy="pct", budget=500)
async def test_fixed_bucket_grants_each_token_once() -> None:
    await three_callers(FixedTokenBucket(tokens=1))


@race_test(strategy="pct", budget=500, expect_bug=True)
async def test_buggy_bucket_is_caught() -> None:
    await three_callers(TokenBucket(tokens=1))
