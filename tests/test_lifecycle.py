"""Every cell of the lifecycle table and of the timer dispatch table, checked two ways.

1. Against the lifecycle stated as rules (written from memberlist's Create/Join/Leave/Shutdown
   independently of the table): every cell of `LIFECYCLE` must agree.
2. Against a real Node driven into each phase: each cell's outcome must be what the Node does
   (RUN moves to the phase after, DROP changes nothing and returns no effects, REFUSE raises
   and changes nothing). So the table is what drives the code, not a description beside it.
"""

from __future__ import annotations

import itertools
import random

import pytest

from swimlab.protocol.config import lan
from swimlab.protocol.effects import NO_EFFECTS
from swimlab.protocol.errors import LocalProtocolError
from swimlab.protocol.lifecycle import LIFECYCLE, Input, Lifecycle, Outcome
from swimlab.protocol.messages import Gossip, MemberState, Ping, PushPull, Update
from swimlab.protocol.node import _PHASES, Node, _compile
from swimlab.protocol.timers import (
    TIMER_DISPATCH,
    GossipTick,
    ProbeRoundEnd,
    ProbeTick,
    ProbeTimeout,
    PushPullTick,
    ReclaimDead,
    ReconnectTick,
    RelayTimeout,
    SuspicionTimeout,
)

NEW, RUNNING, LEFT = Lifecycle.NEW, Lifecycle.RUNNING, Lifecycle.LEFT
RUN, DROP, REFUSE = Outcome.RUN, Outcome.DROP, Outcome.REFUSE


def expected(phase: Lifecycle, what: Input) -> tuple[Outcome, Lifecycle]:
    if what is Input.START:
        return (RUN, RUNNING) if phase is NEW else (REFUSE, phase)  # a node starts once
    if what in (Input.JOIN, Input.LEAVE, Input.RECOVER):
        if phase is not RUNNING:
            return REFUSE, phase  # API calls need a running node; after leave there is no way back
        return RUN, LEFT if what is Input.LEAVE else RUNNING
    if phase is NEW:
        # nothing is armed before start: a timer then is the runtime's mistake; a datagram is not
        return (DROP if what is Input.MESSAGE else REFUSE), NEW
    if phase is LEFT:
        return (RUN if what is Input.GOSSIP_TICK else DROP), LEFT  # a node that left still gossips
    return RUN, RUNNING


CELLS = list(itertools.product(Lifecycle, Input))


@pytest.mark.parametrize(("phase", "what"), CELLS)
def test_lifecycle_every_cell_against_the_rules(phase, what):
    rule = LIFECYCLE[phase][what]
    assert (rule.outcome, rule.after) == expected(phase, what)
    assert bool(rule.why) == (rule.outcome is REFUSE)  # every refusal says why, nothing else does


def test_lifecycle_table_is_complete():
    assert set(LIFECYCLE) == set(Lifecycle)
    assert all(set(row) == set(Input) for row in LIFECYCLE.values())


def node_in(phase: Lifecycle) -> Node:
    """A node of a two-member cluster (b known alive) in `phase`, at t=1."""
    node = Node("a", lan(), random.Random(1))
    if phase is not NEW:
        node.start(0.0)
        node.handle_message("b", PushPull((Update(MemberState.ALIVE, "b", 0, "b"),), reply=True), 0.5)
    if phase is LEFT:
        node.leave(1.0)
    assert node.lifecycle is phase
    return node


def feed(node: Node, what: Input):
    """Give `node` one input of kind `what` at t=2, chosen so that running it has effects."""
    if what is Input.START:
        return node.start(2.0)
    if what is Input.JOIN:
        return node.join(("b",), 2.0)
    if what is Input.LEAVE:
        return node.leave(2.0)
    if what is Input.RECOVER:
        return node.recover(2.0)
    if what is Input.MESSAGE:
        return node.handle_message("b", Ping(1, "a"), 2.0)  # answered by an ack
    if what is Input.TIMER:
        return node.handle_timer(PushPullTick(), 2.0)  # always re-arms itself
    return node.handle_timer(GossipTick(), 2.0)  # the queue holds news in every phase but NEW


@pytest.mark.parametrize(("phase", "what"), CELLS)
def test_node_does_what_each_cell_says(phase, what):
    rule = LIFECYCLE[phase][what]
    node = node_in(phase)
    before = (dict(node.view()), node.incarnation)
    if rule.outcome is REFUSE:
        with pytest.raises(LocalProtocolError, match=f"it is {phase.value}") as info:
            feed(node, what)
        assert rule.why in str(info.value)
        assert (dict(node.view()), node.incarnation, node.lifecycle) == (*before, phase)
    elif rule.outcome is DROP:
        assert feed(node, what) is NO_EFFECTS
        assert (dict(node.view()), node.incarnation, node.lifecycle) == (*before, phase)
    else:
        assert feed(node, what), "a RUN cell must let the input through (the input chosen has effects)"
        assert node.lifecycle is rule.after


# --- Timer dispatch ----------------------------------------------------------------------------

ALL_TIMERS = [
    ProbeTick(),
    ProbeTimeout(1),
    ProbeRoundEnd(1),
    RelayTimeout(1),
    SuspicionTimeout("b", 0, 1),
    GossipTick(),
    PushPullTick(),
    ReconnectTick(),
    ReclaimDead("b", 0),
]


def test_timer_dispatch_covers_every_timer_type():
    assert set(TIMER_DISPATCH) == {type(t) for t in ALL_TIMERS}
    # Only the gossip tick outlives a leave: it is the one timer that spreads the leave itself.
    assert [k for k, (_, what) in TIMER_DISPATCH.items() if what is Input.GOSSIP_TICK] == [GossipTick]


def test_each_timer_runs_the_handler_named_after_it():
    for kind, (handler_name, _) in TIMER_DISPATCH.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in kind.__name__).lstrip("_")
        assert handler_name == f"on_{snake}", kind


@pytest.mark.parametrize(
    ("timer", "rearmed_in_s"),
    [(PushPullTick(), 30.0), (ReconnectTick(), 30.0), (GossipTick(), 0.2)],
    ids=["PushPullTick", "ReconnectTick", "GossipTick"],
)
def test_periodic_timers_of_a_running_node_rearm_themselves(timer, rearmed_in_s):
    node = node_in(RUNNING)
    effects = node.handle_timer(timer, 2.0)
    assert [t.at for t in effects.timers if t.timer == timer] == [2.0 + rearmed_in_s]


@pytest.mark.parametrize(("phase", "kind"), list(itertools.product(Lifecycle, TIMER_DISPATCH)))
def test_timer_dispatch_every_cell_runs_the_named_handler_in_the_phase_the_lifecycle_allows(phase, kind):
    handler_name, what = TIMER_DISPATCH[kind]
    outcome, handler = _PHASES[phase].timers[kind]
    assert handler is getattr(Node, f"_{handler_name}")
    assert outcome is LIFECYCLE[phase][what].outcome


@pytest.mark.parametrize("timer", ALL_TIMERS, ids=lambda t: type(t).__name__)
def test_every_timer_of_a_node_that_left_is_dropped_except_the_gossip_tick(timer):
    node = node_in(LEFT)
    effects = node.handle_timer(timer, 2.0)
    if isinstance(timer, GossipTick):
        assert effects.sends and all(isinstance(s.message, Gossip) for s in effects.sends)
        assert effects.sends[0].message.updates[0] == Update(MemberState.LEFT, "a", 0, "a")
    else:
        assert effects is NO_EFFECTS


@pytest.mark.parametrize("timer", ALL_TIMERS, ids=lambda t: type(t).__name__)
def test_every_timer_before_start_is_refused(timer):
    with pytest.raises(LocalProtocolError, match="fired before start"):
        Node("a", lan(), random.Random(1)).handle_timer(timer, 0.0)


@pytest.mark.parametrize("what", [Input.MESSAGE, Input.TIMER, Input.GOSSIP_TICK])
def test_a_table_where_a_message_or_timer_changes_the_phase_is_refused_at_import(what, monkeypatch):
    # The Node never moves the phase on a message or a timer (it skips the transition on the hot
    # path), so a table that asks for it must not compile.
    row = dict(LIFECYCLE[RUNNING])
    row[what] = type(row[what])(RUN, LEFT)
    monkeypatch.setitem(LIFECYCLE, RUNNING, row)
    with pytest.raises(AssertionError, match="must not change the phase"):
        _compile(RUNNING)
