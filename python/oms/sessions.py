"""Sessions for API clients: opaque tokens with expiry, kept in memory (no Redis).

Only a SHA-256 of each token is stored, so a memory dump of the server does not
reveal live tokens. Expiry slides forward on ``touch``."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable

import msgspec

from oms.errors import InvalidInput


class Session(msgspec.Struct, frozen=True):
    client_id: str
    scopes: frozenset[str]
    created: float
    expires_at: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        if ttl <= 0:
            raise InvalidInput(f"ttl: {ttl} must be positive seconds", field="ttl")
        self.ttl = ttl
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, client_id: str, scopes: Iterable[str] = ()) -> tuple[str, Session]:
        """A new session; returns (token, session). The token is shown once."""
        if not client_id:
            raise InvalidInput("client_id must not be empty", field="client_id")
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(client_id, frozenset(scopes), now, now + self.ttl)
        with self._lock:
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str) -> Session | None:
        """The live session of `token`, or None (unknown or expired; expired ones are dropped)."""
        key = _digest(token)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if session.expires_at <= self._clock():
                del self._sessions[key]
                return None
            return session

    def touch(self, token: str) -> Session | None:
        """Extend a live session by the TTL from now."""
        key = _digest(token)
        with self._lock:
            session = self._sessions.get(key)
            now = self._clock()
            if session is None or session.expires_at <= now:
                self._sessions.pop(key, None)
                return None
            renewed = msgspec.structs.replace(session, expires_at=now + self.ttl)
            self._sessions[key] = renewed
            return renewed

    def revoke(self, token: str) -> bool:
        with self._lock:
            return self._sessions.pop(_digest(token), None) is not None

    def revoke_client(self, client_id: str) -> int:
        with self._lock:
            keys = [k for k, s in self._sessions.items() if s.client_id == client_id]
            for key in keys:
                del self._sessions[key]
            return len(keys)

    def purge_expired(self) -> int:
        with self._lock:
            now = self._clock()
            keys = [k for k, s in self._sessions.items() if s.expires_at <= now]
            for key in keys:
                del self._sessions[key]
            return len(keys)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
