"""Which notification each change of a member's record produces.

Everything that decides what a Node tells its application about a member lives in this file, as
one table that reads top to bottom: (state held before, state held after) → notification, where
UNKNOWN is "no record" (never heard of, or forgotten). The Node looks it up for every record it
installs (after precedence.py said APPLY) and for every record it forgets; a cell mapping to
`None` changes the record without telling anyone (a newer incarnation of the same death).

The table has exactly the cells a Node can reach: the transitions precedence.py can APPLY, plus
forgetting a down member. Looking up any other cell is a bug in the Node and raises KeyError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .events import (
    Event,
    MemberAlive,
    MemberFailed,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberSuspected,
    MemberUpdated,
)
from .messages import MemberState, Update

A, S, D, L = MemberState.ALIVE, MemberState.SUSPECT, MemberState.DEAD, MemberState.LEFT
UNKNOWN: Final = None

Notify = Callable[[Update], Event]


def joined(u: Update) -> Event:
    return MemberJoined(u.member, u.incarnation)


def alive_again(u: Update) -> Event:
    return MemberAlive(u.member, u.incarnation)


def updated(u: Update) -> Event:
    return MemberUpdated(u.member, u.incarnation)


def suspected(u: Update) -> Event:
    return MemberSuspected(u.member, u.incarnation, u.origin)


def failed(u: Update) -> Event:
    return MemberFailed(u.member, u.incarnation, u.origin)


def left(u: Update) -> Event:
    return MemberLeft(u.member, u.incarnation)


def removed(u: Update) -> Event:
    return MemberRemoved(u.member, u.incarnation)


# (held before, held after) → the notification, built from the record installed (or, for
# UNKNOWN after, the record forgotten).
NOTIFICATIONS: Final[dict[tuple[MemberState | None, MemberState | None], Notify | None]] = {
    (UNKNOWN, A): joined,  # first heard of
    (A, A): updated,  # a newer incarnation, still alive
    (A, S): suspected,
    (A, D): failed,
    (A, L): left,
    (S, A): alive_again,  # the suspect refuted
    (S, S): suspected,  # suspected again at a newer incarnation
    (S, D): failed,
    (S, L): left,
    (D, A): joined,  # back from the dead: a rejoin
    (D, D): None,  # the same death at a newer incarnation: recorded, not news
    (D, L): left,  # it had left, the news of its death came first
    (D, UNKNOWN): removed,  # forgotten after dead_reclaim_s
    (L, A): joined,  # rejoined after leaving
    (L, L): None,
    (L, UNKNOWN): removed,
}
