"""Two callers can spend one token: `take` checks, awaits, then decrements."""

import asyncio

from swimlab.sim.interleave import always, point, race_test, watch


class TokenBucket:
    def __init__(self, tokens: int, fixed: bool = False) -> None:
        self.tokens, self.fixed = tokens, fixed

    async def take(self) -> bool:
        if self.tokens == 0:  # check ...
            return False
        if self.fixed:
            self.tokens -= 1  # the fix: act before any await
        await point("record the grant")  # an await: other tasks may run here
        if not self.fixed:
            self.tokens -= 1  # the bug: act on a stale check
        return True


async def three_callers(bucket: TokenBucket) -> None:
    always(lambda: bucket.tokens >= 0, "the bucket went negative")  # after every step
    watch(lambda: f"tokens={bucket.tokens}")  # a column in the trace
    granted = await asyncio.gather(bucket.take(), bucket.take(), bucket.take())
    assert sum(granted) == 1, f"{sum(granted)} grants from 1 token"


@race_test(strategy="pct", budget=500)
async def test_fixed_bucket_grants_each_token_once() -> None:
    await three_callers(TokenBucket(tokens=1, fixed=True))


@race_test(strategy="pct", budget=500, expect_bug=True)  # passes only if the race is found
async def test_buggy_bucket_is_caught() -> None:
    await three_callers(TokenBucket(tokens=1))
