"""A hypothesis state machine over a small PureCluster with a hand-driven network (raiden-style).

Messages wait in flight until a rule delivers, drops, duplicates or delays them; other rules
advance time, crash and restart nodes (state wiped or kept), partition and heal. Invariants are
named after the protocol's promises. `settle_and_compare` (parsec-style) heals everything, lets
the cluster run on a clean network and asserts every live node holds the same view.
"""

from collections.abc import Callable

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from swimlab.protocol.config import lan
from swimlab.protocol.effects import Effects
from swimlab.protocol.events import MemberFailed, MemberSuspected
from swimlab.protocol.messages import Ack, Message, PingReq, PushPull, StreamAck, StreamPing, Update
from swimlab.protocol.messages import MemberState as M
from swimlab.protocol.timers import ProbeRoundEnd, ProbeTimeout, ReclaimDead, RelayTimeout, SuspicionTimeout
from swimlab.reports.oracles import bound_s

from .pure_cluster import PureCluster

N = 5
# The oracles' convergence bound B (reports/oracles.py) for this cluster: the longest suspicion
# (n=5: 4 s x max mult 6), one reconnect interval per dead member (protocol/reconnect.py walks
# them round-robin; the random pick it replaced had no bound, which is how the nightly profile
# once ended with two survivors each holding the other dead), two push-pull periods, slack.
SETTLE_S = bound_s(lan(), N)


def carried(message: Message) -> tuple[Update, ...]:
    """The membership records a message carries (piggybacked updates, or a full state)."""
    if isinstance(message, PushPull):
        return message.members
    return () if isinstance(message, (StreamPing, StreamAck)) else message.updates


class ClusterMachine(RuleBasedStateMachine):
    """Checks the five invariants stated at the top of protocol/node.py, numbered as there."""

    def __init__(self) -> None:
        super().__init__()
        # Joins complete on a clean network first: a join whose seed is unreachable fails (and
        # memberlist leaves the retry to the application), which is not what this machine tests.
        self.cluster = PureCluster(N, seed=0)
        self.cluster.start_all()
        self.cluster.run_for(5.0)
        self.cluster.manual_network = True
        self.cluster.on_input = self.observe
        # A life is one Node object under a name (a wiped restart starts a new one): the
        # cluster's explicit counter, never an object identity that the allocator may reuse.
        self.incarnations: dict[str, tuple[int, int]] = {}  # node → (life, incarnation)
        self.held: dict[tuple[str, str], tuple[int, int]] = {}  # (viewer, member) → (viewer's life, inc)
        # Invariant 3's bookkeeping, per (node, life), from what the node itself asked for.
        self.suspicion_token: dict[tuple[str, int, str], int] = {}  # (node, life, member) → last token
        self.probe_seq: dict[tuple[str, int], int] = {}  # (node, life) → seq of its last probe round
        self.acked: set[tuple[str, int, int]] = set()  # (node, life, seq): probes acked
        self.relaying: set[tuple[str, int, int]] = set()  # (relay, life, seq) of pings it relays
        self.relay_answered: set[tuple[str, int, int]] = set()  # (relay, life, seq) acks forwarded
        # Invariant 5: node → (life, incarnation) it owes an alive announcement at.
        self.owed: dict[str, tuple[int, int]] = {}
        self.checked = {"stale timers": 0, "remote deaths": 0, "re-announcements": 0}

    def life(self, name: str) -> int:
        return self.cluster.lives[name]

    # Invariants 3, 4 and 5 are about one input and its effects: checked around each input.
    def observe(self, name: str, what: object, run: Callable[[], Effects]) -> Effects:
        node, life = self.cluster.nodes[name], self.life(name)
        before = dict(node.view())
        stale = self.is_stale(name, life, what, before)
        owed_before, incarnation_before = self.owed.get(name), node.incarnation
        effects = run()
        if stale:
            self.checked["stale timers"] += 1
            assert not effects and dict(node.view()) == before, (name, what, effects)  # invariant 3
        if isinstance(what, PushPull):
            for record in what.members:
                if record.state is M.DEAD and record.member != name:
                    self.checked["remote deaths"] += 1
                    held = before.get(record.member)
                    now_held = node.view().get(record.member)
                    if held is None or not held.is_down:  # invariant 4: never dead by hearsay alone
                        assert now_held is None or now_held.state is not M.DEAD, (name, record, now_held)
        self.note_requests(name, life, what, effects)
        if isinstance(what, Message):
            stale_accusations = [
                u
                for u in carried(what)
                if u.member == name and u.state is not M.ALIVE and u.incarnation < incarnation_before
            ]
            if stale_accusations and owed_before is None and node.lifecycle.value == "running":
                self.owed[name] = (life, incarnation_before)
        self.check_announcement(name, life, effects)
        return effects

    def is_stale(self, name: str, life: int, what: object, view: dict[str, Update]) -> bool:
        if isinstance(what, SuspicionTimeout):
            held = view.get(what.member)
            latest = self.suspicion_token.get((name, life, what.member))  # None: set before we watched
            superseded = latest is not None and latest != what.token
            return (
                superseded
                or held is None
                or held.state is not M.SUSPECT
                or held.incarnation != what.incarnation
            )
        if isinstance(what, ProbeTimeout | ProbeRoundEnd):
            latest = self.probe_seq.get((name, life))
            superseded = latest is not None and latest != what.seq
            return superseded or (isinstance(what, ProbeTimeout) and (name, life, what.seq) in self.acked)
        if isinstance(what, RelayTimeout):
            return (name, life, what.seq) in self.relay_answered
        if isinstance(what, ReclaimDead):
            held = view.get(what.member)
            return held is None or not held.is_down or held.incarnation != what.incarnation
        return False

    def note_requests(self, name: str, life: int, what: object, effects: Effects) -> None:
        """Record what the node asked for, so that later timers can be judged stale or not."""
        for set_timer in effects.timers:
            timer = set_timer.timer
            if isinstance(timer, SuspicionTimeout):
                self.suspicion_token[(name, life, timer.member)] = timer.token
            elif isinstance(timer, ProbeRoundEnd):
                self.probe_seq[(name, life)] = timer.seq
            elif isinstance(timer, RelayTimeout) and isinstance(what, PingReq):
                self.relaying.add((name, life, timer.seq))
        if isinstance(what, Ack):
            if self.probe_seq.get((name, life)) == what.seq:
                self.acked.add((name, life, what.seq))
            if (name, life, what.seq) in self.relaying and any(
                isinstance(s.message, Ack) for s in effects.sends
            ):
                self.relay_answered.add((name, life, what.seq))

    def check_announcement(self, name: str, life: int, effects: Effects) -> None:
        """Invariant 5: the first message carrying news sent after a stale accusation carries our
        alive record (the fallback probe's StreamPing and StreamAck carry none, as memberlist's
        TCP ping)."""
        owed = self.owed.get(name)
        news = [s for s in effects.sends if not isinstance(s.message, (StreamPing, StreamAck))]
        if owed is None or not news:
            return
        del self.owed[name]
        if owed[0] != life:
            return
        first = carried(news[0].message)
        self.checked["re-announcements"] += 1
        assert any(u.member == name and u.state is M.ALIVE and u.incarnation >= owed[1] for u in first), (
            name,
            owed,
            news[0],
        )

    names = st.sampled_from([f"n{i:03d}" for i in range(N)])

    @precondition(lambda self: self.cluster.in_flight)
    @rule(index=st.integers(0, 10_000), delay=st.sampled_from([0.0, 0.001, 0.3, 2.0]))
    def deliver(self, index, delay):
        self.cluster.deliver(index % len(self.cluster.in_flight), delay_s=delay)
        self.cluster.run_for(0.0)

    @precondition(lambda self: self.cluster.in_flight)
    @rule(index=st.integers(0, 10_000))
    def drop(self, index):
        self.cluster.in_flight.pop(index % len(self.cluster.in_flight))

    @precondition(lambda self: self.cluster.in_flight)
    @rule(index=st.integers(0, 10_000))
    def duplicate(self, index):
        item = self.cluster.in_flight[index % len(self.cluster.in_flight)]
        self.cluster.in_flight.append(item)

    @rule()
    def deliver_everything(self):
        while self.cluster.in_flight:
            self.cluster.deliver(0, delay_s=0.001)
        self.cluster.run_for(0.01)

    @rule(dt=st.sampled_from([0.1, 0.5, 1.0, 3.0, 10.0]))
    def advance(self, dt):
        self.cluster.run_for(dt)

    @precondition(lambda self: len(self.cluster.live()) > 2)
    @rule(name=names)
    def crash(self, name):
        if name not in self.cluster.crashed:
            self.cluster.crash(name)
            self.owed.pop(name, None)  # a crashed process owes nothing; a restart announces itself

    @rule(name=names, wiped=st.booleans())
    def restart(self, name, wiped):
        if name in self.cluster.crashed:
            # Every live node as a seed, as deployments list several; a join that is lost or
            # whose seeds all crash is retried by the node itself (retry_join).
            self.cluster.restart(name, wiped=wiped, seeds=self.cluster.live())

    @rule(cut=st.integers(1, N - 1), one_way=st.booleans())
    def partition(self, cut, one_way):
        names = self.cluster.names
        if one_way:
            self.cluster.cut.update((a, b) for a in names[:cut] for b in names[cut:])
        else:
            self.cluster.partition(names[:cut], names[cut:])

    @rule()
    def heal(self):
        self.cluster.heal()

    @invariant()
    def incarnations_never_decrease(self):  # invariant 2, own incarnation
        for name in self.cluster.names:
            node, life = self.cluster.nodes[name], self.life(name)
            # A wiped restart is a new Node (a new life) that starts again at 0; within a life, never down.
            previous = self.incarnations.get(name)
            if previous is not None and previous[0] == life:
                assert node.incarnation >= previous[1], (name, previous, node.incarnation)
            self.incarnations[name] = (life, node.incarnation)

    @invariant()
    def held_incarnations_never_decrease(self):  # invariant 2, the incarnations a node holds
        for viewer in self.cluster.names:
            node, life = self.cluster.nodes[viewer], self.life(viewer)
            for member, record in node.view().items():
                key = (viewer, member)
                previous = self.held.get(key)
                if previous is not None and previous[0] == life:
                    assert record.incarnation >= previous[1], (viewer, member, previous, record)
                self.held[key] = (life, record.incarnation)

    @invariant()
    def no_node_ever_declares_itself_dead(self):  # invariant 1
        for name in self.cluster.live():
            own = self.cluster.nodes[name].view()[name]
            assert own.state is M.ALIVE, (name, own)
            assert own.incarnation == self.cluster.nodes[name].incarnation
        for _t, node, event in self.cluster.events:
            accused_self = isinstance(event, MemberSuspected | MemberFailed) and event.member == node
            assert not accused_self, (node, event)

    def teardown(self):
        self.settle_and_compare()

    def settle_and_compare(self):
        cluster = self.cluster
        cluster.heal()
        while cluster.in_flight:
            cluster.deliver(0, delay_s=0.001)
        cluster.manual_network = False
        cluster.run_for(SETTLE_S)
        assert cluster.views_agree(), {n: sorted(cluster.alive_view(n)) for n in cluster.live()}


TestCluster = ClusterMachine.TestCase
