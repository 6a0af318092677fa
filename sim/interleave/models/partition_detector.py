"""Seed bug #4: the partition detector held its lock across the whole status computation.

`check(current_size)` updates `detection_start` and computes a status (elapsed time,
hysteresis, logging — awaits in an async port). Holding the lock across all of it makes every
reader of the detector wait for the computation. The seed's fix releases the lock early; done
naively, that lets two concurrent checks publish out of order. This model checks both:

- BUGGY ("held"): the lock is held across the computation.
- NAIVE ("released early", the seed's fix as written): compute outside the lock, publish.
- FIXED: take a sequence number and update `detection_start` under the lock, compute outside
  it, publish under the lock only if no newer check has published already.

Invariants, precisely:
- latency: a reader waits at most `MAX_READER_WAIT` task steps (of any task) for the lock;
- freshness: published check numbers strictly increase (a check that started earlier never
  publishes after one that started later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..loop import current_step, yield_point
from ..model import Model
from ..primitives import Lock

EXPECTED = 5
THRESHOLD = 3
MAX_READER_WAIT = 2
COMPUTE_STAGES = ("elapsed", "hysteresis", "status")


@dataclass
class State:
    lock: Lock = field(default_factory=lambda: Lock("detection_start"))
    detection_start: float | None = None
    next_check: int = 0
    published: list[tuple[int, str]] = field(default_factory=list)
    max_reader_wait: int = 0


def _enter(state: State, size: int, now: float) -> tuple[int, float | None]:
    state.next_check += 1
    if size < THRESHOLD:
        if state.detection_start is None:
            state.detection_start = now
    else:
        state.detection_start = None
    return state.next_check, state.detection_start


async def _compute(size: int, start: float | None) -> str:
    for stage in COMPUTE_STAGES:
        await yield_point(f"compute {stage}")
    return "healthy" if start is None else "suspected"


async def check(state: State, size: int, variant: str) -> None:
    await yield_point(f"check size={size}")
    now = 0.0
    if variant == "buggy":
        async with state.lock:
            seq, start = _enter(state, size, now)
            status = await _compute(size, start)  # lock held across the computation
            state.published.append((seq, status))
        return
    async with state.lock:  # no await inside: never held across a scheduling point
        seq, start = _enter(state, size, now)
    status = await _compute(size, start)
    if variant == "naive":
        state.published.append((seq, status))
        return
    async with state.lock:
        if not state.published or state.published[-1][0] < seq:
            state.published.append((seq, status))


async def reader(state: State) -> None:
    for _ in range(2):
        await yield_point("query status")
        asked_at = current_step()
        async with state.lock:
            state.max_reader_wait = max(state.max_reader_wait, current_step() - asked_at)


def invariant(state: State) -> None:
    assert state.max_reader_wait <= MAX_READER_WAIT, (
        f"a reader waited {state.max_reader_wait} steps for the detector lock (bound {MAX_READER_WAIT})"
    )
    seqs = [seq for seq, _ in state.published]
    assert seqs == sorted(set(seqs)), f"stale status published: checks published in order {seqs}"


def _model(variant: str) -> Model[State]:
    def tasks(state: State) -> dict:  # type: ignore[type-arg]
        return {
            "check-small": check(state, 2, variant),
            "check-recovered": check(state, EXPECTED, variant),
            "reader": reader(state),
        }

    return Model("partition-detector", State, tasks, invariant, expect_bug=variant != "fixed")


BUGGY = _model("buggy")
NAIVE = _model("naive")
FIXED = _model("fixed")
