"""The gRPC API end to end: ``oms.client.Client`` against the whole paper system
(simulators, embedded NATS, engine) over TLS. Orders on both Binance markets are
submitted, amended and canceled; fills show in positions, in the event stream, on
JetStream and in trades.jsonl; batches, idempotency, the kill switch, risk limits,
books and health answer as documented."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import grpc
import nats
import pytest
import requests

from oms.client import Client, order_request
from oms.errors import InvalidInput, NotSupported, RiskRejected, UnknownSymbol
from oms.storage.journal import read_jsonl
from oms.v1 import admin_pb2
from oms.v1 import common_pb2 as pb

from .api_system import SystemThread
from .waiting import until_sync


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SystemThread]:
    running = SystemThread(tmp_path_factory.mktemp("oms"))
    yield running
    running.close()


@pytest.fixture()
def oms(system: SystemThread) -> Iterator[Client]:
    with system.client() as client:
        yield client


def far_below(oms: Client, venue: str, symbol: str) -> str:
    """A buy price well under the market (rests), on a 0.1 grid."""
    bid = Decimal(oms.book(venue, symbol, 5).bids[0].price)
    return str((bid * Decimal("0.97")).quantize(Decimal("0.1")))


def test_a_market_order_fills_and_shows_everywhere(system: SystemThread, oms: Client) -> None:
    order = oms.submit(venue="binance:spot", symbol="BTC/USDT", side="BUY", type="MARKET", qty="0.002")
    assert order.status == pb.ORDER_STATUS_FILLED and order.filled_qty == "0.002"
    assert Decimal(order.avg_price) > 0
    positions = oms.positions()
    spot = [p for p in positions.positions if p.venue == "binance:spot" and p.symbol == "BTC/USDT"]
    assert spot and Decimal(spot[0].qty) >= Decimal("0.002")
    assert any(a.base == "BTC" for a in positions.aggregated)
    kinds = {(e.WhichOneof("event"), e.subject) for e in oms.events(last=50)}
    assert ("order", "orders.binance.spot.BTCUSDT") in kinds
    assert ("fill", "trades.binance.spot.BTCUSDT") in kinds
    assert Decimal(oms.pnl().fees) > 0

    async def trades_on_jetstream() -> int:
        nc = await nats.connect(system.system.urls["nats"])
        try:
            return (await nc.jetstream().stream_info("TRADES")).state.messages
        finally:
            await nc.close()

    until_sync(lambda: asyncio.run(trades_on_jetstream()) >= 1, timeout=10)

    def journaled() -> bool:
        files = list((system.data / "paper" / "logs").glob("*/*/*/trades.jsonl"))
        return any(r["order_id"] == order.order_id for f in files for r in read_jsonl(f))

    until_sync(journaled, timeout=10)


@pytest.mark.parametrize(
    ("venue", "symbol", "qty"),
    [("binance:spot", "BTC/USDT", "0.001"), ("binance:usdm", "BTC/USDT:USDT", "0.003")],
)
def test_a_limit_order_is_amended_then_canceled(oms: Client, venue: str, symbol: str, qty: str) -> None:
    price = far_below(oms, venue, symbol)
    order = oms.submit(venue=venue, symbol=symbol, side="BUY", type="LIMIT", qty=qty, price=price)
    assert order.status == pb.ORDER_STATUS_NEW
    assert order.order_id in {o.order_id for o in oms.orders(open_only=True, venue=venue)}
    lower = str(Decimal(price) - 10)
    amended = oms.amend(order.order_id, price=lower)
    assert Decimal(oms.order(amended.order_id).request.price) == Decimal(lower)
    canceled = oms.cancel(amended.order_id)
    assert canceled.status == pb.ORDER_STATUS_CANCELED
    assert amended.order_id not in {o.order_id for o in oms.orders(open_only=True)}


def test_a_held_stops_trigger_is_moved_and_a_venue_orders_is_refused(oms: Client) -> None:
    venue, symbol = "binance:spot", "BTC/USDT"
    stop = str(Decimal(far_below(oms, venue, symbol)) - 100)
    held = oms.submit(
        venue=venue,
        symbol=symbol,
        side="SELL",
        type="STOP_MARKET",
        qty="0.001",
        stop_price=stop,
        emulate=True,
    )
    higher = str(Decimal(stop) + 50)
    oms.amend(held.order_id, stop_price=higher)
    assert Decimal(oms.order(held.order_id).request.stop_price) == Decimal(higher)
    resting = oms.submit(
        venue=venue, symbol=symbol, side="BUY", type="LIMIT", qty="0.001", price=far_below(oms, venue, symbol)
    )
    with pytest.raises(NotSupported):
        oms.amend(resting.order_id, stop_price=higher)
    for order in (held, resting):
        oms.cancel(order.order_id)


def test_a_batch_answers_each_order_on_its_own(oms: Client) -> None:
    price = far_below(oms, "binance:spot", "BTC/USDT")
    good = dict(venue="binance:spot", symbol="BTC/USDT", side="BUY", type="LIMIT", qty="0.001", price=price)
    bad = order_request(**good)
    bad.qty = "-1"
    results = oms.submit_many([order_request(**good), bad, order_request(**good)])
    assert [r.WhichOneof("result") for r in results] == ["order", "error", "order"]
    assert results[1].error.code == "OUT_OF_RANGE" and "qty" in results[1].error.message
    assert len(oms.cancel_all(venue="binance:spot")) >= 2


def test_the_same_idempotency_key_returns_the_first_order(oms: Client) -> None:
    fields = dict(venue="binance:spot", symbol="ETH/USDT", side="BUY", type="MARKET", qty="0.01")
    first = oms.submit(**fields, idempotency_key="api-test-key-1")
    again = oms.submit(**fields, idempotency_key="api-test-key-1")
    assert first.order_id == again.order_id
    assert sum(o.request.idempotency_key == "api-test-key-1" for o in oms.orders()) == 1


def test_events_resume_after_a_sequence_and_filter_by_subject(oms: Client) -> None:
    before = [e.seq for e in oms.events(last=1)]
    after_seq = before[0] if before else 0
    oms.submit(venue="binance:usdm", symbol="ETH/USDT:USDT", side="BUY", type="MARKET", qty="0.05")
    fills = list(oms.events(["trades.binance.usdm.>"], after_seq=after_seq))
    assert fills and all(e.subject == "trades.binance.usdm.ETHUSDT" for e in fills)
    assert all(e.seq > after_seq for e in fills)
    assert fills[0].fill.symbol == "ETH/USDT:USDT"


def test_the_kill_switch_refuses_new_orders_until_resumed(oms: Client) -> None:
    halted = oms.halt()
    assert halted.state == pb.TRADING_STATE_HALTED and halted.cause == "MANUAL"
    with pytest.raises(RiskRejected) as refused:
        oms.submit(venue="binance:spot", symbol="BTC/USDT", side="BUY", type="MARKET", qty="0.001")
    assert refused.value.code == "TRADING_HALTED"
    assert oms.resume().state == pb.TRADING_STATE_ACTIVE
    assert oms.submit(venue="binance:spot", symbol="BTC/USDT", side="BUY", type="MARKET", qty="0.001").status


def test_risk_limits_set_over_the_api_refuse_a_large_order(oms: Client) -> None:
    scope = admin_pb2.RiskScope(venue="binance:spot", symbol="BTC/USDT")
    limits = oms.set_risk_limits(admin_pb2.RiskLimits(scope=scope, max_order_qty="0.5"))
    assert limits.max_order_qty == "0.5"
    with pytest.raises(RiskRejected) as refused:
        oms.submit(venue="binance:spot", symbol="BTC/USDT", side="BUY", type="MARKET", qty="0.6")
    assert refused.value.code == "MAX_ORDER_QTY"
    oms.set_risk_limits(admin_pb2.RiskLimits(scope=scope))  # no limits again


def test_bad_orders_are_invalid_argument_with_the_field_named(oms: Client) -> None:
    with pytest.raises(UnknownSymbol):
        oms.submit(venue="binance:spot", symbol="BTC/USDX", side="BUY", type="MARKET", qty="0.001")
    with pytest.raises(InvalidInput) as too_fine:
        oms.submit(venue="binance:spot", symbol="BTC/USDT", side="BUY", type="MARKET", qty="0.000000001")
    assert "qty" in too_fine.value.message


def test_books_and_health(oms: Client) -> None:
    book = oms.book("binance:usdm", "BTC/USDT:USDT", 5)
    assert 0 < len(book.bids) <= 5 and Decimal(book.bids[0].price) < Decimal(book.asks[0].price)
    assert oms.health() == "SERVING"
    venues = {h.venue: h for h in oms.venue_health()}
    assert set(venues) == {"binance:spot", "binance:usdm"} and all(h.connected for h in venues.values())


def test_a_failed_call_keeps_its_grpc_status_for_other_languages(system: SystemThread) -> None:
    channel = grpc.secure_channel(system.address, grpc.ssl_channel_credentials(system.ca.read_bytes()))
    from oms.api.stubs import ServiceStub
    from oms.v1 import orders_pb2

    stub = ServiceStub(channel, "OrderService")
    with pytest.raises(grpc.RpcError) as failed:
        stub.GetOrder(
            orders_pb2.GetOrderRequest(order_id="nope"),
            metadata=(("authorization", f"Bearer {system.token}"),),
            timeout=10,
        )
    channel.close()
    assert failed.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
    assert "UNKNOWN_ORDER" in failed.value.details()  # type: ignore[attr-defined]


def test_oms_run_serves_metrics_and_readiness(system: SystemThread, oms: Client) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    oms.submit(venue="binance:spot", symbol="BTC/USDT", side="BUY", type="MARKET", qty="0.001")
    base = system.system.urls["http"]
    until_sync(lambda: requests.get(f"{base}/readyz", timeout=5).status_code == 200, timeout=15)
    text = requests.get(f"{base}/metrics", timeout=5).text
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.labels.get("venue") == "binance:spot"
    }
    assert samples["oms_order_submit_to_ack_seconds_count"] >= 1
