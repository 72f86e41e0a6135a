"""Binance answers (REST and WebSocket API results, spot and USD-M) -> ``oms.model``.

Pure functions, one per kind of answer, so each is tested on Binance's published
samples without a venue. Numbers become exact ``Decimal``; Binance's millisecond times
become ns; ``symbol`` is the unified symbol the caller already knows (answers carry the
native one).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oms.model import (
    Balance,
    BookLevel,
    FeeRates,
    Fill,
    Funding,
    Liquidity,
    MarginMode,
    OrderBook,
    OrderEvent,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    SymbolSettings,
)

MS = 1_000_000  # ns per ms
ZERO = Decimal(0)
Answer = dict[str, Any]

STATUS = {
    "PENDING_NEW": OrderStatus.PENDING_NEW,  # a list's order not yet working (OTO)
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.PENDING_CANCEL,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,  # self-trade prevention
    "NEW_INSURANCE": OrderStatus.NEW,  # futures liquidation orders
    "NEW_ADL": OrderStatus.NEW,
}
ALGO_STATUS = {
    "PENDING_NEW": OrderStatus.PENDING_NEW,  # a list's order not yet working (OTO)
    "NEW": OrderStatus.NEW,
    "TRIGGERING": OrderStatus.TRIGGERED,
    "TRIGGERED": OrderStatus.TRIGGERED,
    "FINISHED": OrderStatus.TRIGGERED,  # the order it placed reports its own end
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}


# ---- orders (both markets) ----


def order_event(answer: Answer, venue: str, symbol: str, client_id: str | None = None) -> OrderEvent:
    """An order answer (place RESULT/FULL, cancel, query, amend, modify). A cancel's
    ``origClientOrderId`` names the order (its ``clientOrderId`` is the cancel's own);
    an ACK has no status or fills yet: UNKNOWN with no fill figures, until the stream
    or a query says. The amend answer spells ``cumulativeQuoteQty`` correctly."""
    quote = answer.get("cummulativeQuoteQty", answer.get("cumQuote", answer.get("cumulativeQuoteQty")))
    executed = answer.get("executedQty")
    kind = native_type(venue, answer.get("type", ""), answer)
    return OrderEvent(
        venue=venue,
        symbol=symbol,
        status=STATUS.get(answer.get("status", ""), OrderStatus.UNKNOWN),
        client_order_id=answer.get("origClientOrderId") or client_id or answer.get("clientOrderId"),
        venue_order_id=str(answer["orderId"]) if "orderId" in answer else None,
        filled_qty=Decimal(str(executed)) if executed is not None else None,
        filled_quote=Decimal(str(quote)) if quote is not None else None,
        ts_ns=int(answer.get("transactTime") or answer.get("updateTime") or 0) * MS,
        side=Side(answer["side"]) if answer.get("side") in ("BUY", "SELL") else None,
        order_type=kind,
        qty=_positive(answer.get("origQty")),
        price=_positive(answer.get("price")) if kind is None or kind.has_limit_price else None,
        stop_price=_positive(answer.get("stopPrice")),
    )


# Binance's order types -> the model's (spot and USD-M spell them differently).
_SPOT_TYPE = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT_MAKER,
    "STOP_LOSS": OrderType.STOP_MARKET,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT_MARKET,
    "TAKE_PROFIT_LIMIT": OrderType.TAKE_PROFIT_LIMIT,
}
_USDM_TYPE = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "STOP": OrderType.STOP_LIMIT,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT_LIMIT,
    "TRAILING_STOP_MARKET": OrderType.TRAILING_STOP,
}


def native_type(venue: str, native: str, answer: Answer) -> OrderType | None:
    """The model's type of a Binance order (None if the answer has none). A spot
    STOP_LOSS with a ``trailingDelta`` is a trailing stop; a futures LIMIT GTX is post-only."""
    if venue.endswith(":spot"):
        kind = _SPOT_TYPE.get(native)
        if kind is OrderType.STOP_MARKET and answer.get("trailingDelta"):
            return OrderType.TRAILING_STOP
        return kind
    kind = _USDM_TYPE.get(native)
    if kind is OrderType.LIMIT and answer.get("timeInForce") == "GTX":
        return OrderType.LIMIT_MAKER
    return kind


def _positive(text: object) -> Decimal | None:
    """Binance writes "0.00000000" for a price a market order does not have."""
    if text in (None, ""):
        return None
    value = Decimal(str(text))
    return value if value > 0 else None


def answer_fills(answer: Answer, venue: str, symbol: str, side: Side) -> list[Fill]:
    """The ``fills`` of a spot FULL answer: the order took liquidity (a resting order's
    later fills come on the stream), so each is a taker fill."""
    ts = int(answer.get("transactTime", 0)) * MS
    return [
        Fill(
            venue=venue,
            symbol=symbol,
            trade_id=str(row["tradeId"]),
            side=side,
            qty=Decimal(row["qty"]),
            price=Decimal(row["price"]),
            fee=Decimal(row["commission"]),
            fee_asset=row["commissionAsset"],
            liquidity=Liquidity.TAKER,
            client_order_id=answer.get("clientOrderId"),
            venue_order_id=str(answer["orderId"]),
            ts_ns=ts,
        )
        for row in answer.get("fills") or []
    ]


def algo_event(answer: Answer, venue: str, symbol: str) -> OrderEvent:
    """A USD-M algo (conditional) order: keyed by ``clientAlgoId``, venue id ``algo:<id>``."""
    return OrderEvent(
        venue=venue,
        symbol=symbol,
        status=ALGO_STATUS.get(answer.get("algoStatus", ""), OrderStatus.UNKNOWN),
        client_order_id=answer.get("clientAlgoId"),
        venue_order_id=f"algo:{answer['algoId']}",
        ts_ns=int(answer.get("updateTime") or answer.get("createTime") or 0) * MS,
    )


def book(answer: Answer, venue: str, symbol: str, now_ns: int) -> OrderBook:
    """``GET depth`` (spot and USD-M)."""
    return OrderBook(
        venue=venue,
        symbol=symbol,
        bids=[BookLevel(Decimal(p), Decimal(q)) for p, q in answer["bids"]],
        asks=[BookLevel(Decimal(p), Decimal(q)) for p, q in answer["asks"]],
        update_id=int(answer["lastUpdateId"]),
        ts_ns=now_ns,
    )


# ---- spot account ----


def spot_trade(row: Answer, venue: str, symbol: str) -> Fill:
    """One row of ``myTrades``."""
    return Fill(
        venue=venue,
        symbol=symbol,
        trade_id=str(row["id"]),
        side=Side.BUY if row["isBuyer"] else Side.SELL,
        qty=Decimal(row["qty"]),
        price=Decimal(row["price"]),
        fee=Decimal(row["commission"]),
        fee_asset=row["commissionAsset"],
        liquidity=Liquidity.MAKER if row["isMaker"] else Liquidity.TAKER,
        venue_order_id=str(row["orderId"]),
        ts_ns=int(row["time"]) * MS,
    )


def spot_balances(account: Answer, venue: str, now_ns: int) -> list[Balance]:
    """``GET /api/v3/account`` (``account.status``)."""
    return [
        Balance(
            venue=venue, asset=b["asset"], free=Decimal(b["free"]), locked=Decimal(b["locked"]), ts_ns=now_ns
        )
        for b in account["balances"]
    ]


def spot_fee_rates(answer: Answer, venue: str, symbol: str, now_ns: int) -> FeeRates:
    """``account/commission``: standard + special + tax (Binance charges their sum; the
    BNB discount, when fees are paid in BNB, is not applied)."""
    parts = [answer.get(kind) or {} for kind in ("standardCommission", "specialCommission", "taxCommission")]
    return FeeRates(
        venue=venue,
        symbol=symbol,
        maker=sum((Decimal(p.get("maker", "0")) for p in parts), ZERO),
        taker=sum((Decimal(p.get("taker", "0")) for p in parts), ZERO),
        ts_ns=now_ns,
    )


# ---- USD-M account ----


def usdm_trade(row: Answer, venue: str, symbol: str) -> Fill:
    """One row of ``userTrades``."""
    return Fill(
        venue=venue,
        symbol=symbol,
        trade_id=str(row["id"]),
        side=Side(row["side"]),
        qty=Decimal(row["qty"]),
        price=Decimal(row["price"]),
        fee=Decimal(row["commission"]),
        fee_asset=row["commissionAsset"],
        liquidity=Liquidity.MAKER if row["maker"] else Liquidity.TAKER,
        venue_order_id=str(row["orderId"]),
        ts_ns=int(row["time"]) * MS,
    )


def usdm_funding(row: Answer, venue: str, symbol: str) -> Funding:
    """One ``FUNDING_FEE`` row of ``/fapi/v1/income`` (positive: received)."""
    return Funding(
        venue=venue,
        symbol=symbol,
        amount=Decimal(row["income"]),
        asset=row["asset"],
        funding_id=str(row["tranId"]),
        ts_ns=int(row["time"]) * MS,
    )


def usdm_balance(row: Answer, venue: str, now_ns: int) -> Balance:
    """One asset of ``GET /fapi/v3/balance``: free is what new orders may use."""
    available = Decimal(row["availableBalance"])
    return Balance(
        venue=venue,
        asset=row["asset"],
        free=available,
        locked=Decimal(row["balance"]) - available,
        ts_ns=now_ns,
    )


def usdm_position(row: Answer, venue: str, symbol: str, now_ns: int) -> Position:
    """One row of ``positionRisk`` (v2 or v3): signed in one-way mode, positive with a
    side in hedge mode."""
    side = PositionSide(row["positionSide"])
    qty = Decimal(row["positionAmt"])
    margin = row.get("marginType")
    leverage = row.get("leverage")
    return Position(
        venue=venue,
        symbol=symbol,
        qty=abs(qty) if side is not PositionSide.BOTH else qty,
        side=side,
        entry_price=Decimal(row["entryPrice"]),
        mark_price=Decimal(row["markPrice"]),
        unrealized_pnl=Decimal(row["unRealizedProfit"]),
        leverage=Decimal(leverage) if leverage else None,
        margin_mode=None
        if margin is None
        else (MarginMode.ISOLATED if margin == "isolated" else MarginMode.CROSS),
        liquidation_price=Decimal(row["liquidationPrice"]) or None,
        ts_ns=now_ns,
    )


def usdm_fee_rates(answer: Answer, venue: str, symbol: str, now_ns: int) -> FeeRates:
    """``GET /fapi/v1/commissionRate``."""
    return FeeRates(
        venue=venue,
        symbol=symbol,
        maker=Decimal(answer["makerCommissionRate"]),
        taker=Decimal(answer["takerCommissionRate"]),
        ts_ns=now_ns,
    )


def usdm_symbol_settings(row: Answer, venue: str, symbol: str, now_ns: int) -> SymbolSettings:
    """One row of ``GET /fapi/v1/symbolConfig``."""
    return SymbolSettings(
        venue=venue,
        symbol=symbol,
        leverage=Decimal(row["leverage"]),
        margin_mode=MarginMode.ISOLATED if row["marginType"] == "ISOLATED" else MarginMode.CROSS,
        ts_ns=now_ns,
    )
