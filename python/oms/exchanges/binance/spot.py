"""``BinanceSpot`` (``binance:spot``): the Binance Spot connector on the official SDK.

Order entry goes over the WebSocket API (``ws_api.py``) when ``ws_api_url`` is set,
REST (``rest.py``) otherwise; both share the error mapping and send each order once.
An order whose answer is lost (``OutcomeUnknown``) is reported UNKNOWN and resolved in
the background by querying it by client order id: found, it reports what the venue
says; still absent once its receive window has passed (the venue can no longer accept
it), REJECTED. Never by sending it again.

User data comes through the WebSocket API subscription (``userDataStream.subscribe``
on an Ed25519 session, ``.signature`` with other keys), decoded by ``user_data.py``;
fills are de-duplicated by trade id (they also arrive in FULL order answers). Market
data: REST depth, and the SDK's stream client with raw callbacks into ``DepthBook``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import msgspec
from binance_common.configuration import ConfigurationWebSocketStreams
from binance_sdk_spot.spot import Spot

from oms.errors import InvalidInput, OmsError, OrderNotFound, OutcomeUnknown
from oms.exchanges.base import Capabilities, Exchange, ExchangeConfig, VenueHealth
from oms.exchanges.binance.depth import BookOutOfSync, DepthBook, DepthSnapshot, DepthUpdate
from oms.exchanges.binance.instruments import instruments
from oms.exchanges.binance.order_params import spot_params, text
from oms.exchanges.binance.rest import BinanceRest
from oms.exchanges.binance.user_data import SpotEvent, normalize_spot
from oms.exchanges.binance.ws_api import BinanceWsApi
from oms.exchanges.client_ids import ClientOrderIds
from oms.exchanges.clock import ClockOffset
from oms.model import (
    Balance,
    BookLevel,
    Fill,
    FillEvent,
    Instrument,
    Liquidity,
    Order,
    OrderBook,
    OrderEvent,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Trade,
    UserEvent,
)
from oms.symbols import SymbolMap

VENUE = "binance:spot"
MS = 1_000_000
SEEN_TRADES = 100_000  # trade ids remembered for de-duplication
RESOLVE_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 4.0)
_STATUS = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.PENDING_CANCEL,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}


class BinanceSpot(Exchange):
    capabilities = Capabilities(
        order_types=frozenset(OrderType),
        time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
        amend=True,
        cancel_all=True,
        oco=True,
    )

    def __init__(self, config: ExchangeConfig) -> None:
        super().__init__(config)
        self.rest = BinanceRest(config, "spot")
        self.ws = BinanceWsApi(config, "spot") if config.ws_api_url else None
        self.ids = ClientOrderIds(config.client_order_prefix)
        self.clock = ClockOffset(VENUE, max_skew_ms=config.recv_window_ms)
        self.instruments: dict[str, Instrument] = {}
        self._events: asyncio.Queue[UserEvent] = asyncio.Queue()
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: Any = None
        self._subscription: int | None = None

    # ---- lifecycle ----

    async def connect(self) -> None:
        await self.load_instruments()
        await self._sync_clock()
        if self.ws is not None:
            await self.ws.connect()
            await self._subscribe_user_data()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self._streams is not None:
            await self._streams.close_connection(close_session=True)
            self._streams = None

    async def health(self) -> VenueHealth:
        return VenueHealth(
            venue=VENUE,
            connected=self.ws is None or self.ws.connected,
            trading=abs(self.clock.offset_ms) <= self.config.recv_window_ms,
            clock_offset_ms=self.clock.offset_ms,
            latency_ms=self.clock.round_trip_ms,
            rate_limit_headroom={"weight_1m": self.rest.weights.headroom("1m")},
            ts_ns=time.time_ns(),
        )

    async def server_time(self) -> int:
        answer = await self.rest.call("GET", "/api/v3/time", signed=False)
        return int(answer["serverTime"]) * MS

    async def _sync_clock(self, samples: int = 3) -> None:
        for _ in range(samples):
            sent = time.time_ns()
            server = await self.server_time()
            self.clock.record(sent, server // MS, time.time_ns())
        self.clock.check()

    async def load_instruments(self) -> list[Instrument]:
        info = await self.rest.call("GET", "/api/v3/exchangeInfo", weight=20, signed=False)
        listed = instruments(info, "spot")
        self.instruments = {i.symbol: i for i in listed}
        self.symbols = SymbolMap(VENUE, [(i.native_symbol, i.symbol) for i in listed])
        return listed

    # ---- orders ----

    async def _send(self, method: str, path: str, http: str, params: dict[str, str], **kw: Any) -> Any:
        """One request, over the WebSocket API when there is one."""
        self.clock.check()
        if self.ws is not None:
            weight, cancel = kw.get("weight", 1), kw.get("cancel", False)
            return await self.ws.call(method, params, weight=weight, cancel=cancel)
        return await self.rest.call(http, path, params, **kw)

    async def create_order(self, order: Order) -> OrderEvent:
        request = order.request
        native = self.symbols.to_native(request.symbol)
        params = spot_params(request, native, order.client_order_id)
        try:
            answer = await self._send("order.place", "/api/v3/order", "POST", params, orders=1)
        except OutcomeUnknown as unknown:
            self._spawn(self._resolve(request.symbol, order.client_order_id))
            return OrderEvent(
                venue=VENUE,
                symbol=request.symbol,
                status=OrderStatus.UNKNOWN,
                client_order_id=order.client_order_id,
                reason=unknown.message,
                ts_ns=time.time_ns(),
            )
        self._answer_fills(answer, request.symbol, request.side)
        return self._order_event(answer, request.symbol)

    def new_client_order_id(self) -> str:
        return self.ids.next()

    async def _resolve(self, symbol: str, client_order_id: str) -> None:
        """After an unknown outcome: ask the venue, never resend."""
        deadline = time.monotonic() + self.config.recv_window_ms / 1000 + 1
        for delay in RESOLVE_DELAYS_S:
            await asyncio.sleep(delay)
            try:
                event = await self.fetch_order(symbol, client_order_id=client_order_id)
            except OrderNotFound:
                if time.monotonic() < deadline:
                    continue
                reason = "not at the venue after its receive window: it was never placed"
                event = OrderEvent(
                    venue=VENUE,
                    symbol=symbol,
                    status=OrderStatus.REJECTED,
                    client_order_id=client_order_id,
                    reason=reason,
                )
            except OmsError:
                continue  # still unreachable: try again
            await self._events.put(event)
            return

    async def cancel_order(self, order: Order) -> OrderEvent:
        native = self.symbols.to_native(order.request.symbol)
        params = {"symbol": native, "origClientOrderId": order.client_order_id}
        answer = await self._send("order.cancel", "/api/v3/order", "DELETE", params, cancel=True)
        return self._order_event(answer, order.request.symbol, client_id=order.client_order_id)

    async def amend_order(
        self, order: Order, *, qty: Decimal | None = None, price: Decimal | None = None
    ) -> OrderEvent:
        """Keep-priority amend: a lower quantity, same order and queue place. A new
        price would need cancel-replace (a new order id): not offered here."""
        if price is not None or qty is None:
            raise self._unsupported("amending the price (cancel and place a new order)")
        native = self.symbols.to_native(order.request.symbol)
        params = {"symbol": native, "origClientOrderId": order.client_order_id, "newQty": text(qty)}
        answer = await self._send(
            "order.amend.keepPriority", "/api/v3/order/amend/keepPriority", "PUT", params, weight=4
        )
        amended = answer["amendedOrder"]
        return OrderEvent(
            venue=VENUE,
            symbol=order.request.symbol,
            status=_STATUS.get(amended["status"], OrderStatus.UNKNOWN),
            client_order_id=amended["clientOrderId"],
            venue_order_id=str(amended["orderId"]),
            filled_qty=Decimal(amended["executedQty"]),
            ts_ns=int(answer["transactTime"]) * MS,
        )

    async def cancel_all(self, symbol: str | None = None) -> list[OrderEvent]:
        if symbol is None:
            raise InvalidInput("Binance cancels all open orders of one symbol at a time", field="symbol")
        params = {"symbol": self.symbols.to_native(symbol)}
        try:
            answers = await self._send(
                "openOrders.cancelAll", "/api/v3/openOrders", "DELETE", params, cancel=True
            )
        except OrderNotFound:
            return []  # nothing was open
        return [self._order_event(a, symbol) for a in answers if "orderId" in a]

    async def fetch_order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> OrderEvent:
        params = {"symbol": self.symbols.to_native(symbol)}
        if venue_order_id:
            params["orderId"] = venue_order_id
        elif client_order_id:
            params["origClientOrderId"] = client_order_id
        else:
            raise InvalidInput("client_order_id or venue_order_id", field="client_order_id")
        answer = await self._send("order.status", "/api/v3/order", "GET", params, weight=4)
        return self._order_event(answer, symbol)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[OrderEvent]:
        params = {"symbol": self.symbols.to_native(symbol)} if symbol else {}
        answers = await self._send("openOrders.status", "/api/v3/openOrders", "GET", params, weight=6)
        return [self._order_event(a, self.symbols.to_unified(a["symbol"])) for a in answers]

    async def fetch_fills(self, symbol: str, since_ns: int = 0) -> list[Fill]:
        params = {"symbol": self.symbols.to_native(symbol)}
        if since_ns:
            params["startTime"] = str(since_ns // MS)
        rows = await self.rest.call("GET", "/api/v3/myTrades", params, weight=20)
        return [
            Fill(
                venue=VENUE,
                symbol=symbol,
                trade_id=str(r["id"]),
                side=Side.BUY if r["isBuyer"] else Side.SELL,
                qty=Decimal(r["qty"]),
                price=Decimal(r["price"]),
                fee=Decimal(r["commission"]),
                fee_asset=r["commissionAsset"],
                liquidity=Liquidity.MAKER if r["isMaker"] else Liquidity.TAKER,
                venue_order_id=str(r["orderId"]),
                ts_ns=int(r["time"]) * MS,
            )
            for r in rows
        ]

    async def fetch_balances(self) -> list[Balance]:
        account = await self._send("account.status", "/api/v3/account", "GET", {}, weight=20)
        now = time.time_ns()
        return [
            Balance(
                venue=VENUE, asset=b["asset"], free=Decimal(b["free"]), locked=Decimal(b["locked"]), ts_ns=now
            )
            for b in account["balances"]
        ]

    # ---- answers -> events ----

    def _order_event(self, answer: dict[str, Any], symbol: str, client_id: str | None = None) -> OrderEvent:
        return OrderEvent(
            venue=VENUE,
            symbol=symbol,
            status=_STATUS.get(answer.get("status", ""), OrderStatus.UNKNOWN),
            client_order_id=answer.get("origClientOrderId") or client_id or answer.get("clientOrderId"),
            venue_order_id=str(answer["orderId"]) if "orderId" in answer else None,
            filled_qty=Decimal(answer.get("executedQty", "0")),
            filled_quote=Decimal(answer.get("cummulativeQuoteQty", "0")),
            ts_ns=int(answer.get("transactTime") or answer.get("updateTime") or 0) * MS,
        )

    def _answer_fills(self, answer: dict[str, Any], symbol: str, side: Side) -> None:
        """A FULL answer's fills go out at once (the stream repeats them; de-duplicated)."""
        now = int(answer.get("transactTime", 0)) * MS
        for row in answer.get("fills") or []:
            fill = Fill(
                venue=VENUE,
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
                ts_ns=now,
            )
            self._publish(FillEvent(fill=fill))

    def _publish(self, event: UserEvent) -> None:
        if isinstance(event, FillEvent):
            key = f"{event.fill.symbol}/{event.fill.trade_id}"
            if key in self._seen:
                return
            self._seen.add(key)
            self._seen_order.append(key)
            if len(self._seen_order) > SEEN_TRADES:
                self._seen.discard(self._seen_order.popleft())
        self._events.put_nowait(event)

    # ---- user data ----

    async def _subscribe_user_data(self) -> None:
        assert self.ws is not None
        method = "userDataStream.subscribe" if self.ws.ed25519 else "userDataStream.subscribe.signature"
        answer = await self.ws.call(method, {}, weight=2)
        self._subscription = int(answer["subscriptionId"])
        await self.ws.api.subscribe_user_data(self._subscription, None)
        self.ws.api.on("message", self._on_user_event, self._subscription)

    def _on_user_event(self, raw: dict[str, Any]) -> None:
        try:
            event: SpotEvent = msgspec.convert(raw, type=SpotEvent, strict=False)
        except msgspec.ValidationError:
            return  # an event type we do not model
        for normalized in normalize_spot(event, VENUE, self.symbols.to_unified):
            self._publish(normalized)

    async def user_events(self) -> AsyncIterator[UserEvent]:
        while True:
            yield await self._events.get()

    # ---- market data ----

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        params = {"symbol": self.symbols.to_native(symbol), "limit": str(depth)}
        answer = await self.rest.call("GET", "/api/v3/depth", params, weight=5, signed=False)
        return OrderBook(
            venue=VENUE,
            symbol=symbol,
            bids=[BookLevel(Decimal(p), Decimal(q)) for p, q in answer["bids"]],
            asks=[BookLevel(Decimal(p), Decimal(q)) for p, q in answer["asks"]],
            update_id=int(answer["lastUpdateId"]),
            ts_ns=time.time_ns(),
        )

    async def _stream(self, name: str, on_message: Callable[[dict[str, Any]], None]) -> None:
        if self._streams is None:
            if not self.config.ws_url:
                raise self._unsupported("market streams (no ws_url configured)")
            config = ConfigurationWebSocketStreams(stream_url=self.config.ws_url)
            self._streams = Spot(config_ws_streams=config).websocket_streams
            await self._streams.create_connection()
        await self._streams.subscribe(streams=[name])
        self._streams.on("message", on_message, name)

    async def watch_book(self, symbol: str) -> AsyncIterator[OrderBook]:
        """A local book by Binance's procedure: diffs buffered from the stream, a REST
        snapshot, and a new snapshot whenever a diff is lost."""
        native = self.symbols.to_native(symbol)
        book, changed = DepthBook(futures=False), asyncio.Queue[DepthUpdate]()

        def on_diff(message: dict[str, Any]) -> None:
            changed.put_nowait(msgspec.convert(message["data"], type=DepthUpdate, strict=False))

        await self._stream(f"{native.lower()}@depth@100ms", on_diff)
        depth = {"symbol": native, "limit": "1000"}
        while True:
            if not book.synced:
                snapshot = await self.rest.call("GET", "/api/v3/depth", depth, weight=25, signed=False)
                try:
                    book.on_snapshot(msgspec.convert(snapshot, type=DepthSnapshot, strict=False))
                except BookOutOfSync:
                    await asyncio.sleep(0.1)
                    continue
                yield book.snapshot(VENUE, symbol)
            try:
                if book.on_diff(await changed.get()):
                    yield book.snapshot(VENUE, symbol)
            except BookOutOfSync:
                continue

    async def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        native = self.symbols.to_native(symbol)
        trades: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await self._stream(f"{native.lower()}@trade", lambda m: trades.put_nowait(m["data"]))
        while True:
            t = await trades.get()
            yield Trade(
                venue=VENUE,
                symbol=symbol,
                trade_id=str(t["t"]),
                price=Decimal(t["p"]),
                qty=Decimal(t["q"]),
                side=Side.SELL if t["m"] else Side.BUY,  # buyer is maker: the seller took
                ts_ns=int(t["T"]) * MS,
            )

    # ---- helpers ----

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
