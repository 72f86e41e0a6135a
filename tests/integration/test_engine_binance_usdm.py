"""The engine on the simulated Binance USD-M venue: a long opened and closed in part,
with average-cost accounting in the shared-memory position book, unrealized P&L from
the venue's mark price, realized P&L and fees; the aggregate per asset across venues."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from oms.engine import Engine
from oms.exchanges import create_exchange
from oms.model import OrderRequest, OrderStatus, OrderType, Side
from oms.risk import RiskLimits
from tests.integration.test_exchanges_binance_usdm import Sim, sim_fixture  # noqa: F401
from tests.integration.waiting import until

D = Decimal
VENUE, SYMBOL = "binance:usdm", "BTC/USDT:USDT"


def limit(side: Side, qty: str, price: str) -> OrderRequest:
    return OrderRequest(
        venue=VENUE, symbol=SYMBOL, side=side, type=OrderType.LIMIT, qty=D(qty), price=D(price)
    )


def marked(sim: Sim, engine: Engine, price: str) -> bool:
    sim.on_server(lambda: sim.venue.set_mark_price("BTCUSDT", price))
    return bool(engine.positions()[0].mark_price == D(price))


def test_a_futures_position_with_marks_and_pnl(sim: Sim) -> None:
    async def main() -> None:
        async with Engine([create_exchange(VENUE, sim.config)]) as engine:
            engine.track(VENUE, SYMBOL)
            buy = await engine.submit(limit(Side.BUY, "0.2", "50000"))
            sim.mm("SELL", "0.2")
            await until(lambda: buy.status is OrderStatus.FILLED)
            await until(lambda: marked(sim, engine, "51000"))  # the venue marks every second
            [long] = engine.positions()
            assert (long.qty, long.avg_entry_price, long.unrealized_pnl) == (D("0.2"), D(50000), D(200))
            sell = await engine.submit(limit(Side.SELL, "0.1", "52000"))
            sim.mm("BUY", "0.1")
            await until(lambda: sell.status is OrderStatus.FILLED)
            [after] = engine.positions()
            maker_fees = D("0.0002") * (D("0.2") * 50000 + D("0.1") * 52000)
            assert (after.qty, after.realized_pnl, after.fees_paid) == (D("0.1"), D(200), maker_fees)
            pnl = engine.pnl()
            assert pnl["realized"] == D(200) and pnl["fees"] == maker_fees
            [btc] = engine.aggregate_positions()
            assert (btc.base, btc.net_qty) == ("BTC", D("0.1"))

    asyncio.run(asyncio.wait_for(main(), 60))


def test_the_daily_loss_limit_halts_trading_and_cancels_open_orders(sim: Sim) -> None:
    async def main() -> None:
        async with Engine([create_exchange(VENUE, sim.config)]) as engine:
            engine.risk.set_limits(RiskLimits(daily_loss_limit="150"))
            engine.set_price(VENUE, SYMBOL, D(50000))
            buy = await engine.submit(limit(Side.BUY, "0.2", "50000"))
            sim.mm("SELL", "0.2")
            await until(lambda: buy.status is OrderStatus.FILLED)
            resting = await engine.submit(limit(Side.BUY, "0.1", "45000"))
            engine.set_price(VENUE, SYMBOL, D(49500))  # -100 and fees: still trading
            assert engine.trading_state == "ACTIVE"
            engine.set_price(VENUE, SYMBOL, D(49000))  # -200: past the limit
            assert engine.trading_state == "HALTED" and engine.risk.trading_state_cause == "DAILY_LOSS"
            await until(lambda: resting.status is OrderStatus.CANCELED)

    asyncio.run(asyncio.wait_for(main(), 60))
