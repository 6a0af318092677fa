"""Nothing a peer sends can crash a node or make it produce a message its peers would refuse.

Arbitrary valid messages (any type, any fields: incarnations up to the wire maximum, accusations
about the node itself, relays to itself, acks for unknown probes, giant states) arrive from a few
peers, interleaved with every timer the node asked for. After each input: no exception, every
message it sends passes the checked encoder, and it still holds itself alive.
"""

import random

from hypothesis import given
from hypothesis import strategies as st

from swimlab.protocol import codec
from swimlab.protocol.codec import MAX_INT
from swimlab.protocol.config import lan
from swimlab.protocol.messages import Ack, Gossip, MemberState, Nack, Ping, PingReq, PushPull, Update
from swimlab.protocol.node import Node

NAMES = ["me", "b", "c", "d"]
names = st.sampled_from(NAMES)
incarnations = st.one_of(st.integers(0, 5), st.sampled_from([MAX_INT - 1, MAX_INT]))
seqs = st.one_of(st.integers(0, 20), st.just(MAX_INT))
news = st.lists(st.builds(Update, st.sampled_from(MemberState), names, incarnations, names), max_size=6).map(
    tuple
)
messages = st.one_of(
    st.builds(Ping, seqs, names, news),
    st.builds(Ack, seqs, news),
    st.builds(Nack, seqs, news),
    st.builds(PingReq, seqs, names, news),
    st.builds(Gossip, news),
    st.builds(PushPull, news, st.booleans(), st.booleans()),
)
inputs = st.lists(st.tuples(st.sampled_from(NAMES[1:]), messages, st.floats(0.0, 3.0)), max_size=40)


@given(inputs)
def test_a_hostile_peer_cannot_crash_or_corrupt_a_node(script):
    node = Node("me", lan(), random.Random(0))
    now = 0.0
    pending = sorted((t.at, i, t.timer) for i, t in enumerate(node.start(now).timers))
    counter = len(pending)

    def check(effects):
        nonlocal pending, counter
        for send in effects.sends:
            codec.encode(send.message)  # checked: raises LocalProtocolError on anything invalid
        for t in effects.timers:
            counter += 1
            pending.append((t.at, counter, t.timer))
        pending.sort()
        own = node.view()["me"]
        assert own.state is MemberState.ALIVE and own.incarnation == node.incarnation <= MAX_INT

    for src, message, dt in script:
        now += dt
        while pending and pending[0][0] <= now:
            at, _, timer = pending.pop(0)
            check(node.handle_timer(timer, max(at, node._last_now)))
        check(node.handle_message(src, message, now))
