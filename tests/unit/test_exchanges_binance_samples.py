"""Every published Binance sample of an order answer (spot and USD-M, REST and WebSocket
API) and of market data becomes the expected normalized ``oms.model`` object through our
pure parsers (``responses``, ``market_data``, ``depth``). Every sample we do not parse is
listed in a ``NOT_PARSED`` dict with the reason, so a new sample in the reference files
fails ``test_every_sample_is_parsed_or_listed`` until someone decides what it is.

Expected values are copied from the samples (``/work/shared/reference/binance``)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from oms.exchanges.binance import market_data, responses
from oms.exchanges.binance.depth import DepthSnapshot, DepthUpdate
from oms.model import (
    Balance,
    BookLevel,
    FeeRates,
    Fill,
    Liquidity,
    MarginMode,
    MarkPrice,
    OrderBook,
    OrderEvent,
    OrderStatus,
    Position,
    PositionSide,
    Side,
    Trade,
)
from oms.symbols import SymbolMap

D = Decimal
MS = 1_000_000
NOW = 1_700_000_000_123_456_789  # "now" for answers that carry no time
SPOT_VENUE, USDM_VENUE = "binance:spot", "binance:usdm"
SPOT = SymbolMap(
    SPOT_VENUE,
    [(s, f"{s[:3]}/{s[3:]}") for s in ("BTCUSDT", "LTCBTC", "LTCBNB", "BNBBTC", "BNBUSDT", "ETHBTC")],
)
USDM = SymbolMap(
    USDM_VENUE, [(s, f"{s[:-4]}/USDT:USDT") for s in ("BTCUSDT", "BNBUSDT", "ADAUSDT", "COMPUSDT")]
)

SPOT_FILE = "spot_order_responses.json"
FUTURES_FILE = "futures_responses.json"
MARKET_FILE = "market_data_events.json"


def samples(shared_dir: Path, name: str) -> dict[str, Any]:
    data = json.loads((shared_dir / "reference/binance" / name).read_text())
    return {s["id"]: s["json"] for s in data["samples"]}


def at(payload: Any, path: str) -> Any:
    """The part of a sample at a dotted path ("" is the whole; digits index lists)."""
    for key in filter(None, path.split(".")):
        payload = payload[int(key)] if isinstance(payload, list) else payload[key]
    return payload


def order_paths(payload: Any, path: str = "") -> set[str]:
    """Where the order objects of a sample are: dicts with an ``orderId`` and a status,
    or an ACK's ``transactTime`` (not OCO ``orders`` stubs, trade rows or errors)."""
    found = set()
    if isinstance(payload, dict):
        if "orderId" in payload and ("status" in payload or "transactTime" in payload):
            found.add(path)
        items = payload.items()
    elif isinstance(payload, list):
        items = ((str(i), v) for i, v in enumerate(payload))
    else:
        return set()
    for key, value in items:
        found |= order_paths(value, f"{path}.{key}" if path else key)
    return found


def published(shared_dir: Path, name: str, sample_id: str) -> Any:
    """One sample that a parsing test below covers (so it must be in PARSED)."""
    assert sample_id in PARSED[name], f"{sample_id} is tested: add it to the PARSED ids of {name}"
    return samples(shared_dir, name)[sample_id]


def ids(table: dict[tuple[str, str], Any]) -> list[str]:
    return [f"{sample}:{path}" if path else sample for sample, path in table]


# ---- spot order answers ----

# (sample id, where the order is in it) ->
#   (status, client order id, venue order id, filled qty, filled quote, time in ms)
# fmt: off
SPOT_ORDERS: dict[tuple[str, str], tuple[OrderStatus, str, str, Decimal | None, Decimal | None, int]] = {
    # an ACK has no status (UNKNOWN until the stream or a query says) and no fill figures
    ("rest.post_order.ACK", ""): (
        OrderStatus.UNKNOWN, "6gCrw2kRUAF9CvJDGP16IP", "28", None, None, 1507725176595
    ),
    ("rest.post_order.RESULT", ""): (
        OrderStatus.FILLED, "6gCrw2kRUAF9CvJDGP16IP", "28", D("10"), D("10"), 1507725176595
    ),
    ("rest.post_order.FULL", ""): (
        OrderStatus.FILLED, "6gCrw2kRUAF9CvJDGP16IP", "28", D("10"), D("10"), 1507725176595
    ),
    ("rest.post_order.MARKET_expired_insufficient_liquidity", ""): (
        OrderStatus.EXPIRED, "8LGC97RRgNPVQk979VIhjt", "32", D("4"), D("4"), 1719467634105
    ),
    # a cancel's origClientOrderId names the order (its clientOrderId is the cancel's own)
    ("rest.delete_order", ""): (
        OrderStatus.CANCELED, "myOrder1", "4", D("0"), D("0"), 1684804350068
    ),
    ("rest.delete_openOrders", "0"): (
        OrderStatus.CANCELED, "E6APeyTJvkMvLMYMqu1KQ4", "11", D("0"), D("0"), 1684804350068
    ),
    ("rest.delete_openOrders", "1"): (
        OrderStatus.CANCELED, "A3EF2HCwxgZPFMrfwbgrhv", "13", D("0"), D("0"), 1684804350069
    ),
    ("rest.delete_openOrders", "2.orderReports.0"): (
        OrderStatus.CANCELED, "CwOOIPHSmYywx6jZX77TdL", "20", D("0"), D("0"), 1688005070874
    ),
    ("rest.delete_openOrders", "2.orderReports.1"): (
        OrderStatus.CANCELED, "461cPg51vQjV3zIMOXNz39", "21", D("0"), D("0"), 1688005070874
    ),
    ("rest.cancelReplace.success", "cancelResponse"): (
        OrderStatus.CANCELED, "DnLo3vTAQcjha43lAZhZ0y", "9", D("0"), D("0"), 1684804350068
    ),
    ("rest.cancelReplace.success", "newOrderResponse"): (
        OrderStatus.NEW, "wOceeeOzNORyLiQfw7jd8S", "10", D("0"), D("0"), 1652928801803
    ),
    ("rest.cancelReplace.cancel_ok_new_failed", "data.cancelResponse"): (
        OrderStatus.CANCELED, "86M8erehfExV8z2RC8Zo8k", "3", D("0"), D("0"), 1684804350068
    ),
    ("rest.cancelReplace.allow_failure.cancel_failed_new_ok", "data.newOrderResponse"): (  # an ACK
        OrderStatus.UNKNOWN, "pfojJMg6IMNDKuJqDxvoxN", "11", None, None, 1648540168818
    ),
    ("rest.cancelReplace.cancel_only.order_count_exceeded", "data.cancelResponse"): (
        OrderStatus.CANCELED, "GKt5zzfOxRDSQLveDYCTkc", "64", D("0"), D("0.00"), 1715779007228
    ),
    # queries carry no transactTime: the time is updateTime
    ("rest.get_order", ""): (
        OrderStatus.NEW, "myOrder1", "1", D("0.0"), D("0.0"), 1499827319559
    ),
    ("rest.get_openOrders", "0"): (
        OrderStatus.NEW, "myOrder1", "1", D("0.0"), D("0.0"), 1499827319559
    ),
    ("rest.get_allOrders", "0"): (
        OrderStatus.NEW, "myOrder1", "1", D("0.0"), D("0.0"), 1499827319559
    ),
    ("faq.stp.scenarioA.maker_filled_query", ""): (
        OrderStatus.FILLED, "FaDk4LPRxastaICEFE9YTf", "2", D("1"), D("1"), 1670217090330
    ),
    ("faq.stp.scenarioA.taker_filled_place", ""): (
        OrderStatus.FILLED, "Ay48Vtpghnsvy6w8RPQEde", "3", D("1"), D("1"), 1670207731263
    ),
    # self-trade prevention: EXPIRED_IN_MATCH is an expiry
    ("faq.stp.scenarioB.maker_expired_in_match", ""): (
        OrderStatus.EXPIRED, "wpNzhSclc16pV8g5THIOR3", "2", D("0"), D("0"), 1670217957498
    ),
    ("faq.stp.scenarioB.taker_new", ""): (
        OrderStatus.NEW, "WRzbhp257NhZsIJW4y2Nri", "5", D("0"), D("0"), 1670217957498
    ),
    ("wsapi.response.success_order_place_RESULT", "result"): (
        OrderStatus.NEW, "a097fe6304b20a7e4fc436", "12510053279", D("0"), D("0"), 1655716096505
    ),
    ("wsapi.order.place.ACK", "result"): (
        OrderStatus.UNKNOWN, "4d96324ff9d44481926157ec08158a40", "12569099453", None, None, 1660801715639
    ),
    ("wsapi.order.place.RESULT", "result"): (
        OrderStatus.NEW, "4d96324ff9d44481926157ec08158a40", "12569099453", D("0"), D("0"), 1660801715639
    ),
    ("wsapi.order.place.FULL", "result"): (
        OrderStatus.FILLED, "4d96324ff9d44481926157ec08158a40", "12569099453",
        D("0.00847"), D("198.335215"), 1660801715793,
    ),
    ("wsapi.order.cancel.single", "result"): (
        OrderStatus.CANCELED, "4d96324ff9d44481926157", "12569099453",
        D("0.00001"), D("0.234161"), 1684804350068,
    ),
    ("wsapi.order.cancel.order_list", "result.orderReports.0"): (
        OrderStatus.CANCELED, "bX5wROblo6YeDwa9iTLeyY", "12569099453", D("0"), D("0"), 1684804350068
    ),
    ("wsapi.order.cancel.order_list", "result.orderReports.1"): (
        OrderStatus.CANCELED, "Tnu2IP0J5Y4mxw3IATBfmW", "12569099454", D("0"), D("0"), 1684804350068
    ),
}

# Keep-priority amends: (sample id, path) ->
#   (status, client order id, venue order id, filled qty, filled quote, time in ms).
# The time is the envelope's transactTime (BinanceSpot._keep_priority adds it to the
# amended order) and the quote is spelled cumulativeQuoteQty there.
SPOT_AMENDS: dict[tuple[str, str], tuple[OrderStatus, str, str, Decimal, Decimal, int]] = {
    ("rest.amend_keepPriority.single", "amendedOrder"): (
        OrderStatus.NEW, "5xrgbMyg6z36NzBn2pbT8H", "33", D("0"), D("0"), 1741926410255
    ),
    # PENDING_NEW: an OTO list's waiting order, not working yet
    ("rest.amend_keepPriority.order_list", "amendedOrder"): (
        OrderStatus.PENDING_NEW, "W0fJ9fiLKHOJutovPK3oJp", "9", D("0"), D("0"), 1741669661670
    ),
}
# fmt: on

# FULL answers: (sample id, path) -> (order side, [(trade id, qty, price, fee, fee asset), ...])
SPOT_FILLS: dict[tuple[str, str], tuple[Side, list[tuple[str, Decimal, Decimal, Decimal, str]]]] = {
    ("rest.post_order.FULL", ""): (
        Side.SELL,
        [
            ("56", D("1"), D("4000"), D("4"), "USDT"),
            ("57", D("5"), D("3999"), D("19.995"), "USDT"),
            ("58", D("2"), D("3998"), D("7.996"), "USDT"),
            ("59", D("1"), D("3997"), D("3.997"), "USDT"),
            ("60", D("1"), D("3995"), D("3.995"), "USDT"),
        ],
    ),
    ("rest.post_order.MARKET_expired_insufficient_liquidity", ""): (
        Side.BUY,
        [("7", D("2"), D("1"), D("0.001"), "BNB"), ("8", D("2"), D("1"), D("0.001"), "BNB")],
    ),
    ("faq.stp.scenarioA.taker_filled_place", ""): (Side.SELL, [("1", D("1"), D("1"), D("0"), "USDT")]),
    ("faq.stp.scenarioB.taker_new", ""): (Side.SELL, []),
    ("rest.cancelReplace.success", "newOrderResponse"): (Side.BUY, []),
    ("wsapi.order.place.FULL", "result"): (
        Side.SELL,
        [
            ("1650422481", D("0.00635"), D("23416.1"), D("0"), "BNB"),
            ("1650422482", D("0.00212"), D("23416.5"), D("0"), "BNB"),
        ],
    ),
}

SPOT_NOT_PARSED = {
    "rest.post_order_test.empty": "order/test places nothing; its answer is {}",
    "rest.post_order_test.with_commission": "a test order's fee preview; rates come from account/commission",
    "rest.delete_order.error_invalid_cancelRestrictions": "error {code,msg}: errors.from_binance",
    "rest.delete_order.error_cancelRestrictions_not_met": "error {code,msg}: errors.from_binance",
    "rest.cancelReplace.stop_on_failure.cancel_failed": "error: cancel failed, new order not attempted",
    "rest.cancelReplace.allow_failure.both_failed": "error: cancel and new order both failed (no order)",
    "rest.cancelReplace.do_nothing.order_count_exceeded": "error {code,msg} (-1015), no order",
    "rest.get_rateLimit_order": "unfilled-order counters: limiters are sized from exchangeInfo rateLimits",
    "rest.get_myFilters": "account/symbol/asset filters are not modelled",
    "rest.get_time": "server time: read by the connector's clock, not a model object",
    "rest.get_ping": "connectivity check, empty answer",
    "rest.error.generic": "error {code,msg}: errors.from_binance",
    "rest.legacy.userDataStream.POST": "retired spot listenKey REST (user data is on the WebSocket API)",
    "rest.legacy.userDataStream.PUT": "retired spot listenKey REST (user data is on the WebSocket API)",
    "rest.legacy.userDataStream.DELETE": "retired spot listenKey REST (user data is on the WebSocket API)",
    "wsapi.response.failed_insufficient_balance": "WebSocket API error: ws_api raises from_binance",
    "wsapi.response.ip_banned_418": "WebSocket API error (418 ban): ws_api bans the limiter",
    "wsapi.response.time_without_ratelimits": "server time: read by the connector's clock",
    "wsapi.order.place.request": "a request we send, not an answer",
    "wsapi.order.cancel.request": "a request we send, not an answer",
    "wsapi.session.logon.request": "a request we send, not an answer",
    "wsapi.session.logon.response": "session authentication, no model object",
    "wsapi.userDataStream.subscribe.request": "a request we send, not an answer",
    "wsapi.userDataStream.subscribe.response": "subscription acknowledgement (subscriptionId)",
    "wsapi.userDataStream.subscribe.signature.request": "a request we send, not an answer",
    "wsapi.userDataStream.unsubscribe.response": "subscription acknowledgement, empty result",
    "wsapi.serverShutdown": "connection notice, not a model object",
}


@pytest.mark.parametrize(
    ("sample_id", "path", "expected"), [(*k, v) for k, v in SPOT_ORDERS.items()], ids=ids(SPOT_ORDERS)
)
def test_spot_order_answers_become_order_events(
    shared_dir: Path, sample_id: str, path: str, expected: tuple[Any, ...]
) -> None:
    check_order_event(at(published(shared_dir, SPOT_FILE, sample_id), path), SPOT_VENUE, SPOT, expected)


def check_order_event(
    answer: dict[str, Any], venue: str, symbols: SymbolMap, expected: tuple[Any, ...]
) -> None:
    """The answer's order event: the expected figures, and the order's own description."""
    status, client_order_id, venue_order_id, filled_qty, filled_quote, ts_ms = expected
    symbol = symbols.to_unified(answer["symbol"])
    event = responses.order_event(answer, venue, symbol)
    check_details(event, answer)
    assert msgspec.structs.replace(event, **NO_DETAILS) == OrderEvent(
        venue=venue,
        symbol=symbol,
        status=status,
        client_order_id=client_order_id,
        venue_order_id=venue_order_id,
        filled_qty=filled_qty,
        filled_quote=filled_quote,
        ts_ns=ts_ms * MS,
    )


NO_DETAILS: dict[str, Any] = dict(side=None, order_type=None, qty=None, price=None, stop_price=None)


def check_details(event: OrderEvent, answer: dict[str, Any]) -> None:
    """What the order is, as the answer says (recovery adopts orders from these)."""
    if "side" in answer:
        assert event.side == Side(answer["side"])
    if "origQty" in answer:
        assert event.qty == D(answer["origQty"])
    if "type" in answer:
        assert event.order_type is not None, answer["type"]
        has_price = D(answer.get("price") or 0) > 0 and event.order_type.has_limit_price
        assert (event.price == D(answer["price"])) if has_price else event.price is None


@pytest.mark.parametrize(
    ("sample_id", "path", "expected"), [(*k, v) for k, v in SPOT_AMENDS.items()], ids=ids(SPOT_AMENDS)
)
def test_spot_keep_priority_amends_name_the_amended_order(
    shared_dir: Path, sample_id: str, path: str, expected: tuple[Any, ...]
) -> None:
    envelope = published(shared_dir, SPOT_FILE, sample_id)
    answer = at(envelope, path) | {"transactTime": envelope["transactTime"]}
    event = responses.order_event(answer, SPOT_VENUE, SPOT.to_unified(answer["symbol"]))
    status, client_id, venue_id, qty, quote, ts_ms = expected
    assert (event.status, event.client_order_id, event.venue_order_id) == (status, client_id, venue_id)
    assert (event.filled_qty, event.filled_quote, event.ts_ns) == (qty, quote, ts_ms * 1_000_000)


@pytest.mark.parametrize(
    ("sample_id", "path", "expected"), [(*k, v) for k, v in SPOT_FILLS.items()], ids=ids(SPOT_FILLS)
)
def test_spot_full_answers_fills_are_taker_fills(
    shared_dir: Path, sample_id: str, path: str, expected: tuple[Side, list[tuple[Any, ...]]]
) -> None:
    answer = at(published(shared_dir, SPOT_FILE, sample_id), path)
    side, rows = expected
    symbol = SPOT.to_unified(answer["symbol"])
    _, client_order_id, venue_order_id, _, _, ts_ms = SPOT_ORDERS[(sample_id, path)]  # the order's own
    assert responses.answer_fills(answer, SPOT_VENUE, symbol, side) == [
        Fill(
            venue=SPOT_VENUE,
            symbol=symbol,
            trade_id=trade_id,
            side=side,
            qty=qty,
            price=price,
            fee=fee,
            fee_asset=fee_asset,
            liquidity=Liquidity.TAKER,
            client_order_id=client_order_id,
            venue_order_id=venue_order_id,
            ts_ns=ts_ms * MS,
        )
        for trade_id, qty, price, fee, fee_asset in rows
    ]


def test_spot_my_trades_rows_become_fills(shared_dir: Path) -> None:
    [row] = published(shared_dir, SPOT_FILE, "rest.get_myTrades")
    assert responses.spot_trade(row, SPOT_VENUE, "BNB/BTC") == Fill(
        venue=SPOT_VENUE,
        symbol="BNB/BTC",
        trade_id="28457",
        side=Side.BUY,  # isBuyer
        qty=D("12"),
        price=D("4.000001"),
        fee=D("10.1"),
        fee_asset="BNB",
        liquidity=Liquidity.TAKER,  # isMaker false
        venue_order_id="100234",
        ts_ns=1499865549590 * MS,
    )


def test_spot_account_balances(shared_dir: Path) -> None:
    account = published(shared_dir, SPOT_FILE, "rest.get_account")
    assert responses.spot_balances(account, SPOT_VENUE, NOW) == [
        Balance(venue=SPOT_VENUE, asset="BTC", free=D("4723846.89208129"), locked=D("0"), ts_ns=NOW),
        Balance(venue=SPOT_VENUE, asset="LTC", free=D("4763368.68006011"), locked=D("0"), ts_ns=NOW),
    ]


def test_spot_commission_is_standard_plus_special_plus_tax(shared_dir: Path) -> None:
    answer = published(shared_dir, SPOT_FILE, "rest.get_account_commission")
    assert responses.spot_fee_rates(answer, SPOT_VENUE, "BTC/USDT", NOW) == FeeRates(
        venue=SPOT_VENUE,
        symbol="BTC/USDT",
        maker=D("0.00000010") + D("0.01000000") + D("0.00000112"),  # = 0.01000122
        taker=D("0.00000020") + D("0.02000000") + D("0.00000114"),  # = 0.02000134
        ts_ns=NOW,
    )  # the BNB discount (0.75) is not applied


# ---- USD-M answers ----

# (sample id, where the order is in it) ->
#   (status, client order id, venue order id, filled qty, filled quote, time in ms)
# fmt: off
FUTURES_ORDERS: dict[tuple[str, str], tuple[OrderStatus, str, str, Decimal, Decimal | None, int]] = {
    ("rest.post_order", ""): (
        OrderStatus.NEW, "testOrder", "22542179", D("0"), D("0"), 1566818724722
    ),
    # batch items are orders or {code,msg} errors (item 1 of each): the connector makes those errors
    ("rest.post_batchOrders", "0"): (
        OrderStatus.NEW, "testOrder", "22542179", D("0"), D("0"), 1566818724722
    ),
    ("rest.delete_batchOrders", "0"): (
        OrderStatus.CANCELED, "myOrder1", "283194212", D("0"), D("0"), 1571110484038
    ),
    # the published modify answer carries COIN-M's cumBase, not cumQuote: no quote figure
    ("rest.put_order_modify", ""): (
        OrderStatus.NEW, "LJ9R4QZDihCaS8UAOOLpgW", "20072994037", D("0"), None, 1629182711600
    ),
    ("rest.delete_order", ""): (
        OrderStatus.CANCELED, "myOrder1", "283194212", D("0"), D("0"), 1571110484038
    ),
    ("rest.get_order", ""): (
        OrderStatus.NEW, "abc", "1917641", D("0"), D("0"), 1579276756075
    ),
    ("rest.get_openOrders", "0"): (
        OrderStatus.NEW, "abc", "1917641", D("0"), D("0"), 1579276756075
    ),
    ("wsapi.response.success", "result"): (
        OrderStatus.NEW, "FqEw6cn0vDhrkmfiwLYPeo", "336829446", D("0.000"), D("0.00000"), 1705385954229
    ),
    ("wsapi.order.place.response", "result"): (
        OrderStatus.NEW, "iCXL1BywlBaf2sesNUrVl3", "325078477", D("0.000"), D("0.00000"), 1702555534435
    ),
}
# fmt: on

ONE_WAY_V2 = [
    Position(
        venue=USDM_VENUE,
        symbol="BTC/USDT:USDT",
        qty=D("0.000"),
        side=PositionSide.BOTH,
        entry_price=D("0.00000"),
        mark_price=D("6679.50671178"),
        unrealized_pnl=D("0.00000000"),
        leverage=D("10"),
        margin_mode=MarginMode.ISOLATED,
        liquidation_price=None,  # "0": none
        ts_ns=NOW,
    )
]
HEDGE_V2 = [
    Position(
        venue=USDM_VENUE,
        symbol="BTC/USDT:USDT",
        qty=D("0.001"),
        side=PositionSide.LONG,
        entry_price=D("22185.2"),
        mark_price=D("21123.05052574"),
        unrealized_pnl=D("-1.06214947"),
        leverage=D("4"),
        margin_mode=MarginMode.CROSS,
        liquidation_price=D("19731.45529116"),
        ts_ns=NOW,
    ),
    Position(
        venue=USDM_VENUE,
        symbol="BTC/USDT:USDT",
        qty=D("0.000"),
        side=PositionSide.SHORT,
        entry_price=D("0.0"),
        mark_price=D("21123.05052574"),
        unrealized_pnl=D("0.00000000"),
        leverage=D("4"),
        margin_mode=MarginMode.CROSS,
        liquidation_price=None,
        ts_ns=NOW,
    ),
]
# v3 has no leverage / marginType (they come from symbolConfig): None
ADA_V3 = {
    "venue": USDM_VENUE,
    "symbol": "ADA/USDT:USDT",
    "qty": D("30"),
    "entry_price": D("0.385"),
    "mark_price": D("0.41047590"),
    "unrealized_pnl": D("0.76427700"),
    "liquidation_price": None,
    "ts_ns": NOW,
}
ONE_WAY_V3 = [Position(**ADA_V3, side=PositionSide.BOTH)]
HEDGE_V3 = [
    Position(**ADA_V3, side=PositionSide.LONG),
    Position(
        venue=USDM_VENUE,
        symbol="COMP/USDT:USDT",
        qty=D("1.000"),  # positionAmt "-1.000": positive, with the side, in hedge mode
        side=PositionSide.SHORT,
        entry_price=D("70.92841"),
        mark_price=D("49.72023376"),
        unrealized_pnl=D("21.20817624"),
        liquidation_price=D("2260.56757210"),
        ts_ns=NOW,
    ),
]
FUTURES_POSITIONS = {
    "rest.get_positionRisk_v2.one_way": ONE_WAY_V2,
    "rest.get_positionRisk_v2.hedge": HEDGE_V2,
    "rest.get_positionRisk_v3.one_way": ONE_WAY_V3,
    "rest.get_positionRisk_v3.hedge": HEDGE_V3,
}

FUTURES_NOT_PARSED = {
    "rest.delete_allOpenOrders": "{code:200} acknowledgement; cancel_all reports the orders it listed before",
    "rest.post_leverage": "read inline by BinanceUsdm (answer['leverage'] into the settings cache)",
    "rest.post_marginType": "{code:200} acknowledgement, no model object",
    "rest.post_positionSide_dual": "{code:200} acknowledgement, no model object",
    "rest.get_positionSide_dual": "read inline by BinanceUsdm.fetch_position_mode (a bool)",
    "rest.get_income": "income history (transfers, commissions, funding) is not modelled",
    "rest.post_listenKey": "listenKey plumbing for the user-data stream",
    "rest.put_listenKey": "listenKey plumbing for the user-data stream",
    "rest.get_rateLimit_order": "order-rate counters: limiters are sized from exchangeInfo rateLimits",
    "rest.error.generic": "error {code,msg}: errors.from_binance",
    "rest.post_positionSide_dual.error_4531": "error {code,msg}: errors.from_binance",
    "wsapi.request_format": "a request we send, not an answer",
    "wsapi.response.failed": "WebSocket API error: ws_api raises from_binance",
    "wsapi.session_revoked": "WebSocket API error envelope (id null), no model object",
    "wsapi.order.place.request": "a request we send, not an answer",
    "wsapi.userDataStream.start.request": "a request we send, not an answer",
    "wsapi.userDataStream.start.response": "listenKey plumbing for the user-data stream",
    "wsapi.userDataStream.ping.response": "listenKey plumbing for the user-data stream",
    "wsapi.userDataStream.stop.response": "listenKey plumbing, empty result",
}


@pytest.mark.parametrize(
    ("sample_id", "path", "expected"), [(*k, v) for k, v in FUTURES_ORDERS.items()], ids=ids(FUTURES_ORDERS)
)
def test_futures_order_answers_become_order_events(
    shared_dir: Path, sample_id: str, path: str, expected: tuple[Any, ...]
) -> None:
    check_order_event(at(published(shared_dir, FUTURES_FILE, sample_id), path), USDM_VENUE, USDM, expected)


@pytest.mark.parametrize("sample_id", list(FUTURES_POSITIONS))
def test_futures_position_risk_rows_become_positions(shared_dir: Path, sample_id: str) -> None:
    rows = published(shared_dir, FUTURES_FILE, sample_id)
    positions = [responses.usdm_position(r, USDM_VENUE, USDM.to_unified(r["symbol"]), NOW) for r in rows]
    assert positions == FUTURES_POSITIONS[sample_id]


def test_futures_user_trades_rows_become_fills(shared_dir: Path) -> None:
    [row] = published(shared_dir, FUTURES_FILE, "rest.get_userTrades")
    assert responses.usdm_trade(row, USDM_VENUE, "BTC/USDT:USDT") == Fill(
        venue=USDM_VENUE,
        symbol="BTC/USDT:USDT",
        trade_id="698759",
        side=Side.SELL,
        qty=D("0.002"),
        price=D("7819.01"),
        fee=D("0.07819010"),
        fee_asset="USDT",
        liquidity=Liquidity.TAKER,  # maker false
        venue_order_id="25851813",
        ts_ns=1569514978020 * MS,
    )


def test_futures_algo_order_answer(shared_dir: Path) -> None:
    answer = published(shared_dir, FUTURES_FILE, "rest.post_algoOrder")
    assert responses.algo_event(answer, USDM_VENUE, "BNB/USDT:USDT") == OrderEvent(
        venue=USDM_VENUE,
        symbol="BNB/USDT:USDT",
        status=OrderStatus.NEW,
        client_order_id="6B2I9XVcJpCjqPAJ4YoFX7",
        venue_order_id="algo:2146760",
        ts_ns=1750485492076 * MS,
    )


# ---- market data ----

SPOT_TAPE = {"venue": SPOT_VENUE, "symbol": "BNB/BTC", "price": D("0.001"), "qty": D("100")}
TRADES = {
    # m (buyer is maker) true: the seller took, so the side is SELL
    "spot.ws.trade": Trade(**SPOT_TAPE, trade_id="12345", side=Side.SELL, ts_ns=1672515782136 * MS),
    "spot.ws.aggTrade": Trade(**SPOT_TAPE, trade_id="12345", side=Side.SELL, ts_ns=1672515782136 * MS),
    "futures.ws.aggTrade": Trade(
        venue=USDM_VENUE,
        symbol="BTC/USDT:USDT",
        trade_id="5933014",
        price=D("0.001"),
        qty=D("100"),
        side=Side.SELL,
        ts_ns=123456785 * MS,  # T, the trade time
    ),
}

TICKER_LEVELS = {"bids": [BookLevel(D("25.3519"), D("31.21"))], "asks": [BookLevel(D("25.3652"), D("40.66"))]}
BOOK_TICKERS = {
    # spot sends no time: now
    "spot.ws.bookTicker": OrderBook(
        venue=SPOT_VENUE, symbol="BNB/USDT", **TICKER_LEVELS, update_id=400900217, ts_ns=NOW
    ),
    "futures.ws.bookTicker": OrderBook(
        venue=USDM_VENUE,
        symbol="BNB/USDT:USDT",
        **TICKER_LEVELS,
        update_id=400900217,
        ts_ns=1568014460891 * MS,  # T, the transaction time (as trades use)
    ),
}

REST_DEPTH_LEVELS = {
    "bids": [BookLevel(D("4.00000000"), D("431.00000000"))],
    "asks": [BookLevel(D("4.00000200"), D("12.00000000"))],
}
REST_DEPTHS = {
    "spot.rest.depth": (SPOT_VENUE, "LTC/BTC"),
    "futures.rest.depth": (USDM_VENUE, "BTC/USDT:USDT"),  # its E and T are not used
}

DEPTH_UPDATES = {
    "spot.ws.depth_diff": DepthUpdate(
        first=157, last=160, b=[(D("0.0024"), D("10"))], a=[(D("0.0026"), D("100"))], time=1672515782136
    ),
    "futures.ws.depth_diff": DepthUpdate(
        first=157,
        last=160,
        previous=149,  # pu
        b=[(D("0.0024"), D("10"))],
        a=[(D("0.0026"), D("100"))],
        time=123456789,
    ),
    # futures partial depth is a whole depthUpdate event holding the top 5 levels
    "futures.ws.depth_partial": DepthUpdate(
        first=390497796,
        last=390497878,
        previous=390497794,
        b=[
            (D("7403.89"), D("0.002")),
            (D("7403.90"), D("3.906")),
            (D("7404.00"), D("1.428")),
            (D("7404.85"), D("5.239")),
            (D("7405.43"), D("2.562")),
        ],
        a=[
            (D("7405.96"), D("3.340")),
            (D("7406.63"), D("4.525")),
            (D("7407.08"), D("2.475")),
            (D("7407.15"), D("4.800")),
            (D("7407.20"), D("0.175")),
        ],
        time=1571889248277,
    ),
}

MARKET_NOT_PARSED = {
    "spot.rest.bookTicker.single": "REST book ticker is not used: best bid/ask come from @bookTicker",
    "spot.rest.bookTicker.multi": "REST book ticker is not used: best bid/ask come from @bookTicker",
    "spot.rest.ticker_price.single": "last-price ticker is not modelled",
    "spot.rest.trades": "public trades over REST are not fetched (the tape is the @trade stream)",
    "spot.rest.aggTrades": "public trades over REST are not fetched (the tape is the @trade stream)",
    "spot.rest.avgPrice": "average price is not modelled",
    "spot.ws.kline": "klines are not modelled",
    "spot.ws.avgPrice": "average price is not modelled",
    "spot.ws.ticker": "24h ticker is not modelled",
    "spot.ws.serverShutdown.raw": "connection notice, not a model object",
    "spot.ws.serverShutdown.combined": "connection notice, not a model object",
    "spot.ws.subscribe.request": "a request we send, not market data",
    "spot.ws.subscribe.response": "subscription acknowledgement (result null)",
    "spot.ws.unsubscribe.request": "a request we send, not market data",
    "spot.ws.list_subscriptions.response": "subscription listing, not market data",
    "futures.rest.bookTicker.single": "REST book ticker is not used: best bid/ask come from @bookTicker",
    "futures.ws.subscribe.request": "a request we send, not market data",
    "futures.ws.subscribe.response": "subscription acknowledgement (result null)",
}


@pytest.mark.parametrize("sample_id", list(TRADES))
def test_trades_and_agg_trades_carry_the_takers_side(shared_dir: Path, sample_id: str) -> None:
    message = published(shared_dir, MARKET_FILE, sample_id)
    expected = TRADES[sample_id]
    assert market_data.trade(message, expected.venue, expected.symbol) == expected


def test_futures_mark_price(shared_dir: Path) -> None:
    message = published(shared_dir, MARKET_FILE, "futures.ws.markPrice")
    assert market_data.mark_price(message, USDM_VENUE, "BTC/USDT:USDT") == MarkPrice(
        venue=USDM_VENUE,
        symbol="BTC/USDT:USDT",
        mark=D("11794.15"),
        index=D("11784.62659091"),
        funding_rate=D("0.00038167"),
        next_funding_ns=1562306400000 * MS,
        ts_ns=1562305380000 * MS,
    )


@pytest.mark.parametrize("sample_id", list(BOOK_TICKERS))
def test_book_tickers_become_one_level_books(shared_dir: Path, sample_id: str) -> None:
    message = published(shared_dir, MARKET_FILE, sample_id)
    expected = BOOK_TICKERS[sample_id]
    assert market_data.book_ticker(message, expected.venue, expected.symbol, NOW) == expected


@pytest.mark.parametrize("sample_id", list(REST_DEPTHS))
def test_rest_depth_answers_become_books_and_snapshots(shared_dir: Path, sample_id: str) -> None:
    answer = published(shared_dir, MARKET_FILE, sample_id)
    venue, symbol = REST_DEPTHS[sample_id]
    assert responses.book(answer, venue, symbol, NOW) == OrderBook(
        venue=venue, symbol=symbol, **REST_DEPTH_LEVELS, update_id=1027024, ts_ns=NOW
    )
    assert msgspec.convert(answer, type=DepthSnapshot, strict=False) == DepthSnapshot(
        last_update_id=1027024,
        bids=[(D("4.00000000"), D("431.00000000"))],
        asks=[(D("4.00000200"), D("12.00000000"))],
    )


@pytest.mark.parametrize("sample_id", list(DEPTH_UPDATES))
def test_depth_stream_updates_decode_with_their_update_ids(shared_dir: Path, sample_id: str) -> None:
    message = published(shared_dir, MARKET_FILE, sample_id)
    assert msgspec.convert(message, type=DepthUpdate, strict=False) == DEPTH_UPDATES[sample_id]


def test_spot_partial_depth_decodes_as_a_snapshot(shared_dir: Path) -> None:
    message = published(shared_dir, MARKET_FILE, "spot.ws.depth_partial")  # no e, E or s
    assert msgspec.convert(message, type=DepthSnapshot, strict=False) == DepthSnapshot(
        last_update_id=160, bids=[(D("0.0024"), D("10"))], asks=[(D("0.0026"), D("100"))]
    )


# ---- coverage: every sample is parsed above or listed with a reason ----

PARSED: dict[str, set[str]] = {
    SPOT_FILE: {s for s, _ in SPOT_ORDERS | SPOT_AMENDS | SPOT_FILLS}
    | {"rest.get_myTrades", "rest.get_account", "rest.get_account_commission"},
    FUTURES_FILE: {s for s, _ in FUTURES_ORDERS}
    | set(FUTURES_POSITIONS)
    | {"rest.get_userTrades", "rest.post_algoOrder"},
    MARKET_FILE: set(TRADES)
    | set(BOOK_TICKERS)
    | set(REST_DEPTHS)
    | set(DEPTH_UPDATES)
    | {"futures.ws.markPrice", "spot.ws.depth_partial"},
}
NOT_PARSED = {SPOT_FILE: SPOT_NOT_PARSED, FUTURES_FILE: FUTURES_NOT_PARSED, MARKET_FILE: MARKET_NOT_PARSED}


@pytest.mark.parametrize("name", [SPOT_FILE, FUTURES_FILE, MARKET_FILE])
def test_every_sample_is_parsed_or_listed(shared_dir: Path, name: str) -> None:
    listed = [s["id"] for s in json.loads((shared_dir / "reference/binance" / name).read_text())["samples"]]
    assert len(listed) == len(set(listed)), f"{name}: duplicate sample ids"
    parsed, not_parsed = PARSED[name], set(NOT_PARSED[name])
    assert parsed & not_parsed == set(), f"{name}: both parsed and in NOT_PARSED"
    assert set(listed) - parsed - not_parsed == set(), (
        f"{name}: new samples: parse them or list them in NOT_PARSED"
    )
    assert (parsed | not_parsed) - set(listed) == set(), f"{name}: ids no longer in the reference file"


@pytest.mark.parametrize(
    ("name", "checked"),
    [(SPOT_FILE, SPOT_ORDERS | SPOT_AMENDS), (FUTURES_FILE, FUTURES_ORDERS)],
    ids=["spot", "futures"],
)
def test_every_order_object_in_the_answers_is_checked(
    shared_dir: Path, name: str, checked: dict[tuple[str, str], Any]
) -> None:
    found = {
        (sample_id, path)
        for sample_id, payload in samples(shared_dir, name).items()
        for path in order_paths(payload)
    }
    assert found - set(checked) == set(), f"{name}: order objects not checked"
    assert set(checked) - found == set(), f"{name}: checked paths that hold no order"
