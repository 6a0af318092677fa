"""Who a peer is: its certificate checked against the cluster CA and the address it speaks from.

This module owns the mutual-TLS decision. aioquic checks, in the handshake, that each side
holds the key of the certificate it presents (CertificateVerify) and, on the client, the
server's chain; it can request a client certificate but never verifies the client's chain
(aiortc/aioquic#541). So the endpoint calls `verify_peer` on `HandshakeCompleted`, in both
directions, before a single byte from the peer reaches the Driver.

The verifier is aioquic's own `tls.verify_certificate` (validity dates, the name through
`service_identity`, the chain through OpenSSL's X509 store) — no hand-written checks.

The name checked is the host the peer speaks from: the IP of the UDP address its packets come
from (a node is named `host:port` after its socket, and its connections leave from that socket),
which must appear in the certificate's subjectAltName. Nodes sharing an IP share that identity:
the CA vouches for hosts, as TLS hostname verification does, not for ports.
"""

from __future__ import annotations

from aioquic import tls
from cryptography import x509


class PeerRefused(Exception):
    """The peer's certificate does not prove it is a member of this cluster at its address."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason  # a short category: no-certificate, expired, name, chain
        self.detail = detail


def verify_peer(
    certificate: x509.Certificate | None,
    chain: list[x509.Certificate],
    host: str,
    ca_pem: bytes,
) -> None:
    """Raise `PeerRefused` unless `certificate` (+ `chain`) chains to the CA and names `host`."""
    if certificate is None:
        raise PeerRefused("no-certificate", "the peer presented no certificate")
    try:
        tls.verify_certificate(certificate=certificate, chain=chain, server_name=host, cadata=ca_pem)
    except tls.AlertCertificateExpired as exc:
        raise PeerRefused("expired", str(exc)) from None
    except tls.AlertBadCertificate as exc:
        detail = str(exc)
        reason = "name" if "doesn't match" in detail or "subjectAltName" in detail else "chain"
        raise PeerRefused(reason, detail) from None
    except tls.Alert as exc:  # any other verdict of the verifier is a refusal too
        raise PeerRefused("chain", str(exc) or type(exc).__name__) from None


def peer_certificate(context: tls.Context) -> tuple[x509.Certificate | None, list[x509.Certificate]]:
    """The certificate and chain the peer presented in this TLS handshake.

    aioquic keeps them in private attributes and offers no accessor (aiortc/aioquic#586); the
    live tests fail loudly if a release renames them, as every verified handshake would refuse.
    """
    return context._peer_certificate, list(context._peer_certificate_chain)
