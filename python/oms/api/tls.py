"""TLS for the gRPC API: a development CA made on first run, or production files.

``ensure_dev_pki(dir)`` creates, once, a private CA (``ca.pem``) and a server
certificate it signed for ``localhost``, ``127.0.0.1`` and ``::1`` (ECDSA P-256, keys
mode 0600). Clients trust ``ca.pem``. ``issue_client_cert`` signs client certificates
for mutual TLS. In production, point ``TlsFiles`` at the real files instead.

TLS 1.3 only: grpcio cannot set a minimum version, so ``oms.api.guard`` refuses every
RPC on a connection that negotiated less (docs/api.md has the handshake-level option).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # the server's certificate chain (PEM)
    key: Path  # its private key (PEM)
    client_ca: Path | None = None  # set: mutual TLS, clients need a certificate this CA signed

    def server_credentials(self) -> grpc.ServerCredentials:
        pair = [(self.key.read_bytes(), self.cert.read_bytes())]
        if self.client_ca is None:
            return grpc.ssl_server_credentials(pair)
        return grpc.ssl_server_credentials(
            pair, root_certificates=self.client_ca.read_bytes(), require_client_auth=True
        )


def ensure_dev_pki(directory: Path | str) -> TlsFiles:
    """The development CA and server certificate under ``directory`` (made if missing)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "server.pem").exists():
        ca_key, ca_cert = _make_ca()
        _write(d / "ca.key", _key_pem(ca_key), private=True)
        _write(d / "ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
        key, cert = _issue(ca_key, ca_cert, "oms server", SERVER_NAMES, server=True)
        _write(d / "server.key", _key_pem(key), private=True)
        _write(d / "server.pem", cert.public_bytes(serialization.Encoding.PEM))
    return TlsFiles(cert=d / "server.pem", key=d / "server.key")


def issue_client_cert(directory: Path | str, name: str) -> tuple[Path, Path]:
    """A client certificate signed by the dev CA: (cert, key) paths, for mutual TLS."""
    d = Path(directory)
    ca_key = serialization.load_pem_private_key((d / "ca.key").read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate((d / "ca.pem").read_bytes())
    key, cert = _issue(ca_key, ca_cert, name, (), server=False)
    cert_path, key_path = d / f"client-{name}.pem", d / f"client-{name}.key"
    _write(key_path, _key_pem(key), private=True)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oms development CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    common_name: str,
    names: tuple[str, ...],
    *,
    server: bool,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """The mode set on the open file too: ``O_CREAT``'s mode applies only to a new file,
    and a key written over an old, looser one must not keep its mode."""
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)
        out.write(data)
