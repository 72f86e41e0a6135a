"""Engine events as the journal and the publishers get them, for their tests: one
order (``o1``, a 0.1 BTC limit buy on binance:spot) and its fills."""

from __future__ import annotations

from decimal import Decimal

from oms.engine import FillUpdate, OrderUpdate
from oms.model import Fill, Liquidity, OrderStatus, OrderType, Side

D = Decimal


def update(seq: int, ts_ns: int = 1, status: OrderStatus = OrderStatus.NEW) -> OrderUpdate:
    return OrderUpdate(
        seq=seq,
        order_id="o1",
        client_order_id="o1",
        venue="binance:spot",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D("0.1"),
        price=D(50000),
        status=status,
        filled_qty=D(0),
        avg_price=None,
        venue_order_id="7",
        reason=None,
        account="default",
        ts_ns=ts_ns,
    )


def fill(seq: int, ts_ns: int = 2) -> FillUpdate:
    f = Fill(
        venue="binance:spot",
        symbol="BTC/USDT",
        trade_id=str(seq),
        side=Side.BUY,
        qty=D("0.1"),
        price=D(50000),
        fee=D("0.0001"),
        fee_asset="BTC",
        liquidity=Liquidity.MAKER,
        ts_ns=ts_ns,
    )
    return FillUpdate(seq=seq, order_id="o1", account="default", fill=f)
