"""MatchingEngine from Python: priority, time in force, self-trade prevention, exactness."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from oms.errors import InvalidInput
from oms.matching import MatchingEngine


def test_price_time_priority_at_the_makers_price() -> None:
    m = MatchingEngine()
    m.submit(1, 1, "SELL", "0.5", "100.01")
    m.submit(2, 2, "SELL", "0.25", "100.00")
    m.submit(3, 3, "SELL", "0.25", "100.00")
    r = m.submit(4, 4, "BUY", "0.6", "100.05")
    assert r.status == "FILLED"
    assert [(f.maker_id, f.price, f.qty) for f in r.fills] == [
        (2, Decimal("100"), Decimal("0.25")),
        (3, Decimal("100"), Decimal("0.25")),
        (1, Decimal("100.01"), Decimal("0.1")),
    ]
    assert r.fills[-1].maker_remaining == Decimal("0.4")
    assert m.best_ask() == (Decimal("100.01"), Decimal("0.4"))


@pytest.mark.parametrize(
    ("tif", "price", "status", "fills", "rests"),
    [
        ("GTC", "101", "PARTIALLY_FILLED", 1, True),
        ("IOC", "101", "EXPIRED", 1, False),
        ("FOK", "101", "EXPIRED", 0, False),
        ("POST_ONLY", "101", "REJECTED", 0, False),
        ("POST_ONLY", "99", "NEW", 0, True),
    ],
)
def test_time_in_force(tif: str, price: str, status: str, fills: int, rests: bool) -> None:
    m = MatchingEngine()
    m.submit(1, 1, "SELL", "1", "100")
    r = m.submit(2, 2, "BUY", "2", price, time_in_force=tif)  # type: ignore[arg-type]
    assert (r.status, len(r.fills), m.order(2) is not None) == (status, fills, rests)


def test_market_order_walks_the_book_and_expires_the_rest() -> None:
    m = MatchingEngine()
    m.submit(1, 1, "BUY", "1", "99")
    m.submit(2, 1, "BUY", "1", "98")
    r = m.submit(3, 2, "SELL", "3")
    assert (r.status, r.remaining, [f.price for f in r.fills]) == ("EXPIRED", 1, [99, 98])


def test_self_trade_prevention_expires_the_taker_by_default() -> None:
    m = MatchingEngine()
    m.submit(1, 7, "SELL", "1", "100")
    r = m.submit(2, 7, "BUY", "1", "100")
    assert (r.status, len(r.fills), len(m)) == ("EXPIRED_IN_MATCH", 0, 1)
    r = m.submit(3, 7, "BUY", "1", "100", stp="EXPIRE_MAKER")
    assert r.expired_makers == [(1, Decimal(1))]
    assert r.status == "NEW"


def test_cancel_reduce_depth_and_bad_input() -> None:
    m = MatchingEngine(first_trade_id=1000)
    m.submit(1, 1, "BUY", "3", "10")
    m.submit(2, 2, "BUY", "1", "9.5")
    assert m.reduce(1, "1").qty == 1
    assert m.depth(5) == ([(Decimal(10), Decimal(1)), (Decimal("9.5"), Decimal(1))], [])
    cancelled = m.cancel(2)
    assert cancelled is not None and (cancelled.side, cancelled.price) == ("BUY", Decimal("9.5"))
    assert m.cancel(2) is None
    assert m.submit(3, 3, "SELL", "1", "10").fills[0].trade_id == 1000
    for bad in (
        {"qty": "0"},
        {"qty": 0.5},
        {"price": "-1"},
        {"side": "HOLD"},
        {"time_in_force": "DAY"},
        {"stp": "X"},
    ):
        args: dict[str, object] = {"id": 9, "owner": 1, "side": "BUY", "qty": "1", "price": "1"}
        args.update(bad)
        with pytest.raises(InvalidInput):
            m.submit(**args)  # type: ignore[arg-type]


def test_random_flow_conserves_quantity_exactly() -> None:
    rng = random.Random(7)
    m = MatchingEngine()
    submitted = traded = gone = Decimal(0)
    for i in range(3000):
        qty = Decimal(rng.randint(1, 500)) / 1000
        price = Decimal(rng.randint(9900, 10100)) / 100
        tif = rng.choice(["GTC", "GTC", "IOC", "FOK", "POST_ONLY"])
        r = m.submit(i, rng.randint(1, 5), rng.choice(["BUY", "SELL"]), qty, price, time_in_force=tif)  # type: ignore[arg-type]
        submitted += qty
        traded += 2 * sum((f.qty for f in r.fills), Decimal(0))
        gone += sum((q for _, q in r.expired_makers), Decimal(0))
        if r.status not in ("NEW", "PARTIALLY_FILLED"):
            gone += r.remaining
        bid, ask = m.best_bid(), m.best_ask()
        assert bid is None or ask is None or bid[0] < ask[0]
    bids, asks = m.depth(10_000)
    assert submitted == sum((q for _, q in bids + asks), Decimal(0)) + traded + gone
