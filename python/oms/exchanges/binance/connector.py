"""What Binance's spot and USD-M connectors share: connect (instruments, clock, WebSocket
API), order entry over the WebSocket API or REST with unknown outcomes resolved by
query (never by resending), queries, fills de-duplicated by trade id, user events, and
market data into a local book.

Order entry: an order whose answer is lost (``OutcomeUnknown``) is reported UNKNOWN at
once and resolved in the background by querying it by client order id (0.2..4 s
backoff): found, the venue's status is published; still absent once its receive window
has passed (the venue can no longer accept it), REJECTED. While the WebSocket API is
down, requests go over REST (nothing was sent on the socket, so nothing is sent twice).

Staying connected: a dropped WebSocket API session is rebuilt with backoff, then each
market restores what it had (spot: the user-data subscription and the gap filled from
REST). The clock offset is measured at connect and every ``clock_sync_s`` (option,
default 60 s), and again at once after a -1021; an offset beyond ``recv_window_ms``
stops order entry with ``ClockSkew`` until a new measurement is back inside it.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import msgspec

from oms.errors import ClockSkew, InvalidInput, OmsError, OrderNotFound, OutcomeUnknown, VenueUnavailable
from oms.exchanges.account_cache import AccountCache
from oms.exchanges.base import Exchange, ExchangeConfig, VenueHealth
from oms.exchanges.binance import market_data, responses
from oms.exchanges.binance.depth import BookOutOfSync, DepthBook, DepthSnapshot, DepthUpdate
from oms.exchanges.binance.errors import Market
from oms.exchanges.binance.instruments import instruments
from oms.exchanges.binance.rest import BinanceRest
from oms.exchanges.binance.ws_api import BinanceWsApi
from oms.exchanges.clock import ClockOffset
from oms.model import (
    Balance,
    BalanceEvent,
    FeeRates,
    FillEvent,
    Instrument,
    Order,
    OrderBook,
    OrderEvent,
    OrderStatus,
    PositionEvent,
    Side,
    Trade,
    UserEvent,
)
from oms.symbols import SymbolMap

MS = responses.MS
Lookup = Callable[[str, str], Coroutine[Any, Any, OrderEvent]]  # (symbol, client id) -> the order
OnMessage = Callable[[dict[str, Any]], None]  # a stream's callback: the raw frame
SEEN_TRADES = 100_000  # trade ids remembered for de-duplication
RESOLVE_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 4.0)
RECONNECT_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 5.0)  # then every 5 s until closed
CLOCK_SYNC_S = 60.0


@dataclass(frozen=True)
class Paths:
    """Where one market keeps each thing (REST paths, stream names)."""

    time: str
    exchange_info: str
    depth: str
    order: str
    open_orders: str
    cancel_all: str
    depth_stream: str  # "{symbol}" is the lower-case native symbol
    trade_stream: str
    book_ticker_stream: str


class BinanceConnector(Exchange):
    MARKET: Market
    VENUE: str
    PATHS: Paths

    def __init__(self, config: ExchangeConfig) -> None:
        super().__init__(config)
        self.rest = BinanceRest(config, self.MARKET)
        self.ws = BinanceWsApi(config, self.MARKET) if config.ws_api_url else None
        self.clock = ClockOffset(self.VENUE, max_skew_ms=config.recv_window_ms)
        self.account = AccountCache()
        self._events: asyncio.Queue[UserEvent] = asyncio.Queue()
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: Any = None
        self._subscriptions: dict[str, tuple[list[OnMessage], str | None]] = {}  # name: callbacks, path
        self._rebuilding_streams: asyncio.Task[None] | None = None
        self._streams_lock = asyncio.Lock()
        self._active_symbols: set[str] = set()  # traded this session: where gaps may hide fills
        self._last_event_ns = 0
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None
        self.reconnects = 0  # WebSocket API sessions rebuilt (for health and tests)
        self.stream_rebuilds = 0  # stream clients rebuilt
        self.rest.now_ms = self.clock.venue_now_ms
        if self.ws is not None:
            self.ws.now_ms = self.clock.venue_now_ms
            self.ws.on_lost = self._ws_lost
            self.ws.weights = self.rest.weights  # one request-weight budget per IP on both

    # ---- what each market adds ----

    @abc.abstractmethod
    def _streams_client(self) -> Any:
        """The SDK's market/user stream client for this market."""

    @abc.abstractmethod
    async def _subscribe_user_data(self) -> None:
        """Start the user-data feed (WebSocket API subscription or listenKey)."""

    async def _after_reconnect(self) -> None:
        """Restore what lived on the WebSocket API session (spot: user data)."""

    async def _after_streams_rebuilt(self) -> None:
        """Catch up on what the stream connections carried (USD-M: user data)."""

    # ---- lifecycle ----

    async def connect(self) -> None:
        await self.load_instruments()
        await self._sync_clock()
        if self.ws is not None:
            await self.ws.connect()
        await self._subscribe_user_data()
        self.spawn(self._keep_clock())

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self._streams is not None:
            streams, self._streams = self._streams, None
            await streams.close_connection(close_session=True)

    async def health(self) -> VenueHealth:
        return VenueHealth(
            venue=self.VENUE,
            connected=self.ws is None or self.ws.connected,
            trading=abs(self.clock.offset_ms) <= self.config.recv_window_ms,
            clock_offset_ms=self.clock.offset_ms,
            latency_ms=self.clock.round_trip_ms,
            rate_limit_headroom={"weight_1m": self.rest.weights.headroom("1m")},
            ts_ns=time.time_ns(),
        )

    async def server_time(self) -> int:
        answer = await self.rest.call("GET", self.PATHS.time, signed=False)
        return int(answer["serverTime"]) * MS

    async def _sync_clock(self, samples: int = 3, fresh: bool = False) -> None:
        """Measure the offset (``fresh``: from these samples alone, swapped in at once)."""
        taken = []
        for _ in range(samples):
            sent = time.time_ns()
            server = await self.server_time()
            taken.append((sent, server // MS, time.time_ns()))
        if fresh:
            self.clock.reset()
        for sample in taken:
            self.clock.record(*sample)
        self.clock.check()

    async def _keep_clock(self) -> None:
        """Re-measure the offset every ``clock_sync_s``; a failed measurement keeps the
        last one (and a skew found is reported by every order until it is gone)."""
        every = float(self.config.options.get("clock_sync_s", CLOCK_SYNC_S))
        while True:
            await asyncio.sleep(every)
            await self._resync_clock()

    async def _resync_clock(self, fresh: bool = False) -> None:
        with contextlib.suppress(OmsError):
            await self._sync_clock(fresh=fresh)

    def _ws_lost(self) -> None:
        if not self._closing and (self._reconnecting is None or self._reconnecting.done()):
            self._reconnecting = asyncio.ensure_future(self._reconnect_ws())
            self._tasks.add(self._reconnecting)
            self._reconnecting.add_done_callback(self._tasks.discard)

    async def _reconnect_ws(self) -> None:
        """Rebuild the WebSocket API session until it is back (or we close)."""
        assert self.ws is not None
        attempt = 0
        while not self._closing:
            await asyncio.sleep(RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)])
            attempt += 1
            try:
                await self.ws.reconnect()
                await self._after_reconnect()
            except (OmsError, OSError, ValueError):
                continue  # still down: try again
            self.reconnects += 1
            return

    async def load_instruments(self) -> list[Instrument]:
        info = await self.rest.call("GET", self.PATHS.exchange_info, weight=20, signed=False)
        self.rest.use_published_limits(info.get("rateLimits") or [])
        if self.ws is not None:
            self.ws.weights = self.rest.weights  # one request-weight budget per IP on both
        listed = instruments(info, self.MARKET)
        self.instruments = {i.symbol: i for i in listed}
        self.symbols = SymbolMap(self.VENUE, [(i.native_symbol, i.symbol) for i in listed])
        return listed

    # ---- requests ----

    async def send(self, method: str, path: str, http: str, params: dict[str, str], **kw: Any) -> Any:
        """One request, over the WebSocket API while it is up (``method``), else REST."""
        self.clock.check()
        try:
            if self.ws is not None and self.ws.connected:
                weight, cancel = kw.get("weight", 1), kw.get("cancel", False)
                try:
                    return await self.ws.call(method, params, weight=weight, cancel=cancel)
                except VenueUnavailable:
                    if self.ws.connected:
                        raise  # the venue refused it; the socket is fine
                    # the frame never left: REST is safe
            return await self.rest.call(http, path, params, **kw)
        except ClockSkew:
            self.spawn(self._resync_clock(fresh=True))  # -1021: the clock jumped; measure anew
            raise

    async def place(
        self,
        order: Order,
        method: str,
        path: str,
        params: dict[str, str],
        *,
        to_event: Callable[[dict[str, Any], str], OrderEvent] | None = None,
        lookup: Lookup | None = None,
    ) -> OrderEvent:
        """Send a new order once; an unknown outcome is UNKNOWN now and resolved later
        (``lookup``: how to query it by client id; ``to_event``: how to read the answer)."""
        symbol = order.request.symbol
        try:
            answer = await self.send(method, path, "POST", params, orders=1)
        except OutcomeUnknown as unknown:
            return self._unknown(symbol, order.client_order_id, unknown, lookup)
        if to_event is not None:
            return to_event(answer, symbol)
        self._answer_fills(answer, symbol, order.request.side)
        return self.order_event(answer, symbol)

    def _unknown(
        self, symbol: str, client_order_id: str, unknown: OutcomeUnknown, lookup: Lookup | None = None
    ) -> OrderEvent:
        """UNKNOWN now; the venue's answer (found by ``lookup``) later, on the events."""
        find = lookup or (lambda sym, cid: self.fetch_order(sym, client_order_id=cid))
        self.spawn(self._resolve(symbol, client_order_id, find))
        return OrderEvent(
            venue=self.VENUE,
            symbol=symbol,
            status=OrderStatus.UNKNOWN,
            client_order_id=client_order_id,
            reason=unknown.message,
            ts_ns=time.time_ns(),
        )

    async def _resolve(self, symbol: str, client_order_id: str, lookup: Lookup) -> None:
        deadline = time.monotonic() + self.config.recv_window_ms / 1000 + 1
        for delay in RESOLVE_DELAYS_S:
            await asyncio.sleep(delay)
            try:
                event = await lookup(symbol, client_order_id)
            except OrderNotFound:
                if time.monotonic() < deadline:
                    continue
                event = OrderEvent(
                    venue=self.VENUE,
                    symbol=symbol,
                    status=OrderStatus.REJECTED,
                    client_order_id=client_order_id,
                    reason="not at the venue after its receive window: it was never placed",
                )
            except OmsError:
                continue  # still unreachable: try again
            await self._events.put(event)
            return

    async def cancel_order(self, order: Order) -> OrderEvent:
        return await self.cancel(order.request.symbol, order.client_order_id)

    async def cancel(self, symbol: str, client_order_id: str) -> OrderEvent:
        params = {"symbol": self.symbols.to_native(symbol), "origClientOrderId": client_order_id}
        answer = await self.send("order.cancel", self.PATHS.order, "DELETE", params, cancel=True)
        return self.order_event(answer, symbol, client_id=client_order_id)

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
        answer = await self.send("order.status", self.PATHS.order, "GET", params, weight=4)
        return self.order_event(answer, symbol)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[OrderEvent]:
        params = {"symbol": self.symbols.to_native(symbol)} if symbol else {}
        answers = await self.rest.call("GET", self.PATHS.open_orders, params, weight=6)
        return [self.order_event(a, self.symbols.to_unified(a["symbol"])) for a in answers]

    async def cancel_all(self, symbol: str | None = None) -> list[OrderEvent]:
        if symbol is None:
            raise InvalidInput("Binance cancels all open orders of one symbol at a time", field="symbol")
        before = await self.fetch_open_orders(symbol)
        try:
            await self.rest.call("DELETE", self.PATHS.cancel_all, {"symbol": self.symbols.to_native(symbol)})
        except OrderNotFound:
            return []  # nothing was open
        return [msgspec.structs.replace(o, status=OrderStatus.CANCELED) for o in before]

    async def fill_gap(self, lookback_ns: int = 60 * 1_000_000_000) -> None:
        """After the user stream was down: publish every open order's state, the fills
        of the symbols we have been trading since shortly before the last event we saw
        (de-duplicated by trade id, so overlap costs nothing), and the state of each
        order that got a new fill but is no longer open (it filled or was canceled in
        the gap)."""
        open_orders = await self.fetch_open_orders()
        for event in open_orders:
            self.publish(event)
        still_open = {o.venue_order_id for o in open_orders}
        since = max(self._last_event_ns - lookback_ns, 0)
        for symbol in sorted({o.symbol for o in open_orders} | self._active_symbols):
            finished: set[str] = set()
            for fill in await self.fetch_fills(symbol, since_ns=since):
                if self.publish(FillEvent(fill=fill)) and fill.venue_order_id not in still_open:
                    finished.add(fill.venue_order_id or "")
            for venue_order_id in sorted(finished - {""}):
                self.publish(await self.fetch_order(symbol, venue_order_id=venue_order_id))

    # ---- answers -> events ----

    def order_event(self, answer: dict[str, Any], symbol: str, client_id: str | None = None) -> OrderEvent:
        return responses.order_event(answer, self.VENUE, symbol, client_id)

    def _answer_fills(self, answer: dict[str, Any], symbol: str, side: Side) -> None:
        """A FULL answer's fills go out at once (the stream repeats them; de-duplicated)."""
        for fill in responses.answer_fills(answer, self.VENUE, symbol, side):
            self.publish(FillEvent(fill=fill))

    def publish(self, event: UserEvent) -> bool:
        """Queue an event for ``user_events``; False for a fill already published."""
        if isinstance(event, BalanceEvent | PositionEvent):
            self._on_account_event(event)
        if isinstance(event, OrderEvent | FillEvent):
            self._active_symbols.add(event.fill.symbol if isinstance(event, FillEvent) else event.symbol)
            self._last_event_ns = max(self._last_event_ns, time.time_ns())
        if isinstance(event, FillEvent):
            key = f"{event.fill.symbol}/{event.fill.trade_id}"
            if key in self._seen:
                return False
            self._seen.add(key)
            self._seen_order.append(key)
            if len(self._seen_order) > SEEN_TRADES:
                self._seen.discard(self._seen_order.popleft())
        self._events.put_nowait(event)
        return True

    def _on_account_event(self, event: BalanceEvent | PositionEvent) -> None:
        self.account.apply(event)

    # ---- the account, cached (account_cache.py) ----

    async def balances(self) -> dict[str, Balance]:
        """Asset -> balance: loaded once per TTL, kept current by user data meanwhile."""
        return await self.account.balances(self.fetch_balances)

    async def fee_rates(self, symbol: str) -> FeeRates:
        """``fetch_fee_rates``, cached for an hour."""
        return await self.account.fee_rates(symbol, lambda: self.fetch_fee_rates(symbol))

    async def user_events(self) -> AsyncIterator[UserEvent]:
        while True:
            yield await self._events.get()

    # ---- market data ----

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        params = {"symbol": self.symbols.to_native(symbol), "limit": str(depth)}
        answer = await self.rest.call("GET", self.PATHS.depth, params, weight=5, signed=False)
        return responses.book(answer, self.VENUE, symbol, time.time_ns())

    async def stream(self, name: str, on_message: OnMessage, path: str | None = None) -> None:
        """Subscribe `name` on the SDK's stream client; `on_message` gets the raw frame,
        beside any other subscriber of the same stream, until ``unstream``. Subscriptions
        outlive a dropped connection: the client is rebuilt and each is made again, with
        every callback (a local book then sees a gap and takes a new snapshot)."""
        async with self._streams_lock:  # concurrent first subscribers open one client
            if self._streams is None:
                if not self.config.ws_url:
                    raise self._unsupported("market streams (no ws_url configured)")
                await self._open_streams()
        self._subscriptions.setdefault(name, ([], path))[0].append(on_message)
        await self._subscribe_stream(name, [on_message], path)

    def unstream(self, name: str, on_message: OnMessage) -> None:
        """``on_message``'s reader is gone (a watch ended, its client canceled): no more
        frames to it, now or after a reconnect, where it would fill a queue nobody reads.
        The venue subscription stays for the stream's other (or next) subscribers."""
        callbacks = self._subscriptions.get(name, ([], None))[0]
        if on_message in callbacks:
            callbacks.remove(on_message)
        if not callbacks:
            self._subscriptions.pop(name, None)
        connection = None if self._streams is None else self._streams_connection(name)
        if connection is not None:
            with contextlib.suppress(ValueError):
                connection.stream_callback_map.get(name, []).remove(on_message)

    def _streams_connection(self, name: str) -> Any:
        return self._streams.stream_connections.stream_connections_map.get(name)

    def forget_stream(self, name: str) -> None:
        """Not to be made again after a reconnect (e.g. an expired listenKey)."""
        self._subscriptions.pop(name, None)

    async def _open_streams(self) -> None:
        streams = self._streams_client()
        await streams.create_connection()
        self._streams = streams
        for event in ("close", "reconnect"):
            streams.on_connection(event, self._streams_lost)

    async def _subscribe_stream(self, name: str, callbacks: list[OnMessage], path: str | None) -> None:
        if path is None:
            await self._streams.subscribe(streams=[name])
        else:
            await self._streams.subscribe(streams=[name], stream_url=path)
        for on_message in callbacks:
            self._streams.on("message", on_message, name)

    def _streams_lost(self) -> None:
        rebuilding = self._rebuilding_streams is not None and not self._rebuilding_streams.done()
        if not self._closing and not rebuilding and self._streams is not None:
            self._rebuilding_streams = asyncio.ensure_future(self._rebuild_streams())
            self._tasks.add(self._rebuilding_streams)
            self._rebuilding_streams.add_done_callback(self._tasks.discard)

    async def _rebuild_streams(self) -> None:
        """A new stream client with every subscription made again, until it works."""
        old, self._streams = self._streams, None
        with contextlib.suppress(Exception):
            await old.close_connection(close_session=True)
        attempt = 0
        while not self._closing:
            await asyncio.sleep(RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)])
            attempt += 1
            try:
                await self._open_streams()
                for name, (callbacks, path) in list(self._subscriptions.items()):
                    await self._subscribe_stream(name, list(callbacks), path)
                await self._after_streams_rebuilt()
            except (OmsError, OSError, ValueError):
                if self._streams is not None:
                    with contextlib.suppress(Exception):
                        await self._streams.close_connection(close_session=True)
                    self._streams = None
                continue
            self.stream_rebuilds += 1
            return

    async def watch_book(self, symbol: str) -> AsyncIterator[OrderBook]:
        """A local book by Binance's procedure: diffs buffered from the stream, a REST
        snapshot, and a new snapshot whenever a diff is lost."""
        native = self.symbols.to_native(symbol)
        book, changed = DepthBook(futures=self.MARKET == "usdm"), asyncio.Queue[DepthUpdate]()

        def on_diff(message: dict[str, Any]) -> None:
            changed.put_nowait(msgspec.convert(message["data"], type=DepthUpdate, strict=False))

        name = self.PATHS.depth_stream.format(symbol=native.lower())
        try:
            await self.stream(name, on_diff)
            async for snapshot in self._local_book(book, changed, native, symbol):
                yield snapshot
        finally:
            self.unstream(name, on_diff)

    async def _local_book(
        self, book: DepthBook, changed: asyncio.Queue[DepthUpdate], native: str, symbol: str
    ) -> AsyncIterator[OrderBook]:
        depth = {"symbol": native, "limit": "1000"}
        while True:
            if not book.synced:
                snapshot = await self.rest.call("GET", self.PATHS.depth, depth, weight=25, signed=False)
                try:
                    book.on_snapshot(msgspec.convert(snapshot, type=DepthSnapshot, strict=False))
                except BookOutOfSync:
                    await asyncio.sleep(0.1)
                    continue
                yield book.snapshot(self.VENUE, symbol)
            try:
                if book.on_diff(await changed.get()):
                    yield book.snapshot(self.VENUE, symbol)
            except BookOutOfSync:
                continue

    async def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        native = self.symbols.to_native(symbol)
        async for raw in self.frames(self.PATHS.trade_stream.format(symbol=native.lower())):
            yield market_data.trade(raw, self.VENUE, symbol)

    async def watch_book_ticker(self, symbol: str) -> AsyncIterator[OrderBook]:
        """Best bid and ask as they change (``@bookTicker``), as one-level books."""
        native = self.symbols.to_native(symbol)
        async for raw in self.frames(self.PATHS.book_ticker_stream.format(symbol=native.lower())):
            yield market_data.book_ticker(raw, self.VENUE, symbol, time.time_ns())

    async def frames(self, name: str) -> AsyncIterator[dict[str, Any]]:
        """The ``data`` of each frame of stream ``name``, for as long as it is read."""
        frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def on_message(message: dict[str, Any]) -> None:
            frames.put_nowait(message["data"])

        try:
            await self.stream(name, on_message)
            while True:
                yield await frames.get()
        finally:
            self.unstream(name, on_message)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
