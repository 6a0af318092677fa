"""Node identities for the live runtime: TLS certificates made in-process with `cryptography`.

This module owns key and certificate generation; nothing touches the disk. Two kinds:

- `self_signed(host)`: a throw-away EC certificate. Peers accept it without verification
  (`ca_pem is None` → the client side runs with `ssl.CERT_NONE`): encryption, no identity.
- `ClusterCA().issue(host)`: a node certificate signed by a cluster CA. A client verifies the
  server's chain against the CA and the server's IP in the subjectAltName, so a node only
  talks to servers the cluster CA vouches for.

Not mutual TLS: aioquic 1.7.2 verifies only the server's certificate. Its server can request
a client certificate (`tls.Context._request_client_certificate`, "for test purposes only") but
then checks the signature and never the chain, so a node without a valid certificate can still
connect *to* us. Refusing such clients needs an aioquic change or a verification hook.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_VALIDITY = datetime.timedelta(days=7)
_CLOCK_SKEW = datetime.timedelta(minutes=5)  # hosts whose clocks lag still accept a fresh cert


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one endpoint presents, and the CA it checks servers against (None: no checking)."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey
    ca_pem: bytes | None = None


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    is_ca: bool,
    host: str | None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if host is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(host)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def self_signed(host: str = "127.0.0.1") -> Credentials:
    """A fresh P-256 key and a certificate signed by itself; peers will not verify it."""
    key = ec.generate_private_key(ec.SECP256R1())
    return Credentials(_certificate(host, key, host, key, is_ca=False, host=host), key)


class ClusterCA:
    """A cluster's certificate authority, kept in memory for the life of the process."""

    def __init__(self, name: str = "swimlab cluster CA") -> None:
        self.name = name
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = _certificate(name, self._key, name, self._key, is_ca=True, host=None)
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, host: str = "127.0.0.1") -> Credentials:
        """A node certificate for `host` (an IP or DNS name, put in the subjectAltName)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(host, key, self.name, self._key, is_ca=False, host=host)
        return Credentials(cert, key, self.pem)
