"""The SWIM + Lifeguard membership state machine, sans I/O: the conductor of one member.

A `Node` never reads a clock, never sleeps, never touches a socket and never uses global
randomness. Its inputs, each taking `now` (this node's local monotonic time, seconds):

- API calls: `start`, `join(seeds)`, `leave`, `recover` (back after a crash, state kept);
- `handle_message(src, message, now)`: a decoded message from member `src`;
- `handle_timer(timer, now)`: a timer this node asked for has come due.

Each returns an immutable `Effects`: messages to send, timers to set (absolute local deadlines),
notifications. Timers are typed values and are never cancelled; a stale one is ignored here.

The protocol is SWIM (Das et al., 2002) as memberlist implements it: shuffled round-robin
probing, ping → ping-req through `indirect_checks` relays, suspicion → dead, refutation by
incarnation, piggybacked and fanned-out gossip with a retransmit limit, push-pull anti-entropy,
join through seeds, graceful leave. Lifeguard (Dadgar et al., 2018) is switchable piece by
piece: local health multiplier, nacks, dynamic suspicion with independent confirmations, buddy
system. Dead members are kept as tombstones, retried every `reconnect_interval_s` (Serf's
reconnect, so healed partitions re-merge on their own) and forgotten after `dead_reclaim_s`.

The Node conducts; the rules and the state live beside it, each in its own module:
precedence.py (which news wins), lifecycle.py (which input runs in which phase),
notifications.py (what each change of a record tells the application), timers.py (which
handler a due timer runs), members.py (the view and its live set, probe order and down list),
suspicion.py (open suspicions and their tokens), gossip_queue.py (what to piggyback next).

Probing follows memberlist's `probe`/`probeNode` (state.go) step by step:

- Probes start on a fixed ticker: `ProbeTick`s on the grid phase + k × probe_interval_s (the
  phase is a random stagger). A probe that is still running when a tick passes makes the next
  probe start the moment it ends (Go's ticker keeps one missed tick, drops the rest), so the
  next start is max(end, first tick after the start).
- A probe ends as soon as an ack arrives, direct or through a relay: success.
- After `probe_timeout_s` (never scaled) without an ack: ping-reqs to `indirect_checks` relays
  and, with `fallback_ping`, a `StreamPing` to the target on the reliable channel (memberlist's
  TCP ping). Its `StreamAck` does not end the probe: memberlist reads the fallback only once the
  deadline passes, so that a UDP ack still counts first.
- The deadline (`ProbeRoundEnd`) is start + probe_interval_s × (awareness + 1). At the deadline
  the probe succeeds if the `StreamAck` came back in time, else the target is suspected.

Lifeguard's local health (awareness), rule by rule against memberlist (awareness.go, state.go):

| rule | memberlist | here |
|---|---|---|
| score range | 0 .. AwarenessMaxMultiplier - 1 (8: 0..7) | same |
| probe succeeds: direct, relayed or fallback ack | -1 (awarenessDelta = -1) | -1 |
| probe fails, relays asked for nacks | + (expected - received nacks) | same |
| probe fails, no relay that nacks | +1 | same |
| we refute: suspect, dead, or alive newer | +1 (`refute`) | same |
| the multiplier scales | a failing probe's deadline only | same |
| ack timeout (ProbeTimeout) | not scaled | not scaled |
| probe start | fixed ticker; ticks missed by a long probe dropped | same |
| relay's nack timeout | ProbeTimeout, not scaled | same |
| suspicion timeout | not scaled | same |

(Before issue 10 swimlab waited the scaled interval after every probe, acked or not, scaled the
ack timeout too, and did not count refuting an alive record as ill health.)

Invariants (tests/test_cluster_stateful.py checks each one over arbitrary fault schedules):

1. A node holds itself alive: while running, its own record is ALIVE at its own incarnation,
   and it never suspects or declares itself dead; any accusation it believes is refuted.
2. Incarnations never decrease within one life of a node: its own, and the one it holds for
   every member still in its view (a wiped restart is a new life and starts again at 0).
3. Stale timers are dropped by token: a timer whose probe `seq`, suspicion `token` or member
   `incarnation` has been superseded changes nothing and sends nothing.
4. Remote dead becomes local suspect: a death learned from another node's full state (push-pull)
   starts our own suspicion, accused by us, so the member gets the time to refute; a push-pull
   alone never makes a node hold a member dead.
5. Stale accusations re-announce: an accusation about ourselves at an incarnation we already
   outbid queues our alive record again, so the next message we send that carries news (any
   but the fallback probe's StreamPing and StreamAck, which carry none) carries it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import compress
from operator import attrgetter, is_not
from typing import Any, Final

from .codec import MAX_INT, MAX_NODE_ID_BYTES, array_header_size, message_overhead, update_size
from .config import Config
from .effects import NO_EFFECTS, Effects, Send, SetTimer
from .errors import LocalProtocolError
from .events import Event, Refuted
from .formulas import apply_awareness_delta, push_pull_scale, retransmit_limit, scale_timeout
from .gossip_queue import GossipQueue
from .lifecycle import LIFECYCLE, Input, Lifecycle, Outcome, Rule, refusal
from .members import MemberTable, Roster
from .messages import (
    Ack,
    Gossip,
    MemberState,
    Message,
    Nack,
    NodeId,
    Ping,
    PingReq,
    PushPull,
    StreamAck,
    StreamPing,
    Update,
)
from .notifications import NOTIFICATIONS
from .phi import PeerDetectors, PhiAccrualDetector
from .planted import ACTIVE as _PLANTED
from .precedence import Verdict, judge_about_others, judge_about_self, refuted_incarnation
from .reconnect import DeadRotation
from .suspicion import Suspicions
from .timers import (
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
    Timer,
)

__all__ = ["Lifecycle", "Node"]

ALIVE, SUSPECT, DEAD, LEFT = (
    MemberState.ALIVE,
    MemberState.SUSPECT,
    MemberState.DEAD,
    MemberState.LEFT,
)
_RUN, _REFUSE = Outcome.RUN, Outcome.REFUSE
_APPLY, _CONFIRM, _REFUTE = Verdict.APPLY, Verdict.CONFIRM, Verdict.REFUTE

_MEMBER_OF: Final = attrgetter("member")
# A tick of the probe grid this close after now counts as passed (floating-point slack).
_SAME_INSTANT_S = 1e-9

# Bytes kept free in a datagram for the message's own fixed fields (version, type, seq, array
# and string headers); a Ping or PingReq also carries its target's name, counted on top.
_HEADER_RESERVE = 32


@dataclass(slots=True)
class _Probe:
    seq: int
    target: NodeId
    started: float
    expected_nacks: int = 0
    nacks: int = 0
    stream_acked: bool = False  # the fallback ping's StreamAck came back before the deadline


class Node:
    """One member of a SWIM cluster. See the module docstring for the inputs and outputs."""

    def __init__(self, name: NodeId, config: Config, rng: random.Random) -> None:
        if not isinstance(name, str) or not 0 < len(name.encode("utf-8", "replace")) <= MAX_NODE_ID_BYTES:
            raise LocalProtocolError(f"node name must be 1..{MAX_NODE_ID_BYTES} UTF-8 bytes, got {name!r}")
        self.name = name
        self.config = config
        self.incarnation = 0
        self.awareness = 0  # Lifeguard's local health score: timeouts scale by (awareness + 1)
        self._phase = _PHASES[Lifecycle.NEW]
        self._rng = rng
        self._table = MemberTable(name, rng, config.gossip_to_the_dead_s)
        self._reconnect = DeadRotation(rng)
        self._suspicions = Suspicions(config)
        self._probe: _Probe | None = None
        self._relayed: dict[int, tuple[NodeId, int]] = {}  # our ping seq → (origin, origin's seq)
        self._detectors = PeerDetectors(
            partial(
                PhiAccrualDetector,
                threshold=config.phi_threshold,
                max_sample_size=config.phi_max_samples,
                min_std_deviation=config.phi_min_std_s,
                acceptable_heartbeat_pause=config.phi_acceptable_pause_s,
                first_heartbeat_estimate=config.phi_first_heartbeat_s,
            )
        )
        self._seq = 0
        self._probe_phase = 0.0  # the probe ticker's grid: phase + k × probe_interval_s
        self._join_seeds: tuple[NodeId, ...] = ()
        # Gossip ticks run only while there is news: the tick grid (phase + k × interval) is
        # kept, and ticks that would find the queue empty, and so do nothing, are not scheduled.
        self._gossip_phase = 0.0
        self._gossip_armed = False
        self._last_now = -math.inf
        limit = partial(retransmit_limit, config.retransmit_mult, formula=config.retransmit_formula)
        self._queue = GossipQueue(limit, self._table.cluster_size, update_size)
        self._sends: list[Send] = []
        self._timers: list[SetTimer] = []
        self._events: list[Event] = []

    # Read-only views ----------------------------------------------------------------------
    @property
    def lifecycle(self) -> Lifecycle:
        return self._phase.lifecycle

    def view(self) -> Mapping[NodeId, Update]:
        """The member table, this node included: member → the news last accepted about it."""
        return self._table.view()

    def cluster_size(self) -> int:
        """memberlist's `estNumNodes()`, the n of every scaling formula: alive and suspect members,
        this node included, plus members down for less than `gossip_to_the_dead_s` at the last
        end of a probe pass (see members.py)."""
        return self._table.cluster_size()

    # API calls ----------------------------------------------------------------------------
    def start(self, now: float, known: Iterable[Update] | Roster = ()) -> Effects:
        """Begin probing and gossiping; `known` pre-fills the view with alive members.

        With no `known` members the node is a cluster of one until it joins. `known` is for a
        node restored from a saved member list, or a simulator building an already-formed
        cluster: the records are installed as they are (shared, not copied), without
        notifications or gossip, and the probe order is one shuffle of them. A `Roster` (one
        for the whole formed cluster, checked once) is the same, shared until the first change.
        """
        rule = self._admit(Input.START, now)
        if isinstance(known, Roster):
            self._become(rule)
            self._table.install_roster(known)
            self._arm_periodic_timers(now)
            return self._flush()
        members = [u for u in known if u.member != self.name]
        for update in members:
            if update.state is not ALIVE:
                raise LocalProtocolError(
                    f"node {self.name!r}: start(known=...) takes alive members, got {update!r}"
                )
        self._become(rule)
        self._table.install_alive(members)
        self._arm_periodic_timers(now)
        return self._flush()

    def join(self, seeds: tuple[NodeId, ...], now: float) -> Effects:
        """Exchange full state with each seed; their replies introduce the cluster.

        Seeds are remembered: while the node knows no live member (every seed was down or the
        join was lost) it asks them again every `reconnect_interval_s` (Serf's retry_join).
        """
        self._become(self._admit(Input.JOIN, now))
        self._join_seeds = tuple(dict.fromkeys(s for s in (*self._join_seeds, *seeds) if s != self.name))
        snapshot = self._snapshot()
        for seed in seeds:
            if seed != self.name:
                self._send(seed, PushPull(snapshot, join=True))
        return self._flush()

    def leave(self, now: float) -> Effects:
        """Announce a graceful leave; afterwards the node only gossips the news out."""
        self._become(self._admit(Input.LEAVE, now))
        record = Update(LEFT, self.name, self.incarnation, self.name)
        self._table.set_own(record)
        self._queue.enqueue(record)
        for dst in self._table.random_members(self.config.gossip_nodes):
            self._send(dst, Gossip((record,)))
        return self._flush()

    def recover(self, now: float) -> Effects:
        """Come back after a crash with state kept: new incarnation, fresh timers, a full sync.

        The runtime must have dropped every timer of the previous life.
        """
        self._become(self._admit(Input.RECOVER, now))
        self.incarnation = min(self.incarnation + 1, MAX_INT)
        record = Update(ALIVE, self.name, self.incarnation, self.name)
        self._table.set_own(record)
        self._queue.enqueue(record)
        self._probe = None
        self._relayed.clear()
        self._arm_periodic_timers(now)
        self._timers.extend(self._suspicions.rearm_all(now))
        table = self._table
        for member, since in table.down_since.items():
            held = table.records[member]
            self._set_timer(
                max(now, since + self.config.dead_reclaim_s), ReclaimDead(member, held.incarnation)
            )
        for dst in table.random_members(1):
            self._send_push_pull(dst)
        return self._flush()

    # Messages -----------------------------------------------------------------------------
    def handle_message(self, src: NodeId, message: Message, now: float) -> Effects:
        self._advance(now)
        phase = self._phase
        if phase.message is not _RUN:
            return self._not_run(phase.rules[Input.MESSAGE], Input.MESSAGE, type(message).__name__)
        if self.config.detector == "phi" and self._table.is_live(src):
            self._detectors.heartbeat(src, now)
        if isinstance(message, PushPull):
            self._on_push_pull(src, message, now)
            return self._flush()
        if isinstance(message, Ping):
            if message.target != self.name:
                return NO_EFFECTS  # meant for whoever had this address before us
            self._learn_all(message.updates, now)
            self._send(src, Ack(message.seq, self._piggyback()))
        elif isinstance(message, Ack):
            self._learn_all(message.updates, now)
            self._on_ack(message.seq, now)
        elif isinstance(message, Nack):
            self._learn_all(message.updates, now)
            if self._probe is not None and self._probe.seq == message.seq:
                self._probe.nacks += 1
        elif isinstance(message, PingReq):
            self._learn_all(message.updates, now)
            self._relay(src, message, now)
        elif isinstance(message, Gossip):
            self._learn_all(message.updates, now)
        elif isinstance(message, StreamPing):
            if message.target == self.name:  # memberlist answers only a ping meant for it
                self._send(src, StreamAck(message.seq))
        elif isinstance(message, StreamAck):
            probe = self._probe
            if probe is not None and probe.seq == message.seq:
                probe.stream_acked = True  # judged at the deadline, as memberlist does
        return self._flush()

    def _on_ack(self, seq: int, now: float) -> None:
        probe = self._probe
        if probe is not None and probe.seq == seq:
            self._finish_probe(now, success=True)
            return
        relayed = self._relayed.pop(seq, None)
        if relayed is not None:
            origin, origin_seq = relayed
            self._send(origin, Ack(origin_seq, self._piggyback()))

    def _relay(self, origin: NodeId, request: PingReq, now: float) -> None:
        if request.target == self.name:  # asked to probe ourselves: we are the answer
            self._send(origin, Ack(request.seq, self._piggyback()))
            return
        self._seq += 1
        self._relayed[self._seq] = (origin, request.seq)
        self._send(request.target, Ping(self._seq, request.target, self._piggyback(naming=request.target)))
        self._set_timer(now + self.config.probe_timeout_s, RelayTimeout(self._seq))

    def _on_push_pull(self, src: NodeId, message: PushPull, now: float) -> None:
        if not message.reply:
            self._send_push_pull(src, join=message.join, reply=True)
        # A record that is the very object we hold changes nothing (`_learn`'s first check; a
        # held death sent back to us is suspect-at-the-same-incarnation, which precedence
        # ignores), so those are skipped here, in C: in a formed cluster that is nearly all of
        # them. The iterators are lazy: each record is looked up when its turn comes. (A
        # sender's snapshot names each member once, and decoded records are never objects we
        # hold, so a lookup never depends on an earlier record of the same message.)
        members = message.members
        held = map(self._table.records.get, map(_MEMBER_OF, members))
        for record in compress(members, map(is_not, members, held)):
            if record.state is DEAD:
                # Invariant 4, memberlist's mergeState: a remote death becomes our own suspicion,
                # so a member that is in fact alive (say, across a healed partition) can refute.
                record = Update(SUSPECT, record.member, record.incarnation, self.name)
            if _PLANTED and "pushpull_older_wins" in _PLANTED:
                ours = self._table.records.get(record.member)
                if ours is not None and record.member != self.name and record.incarnation < ours.incarnation:
                    self._replace(ours, record, now)
                    continue
            self._learn(record, now)

    # Timers -------------------------------------------------------------------------------
    def handle_timer(self, timer: Timer, now: float) -> Effects:
        self._advance(now)
        outcome, handler = self._phase.timers[type(timer)]
        if outcome is not _RUN:
            what = TIMER_DISPATCH[type(timer)][1]
            return self._not_run(self._phase.rules[what], what, repr(timer))
        handler(self, timer, now)
        return self._flush()

    def _on_probe_tick(self, timer: ProbeTick, now: float) -> None:
        if self._probe is None:
            self._start_probe(now)

    def _on_probe_round_end(self, timer: ProbeRoundEnd, now: float) -> None:
        probe = self._probe
        if probe is not None and probe.seq == timer.seq:
            self._finish_probe(now, success=probe.stream_acked)

    def _on_probe_timeout(self, timer: ProbeTimeout, now: float) -> None:
        probe = self._probe
        if probe is None or probe.seq != timer.seq:
            return  # acked (the probe ended) or stale
        relays = self._table.random_members(self.config.indirect_checks, exclude=probe.target)
        for relay in relays:
            self._send(relay, PingReq(timer.seq, probe.target, self._piggyback(naming=probe.target)))
        if self.config.lifeguard_nack:
            probe.expected_nacks = len(relays)
        if self.config.fallback_ping:
            self._send(probe.target, StreamPing(timer.seq, probe.target))

    def _on_relay_timeout(self, timer: RelayTimeout, now: float) -> None:
        relayed = self._relayed.pop(timer.seq, None)
        if relayed is not None and self.config.lifeguard_nack:
            origin, origin_seq = relayed
            self._send(origin, Nack(origin_seq, self._piggyback()))

    def _on_suspicion_timeout(self, timer: SuspicionTimeout, now: float) -> None:
        if _PLANTED and "suspicion_ignores_incarnation" in _PLANTED:
            stale = self._table.records.get(timer.member)
            if stale is not None and not stale.is_down:
                self._learn(Update(DEAD, timer.member, stale.incarnation, self.name), now)
            return
        if not self._suspicions.is_current(timer):
            return
        held = self._table.records.get(timer.member)
        if held is None or held.state is not SUSPECT or held.incarnation != timer.incarnation:
            return
        self._learn(Update(DEAD, timer.member, timer.incarnation, self.name), now)

    def _on_gossip_tick(self, timer: GossipTick, now: float) -> None:
        if not len(self._queue):
            self._gossip_armed = False
            return
        self._set_timer(now + self.config.gossip_interval_s, GossipTick())
        dead_horizon = now - self.config.gossip_to_the_dead_s
        for dst in self._table.random_members(self.config.gossip_nodes, recently_dead_since=dead_horizon):
            updates = self._piggyback()
            if not updates:
                break
            self._send(dst, Gossip(updates))

    def _on_push_pull_tick(self, timer: PushPullTick, now: float) -> None:
        self._set_timer(
            now + push_pull_scale(self.config.push_pull_interval_s, self.cluster_size()),
            PushPullTick(),
        )
        for dst in self._table.random_members(1):
            self._send_push_pull(dst)

    def _on_reconnect_tick(self, timer: ReconnectTick, now: float) -> None:
        table = self._table
        self._set_timer(now + self.config.reconnect_interval_s, ReconnectTick())
        if not table.live and self._join_seeds:
            for seed in self._join_seeds:
                self._send_push_pull(seed, join=True)
        dead = table.dead()
        if _PLANTED and ("dead_never_reconnected" in _PLANTED or "reconnect_random" in _PLANTED):
            if dead and "reconnect_random" in _PLANTED:  # the code before reconnect.py
                self._send_push_pull(dead[self._rng.randrange(len(dead))])
            return
        target = self._reconnect.next(dead)  # round-robin: bounded, see reconnect.py
        if target is not None:
            self._send_push_pull(target)

    def _on_reclaim_dead(self, timer: ReclaimDead, now: float) -> None:
        held = self._table.records.get(timer.member)
        if held is not None and held.is_down and held.incarnation == timer.incarnation:
            self._table.forget(timer.member)
            self._detectors.forget(timer.member)
            self._notify(held.state, None, held)

    # Probing ------------------------------------------------------------------------------
    def _start_probe(self, now: float) -> None:
        target = self._table.next_probe_target(now)
        if target is None:
            self._probe = None
            self._set_timer(self._next_tick(now), ProbeTick())
            return
        self._seq += 1
        self._probe = _Probe(self._seq, target, now)
        held = self._table.records[target]
        buddy = held if held.state is SUSPECT and self.config.lifeguard_buddy else None
        self._send(target, Ping(self._seq, target, self._piggyback(first=buddy, naming=target)))
        # memberlist: the ack timeout is not scaled; local health stretches only the deadline.
        self._set_timer(now + self.config.probe_timeout_s, ProbeTimeout(self._seq))
        self._set_timer(now + self._scaled(self.config.probe_interval_s), ProbeRoundEnd(self._seq))

    def _next_tick(self, after: float) -> float:
        """The first instant of the probe ticker's grid strictly after `after` (an `after` within
        a millionth of an interval of a tick counts as that tick: float slack)."""
        interval = self.config.probe_interval_s
        ticks = math.floor((after - self._probe_phase) / interval + 1e-6) + 1
        return self._probe_phase + ticks * interval

    def _finish_probe(self, now: float, success: bool) -> None:
        """End the running probe, judge it, and start the next one when the ticker says."""
        probe = self._probe
        assert probe is not None
        self._probe = None
        if success:
            self._adjust_awareness(-1)
        else:
            self._probe_failed(probe, now)
        next_at = self._next_tick(probe.started)
        if next_at <= now + _SAME_INSTANT_S:
            self._start_probe(now)  # a tick passed while it ran: Go's ticker kept it
        else:
            self._set_timer(next_at, ProbeTick())

    def _probe_failed(self, probe: _Probe, now: float) -> None:
        # memberlist: with relays that nack we blame ourselves only for the nacks we missed;
        # without them every failed probe counts against our own health.
        if probe.expected_nacks > 0:
            self._adjust_awareness(max(0, probe.expected_nacks - probe.nacks))
        else:
            self._adjust_awareness(1)
        held = self._table.records.get(probe.target)
        if held is None or held.is_down:
            return
        cfg = self.config
        if cfg.detector == "phi" and self._detectors.phi(probe.target, now) < cfg.phi_threshold:
            # Phi gates the verdict: the member has been heard from recently enough that one
            # failed probe is not evidence. Probe it again next round.
            self._table.probe_again(probe.target)
            return
        # Already suspect: our own failed probe is an independent confirmation, which memberlist
        # re-gossips so the suspicion timeout shrinks everywhere (Lifeguard).
        self._learn(Update(SUSPECT, probe.target, held.incarnation, self.name), now)

    # Membership news ----------------------------------------------------------------------
    def _learn_all(self, updates: tuple[Update, ...], now: float) -> None:
        for update in updates:
            self._learn(update, now)

    def _learn(self, news: Update, now: float) -> None:
        """Judge one piece of news by the precedence tables and apply the verdict."""
        held = self._table.records.get(news.member)
        if held is news:
            return  # the very record we hold (the simulator shares decoded records): nothing new
        if news.member == self.name:
            # Only a running node learns (lifecycle.py), so this is invariant 1 at work.
            if judge_about_self(self.incarnation, news) is _REFUTE:
                if news.incarnation >= MAX_INT:
                    return  # no incarnation on the wire outbids it: a forged accusation, refused
                self._refute(news)
            elif news.state is not ALIVE and news.incarnation < self.incarnation:
                # Invariant 5, a stale accusation: its author missed our refutation, which may
                # have spent its retransmissions elsewhere. Queue our alive record again (same
                # incarnation) so the next message to anyone, the accuser's buddy-ping ack
                # included, carries it. Not in memberlist; found by the cluster state machine.
                self._queue.enqueue(self._table.records[self.name])
            return
        verdict = judge_about_others(held, news)
        if verdict is _APPLY:
            self._replace(held, news, now)
            self._queue.enqueue(news)
        elif verdict is _CONFIRM:
            timer = self._suspicions.confirm(news, now)
            if timer is not None:
                self._timers.append(timer)
                self._queue.enqueue(news)  # memberlist re-gossips each new confirmation

    def _refute(self, accusation: Update) -> None:
        self.incarnation = refuted_incarnation(self.incarnation, accusation.incarnation)
        if _PLANTED and "refute_no_bump" in _PLANTED:
            self.incarnation = max(self.incarnation - 1, accusation.incarnation)
        record = Update(ALIVE, self.name, self.incarnation, self.name)
        self._table.set_own(record)
        self._queue.enqueue(record)
        # Lifeguard: having to refute hints that we are the slow one. memberlist's `refute` does
        # this for every refutation, an alive record of ours at a higher incarnation included.
        self._adjust_awareness(1)
        self._events.append(Refuted(self.incarnation, accusation.state.name.lower(), accusation.origin))

    def _replace(self, held: Update | None, news: Update, now: float) -> None:
        """Install `news` as our record of its member; start or end its suspicion; notify."""
        member = news.member
        self._table.install(held, news, now)
        if news.is_down:
            self._detectors.forget(member)
            self._set_timer(now + self.config.dead_reclaim_s, ReclaimDead(member, news.incarnation))
        if news.state is SUSPECT:
            self._timers.append(self._suspicions.start(news, now, self._table.cluster_size()))
        else:
            self._suspicions.end(member)
        self._notify(held.state if held is not None else None, news.state, news)

    def _notify(self, old: MemberState | None, new: MemberState | None, record: Update) -> None:
        notify = NOTIFICATIONS[(old, new)]
        if notify is not None:
            self._events.append(notify(record))

    # Helpers ------------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        if not now >= self._last_now:  # also refuses NaN
            raise LocalProtocolError(
                f"node {self.name!r}: time went backwards (now={now!r} < last={self._last_now!r}); "
                "state unchanged"
            )
        self._last_now = now

    def _admit(self, what: Input, now: float) -> Rule:
        """The lifecycle rule for an API call; raises for a REFUSE cell (state unchanged)."""
        self._advance(now)
        rule = self._phase.rules[what]
        if rule.outcome is _REFUSE:
            raise refusal(self.name, self.lifecycle, what, rule)
        return rule

    def _become(self, rule: Rule) -> None:
        self._phase = _PHASES[rule.after]

    def _not_run(self, rule: Rule, what: Input, detail: str) -> Effects:
        """A DROP cell changes nothing; a REFUSE cell raises."""
        if rule.outcome is _REFUSE:
            raise refusal(self.name, self.lifecycle, what, rule, detail)
        return NO_EFFECTS

    def _arm_periodic_timers(self, now: float) -> None:
        cfg, rng = self.config, self._rng
        # Random stagger, as memberlist does, so nodes started together do not probe in lockstep.
        self._probe_phase = now + rng.uniform(0, cfg.probe_interval_s)
        self._set_timer(self._probe_phase, ProbeTick())
        self._gossip_phase = now + rng.uniform(0, cfg.gossip_interval_s)
        self._gossip_armed = True
        self._set_timer(self._gossip_phase, GossipTick())
        self._set_timer(now + rng.uniform(0, cfg.push_pull_interval_s), PushPullTick())
        self._set_timer(now + cfg.reconnect_interval_s, ReconnectTick())

    def _flush(self) -> Effects:
        # Only inputs that ran reach here, and they run only once started (lifecycle.py).
        if not self._gossip_armed and len(self._queue):
            self._arm_gossip()
        if not (self._sends or self._timers or self._events):
            return NO_EFFECTS
        effects = Effects(tuple(self._sends), tuple(self._timers), tuple(self._events))
        self._sends, self._timers, self._events = [], [], []
        return effects

    def _arm_gossip(self) -> None:
        """Schedule the next tick of the gossip grid strictly after now."""
        interval = self.config.gossip_interval_s
        ticks = math.floor((self._last_now - self._gossip_phase) / interval) + 1
        self._gossip_armed = True
        self._set_timer(self._gossip_phase + ticks * interval, GossipTick())

    def _send(self, dst: NodeId, message: Message) -> None:
        self._sends.append(Send(dst, message))

    def _set_timer(self, at: float, timer: Timer) -> None:
        self._timers.append(SetTimer(at, timer))

    def _piggyback(self, first: Update | None = None, naming: NodeId = "") -> tuple[Update, ...]:
        """News for a message whose fields name the member `naming` (a ping's target), if any."""
        if not len(self._queue) and first is None:
            return ()
        budget = self.config.packet_budget_bytes - _HEADER_RESERVE - len(naming.encode())
        return self._queue.select(self.config.max_updates_per_message, budget, first=first)

    def _snapshot(self) -> tuple[Update, ...]:
        return self._table.snapshot()

    def _send_push_pull(self, dst: NodeId, join: bool = False, reply: bool = False) -> None:
        """Our full state to `dst`, with its encoded size (the table keeps its records' sum)."""
        table = self._table
        size = _PUSH_PULL_OVERHEAD[join, reply] + array_header_size(len(table.records)) + table.wire_bytes
        self._sends.append(Send(dst, PushPull(self._snapshot(), join=join, reply=reply), size))

    def _scaled(self, timeout_s: float) -> float:
        return scale_timeout(timeout_s, self.awareness) if self.config.lifeguard_lhm else timeout_s

    def _adjust_awareness(self, delta: int) -> None:
        if self.config.lifeguard_lhm and delta:
            self.awareness = apply_awareness_delta(
                self.awareness, delta, self.config.awareness_max_multiplier
            )


# Encoded size of a PushPull without its members array (the flags are one byte each, whatever
# their value, but computed per pair rather than assumed).
_PUSH_PULL_OVERHEAD: Final = {
    (join, reply): message_overhead(PushPull((), join=join, reply=reply))
    for join in (False, True)
    for reply in (False, True)
}

# The lifecycle and timer tables, compiled once per phase so the per-input path is one lookup.
TimerHandler = Callable[[Node, Any, float], None]


@dataclass(frozen=True, slots=True)
class _Phase:
    lifecycle: Lifecycle
    rules: dict[Input, Rule]
    message: Outcome
    timers: dict[type[Timer], tuple[Outcome, TimerHandler]]


def _compile(lifecycle: Lifecycle) -> _Phase:
    rules = LIFECYCLE[lifecycle]
    for what in (Input.MESSAGE, Input.TIMER, Input.GOSSIP_TICK):
        if rules[what].after is not lifecycle:
            raise AssertionError(f"lifecycle.py: {what.value} must not change the phase ({lifecycle})")
    timers: dict[type[Timer], tuple[Outcome, TimerHandler]] = {}
    for kind, (handler, what) in TIMER_DISPATCH.items():
        timers[kind] = (rules[what].outcome, getattr(Node, f"_{handler}"))
    return _Phase(lifecycle, rules, rules[Input.MESSAGE].outcome, timers)


_PHASES: Final[dict[Lifecycle, _Phase]] = {lifecycle: _compile(lifecycle) for lifecycle in Lifecycle}
