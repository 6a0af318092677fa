"""A node's lifecycle: which inputs it takes in each phase of its life, and the phase after.

Everything that decides whether a Node accepts an input lives in this file, as one table that
reads top to bottom: phase → input → (outcome, phase after, why). A node is NEW until `start`,
RUNNING until `leave`, and LEFT for good after that. Outcomes:

- RUN: the node handles the input (and moves to the phase after);
- DROP: the input is ignored: no effects, nothing changes (a message reaching a node that is not
  running; a protocol timer of a node that left);
- REFUSE: the caller misused the API: `LocalProtocolError` naming the node, its phase and the
  input, and nothing changes.

A node that left still gossips: its gossip ticks run until the queue (its own leave first of
all) is spent, as memberlist waits for the leave broadcast before it shuts down; it answers no
probe and probes nobody, so its peers' suspicion ends in "left", never "dead".

Timers count as TIMER, except the gossip tick (GOSSIP_TICK); `timers.TIMER_DISPATCH` says which
timer is which. Only API calls move a node to another phase: a row in which a message or a timer
would is refused when node.py compiles the table at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from .errors import LocalProtocolError


class Lifecycle(Enum):
    NEW = "new"
    RUNNING = "running"
    LEFT = "left"


class Input(Enum):
    START = "start()"
    JOIN = "join()"
    LEAVE = "leave()"
    RECOVER = "recover()"  # back after a crash, state kept
    MESSAGE = "a message"
    TIMER = "a protocol timer"
    GOSSIP_TICK = "a gossip tick"


class Outcome(Enum):
    RUN = "run"
    DROP = "drop"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Rule:
    outcome: Outcome
    after: Lifecycle
    why: str = ""  # for REFUSE: what the caller got wrong


NEW, RUNNING, LEFT = Lifecycle.NEW, Lifecycle.RUNNING, Lifecycle.LEFT
RUN, DROP, REFUSE = Outcome.RUN, Outcome.DROP, Outcome.REFUSE
START, JOIN, LEAVE, RECOVER = Input.START, Input.JOIN, Input.LEAVE, Input.RECOVER
MESSAGE, TIMER, GOSSIP_TICK = Input.MESSAGE, Input.TIMER, Input.GOSSIP_TICK

_NOT_STARTED = "needs a running node"
_TWICE = "called twice"
_EARLY = "fired before start()"

LIFECYCLE: Final[dict[Lifecycle, dict[Input, Rule]]] = {
    NEW: {
        START: Rule(RUN, RUNNING),
        JOIN: Rule(REFUSE, NEW, _NOT_STARTED),
        LEAVE: Rule(REFUSE, NEW, _NOT_STARTED),
        RECOVER: Rule(REFUSE, NEW, _NOT_STARTED),
        MESSAGE: Rule(DROP, NEW),  # a datagram can arrive before the runtime starts us
        TIMER: Rule(REFUSE, NEW, _EARLY),  # only start() arms timers: the runtime mixed up nodes
        GOSSIP_TICK: Rule(REFUSE, NEW, _EARLY),
    },
    RUNNING: {
        START: Rule(REFUSE, RUNNING, _TWICE),
        JOIN: Rule(RUN, RUNNING),
        LEAVE: Rule(RUN, LEFT),
        RECOVER: Rule(RUN, RUNNING),
        MESSAGE: Rule(RUN, RUNNING),
        TIMER: Rule(RUN, RUNNING),
        GOSSIP_TICK: Rule(RUN, RUNNING),
    },
    LEFT: {
        START: Rule(REFUSE, LEFT, _TWICE),
        JOIN: Rule(REFUSE, LEFT, _NOT_STARTED),
        LEAVE: Rule(REFUSE, LEFT, _NOT_STARTED),
        RECOVER: Rule(REFUSE, LEFT, _NOT_STARTED),
        MESSAGE: Rule(DROP, LEFT),  # gone from the cluster: no acks, no merges
        TIMER: Rule(DROP, LEFT),  # no probing, no suspicions, no push-pull
        GOSSIP_TICK: Rule(RUN, LEFT),  # a node that left still gossips its leave
    },
}


def refusal(node: str, phase: Lifecycle, what: Input, rule: Rule, detail: str = "") -> LocalProtocolError:
    """The error for a REFUSE cell: whose fault (the caller's), which node, phase and input."""
    subject = f"{what.value} {detail}" if detail else what.value
    return LocalProtocolError(
        f"node {node!r}: {subject} refused: {rule.why} (it is {phase.value}); state unchanged"
    )
