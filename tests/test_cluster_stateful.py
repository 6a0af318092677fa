"""A hypothesis state machine over a small PureCluster with a hand-driven network (raiden-style).

Messages wait in flight until a rule delivers, drops, duplicates or delays them; other rules
advance time, crash and restart nodes (state wiped or kept), partition and heal. Invariants are
named after the protocol's promises. `settle_and_compare` (parsec-style) heals everything, lets
the cluster run on a clean network and asserts every live node holds the same view.
"""

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from swimlab.protocol.events import MemberFailed, MemberSuspected
from swimlab.protocol.messages import MemberState

from .pure_cluster import PureCluster

N = 5
# Longest suspicion here (n=5: min 4 s × max mult 6) + a reconnect and a push-pull period + slack.
SETTLE_S = 24.0 + 30.0 + 30.0 + 40.0


class ClusterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Joins complete on a clean network first: a join whose seed is unreachable fails (and
        # memberlist leaves the retry to the application), which is not what this machine tests.
        self.cluster = PureCluster(N, seed=0)
        self.cluster.start_all()
        self.cluster.run_for(5.0)
        self.cluster.manual_network = True
        self.incarnations: dict[str, tuple[int, int]] = {}  # node → (epoch of its life, incarnation)
        self.held: dict[
            tuple[str, str], tuple[int, int]
        ] = {}  # (viewer, member) → (viewer epoch, incarnation)

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
    def incarnations_never_decrease(self):
        for name in self.cluster.names:
            node = self.cluster.nodes[name]
            # A wiped restart is a new Node (a new life) that starts again at 0; within a life, never down.
            previous = self.incarnations.get(name)
            if previous is not None and previous[0] == id(node):
                assert node.incarnation >= previous[1], (name, previous, node.incarnation)
            self.incarnations[name] = (id(node), node.incarnation)

    @invariant()
    def held_incarnations_never_decrease(self):
        for viewer in self.cluster.names:
            node = self.cluster.nodes[viewer]
            for member, record in node.view().items():
                key = (viewer, member)
                previous = self.held.get(key)
                if previous is not None and previous[0] == id(node):
                    assert record.incarnation >= previous[1], (viewer, member, previous, record)
                self.held[key] = (id(node), record.incarnation)

    @invariant()
    def no_node_ever_declares_itself_dead(self):
        for name in self.cluster.live():
            own = self.cluster.nodes[name].view()[name]
            assert own.state is MemberState.ALIVE, (name, own)
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
