"""Mutual TLS on loopback: a member of the cluster refuses every peer that cannot prove it is one.

A real node (Node + Driver on a `LiveHost` with a cluster-CA certificate) is approached by an
impostor in six ways. Each time: the connection is closed and counted, nothing the impostor
sent reaches the Driver, and the node's membership is exactly what it was. Where the case
exists in the other direction (the node dialling an impostor's server), the node refuses the
server the same way and the impostor never receives the node's message.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from swimlab.live.clock import LiveClock
from swimlab.live.credentials import ClusterCA, Credentials, self_signed
from swimlab.live.endpoint import QuicEndpoint
from swimlab.live.host import LiveHost
from swimlab.protocol import codec
from swimlab.protocol.config import local
from swimlab.protocol.messages import MemberState, Ping, PushPull, Update

CA = ClusterCA()
LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


def impostor_credentials(case: str) -> Credentials:
    """Credentials an impostor at 127.0.0.1 presents, for each way of not being a member."""
    if case == "no client certificate":
        return self_signed()  # its certificate is removed from the client side below
    if case == "self-signed":
        return self_signed()
    if case == "another CA":
        return ClusterCA("swimlab cluster CA").issue()  # same CA name, different key
    if case == "expired":
        return CA.issue(not_before=LONG_AGO, not_after=LONG_AGO + datetime.timedelta(days=1))
    if case == "name mismatch":
        return CA.issue("127.0.0.2")  # a genuine member certificate, for another host
    if case == "replayed by a different key":
        genuine = CA.issue()
        return Credentials(genuine.certificate, ec.generate_private_key(ec.SECP256R1()), CA.pem)
    raise AssertionError(case)


CASES = [
    ("no client certificate", "no-certificate"),
    ("self-signed", "chain"),
    ("another CA", "chain"),
    ("expired", "expired"),
    ("name mismatch", "name"),
    ("replayed by a different key", None),  # refused inside aioquic's handshake (CertificateVerify)
]


class Stage:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.closables: list[QuicEndpoint | LiveHost] = []

    def member(self) -> LiveHost:
        host = LiveHost("", self.loop, ("127.0.0.1", 0), CA.issue(), local(), LiveClock(self.loop))
        host.boot()
        self.closables.append(host)
        return host

    def impostor(self, case: str) -> QuicEndpoint:
        creds = impostor_credentials(case)
        endpoint = QuicEndpoint.bind(self.loop, "127.0.0.1", 0, creds, handshake_timeout_s=2.0)
        # An impostor does not check who it talks to; it only wants in.
        endpoint.client_config.verify_mode = ssl.CERT_NONE
        endpoint.client_config.cadata = None
        if case == "no client certificate":
            endpoint.client_config.certificate = None
            endpoint.client_config.private_key = None
        self.closables.append(endpoint)
        return endpoint

    def run_until(self, done, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
        deadline = self.loop.time() + timeout_s
        while not done():
            if self.loop.time() > deadline:
                pytest.fail(f"condition not met within {timeout_s} s")
            self.loop.run_until_complete(asyncio.sleep(0.02))

    def close(self) -> None:
        for item in self.closables:
            if isinstance(item, LiveHost):
                item.crash()
            else:
                item.close()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()


@pytest.fixture
def stage() -> Iterator[Stage]:
    s = Stage()
    yield s
    s.close()


def refusals(host: LiveHost) -> int:
    return sum(host.endpoint.stats.handshakes_failed.values())


@pytest.mark.parametrize(("case", "reason"), CASES, ids=[c for c, _ in CASES])
def test_an_impostor_client_is_refused_and_changes_nothing(
    stage: Stage, case: str, reason: str | None
) -> None:
    member = stage.member()
    impostor = stage.impostor(case)
    assert member.node is not None and member.driver is not None
    view_before = dict(member.node.view())
    # Everything that would change a member's view if it got through: a join, gossip, a ping.
    join = PushPull((Update(MemberState.ALIVE, impostor.name, 0, impostor.name),), join=True)
    ping = Ping(1, member.name, (Update(MemberState.DEAD, member.name, 0, impostor.name),))
    impostor.send(member.name, codec.encode(join), join, True)
    impostor.send(member.name, codec.encode(ping), ping, False)
    stage.run_until(lambda: refusals(member) >= 1 and member.endpoint.connection_count() == 0, timeout_s=5.0)
    stage.loop.run_until_complete(asyncio.sleep(0.2))  # anything still in flight lands, or not

    stats = member.endpoint.stats
    assert dict(member.node.view()) == view_before
    assert member.driver.stats.messages_received == 0 and stats.messages_received == 0
    assert stats.handshakes_completed == 0 and member.endpoint.pool.stats().open == 0
    if reason is not None:
        assert stats.peers_refused == {reason: 1}, stats.peers_refused
    else:
        (why,) = stats.handshakes_failed
        assert why == "TLS alert decrypt_error", why  # the CertificateVerify signature is not the key's


@pytest.mark.parametrize(("case", "reason"), [c for c in CASES if c[0] != "no client certificate"])
def test_a_member_refuses_an_impostor_server(stage: Stage, case: str, reason: str | None) -> None:
    """The other direction: the member dials the impostor, which never receives the message."""
    member = stage.member()
    impostor = stage.impostor(case)
    received: list[bytes] = []
    impostor.on_receive = lambda src, data: received.append(data)
    ping = Ping(1, impostor.name)
    member.endpoint.send(impostor.name, codec.encode(ping), ping, False)
    stage.run_until(lambda: refusals(member) >= 1 and member.endpoint.connection_count() == 0, timeout_s=5.0)
    stage.loop.run_until_complete(asyncio.sleep(0.2))
    assert received == []
    assert member.endpoint.stats.handshakes_completed == 0
    assert member.endpoint.stats.handshake_dropped == 1  # the queued ping died with the handshake


def test_two_members_verify_each_other_and_talk(stage: Stage) -> None:
    """The control: genuine certificates pass in both directions, so the refusals above are
    about the certificates, not about a verifier that refuses everything."""
    a, b = stage.member(), stage.member()
    assert a.driver is not None and b.node is not None
    a.driver.join([b.name])
    stage.run_until(lambda: set(b.node.view()) == {a.name, b.name}, timeout_s=5.0)  # type: ignore[union-attr]
    assert a.endpoint.stats.handshakes_completed == b.endpoint.stats.handshakes_completed == 1
    assert not a.endpoint.stats.handshakes_failed and not b.endpoint.stats.handshakes_failed


def test_verification_rejects_what_it_should_even_when_called_directly() -> None:
    """`verify_peer` on its own: each bad certificate raises with its reason, the good one passes."""
    from swimlab.live.identity import PeerRefused, verify_peer

    good = CA.issue()
    verify_peer(good.certificate, [], "127.0.0.1", CA.pem)
    for case, reason in CASES:
        if reason is None:
            continue
        cert = None if case == "no client certificate" else impostor_credentials(case).certificate
        with pytest.raises(PeerRefused) as refused:
            verify_peer(cert, [], "127.0.0.1", CA.pem)
        assert refused.value.reason == reason, (case, refused.value)


def make_eager(endpoint: QuicEndpoint) -> None:
    """Make `endpoint` write a message the instant its own side of the handshake completes, so
    it travels in the same UDP datagram as its TLS Finished and the member sees it in the same
    event batch as `HandshakeCompleted`: only the link's "verified first" gate stands between it
    and the Driver."""
    verified = endpoint.peers.link_verified

    def eager(link):  # type: ignore[no-untyped-def]
        ping = Ping(9, "x", (Update(MemberState.DEAD, "x", 0, "y"),))
        link.write(codec.encode(ping), False, endpoint.loop.time())
        verified(link)

    endpoint.peers.link_verified = eager  # type: ignore[method-assign]


def test_data_in_the_same_flight_as_the_handshake_is_not_delivered(stage: Stage) -> None:
    member = stage.member()
    assert member.driver is not None
    impostor = stage.impostor("self-signed")
    make_eager(impostor)
    ping = Ping(1, member.name)
    impostor.send(member.name, codec.encode(ping), ping, False)
    stage.run_until(lambda: refusals(member) >= 1, timeout_s=5.0)
    stage.loop.run_until_complete(asyncio.sleep(0.2))
    assert member.endpoint.stats.links.unverified_dropped >= 1  # it did arrive, and was dropped
    assert member.driver.stats.messages_received == 0
    assert member.endpoint.stats.peers_refused == {"chain": 1}
