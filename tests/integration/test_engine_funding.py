"""Futures funding in the engine, against the simulated Binance USD-M venue: a payment
pushed on the user stream is booked on the position once (net P&L, the per-asset
total, the journal), and one made while the engine was down is caught up on restart."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

from oms.engine import Engine, FundingUpdate
from oms.exchanges import create_exchange
from oms.model import OrderRequest, OrderStatus, OrderType, Side
from oms.storage.engine_files import EngineFiles
from tests.integration.test_exchanges_binance_usdm import Sim, sim_fixture  # noqa: F401
from tests.integration.waiting import until

D = Decimal
VENUE, SYMBOL = "binance:usdm", "BTC/USDT:USDT"


def buy(qty: str) -> OrderRequest:
    return OrderRequest(
        venue=VENUE, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT, qty=D(qty), price=D(50000)
    )


def settle(sim: Sim, rate: str) -> Decimal:
    """Settle one funding round at ``rate``; returns what alice was paid (negative: paid)."""

    def run() -> Decimal:
        funding = sim.venue.funding
        funding.set_rate("BTCUSDT", D(rate))
        funding.settle("BTCUSDT", sim.venue.now())
        return D(sim.venue.accounts["alice"].income[-1]["income"])

    return D(sim.on_server(run))


def paid_at_venue(sim: Sim) -> Decimal:
    rows = sim.on_server(lambda: list(sim.venue.accounts["alice"].income))
    return sum((D(r["income"]) for r in rows if r["incomeType"] == "FUNDING_FEE"), D(0))


async def long_position(engine: Engine, sim: Sim, qty: str) -> None:
    order = await engine.submit(buy(qty))
    sim.mm("SELL", qty)
    await until(lambda: order.status is OrderStatus.FILLED)


def test_a_funding_payment_is_booked_on_the_position_once(sim: Sim, tmp_path: Path) -> None:
    async def main() -> None:
        async with Engine([create_exchange(VENUE, sim.config)]) as engine:
            files = EngineFiles(engine, tmp_path)
            files.start()
            events: list[FundingUpdate] = []
            engine.on_event(lambda e: events.append(e) if isinstance(e, FundingUpdate) else None)
            await long_position(engine, sim, "0.2")
            before = engine.pnl()
            paid = settle(sim, "0.001")
            assert paid < 0, "a long pays a positive rate"
            await until(lambda: engine.positions()[0].funding == paid)
            [position] = engine.positions()
            assert position.qty == D("0.2") and position.net_pnl == (
                position.realized_pnl - position.fees_paid + position.unrealized_pnl + paid
            )
            assert engine.pnl()["funding"] == paid
            assert engine.pnl()["net"] - before["net"] == paid + (
                position.unrealized_pnl - before["unrealized"]
            )
            [btc] = engine.aggregate_positions()
            assert btc.funding == paid
            [event] = events
            assert (event.account, event.funding.amount, event.funding.symbol) == ("default", paid, SYMBOL)
            assert not engine.funding.apply(event.funding), "the same payment id is booked once"
            received = settle(sim, "-0.0005")  # a negative rate: longs receive
            await until(lambda: engine.positions()[0].funding == paid + received)
            assert received > 0 and len(events) == 2
            files.stop()
        trades = [json.loads(line) for line in next(tmp_path.glob("logs/*/*/*/trades.jsonl")).open()]
        assert [D(r["funding"]["amount"]) for r in trades if r["event"] == "funding"] == [paid, received]

    asyncio.run(asyncio.wait_for(main(), 60))


def test_funding_paid_while_down_is_caught_up_on_restart(sim: Sim, tmp_path: Path) -> None:
    async def first_life() -> None:
        engine = Engine([create_exchange(VENUE, sim.config)])
        files = EngineFiles(engine, tmp_path)
        await engine.start()
        files.start()
        await long_position(engine, sim, "0.1")
        files.snapshot()
        paid = settle(sim, "0.0002")
        await until(lambda: engine.positions()[0].funding == paid)  # journaled
        files.journal.stop()  # the process dies
        for exchange in engine.exchanges.values():
            await exchange.close()

    asyncio.run(asyncio.wait_for(first_life(), 60))
    settle(sim, "0.0003")  # nobody is watching

    async def second_life() -> None:
        engine = Engine([create_exchange(VENUE, sim.config)])
        await engine.start(recover_from=tmp_path)
        try:
            [position] = engine.positions()
            assert position.qty == D("0.1")
            assert position.funding == paid_at_venue(sim), (
                "the journaled payment and the missed one, once each"
            )
        finally:
            await engine.stop()

    asyncio.run(asyncio.wait_for(second_life(), 60))
