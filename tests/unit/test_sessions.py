"""SessionStore: tokens, scopes, sliding expiry, revocation."""

from __future__ import annotations

import pytest

from oms.errors import InvalidInput
from oms.sessions import SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_sessions_expire_and_touch_extends() -> None:
    clock = Clock()
    store = SessionStore(ttl=60, clock=clock)
    token, session = store.create("desk-1", {"read", "trade"})
    assert len(token) >= 40 and session.scopes == {"read", "trade"}
    clock.now += 50
    assert store.touch(token) is not None
    clock.now += 50
    assert store.get(token) is not None, "touch slid the expiry"
    clock.now += 61
    assert store.get(token) is None
    assert store.touch(token) is None
    assert len(store) == 0


def test_revocation_and_purge() -> None:
    clock = Clock()
    store = SessionStore(ttl=10, clock=clock)
    a, _ = store.create("a")
    store.create("b")
    store.create("b")
    assert store.revoke(a) and not store.revoke(a)
    assert store.revoke_client("b") == 2
    store.create("c")
    clock.now += 11
    assert store.purge_expired() == 1
    assert store.get("not-a-token") is None
    with pytest.raises(InvalidInput):
        store.create("")


def test_tokens_are_not_stored_in_clear() -> None:
    store = SessionStore(ttl=10)
    token, _ = store.create("x")
    assert token not in repr(vars(store))
