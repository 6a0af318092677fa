"""Seed "future work": connection health from failures on real operations.

The seed left health checks as a placeholder and recommended counting failures on actual
operations and dropping a connection after N consecutive failures. Two ways to get it wrong
concurrently, both in BUGGY:

- the failure count is read, then an await (metrics, logging), then written: concurrent
  failures lose updates, so N consecutive failures may never trigger the drop;
- the connection is dropped the moment the count reaches N, even while another task is in the
  middle of an operation on it.

FIXED counts in the same step the operation completes, marks the connection unhealthy at N (no
new operation may start on it), and closes it only when the last in-flight operation ends.

Invariants:
- never dropped while an operation is in flight on it (every step);
- no operation starts on a connection already marked unhealthy (every step);
- at the end: the failure counter equals the trailing run of failures in completion order,
  and the connection was dropped iff some N consecutive completions failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..loop import yield_point
from ..model import Model

N = 2


@dataclass
class Conn:
    in_flight: int = 0
    failures: int = 0
    unhealthy: bool = False
    dropped: bool = False


@dataclass
class State:
    conn: Conn = field(default_factory=Conn)
    completions: list[bool] = field(default_factory=list)  # True = success, completion order
    started_on_unhealthy: int = 0


async def record_buggy(conn: Conn, ok: bool) -> None:
    if ok:
        conn.failures = 0
        return
    seen = conn.failures
    await yield_point("count failure")  # read-await-write: lost updates
    conn.failures = seen + 1
    if conn.failures >= N:
        conn.unhealthy = conn.dropped = True  # dropped even if others are mid-operation


def record_fixed(conn: Conn, ok: bool) -> None:
    conn.failures = 0 if ok else conn.failures + 1
    if conn.failures >= N:
        conn.unhealthy = True
    if conn.unhealthy and conn.in_flight == 0:
        conn.dropped = True  # the last operation out closes it


async def worker(state: State, outcomes: list[bool], fixed: bool) -> None:
    conn = state.conn
    for ok in outcomes:
        await yield_point("acquire")
        if conn.dropped or (fixed and conn.unhealthy):
            continue  # the pool would hand out a fresh connection instead
        if conn.unhealthy:
            state.started_on_unhealthy += 1
        conn.in_flight += 1
        await yield_point("operation")
        conn.in_flight -= 1
        state.completions.append(ok)
        if fixed:
            record_fixed(conn, ok)
        else:
            await record_buggy(conn, ok)


def invariant(state: State) -> None:
    conn = state.conn
    assert not (conn.dropped and conn.in_flight), (
        f"connection dropped with {conn.in_flight} operation(s) in flight"
    )
    assert state.started_on_unhealthy == 0, "an operation started on an unhealthy connection"


def at_end(state: State) -> None:
    trailing = 0
    longest = 0
    for ok in state.completions:
        trailing = 0 if ok else trailing + 1
        longest = max(longest, trailing)
    conn = state.conn
    assert conn.failures == trailing, (
        f"failure counter {conn.failures}, but the last {trailing} completions failed "
        f"(completions {state.completions})"
    )
    assert conn.dropped == (longest >= N), (
        f"dropped={conn.dropped} but the longest failure streak was {longest} (N={N})"
    )


def _model(fixed: bool) -> Model[State]:
    def tasks(state: State) -> dict:  # type: ignore[type-arg]
        return {
            "w1": worker(state, [False, False], fixed),
            "w2": worker(state, [True, False], fixed),
            "w3": worker(state, [False], fixed),
        }

    return Model("conn-health", State, tasks, invariant, at_end, expect_bug=not fixed)


BUGGY = _model(False)
FIXED = _model(True)
