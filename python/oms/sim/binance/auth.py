"""Request authentication exactly as Binance does it.

* REST: the payload is the query string concatenated, with no separator, with the
  request body (both as sent, i.e. percent-encoded), without the ``signature``
  parameter. HMAC-SHA256 signatures are hex (case-insensitive); RSA (PKCS#1 v1.5,
  SHA-256) and Ed25519 signatures are base64, percent-encoded in the request.
* WebSocket API: every parameter except ``signature`` (``apiKey`` included), sorted by
  name, joined as ``name=value`` with ``&``, not percent-encoded (Binance's documented
  form); the official SDKs sign the percent-encoded form, so that is accepted too.
* Timing: ``timestamp`` (ms, or us when it has 16 digits) must satisfy
  ``timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow``
  (recvWindow: ms, default 5000, at most 60000, up to 3 decimals).

Failures raise :class:`BinanceApiError` with Binance's codes: -2014 (key format),
-2015 (unknown key or missing permission), -1022 (signature), -1021 (timestamp),
-1100/-1102 (malformed or missing parameters).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from urllib.parse import unquote, urlencode

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from oms.sim.binance import errors

_API_KEY = re.compile(r"^[A-Za-z0-9]{1,128}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,20}$")
_RECV_WINDOW = re.compile(r"^[0-9]{1,5}(\.[0-9]{1,3})?$")
MAX_RECV_WINDOW_MS = Decimal(60000)
DEFAULT_RECV_WINDOW_MS = Decimal(5000)

PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey


class KeyType(StrEnum):
    HMAC = "HMAC"
    RSA = "RSA"
    ED25519 = "ED25519"


class ApiKey(msgspec.Struct, frozen=True):
    """A key the simulated venue knows: its type, what verifies it, whose it is."""

    api_key: str
    key_type: KeyType
    account: str
    permissions: frozenset[str]  # e.g. {"SPOT", "FUTURES", "TRADE", "USER_DATA"}
    secret: bytes | None = None  # HMAC only
    public_key_pem: bytes | None = None  # RSA / Ed25519

    def public_key(self) -> PublicKey:
        if self.public_key_pem is None:
            raise errors.rejected_key()
        key = serialization.load_pem_public_key(self.public_key_pem)
        if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
            raise errors.rejected_key()
        return key


def hmac_key(api_key: str, secret: str, account: str, permissions: Iterable[str]) -> ApiKey:
    return ApiKey(api_key, KeyType.HMAC, account, frozenset(permissions), secret=secret.encode())


def public_key(api_key: str, public_pem: bytes, account: str, permissions: Iterable[str]) -> ApiKey:
    """An RSA or Ed25519 key registered by its public key (PEM), as on Binance."""
    loaded = serialization.load_pem_public_key(public_pem)
    if isinstance(loaded, ed25519.Ed25519PublicKey):
        kind = KeyType.ED25519
    elif isinstance(loaded, rsa.RSAPublicKey):
        kind = KeyType.RSA
    else:
        raise ValueError("only RSA and Ed25519 public keys are supported")
    return ApiKey(api_key, kind, account, frozenset(permissions), public_key_pem=public_pem)


class KeyStore:
    """The venue's registered keys."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self._keys = {k.api_key: k for k in keys}

    def add(self, key: ApiKey) -> None:
        self._keys[key.api_key] = key

    def lookup(self, api_key: str | None, permission: str | None = None) -> ApiKey:
        """The key, or -2014 (format) / -2015 (unknown or lacking `permission`)."""
        if not api_key or not _API_KEY.match(api_key):
            raise errors.bad_key_format()
        key = self._keys.get(api_key)
        if key is None or (permission is not None and permission not in key.permissions):
            raise errors.rejected_key()
        return key


def _without_signature(part: str) -> str:
    return "&".join(p for p in part.split("&") if p and not p.startswith("signature="))


def _signature_of(part: str) -> str | None:
    for p in part.split("&"):
        if p.startswith("signature="):
            return p[len("signature=") :]
    return None


def rest_payload(query: str, body: str) -> str:
    """What a REST request signs: query string + body, as sent, minus ``signature``."""
    return _without_signature(query) + _without_signature(body)


def rest_signature(query: str, body: str) -> str:
    """The ``signature`` parameter of a REST request (query or body), or -1102."""
    found = _signature_of(query) or _signature_of(body)
    if not found:
        raise errors.mandatory("signature")
    return unquote(found)


def ws_value(value: object) -> str:
    """A WebSocket API parameter as it appears in the signed payload."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ws_payload(params: Mapping[str, object]) -> str:
    """What a WebSocket API request signs: params except ``signature``, sorted by name."""
    items = sorted((k, ws_value(v)) for k, v in params.items() if k != "signature")
    return "&".join(f"{k}={v}" for k, v in items)


def ws_payload_encoded(params: Mapping[str, object]) -> str:
    """The same, percent-encoded: what the official SDKs actually sign (it equals
    ``ws_payload`` unless a value holds reserved characters, so both are accepted)."""
    items = sorted((k, ws_value(v)) for k, v in params.items() if k != "signature")
    return urlencode(items)


def verify_ws(key: ApiKey, params: Mapping[str, object], signature: str) -> None:
    """Verify a WebSocket API request in the documented form, or the SDKs' encoded one."""
    try:
        verify(key, ws_payload(params), signature)
    except errors.BinanceApiError:
        encoded = ws_payload_encoded(params)
        if encoded == ws_payload(params):
            raise
        verify(key, encoded, signature)


def verify(key: ApiKey, payload: str, signature: str) -> None:
    """Check `signature` over `payload` (UTF-8) with `key`; -1022 when it does not verify."""
    data = payload.encode()
    if key.key_type is KeyType.HMAC:
        assert key.secret is not None
        expected = hmac.new(key.secret, data, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise errors.bad_signature()
        return
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise errors.bad_signature() from None
    public = key.public_key()
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(raw, data)
        else:
            public.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise errors.bad_signature() from None


def to_ms(timestamp: object) -> Decimal:
    """``timestamp`` in ms: 13 digits are ms, 16 are us (Binance accepts both)."""
    text = ws_value(timestamp) if timestamp is not None else ""
    if not text:
        raise errors.mandatory("timestamp")
    if not _TIMESTAMP.match(text):
        raise errors.illegal_chars("timestamp", "^[0-9]{1,20}$")
    value = Decimal(text)
    return value / 1000 if len(text) >= 16 else value


def recv_window_ms(recv_window: object) -> Decimal:
    if recv_window is None or recv_window == "":
        return DEFAULT_RECV_WINDOW_MS
    text = ws_value(recv_window)
    try:
        if not _RECV_WINDOW.match(text):
            raise InvalidOperation
        window = Decimal(text)
    except InvalidOperation:
        raise errors.illegal_chars("recvWindow", "^[0-9]{1,5}(\\.[0-9]{1,3})?$") from None
    if window > MAX_RECV_WINDOW_MS:
        raise errors.BinanceApiError(
            -1102, "'recvWindow' contains unexpected value. Cannot be greater than 60000."
        )
    return window


def check_timestamp(timestamp: object, recv_window: object, server_ms: Decimal | int) -> None:
    """Binance's timing rule; -1021 with its two messages."""
    ts = to_ms(timestamp)
    window = recv_window_ms(recv_window)
    now = Decimal(server_ms)
    if ts >= now + 1000:
        raise errors.timestamp_ahead()
    if now - ts > window:
        raise errors.timestamp_outside_window()


def generate_key(
    key_type: KeyType, account: str, permissions: Iterable[str] = ("SPOT", "FUTURES", "TRADE", "USER_DATA")
) -> tuple[ApiKey, str]:
    """A fresh key for paper trading: (the venue's record, the secret material to give the
    client: the HMAC secret, or the private key as unencrypted PKCS#8 PEM)."""
    api_key = secrets.token_urlsafe(48).replace("-", "A").replace("_", "B")[:64]
    if key_type is KeyType.HMAC:
        secret = secrets.token_urlsafe(48).replace("-", "C").replace("_", "D")[:64]
        return hmac_key(api_key, secret, account, permissions), secret
    private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey = (
        ed25519.Ed25519PrivateKey.generate()
        if key_type is KeyType.ED25519
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return public_key(api_key, pem, account, permissions), private_pem
