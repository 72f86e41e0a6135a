"""e. Binance connector figures (issue 5).

``binance_orders``: order entry round trip, send -> ack, to the simulator in another
process on loopback: one ``order.place`` over the WebSocket API vs one
``POST /api/v3/order`` over REST (both ``newOrderRespType=ACK``, through our layers on
the official SDK: limiter, signing, error mapping), and the whole
``BinanceSpot.create_order`` (FULL answer read into an event). IOC orders far from the
market, so nothing rests and nothing fills. The three run interleaved in blocks, so
machine noise falls on all of them alike.

``binance_parse``: cost per user-data event, bytes -> normalized ``oms.model`` events
(``user_data.decode_spot`` / ``decode_futures`` + ``normalize_*``), against the ``json``
module merely parsing the same bytes to a dict; and the path the connector takes today
(the SDK hands over the dict ``json.loads`` made; ``msgspec.convert`` + normalize).
Events: Binance's published samples (an order accepted) and the same with a fill.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from pydantic import SecretStr

from harness import Dist, Report, emit, fmt_ns, fmt_x, gc_paused, ratio, table
from oms.exchanges import ExchangeConfig, create_exchange
from oms.exchanges.binance import user_data
from oms.exchanges.binance.spot import BinanceSpot
from oms.model import Order, OrderRequest, OrderType, Side, TimeInForce

REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "binance"
BLOCK = 20


# ---- order entry ----


def start_simulator() -> tuple[subprocess.Popen[str], dict[str, str]]:
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_sim_server.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, json.loads(server.stdout.readline())


def ioc(spot: BinanceSpot) -> dict[str, str]:
    return {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "IOC",
        "quantity": "0.02",
        "price": "1000",
        "newClientOrderId": spot.new_client_order_id(),
        "newOrderRespType": "ACK",
    }


def ioc_order(spot: BinanceSpot) -> Order:
    request = OrderRequest(
        venue="binance:spot",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.02"),
        price=Decimal("1000"),
        time_in_force=TimeInForce.IOC,
    )
    return Order(id="bench", request=request.validate(), client_order_id=spot.new_client_order_id())


async def timed(call: Callable[[], Awaitable[Any]], out: list[int]) -> None:
    start = time.perf_counter_ns()
    await call()
    out.append(time.perf_counter_ns() - start)


async def order_round_trips(spot: BinanceSpot, blocks: int) -> dict[str, list[int]]:
    assert spot.ws is not None
    ws, rest = spot.ws, spot.rest
    samples: dict[str, list[int]] = {"ws": [], "rest": [], "create_order": []}
    for _ in range(3):  # warm: connections, caches
        await ws.call("order.place", ioc(spot))
        await rest.call("POST", "/api/v3/order", ioc(spot), orders=1)
    for _ in range(blocks):
        for _ in range(BLOCK):
            await timed(lambda: ws.call("order.place", ioc(spot)), samples["ws"])
        for _ in range(BLOCK):
            await timed(lambda: rest.call("POST", "/api/v3/order", ioc(spot), orders=1), samples["rest"])
        for _ in range(BLOCK):
            await timed(lambda: spot.create_order(ioc_order(spot)), samples["create_order"])
    return samples


async def measure_orders(blocks: int) -> dict[str, list[int]]:
    server, endpoint = start_simulator()
    ws = endpoint["url"].replace("http", "ws")
    config = ExchangeConfig(
        venue="binance:spot",
        api_key=SecretStr(endpoint["api_key"]),
        api_secret=SecretStr(endpoint["secret"]),
        rest_url=endpoint["url"],
        ws_api_url=f"{ws}/ws-api/v3",
        ws_url=ws,
    )
    spot = create_exchange("binance:spot", config)
    assert isinstance(spot, BinanceSpot)
    try:
        await spot.connect()
        return await order_round_trips(spot, blocks)
    finally:
        await spot.close()
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)


def run_orders(report: Report, quick: bool) -> None:
    blocks = 3 if quick else 25
    emit("## e1. Binance order entry: send -> ack on loopback (simulator in another process)")
    emit()
    samples = asyncio.run(measure_orders(blocks))
    dists = {name: Dist.of(values) for name, values in samples.items()}
    rest_p50 = dists["rest"].p50
    rows = [
        [
            label,
            f"{dists[key].n}",
            fmt_us(dists[key].p50),
            fmt_us(dists[key].p99),
            fmt_x(ratio(dists[key].p50, rest_p50)),
        ]
        for key, label in (
            ("ws", "WebSocket API `order.place` (ACK)"),
            ("rest", "REST `POST /api/v3/order` (ACK)"),
            ("create_order", "`BinanceSpot.create_order` (WS API, FULL -> OrderEvent)"),
        )
    ]
    emit(table(["path", "n", "p50 us", "p99 us", "p50 vs REST"], rows))
    emit()
    report.notes.append(
        f"Binance send->ack p50: WebSocket API {fmt_us(dists['ws'].p50)} us vs REST "
        f"{fmt_us(rest_p50)} us ({fmt_x(ratio(rest_p50, dists['ws'].p50))} faster over the WebSocket API)"
    )


def fmt_us(ns: float) -> str:
    return f"{ns / 1000:,.0f}"


# ---- user-data parsing ----


def events() -> dict[str, tuple[str, bytes]]:
    """name -> (market, raw bytes as they arrive)."""
    spot = {
        s["id"]: s["json"]
        for s in json.loads((REFERENCE / "spot_user_data_events.json").read_text())["samples"]
    }
    futures = {
        s["id"]: s["json"]
        for s in json.loads((REFERENCE / "futures_user_data_events.json").read_text())["samples"]
    }
    accepted = spot["current.executionReport.NEW"]
    filled = json.loads(json.dumps(accepted))
    filled["event"] |= {"x": "TRADE", "X": "PARTIALLY_FILLED", "l": "0.5", "z": "0.5", "L": "0.1", "t": 17}
    filled["event"] |= {"n": "0.0001", "N": "BNB", "Z": "0.05", "Y": "0.05", "m": False}
    f_new = futures["ORDER_TRADE_UPDATE.NEW.TRAILING_STOP_MARKET"]
    f_fill = json.loads(json.dumps(f_new))
    f_fill["o"] |= {"x": "TRADE", "X": "PARTIALLY_FILLED", "l": "0.001", "z": "0.001", "L": "7000", "t": 5}
    return {
        "spot executionReport NEW": ("spot", json.dumps(accepted).encode()),
        "spot executionReport TRADE": ("spot", json.dumps(filled).encode()),
        "spot outboundAccountPosition": (
            "spot",
            json.dumps(spot["current.outboundAccountPosition"]).encode(),
        ),
        "futures ORDER_TRADE_UPDATE NEW": ("usdm", json.dumps(f_new).encode()),
        "futures ORDER_TRADE_UPDATE TRADE": ("usdm", json.dumps(f_fill).encode()),
        "futures ACCOUNT_UPDATE": ("usdm", json.dumps(futures["ACCOUNT_UPDATE.ORDER"]).encode()),
    }


def unified(native: str) -> str:
    return native


def ours(market: str) -> Callable[[bytes], object]:
    if market == "spot":
        return lambda raw: user_data.normalize_spot(user_data.decode_spot(raw), "binance:spot", unified)  # type: ignore[arg-type]
    return lambda raw: user_data.normalize_futures(user_data.decode_futures(raw), "binance:usdm", unified)  # type: ignore[arg-type]


def via_dict(market: str) -> Callable[[bytes], object]:
    """The connector's path today: the SDK's ``json.loads`` dict, converted and normalized."""
    if market == "spot":

        def spot(raw: bytes) -> object:
            frame = json.loads(raw)
            event = msgspec.convert(frame.get("event", frame), type=user_data.SpotEvent, strict=False)
            return user_data.normalize_spot(event, "binance:spot", unified)

        return spot

    def futures(raw: bytes) -> object:
        event = msgspec.convert(json.loads(raw), type=user_data.FuturesEvent, strict=False)
        return user_data.normalize_futures(event, "binance:usdm", unified)

    return futures


def per_event_ns(fn: Callable[[bytes], object], raw: bytes, n: int, repeats: int) -> float:
    """Median over ``repeats`` of a timed loop of ``n`` calls, per call."""
    results = []
    with gc_paused():
        for _ in range(repeats):
            start = time.perf_counter_ns()
            for _ in range(n):
                fn(raw)
            results.append((time.perf_counter_ns() - start) / n)
    return statistics.median(results)


def run_parse(report: Report, quick: bool) -> None:
    n, repeats = (2_000, 3) if quick else (20_000, 7)
    emit("## e2. Binance user-data events: bytes -> normalized events, per event")
    emit()
    rows, ratios = [], []
    for name, (market, raw) in events().items():
        assert ours(market)(raw), f"{name}: no event"  # the path works on this sample
        base = per_event_ns(json.loads, raw, n, repeats)
        mine = per_event_ns(ours(market), raw, n, repeats)
        sdk = per_event_ns(via_dict(market), raw, n, repeats)
        ratios.append(ratio(mine, base))
        rows.append([name, f"{len(raw)}", fmt_ns(base), fmt_ns(mine), fmt_ns(sdk), fmt_x(ratio(mine, base))])
    emit(table(["event", "bytes", "json.loads ns", "ours ns", "dict+convert ns", "ours / json.loads"], rows))
    emit()
    emit("ours = msgspec decode to typed structs + normalize (Decimal fields, enums, model events);")
    emit("json.loads only parses to a dict, with none of that.")
    emit()
    report.notes.append(
        f"Binance user-data event, bytes -> normalized: {fmt_x(statistics.median(ratios))} the cost "
        "of a bare json.loads of the same bytes (median over six event kinds)"
    )
