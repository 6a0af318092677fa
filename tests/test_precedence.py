"""Every cell of the incarnation-precedence tables, checked against SWIM §4.2 stated as rules.

The tables in protocol/precedence.py are one formulation; the rules below are another, written
from the paper and memberlist's state.go independently of the table. Every cell must agree.
"""

import itertools

import pytest

from swimlab.protocol.messages import MemberState, Update
from swimlab.protocol.precedence import (
    ABOUT_OTHERS,
    ABOUT_SELF,
    Verdict,
    judge_about_others,
    judge_about_self,
    refuted_incarnation,
)

A, S, D, L = MemberState.ALIVE, MemberState.SUSPECT, MemberState.DEAD, MemberState.LEFT
HELD_INC = 5


def expected_about_others(held: MemberState | None, news: MemberState, inc: int) -> Verdict:
    if held is None:
        return Verdict.APPLY if news is A else Verdict.IGNORE  # only "alive" introduces a member
    if inc < HELD_INC:
        return Verdict.IGNORE  # older news never wins
    if news is A:
        return Verdict.APPLY if inc > HELD_INC else Verdict.IGNORE  # alive needs a newer incarnation
    if held in (A, S):
        if held is S and news is S and inc == HELD_INC:
            return Verdict.CONFIRM  # same suspicion, another voice
        return Verdict.APPLY  # suspect/dead/left at >= override alive and suspect
    # held is down: no suspicion revives it; left refines dead; a newer death of the same kind is recorded
    if news is S:
        return Verdict.IGNORE
    if held is D and news is L:
        return Verdict.APPLY
    if held is L and news is D:
        return Verdict.IGNORE
    return Verdict.APPLY if inc > HELD_INC else Verdict.IGNORE


CELLS = list(itertools.product([None, A, S, D, L], [A, S, D, L], [HELD_INC - 1, HELD_INC, HELD_INC + 1]))


@pytest.mark.parametrize(("held", "news", "inc"), CELLS)
def test_about_others_every_cell(held, news, inc):
    held_record = None if held is None else Update(held, "m", HELD_INC, "x")
    verdict = judge_about_others(held_record, Update(news, "m", inc, "y"))
    assert verdict is expected_about_others(held, news, inc)


def test_table_is_complete():
    assert set(ABOUT_OTHERS) == {(h, n) for h in (None, A, S, D, L) for n in (A, S, D, L)}
    assert set(ABOUT_SELF) == {A, S, D, L}


@pytest.mark.parametrize(("news", "inc"), list(itertools.product([A, S, D, L], [4, 5, 6])))
def test_about_self_every_cell(news, inc):
    verdict = judge_about_self(5, Update(news, "me", inc, "accuser"))
    if news is A:
        expected = Verdict.REFUTE if inc > 5 else Verdict.IGNORE
    else:
        expected = Verdict.REFUTE if inc >= 5 else Verdict.IGNORE
    assert verdict is expected


@pytest.mark.parametrize(("own", "accused", "result"), [(0, 0, 1), (3, 0, 4), (3, 7, 8), (9, 9, 10)])
def test_refutation_outbids_both(own, accused, result):
    assert refuted_incarnation(own, accused) == result
