"""Node identities for the live runtime: a cluster CA and the node certificates it signs.

This module owns making, saving and loading keys and certificates (P-256, made with
`cryptography`); checking a peer's certificate is `live/identity.py`'s job. Two kinds:

- `ClusterCA().issue(host)`: a node certificate signed by the cluster CA, naming `host` (an IP
  or DNS name) in its subjectAltName. With such credentials an endpoint requires a certificate
  from the cluster CA of every peer, in both directions (mutual TLS).
- `self_signed(host)`: a throw-away certificate and no CA (`ca_pem is None`): encryption, no
  identity, nobody verified. For tests of the transport's mechanics only.

On disk (`swimlab ca init DIR`, `swimlab ca issue DIR NAME`): `DIR/ca.crt`, `DIR/ca.key`,
`DIR/NAME.crt`, `DIR/NAME.key`, PEM, keys readable by their owner only.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NODE_VALIDITY = datetime.timedelta(days=365)
CA_VALIDITY = datetime.timedelta(days=3650)
CLOCK_SKEW = datetime.timedelta(minutes=5)  # hosts whose clocks lag still accept a fresh cert


class CredentialsError(ValueError):
    """A key or certificate file is missing, unreadable or not what it should be."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one endpoint presents, and the CA it requires of peers (None: no checking)."""

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
    hosts: Sequence[str],
    not_before: datetime.datetime,
    not_after: datetime.datetime,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def self_signed(host: str = "127.0.0.1") -> Credentials:
    """A fresh key and a certificate signed by itself, and no CA: peers are not verified."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = _certificate(
        host,
        key,
        host,
        key,
        is_ca=False,
        hosts=[host],
        not_before=now - CLOCK_SKEW,
        not_after=now + NODE_VALIDITY,
    )
    return Credentials(cert, key)


class ClusterCA:
    """A cluster's certificate authority: made fresh (`ClusterCA()`) or loaded (`ClusterCA.load`)."""

    def __init__(
        self,
        name: str = "swimlab cluster CA",
        *,
        key: ec.EllipticCurvePrivateKey | None = None,
        certificate: x509.Certificate | None = None,
    ) -> None:
        self.name = name
        self._key = key or ec.generate_private_key(ec.SECP256R1())
        if certificate is None:
            now = _now()
            certificate = _certificate(
                name,
                self._key,
                name,
                self._key,
                is_ca=True,
                hosts=(),
                not_before=now - CLOCK_SKEW,
                not_after=now + CA_VALIDITY,
            )
        self.certificate = certificate
        self.pem = certificate.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        host: str = "127.0.0.1",
        *,
        extra_hosts: Sequence[str] = (),
        name: str | None = None,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
    ) -> Credentials:
        """A new key and a node certificate for `host` (+ `extra_hosts`) in its subjectAltName.

        `not_before` / `not_after` default to a 5-minute skew allowance and `NODE_VALIDITY`.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        cert = _certificate(
            name or host,
            key,
            self.name,
            self._key,
            is_ca=False,
            hosts=[host, *extra_hosts],
            not_before=not_before or now - CLOCK_SKEW,
            not_after=not_after or now + NODE_VALIDITY,
        )
        return Credentials(cert, key, self.pem)

    # On disk --------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Write `ca.crt` and `ca.key` into `directory` (created); refuses to overwrite a CA."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "ca.key").exists():
            raise CredentialsError(f"{folder / 'ca.key'} already exists: refusing to replace a cluster CA")
        (folder / "ca.crt").write_bytes(self.pem)
        _write_key(folder / "ca.key", self._key)

    @classmethod
    def load(cls, directory: str | Path) -> ClusterCA:
        folder = Path(directory)
        certificate = load_certificate(folder / "ca.crt")
        key = load_private_key(folder / "ca.key")
        if key.public_key().public_numbers() != _ec_public(certificate).public_numbers():
            raise CredentialsError(f"{folder / 'ca.key'} is not the key of {folder / 'ca.crt'}")
        name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        return cls(str(name), key=key, certificate=certificate)

    def issue_to(self, directory: str | Path, name: str, hosts: Sequence[str]) -> tuple[Path, Path]:
        """Issue a certificate for `hosts` and write `NAME.crt`, `NAME.key`; their paths."""
        if not hosts:
            raise CredentialsError("a node certificate needs at least one host (an IP or DNS name)")
        if not name or "/" in name or name.startswith(".") or name == "ca":
            raise CredentialsError(f"certificate name {name!r}: expected a plain file name other than 'ca'")
        creds = self.issue(hosts[0], extra_hosts=hosts[1:], name=name)
        folder = Path(directory)
        cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
        cert_path.write_bytes(creds.certificate.public_bytes(serialization.Encoding.PEM))
        _write_key(key_path, creds.private_key)
        return cert_path, key_path


def load_credentials(ca_file: str | Path, cert_file: str | Path, key_file: str | Path) -> Credentials:
    """A node's credentials from PEM files; the key must belong to the certificate."""
    ca_pem = _read(ca_file)
    try:
        x509.load_pem_x509_certificate(ca_pem)
    except ValueError as exc:
        raise CredentialsError(f"{ca_file}: not a PEM certificate ({exc})") from None
    certificate = load_certificate(cert_file)
    key = load_private_key(key_file)
    if key.public_key().public_numbers() != _ec_public(certificate).public_numbers():
        raise CredentialsError(f"{key_file} is not the key of {cert_file}")
    return Credentials(certificate, key, ca_pem)


def load_certificate(path: str | Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_read(path))
    except ValueError as exc:
        raise CredentialsError(f"{path}: not a PEM certificate ({exc})") from None


def load_private_key(path: str | Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialsError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CredentialsError(f"{path}: expected an EC private key, got {type(key).__name__}")
    return key


def _ec_public(certificate: x509.Certificate) -> ec.EllipticCurvePublicKey:
    public = certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise CredentialsError(f"expected an EC certificate, got a {type(public).__name__} key")
    return public


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CredentialsError(f"{path}: {exc.strerror or exc}") from None


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
