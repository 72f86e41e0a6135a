"""Binance request authentication in the simulator, checked against every signature
vector Binance publishes (and the computed RSA/Ed25519 ones) in shared/reference."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from oms.sim.binance import auth
from oms.sim.binance.errors import BinanceApiError


def vectors(shared_dir: Path) -> list[dict[str, Any]]:
    data = json.loads((shared_dir / "reference" / "binance" / "signature_vectors.json").read_text())
    return [v for v in data["vectors"] if v.get("verified_locally") is True]


def key_of(vector: dict[str, Any]) -> auth.ApiKey:
    perms = ["SPOT"]
    if vector["algorithm"].startswith("HMAC"):
        return auth.hmac_key(vector.get("api_key", "k"), vector["secret_key"], "a", perms)
    key = vector["key"]
    if "public_key_pem" in key:
        pem = key["public_key_pem"].encode()
    else:
        public = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key_hex"]))
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return auth.public_key("k", pem, "a", perms)


def payload_of(vector: dict[str, Any]) -> str:
    """Rebuild the signed payload from the request as sent (not from the vector's answer)."""
    if "request_as_published" in vector:
        return auth.ws_payload(vector["request_as_published"]["params"])
    if "query_string" in vector:
        return auth.rest_payload(vector["query_string"], vector["request_body"])
    if "params_in_order_sent" in vector:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in vector["params_in_order_sent"])
        return auth.rest_payload(query, "")
    return str(vector["signature_payload"])


def test_every_verifiable_vector_verifies(shared_dir: Path) -> None:
    checked = 0
    for vector in vectors(shared_dir):
        payload = payload_of(vector)
        if "published" not in vector["id"]:  # the doc's typo'd example signs a stray space
            assert payload == vector["signature_payload"], vector["id"]
        payload = vector["signature_payload"]
        key = key_of(vector)
        signature = vector["expected_signature"]
        auth.verify(key, payload, signature)
        if key.key_type is auth.KeyType.HMAC:
            auth.verify(key, payload, signature.upper())  # HMAC is case-insensitive
        with pytest.raises(BinanceApiError) as caught:
            auth.verify(key, payload + "&x=1", signature)
        assert (caught.value.code, caught.value.msg) == (-1022, "Signature for this request is not valid.")
        checked += 1
    assert checked >= 30


def test_rest_signature_is_read_percent_encoded_from_query_or_body(shared_dir: Path) -> None:
    vector = next(v for v in vectors(shared_dir) if v["id"] == "computed.rsa.timestamp_only")
    query = f"timestamp=1578963600000&signature={vector['expected_signature_percent_encoded']}"
    assert auth.rest_payload(query, "") == "timestamp=1578963600000"
    auth.verify(key_of(vector), auth.rest_payload(query, ""), auth.rest_signature(query, ""))
    with pytest.raises(BinanceApiError) as caught:
        auth.rest_signature("timestamp=1", "")
    assert caught.value.code == -1102


@pytest.mark.parametrize(
    ("timestamp", "window", "code", "words"),
    [
        (1_000_000 - 5001, None, -1021, "outside of the recvWindow"),
        (1_000_000 + 1000, None, -1021, "1000ms ahead"),
        (1_000_000 - 6000, "5999.999", -1021, "outside of the recvWindow"),
        ("12a", None, -1100, "Illegal characters found in parameter 'timestamp'"),
        (None, None, -1102, "Mandatory parameter 'timestamp'"),
        (1_000_000, "60001", -1102, "Cannot be greater than 60000"),
        (1_000_000, "5.0001", -1100, "recvWindow"),
    ],
)
def test_timing_rules(timestamp: object, window: object, code: int, words: str) -> None:
    with pytest.raises(BinanceApiError) as caught:
        auth.check_timestamp(timestamp, window, 1_000_000)
    assert caught.value.code == code
    assert words in caught.value.msg


def test_timing_accepts_the_window_and_microseconds() -> None:
    auth.check_timestamp(1_000_000 - 5000, None, 1_000_000)
    auth.check_timestamp(1_000_000 + 999, "1", 1_000_000)
    now_ms = 1_700_000_000_000
    auth.check_timestamp(now_ms * 1000 - 5_999_999, "6000", now_ms)  # microseconds: 16 digits
    with pytest.raises(BinanceApiError):
        auth.check_timestamp(now_ms * 1000 - 6_000_001, "6000", now_ms)
    assert auth.to_ms("1000000000000000") == Decimal("1000000000000")


def test_keys_unknown_malformed_or_without_permission() -> None:
    store = auth.KeyStore([auth.hmac_key("abc123", "s", "acct", ["SPOT"])])
    assert store.lookup("abc123", "SPOT").account == "acct"
    for api_key, code in ((None, -2014), ("bad key!", -2014), ("nope", -2015)):
        with pytest.raises(BinanceApiError) as caught:
            store.lookup(api_key)
        assert caught.value.code == code and caught.value.http_status == 401
    with pytest.raises(BinanceApiError):
        store.lookup("abc123", "FUTURES")


@pytest.mark.parametrize("kind", list(auth.KeyType))
def test_generated_keys_sign_and_verify(kind: auth.KeyType) -> None:
    import base64
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key, secret = auth.generate_key(kind, "paper")
    payload = auth.ws_payload(
        {"apiKey": key.api_key, "timestamp": 1, "symbol": "BTCUSDT", "newOrderRespType": True}
    )
    assert payload.endswith("newOrderRespType=true&symbol=BTCUSDT&timestamp=1")
    if kind is auth.KeyType.HMAC:
        signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    else:
        private = serialization.load_pem_private_key(secret.encode(), password=None)
        if isinstance(private, rsa.RSAPrivateKey):
            raw = private.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:
            assert isinstance(private, ed25519.Ed25519PrivateKey)
            raw = private.sign(payload.encode())
        signature = base64.b64encode(raw).decode()
    auth.verify(key, payload, signature)
    assert len(key.api_key) == 64 and key.api_key.isalnum()


def test_ws_api_accepts_the_documented_and_the_sdk_encoded_payload() -> None:
    import hashlib
    import hmac
    from urllib.parse import urlencode

    key = auth.hmac_key("k1", "secret", "a", ["SPOT"])
    params: dict[str, object] = {
        "symbol": "BTCUSDT",
        "newClientOrderId": "a b/c:1",
        "timestamp": 5,
        "apiKey": "k1",
    }
    for payload in (auth.ws_payload(params), urlencode(sorted((k, str(v)) for k, v in params.items()))):
        signature = hmac.new(b"secret", payload.encode(), hashlib.sha256).hexdigest()
        auth.verify_ws(key, {**params, "signature": signature}, signature)
    with pytest.raises(BinanceApiError):
        auth.verify_ws(key, params, "0" * 64)
