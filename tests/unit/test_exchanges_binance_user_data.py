"""Every published Binance user-data sample (spot and USD-M) decodes, and the ones that
carry order, fill, balance or position information become the expected normalized
events; the rest decode to nothing instead of breaking the stream."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from oms.exchanges.binance.user_data import (
    AccountConfigUpdate,
    ListenKeyExpired,
    SpotStreamEnd,
    decode_futures,
    decode_spot,
    normalize_futures,
    normalize_spot,
)
from oms.model import (
    BalanceEvent,
    FillEvent,
    Liquidity,
    MarginMode,
    OrderEvent,
    OrderStatus,
    PositionEvent,
    PositionSide,
    Side,
)
from oms.symbols import SymbolMap

D = Decimal
SPOT = SymbolMap("binance:spot", [("ETHBTC", "ETH/BTC"), ("LTCBNB", "LTC/BNB"), ("BTCUSDT", "BTC/USDT")])
FUTURES = SymbolMap(
    "binance:usdm",
    [(s, f"{s[:-4]}/USDT:USDT") for s in ("BTCUSDT", "ETHUSDT", "BNBUSDT", "XEMUSDT")],
)


def samples(shared_dir: Path, name: str) -> dict[str, Any]:
    data = json.loads((shared_dir / "reference/binance" / name).read_text())
    return {s["id"]: s["json"] for s in data["samples"]}


def spot(event: Any) -> list[Any]:
    decoded = decode_spot(json.dumps(event).encode())
    return [] if decoded is None else normalize_spot(decoded, "binance:spot", SPOT.to_unified)


def futures(event: Any) -> list[Any]:
    decoded = decode_futures(json.dumps(event).encode())
    return [] if decoded is None else normalize_futures(decoded, "binance:usdm", FUTURES.to_unified)


def test_spot_execution_reports_become_order_and_fill_events(shared_dir: Path) -> None:
    published = samples(shared_dir, "spot_user_data_events.json")
    [new] = spot(published["current.executionReport.NEW"])
    assert new == OrderEvent(
        venue="binance:spot",
        symbol="ETH/BTC",
        status=OrderStatus.NEW,
        client_order_id="mUvoqJxFIILMdfAW5iGSOW",
        venue_order_id="4293153",
        filled_qty=D(0),
        filled_quote=D(0),
        ts_ns=1499405658658 * 1_000_000,
    )
    assert spot(published["legacy.executionReport.NEW"]) == [new], "the listenKey form decodes alike"
    sequence = [event for frame in published["faq.market_order_expired.sequence"] for event in spot(frame)]
    fills = [e.fill for e in sequence if isinstance(e, FillEvent)]
    assert [(f.trade_id, f.qty, f.price, f.fee, f.fee_asset, f.liquidity, f.side) for f in fills] == [
        ("7", D(2), D(1), D("0.001"), "BNB", Liquidity.TAKER, Side.BUY),
        ("8", D(2), D(1), D("0.001"), "BNB", Liquidity.TAKER, Side.BUY),
    ]
    orders = [e for e in sequence if isinstance(e, OrderEvent)]
    assert [(o.status, o.filled_qty, o.filled_quote) for o in orders] == [
        (OrderStatus.NEW, D(0), D(0)),
        (OrderStatus.PARTIALLY_FILLED, D(2), D(2)),
        (OrderStatus.PARTIALLY_FILLED, D(4), D(4)),
        (OrderStatus.EXPIRED, D(4), D(4)),
    ]
    [balances] = [e for e in sequence if isinstance(e, BalanceEvent)]
    assert [(b.asset, b.free, b.locked) for b in balances.balances] == [
        ("LTC", D("3011.1174567"), D(0)),
        ("BNB", D("996.1186567"), D(0)),
    ]


def test_a_cancel_reports_the_canceled_orders_id(shared_dir: Path) -> None:
    report = samples(shared_dir, "spot_user_data_events.json")["legacy.executionReport.NEW"]
    canceled = report | {"x": "CANCELED", "X": "CANCELED", "c": "cancel-req-1", "C": "my-order-1"}
    [event] = spot(canceled)
    assert (event.status, event.client_order_id) == (OrderStatus.CANCELED, "my-order-1")


def test_spot_balances_and_events_we_do_not_model(shared_dir: Path) -> None:
    published = samples(shared_dir, "spot_user_data_events.json")
    [balances] = spot(published["current.event_format_example"])
    assert [(b.asset, b.free, b.locked) for b in balances.balances] == [
        ("BTC", D(11818), D(182)),
        ("USDT", D(10580), D(70)),
    ]
    for sample in ("current.balanceUpdate", "current.externalLockUpdate", "current.listStatus"):
        assert spot(published[sample]) == [], sample
    assert isinstance(
        decode_spot(json.dumps(published["current.eventStreamTerminated"]).encode()), SpotStreamEnd
    )
    assert isinstance(
        decode_spot(json.dumps(published["legacy.listenKeyExpired"]).encode()), ListenKeyExpired
    )
    every = [value for key, value in published.items() if key != "faq.market_order_expired.sequence"]
    for value in every:
        spot(value)  # every published spot sample decodes (or is knowingly skipped)


def test_futures_order_updates_fills_and_algo_updates(shared_dir: Path) -> None:
    published = samples(shared_dir, "futures_user_data_events.json")
    [new] = futures(published["ORDER_TRADE_UPDATE.NEW.TRAILING_STOP_MARKET"])
    assert (new.symbol, new.status, new.client_order_id, new.venue_order_id) == (
        "BTC/USDT:USDT",
        OrderStatus.NEW,
        "TEST",
        "8886774",
    )
    trade = published["ORDER_TRADE_UPDATE.NEW.TRAILING_STOP_MARKET"]
    order = trade["o"] | {"x": "TRADE", "X": "PARTIALLY_FILLED", "l": "0.0005", "z": "0.0005", "L": "7100"}
    order |= {"ap": "7100", "n": "0.0017750", "t": 42, "m": True}
    fill_event, update = futures(trade | {"o": order})
    assert isinstance(fill_event, FillEvent)
    assert (
        fill_event.fill.trade_id,
        fill_event.fill.qty,
        fill_event.fill.fee,
        fill_event.fill.liquidity,
    ) == (
        "42",
        D("0.0005"),
        D("0.001775"),
        Liquidity.MAKER,
    )
    assert (update.status, update.filled_qty, update.filled_quote) == (
        OrderStatus.PARTIALLY_FILLED,
        D("0.0005"),
        D("3.55"),
    )
    [algo] = futures(published["ALGO_UPDATE.CANCELED"])
    assert (algo.status, algo.client_order_id, algo.venue_order_id, algo.reason) == (
        OrderStatus.CANCELED,
        "Q5xaq5EGKgXXa0fD7fs0Ip",
        "algo:2148719",
        "Reduce Only reject",
    )


def test_futures_account_updates_become_balances_and_positions(shared_dir: Path) -> None:
    published = samples(shared_dir, "futures_user_data_events.json")
    balances, positions = futures(published["ACCOUNT_UPDATE.ORDER"])
    assert isinstance(balances, BalanceEvent) and isinstance(positions, PositionEvent)
    assert [(b.asset, b.free) for b in balances.balances] == [("USDT", D("122624.12345678")), ("BUSD", D(1))]
    long, short = positions.positions[1], positions.positions[2]
    assert (long.side, long.qty, long.entry_price, long.margin_mode) == (
        PositionSide.LONG,
        D(20),
        D("6563.665"),
        MarginMode.ISOLATED,
    )
    assert (short.side, short.qty, short.unrealized_pnl) == (PositionSide.SHORT, D(10), D("-1423.156"))
    [_, one_way] = futures(published["real_world_captures.ACCOUNT_UPDATE.ORDER.BTCUSDT_short"])
    assert (one_way.positions[0].qty, one_way.positions[0].side) == (D("-0.001"), PositionSide.BOTH)
    [deposit] = futures(published["real_world_captures.ACCOUNT_UPDATE.ADMIN_DEPOSIT"])
    assert isinstance(deposit, BalanceEvent) and deposit.balances[0].free == D("5735.79804855")


def test_futures_events_we_do_not_model_decode_to_nothing(shared_dir: Path) -> None:
    published = samples(shared_dir, "futures_user_data_events.json")
    for sample in (
        "MARGIN_CALL",
        "ACCOUNT_CONFIG_UPDATE.leverage",
        "ACCOUNT_CONFIG_UPDATE.multi_assets",
        "TRADE_LITE",
        "CONDITIONAL_ORDER_TRIGGER_REJECT.deprecated",
        "real_world_captures.bookTicker.XEMUSDT",
    ):
        assert futures(published[sample]) == [], sample
    assert isinstance(decode_futures(json.dumps(published["listenKeyExpired"]).encode()), ListenKeyExpired)


def test_a_leverage_change_is_decoded_for_the_settings_cache(shared_dir: Path) -> None:
    published = samples(shared_dir, "futures_user_data_events.json")
    change = decode_futures(json.dumps(published["ACCOUNT_CONFIG_UPDATE.leverage"]).encode())
    assert isinstance(change, AccountConfigUpdate) and change.leverage is not None
    assert (change.leverage.symbol, change.leverage.leverage) == ("BTCUSDT", 25)
    other = decode_futures(json.dumps(published["ACCOUNT_CONFIG_UPDATE.multi_assets"]).encode())
    assert isinstance(other, AccountConfigUpdate) and other.leverage is None


def test_a_malformed_known_event_is_an_error_not_silence() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_futures(b'{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"BTCUSDT"}}')
