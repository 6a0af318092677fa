"""Incarnation-number precedence: which membership news overrides which (SWIM §4.2, memberlist).

Everything that decides whether a piece of news changes a node's view lives in this file, as two
tables that read top to bottom: one for news about other members, one for news about ourselves.
A row is (what we hold, the news' state, how the news' incarnation compares) → verdict.

    alive(i) < suspect(i) < alive(j > i);  dead/left(i) overrides alive(i) and suspect(i).

Refuting: news that we are suspect, dead or left at incarnation >= ours (or alive at a higher
incarnation, which can only be a stale record from a wiped restart) makes us bump our
incarnation to max(own + 1, accused + 1) and gossip alive (see `refuted_incarnation`).
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from .messages import MemberState, Update

A, S, D, L = MemberState.ALIVE, MemberState.SUSPECT, MemberState.DEAD, MemberState.LEFT
UNKNOWN: Final = None


class Verdict(Enum):
    IGNORE = "ignore"  # stale or redundant: the view is unchanged
    APPLY = "apply"  # the news replaces what we hold
    CONFIRM = "confirm"  # same suspicion from another accuser: Lifeguard counts it, the view is unchanged
    REFUTE = "refute"  # an accusation about ourselves: bump our incarnation and gossip alive


I, P, C, R = Verdict.IGNORE, Verdict.APPLY, Verdict.CONFIRM, Verdict.REFUTE

# (held state, news state) → verdict for news incarnation (older, same, newer) than held.
ABOUT_OTHERS: Final[dict[tuple[MemberState | None, MemberState], tuple[Verdict, Verdict, Verdict]]] = {
    # we have never heard of the member: only "alive" introduces it (memberlist ignores the rest)
    (UNKNOWN, A): (P, P, P),
    (UNKNOWN, S): (I, I, I),
    (UNKNOWN, D): (I, I, I),
    (UNKNOWN, L): (I, I, I),
    # held alive
    (A, A): (I, I, P),
    (A, S): (I, P, P),
    (A, D): (I, P, P),
    (A, L): (I, P, P),
    # held suspect
    (S, A): (I, I, P),
    (S, S): (I, C, P),
    (S, D): (I, P, P),
    (S, L): (I, P, P),
    # held dead: only a newer alive (a rejoin) brings it back; a newer death records the incarnation
    (D, A): (I, I, P),
    (D, S): (I, I, I),
    (D, D): (I, I, P),
    (D, L): (I, P, P),
    # held left: as dead, but a member that left does not die again
    (L, A): (I, I, P),
    (L, S): (I, I, I),
    (L, D): (I, I, I),
    (L, L): (I, I, P),
}

# News about ourselves while we are a member (we are always alive in our own view until we leave).
ABOUT_SELF: Final[dict[MemberState, tuple[Verdict, Verdict, Verdict]]] = {
    A: (I, I, R),  # someone holds us alive at a higher incarnation: a stale life; outbid it
    S: (I, R, R),
    D: (I, R, R),
    L: (I, R, R),  # we did not leave; after we do, everything about us is ignored
}


def judge_about_others(held: Update | None, news: Update) -> Verdict:
    """The verdict on `news` about another member, given the record we hold (None if unknown)."""
    if held is None:
        return ABOUT_OTHERS[(UNKNOWN, news.state)][2]
    return ABOUT_OTHERS[(held.state, news.state)][_compare(news.incarnation, held.incarnation)]


def judge_about_self(own_incarnation: int, news: Update) -> Verdict:
    """The verdict on `news` about ourselves (callers ignore everything once we have left)."""
    return ABOUT_SELF[news.state][_compare(news.incarnation, own_incarnation)]


def refuted_incarnation(own: int, accused: int) -> int:
    """The incarnation that outbids an accusation: max(own + 1, accused + 1)."""
    return max(own, accused) + 1


def _compare(news: int, held: int) -> int:
    return 0 if news < held else (1 if news == held else 2)
