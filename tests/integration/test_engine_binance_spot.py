"""The engine on the simulated Binance Spot venue (official SDK, loopback): an order's
whole life with its fill in positions and events; refusals that send nothing; the
same idempotency key twice sending one order; cancel, amend and the kill switch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from oms.engine import Engine, EngineEvent, FillUpdate, OrderUpdate, RiskDecision
from oms.errors import FilterViolation, RiskRejected, UnknownSymbol, UnknownVenue
from oms.exchanges import create_exchange
from oms.model import Order, OrderRequest, OrderStatus, OrderType, Side
from oms.risk import RiskLimits
from tests.integration.binance_spot_sim import D, Sim, sim_fixture  # noqa: F401
from tests.integration.waiting import until

VENUE, SYMBOL = "binance:spot", "BTC/USDT"


def request(side: Side, qty: str, price: str | None = None, **extra: Any) -> OrderRequest:
    type_ = OrderType.LIMIT if price else OrderType.MARKET
    return OrderRequest(
        venue=VENUE,
        symbol=SYMBOL,
        side=side,
        type=type_,
        qty=D(qty),
        price=D(price) if price else None,
        **extra,
    )


def run(sim: Sim, steps: Callable[[Engine, list[EngineEvent]], Any]) -> Any:
    async def main() -> Any:
        engine = Engine([create_exchange(VENUE, sim.config)])
        events: list[EngineEvent] = []
        engine.on_event(events.append)
        async with engine:
            return await steps(engine, events)

    return asyncio.run(asyncio.wait_for(main(), 60))


def venue_orders(sim: Sim) -> int:
    return int(sim.on_server(lambda: sum(1 for o in sim.venue.orders.values() if o.account.name == "alice")))


def test_an_order_is_sent_tracked_and_its_fill_moves_the_position(sim: Sim) -> None:
    async def steps(engine: Engine, events: list[EngineEvent]) -> Order:
        order = await engine.submit(request(Side.BUY, "0.1", "50000"))
        assert order.status is OrderStatus.NEW and order.venue_order_id
        assert engine.risk.open_orders(venue=VENUE) == 1
        sim.mm("SELL", "0.04")
        sim.mm("SELL", "0.06")
        await until(lambda: order.status is OrderStatus.FILLED)
        return order

    events: list[EngineEvent] = []

    async def with_events(engine: Engine, seen: list[EngineEvent]) -> Order:
        order = await steps(engine, seen)
        events.extend(seen)
        [position] = engine.positions()
        assert (position.qty, position.avg_entry_price) == (D("0.1"), D(50000))
        assert position.fees_paid == D("5")  # 0.0001 BTC fee valued at 50000
        assert engine.risk.open_orders(venue=VENUE) == 0, "the reservation was released"
        assert engine.risk.position("default", VENUE, SYMBOL) == D("0.1")
        assert engine.pnl()["fees"] == D(5)
        return order

    order = run(sim, with_events)
    statuses = [e.status for e in events if isinstance(e, OrderUpdate)]
    assert statuses[0] is OrderStatus.PENDING_NEW and statuses[-1] is OrderStatus.FILLED
    assert OrderStatus.PARTIALLY_FILLED in statuses
    fills = [e.fill.qty for e in events if isinstance(e, FillUpdate)]
    assert sorted(fills) == [D("0.04"), D("0.06")], "each fill once"
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert order.filled_qty == D("0.1") and order.avg_price == D(50000)


def test_refusals_before_the_venue_send_nothing(sim: Sim) -> None:
    async def steps(engine: Engine, events: list[EngineEvent]) -> None:
        engine.risk.set_limits(RiskLimits(max_order_qty="1"))
        with pytest.raises(RiskRejected) as risk:
            await engine.submit(request(Side.BUY, "2", "50000"))
        assert risk.value.code == "MAX_ORDER_QTY"
        assert [e.code for e in events if isinstance(e, RiskDecision)] == ["MAX_ORDER_QTY"]
        with pytest.raises(FilterViolation) as tick:
            await engine.submit(request(Side.BUY, "0.1", "50000.001"))
        assert tick.value.details["rule"] == "PRICE_FILTER"
        with pytest.raises(UnknownSymbol):
            await engine.submit(
                OrderRequest(venue=VENUE, symbol="DOGE/USDT", side=Side.BUY, type=OrderType.MARKET, qty=D(1))
            )
        with pytest.raises(UnknownVenue):
            await engine.submit(
                OrderRequest(venue="okx:spot", symbol=SYMBOL, side=Side.BUY, type=OrderType.MARKET, qty=D(1))
            )
        assert venue_orders(sim) == 0 and engine.orders() == []
        assert engine.risk.open_orders() == 0

    run(sim, steps)


def test_a_venue_refusal_is_a_rejected_order_and_frees_its_reservation(sim: Sim) -> None:
    sim.mm("SELL", "1", "50100")

    async def steps(engine: Engine, events: list[EngineEvent]) -> None:
        order = await engine.submit(
            OrderRequest(
                venue=VENUE,
                symbol=SYMBOL,
                side=Side.BUY,
                type=OrderType.LIMIT_MAKER,
                qty=D("0.1"),
                price=D(50200),
            )
        )
        assert order.status is OrderStatus.REJECTED
        assert order.reason is not None and order.reason.endswith("(-2010) [POST_ONLY_WOULD_TAKE]")
        assert engine.risk.open_orders() == 0

    run(sim, steps)


def test_the_same_idempotency_key_twice_sends_one_order(sim: Sim) -> None:
    async def steps(engine: Engine, events: list[EngineEvent]) -> None:
        first, second = await asyncio.gather(
            engine.submit(request(Side.BUY, "0.1", "49000", idempotency_key="k-1")),
            engine.submit(request(Side.BUY, "0.1", "49000", idempotency_key="k-1")),
        )
        assert first is second and venue_orders(sim) == 1
        again = await engine.submit(request(Side.BUY, "0.1", "49000", idempotency_key="k-1"))
        assert again is first and venue_orders(sim) == 1

    run(sim, steps)


def test_cancel_amend_and_the_kill_switch(sim: Sim) -> None:
    async def steps(engine: Engine, events: list[EngineEvent]) -> None:
        a = await engine.submit(request(Side.BUY, "0.1", "49000"))
        b = await engine.submit(request(Side.BUY, "0.2", "48000"))
        await engine.amend(a.id, qty=D("0.05"))  # keep priority: same venue order
        assert (a.status, a.qty) == (OrderStatus.NEW, D("0.05"))
        old_client_id = a.client_order_id
        await engine.amend(a.id, price=D("48500"))  # cancel-replace: a new venue order
        assert a.client_order_id != old_client_id and a.request.price == D(48500)
        await asyncio.sleep(0.3)  # the old incarnation's CANCELED arrives: not ours
        assert a.status is OrderStatus.NEW
        canceled = await engine.cancel(b.id)
        assert canceled.status is OrderStatus.CANCELED
        assert engine.risk.open_orders() == 1
        stopped = await engine.halt()
        assert [o.id for o in stopped] == [a.id] and a.status is OrderStatus.CANCELED
        with pytest.raises(RiskRejected) as halted:
            await engine.submit(request(Side.BUY, "0.1", "49000"))
        assert halted.value.code == "TRADING_HALTED"
        engine.resume()
        assert (await engine.submit(request(Side.BUY, "0.1", "49000"))).status is OrderStatus.NEW
        assert int(sim.on_server(lambda: len(sim.venue.open_orders("alice", "BTCUSDT")))) == 1

    run(sim, steps)
