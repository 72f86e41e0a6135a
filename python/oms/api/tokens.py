"""Bearer tokens: who may call the API, and for what (scopes ``read``, ``trade``, ``admin``).

A token is 32 random bytes (``oms_`` + URL-safe base64), shown once when created; the
store keeps only its SHA-256. A fast hash is right here: the token is a random key, not
a password, so there is nothing to brute-force that a slow hash would protect. The
file (``tokens.json``, mode 0600) is re-read when it changes, so ``oms token create``
works against a running server.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path

import msgspec

from oms.errors import InvalidInput

SCOPES = ("read", "trade", "admin")
PREFIX = "oms_"


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    scopes: tuple[str, ...]
    sha256: str
    created_ns: int
    rate_per_s: float | None = None  # this client's request rate; None: the server's default
    burst: float | None = None


class _File(msgspec.Struct):
    tokens: list[TokenInfo] = msgspec.field(default_factory=list)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Tokens in ``path``; ``verify`` is a dict lookup (and a stat() for unknown ones)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._by_digest: dict[str, TokenInfo] = {}
        self._mtime_ns = -1
        self._load()

    def create(
        self,
        name: str,
        scopes: list[str] | tuple[str, ...],
        *,
        rate_per_s: float | None = None,
        burst: float | None = None,
    ) -> str:
        """A new token with these scopes (replacing any of the same name), with its own
        request rate if given; returns it (the only time it is seen)."""
        bad = sorted(set(scopes) - set(SCOPES))
        if bad or not scopes:
            raise InvalidInput(f"scopes: {bad or 'none'} (choose from {', '.join(SCOPES)})", field="scopes")
        if not name or len(name) > 64:
            raise InvalidInput("name: 1 to 64 characters", field="name")
        if (rate_per_s is not None and rate_per_s <= 0) or (burst is not None and burst < 1):
            raise InvalidInput("rate_per_s must be > 0 and burst >= 1", field="rate_per_s")
        token = PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            name=name,
            scopes=tuple(s for s in SCOPES if s in scopes),
            sha256=digest(token),
            created_ns=time.time_ns(),
            rate_per_s=rate_per_s,
            burst=burst,
        )
        self._load()
        records = [t for t in self._by_digest.values() if t.name != name] + [info]
        self._write(records)
        return token

    def revoke(self, name: str) -> bool:
        self._load()
        records = [t for t in self._by_digest.values() if t.name != name]
        removed = len(records) != len(self._by_digest)
        self._write(records)
        return removed

    def verify(self, token: str) -> TokenInfo | None:
        info = self._by_digest.get(digest(token))
        if info is None and self._maybe_changed():
            self._load()
            info = self._by_digest.get(digest(token))
        return info

    def names(self) -> list[TokenInfo]:
        self._load()
        return sorted(self._by_digest.values(), key=lambda t: t.name)

    def _maybe_changed(self) -> bool:
        """One stat() per unknown token: cheap beside the TLS and RPC it came with."""
        try:
            return self.path.stat().st_mtime_ns != self._mtime_ns
        except FileNotFoundError:
            return False

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
            self._mtime_ns = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        records = msgspec.json.decode(raw, type=_File).tokens
        self._by_digest = {t.sha256: t for t in records}

    def _write(self, records: list[TokenInfo]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(msgspec.json.format(msgspec.json.encode(_File(records)), indent=2))
        os.replace(tmp, self.path)
        self._by_digest = {t.sha256: t for t in records}
        self._mtime_ns = self.path.stat().st_mtime_ns
