"""Client order ids: unique within and across sessions, legal on every venue we plan,
recognisable as ours."""

from __future__ import annotations

import re
import threading

import pytest

from oms.exchanges.client_ids import ClientOrderIds

VENUE_RULES = {
    "binance spot": re.compile(r"[a-zA-Z0-9-_]{1,36}"),
    "binance usdm": re.compile(r"[\.A-Z\:/a-z0-9_-]{1,36}"),
    "bybit": re.compile(r"[A-Za-z0-9_-]{1,36}"),
    "okx": re.compile(r"[A-Za-z0-9]{1,32}"),
}


def test_unique_legal_and_ours() -> None:
    ids = ClientOrderIds("oms")
    made = [ids.next() for _ in range(100_000)]
    assert len(set(made)) == len(made)
    for venue, rule in VENUE_RULES.items():
        assert all(rule.fullmatch(i) for i in made[:1000] + made[-10:]), venue
    assert all(ids.is_ours(i) and ids.is_this_session(i) for i in made[:100])
    assert not ids.is_ours("web_8Q1x2") and not ids.is_ours("oms") and not ids.is_ours(made[0] + "x")


def test_sessions_never_share_ids_and_still_recognise_each_other() -> None:
    first, later = (
        ClientOrderIds("desk1", now_ms=1_700_000_000_000),
        ClientOrderIds("desk1", now_ms=1_700_000_000_001),
    )
    a, b = {first.next() for _ in range(1000)}, {later.next() for _ in range(1000)}
    assert not a & b
    assert all(later.is_ours(i) and not later.is_this_session(i) for i in a)
    other_desk = ClientOrderIds("desk2")
    assert not any(other_desk.is_ours(i) for i in a)


def test_threads_never_get_the_same_id() -> None:
    ids, out = ClientOrderIds("t"), []
    lock = threading.Lock()

    def take() -> None:
        mine = [ids.next() for _ in range(5000)]
        with lock:
            out.extend(mine)

    workers = [threading.Thread(target=take) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert len(out) == len(set(out)) == 20_000


def test_bad_prefixes_are_refused() -> None:
    for prefix in ("", "with-dash", "toolongprefix"):
        with pytest.raises(ValueError, match="prefix"):
            ClientOrderIds(prefix)
