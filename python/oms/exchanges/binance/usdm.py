"""``BinanceUsdm`` (``binance:usdm``): the Binance USD-M Futures connector on the SDK.

On top of the shared connector (``connector.py``): futures order parameters, with
conditional orders on the algo endpoint (``algoOrder.place`` / ``/fapi/v1/algoOrder``,
answered with ``clientAlgoId`` and ``algo:<algoId>`` as the venue id); modify (price
and quantity, ``order.modify``); batches of up to five plain orders with one result per
order; positions, balances, fills; leverage, margin type and position mode (asking for
the state the account is already in is a success); mark prices; and user data through
a listenKey: created at connect, kept alive every 30 minutes, and replaced (with a new
subscription) when the venue says it expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from binance_common.configuration import ConfigurationWebSocketStreams
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)

from oms.errors import NoChange, OmsError, OutcomeUnknown
from oms.exchanges.base import Capabilities, ExchangeConfig
from oms.exchanges.binance import market_data, responses
from oms.exchanges.binance.connector import MS, BinanceConnector, Paths
from oms.exchanges.binance.errors import from_binance
from oms.exchanges.binance.order_params import text, usdm_params
from oms.exchanges.binance.user_data import (
    AccountConfigUpdate,
    AccountUpdate,
    FuturesEvent,
    ListenKeyExpired,
    normalize_futures,
)
from oms.model import (
    Balance,
    BalanceEvent,
    FeeRates,
    Fill,
    Funding,
    FundingEvent,
    MarginMode,
    MarkPrice,
    Order,
    OrderEvent,
    OrderType,
    Position,
    PositionEvent,
    PositionSide,
    SymbolSettings,
    TimeInForce,
)

log = logging.getLogger(__name__)
KEEP_ALIVE_S = 30 * 60  # Binance: a listenKey lives 60 minutes unless kept alive
BATCH = 5
INCOME_PAGE = 1000  # /fapi/v1/income's largest page
FUNDING_IDS_KEPT = 10_000  # payments remembered for de-duplication (8-hourly: weeks of them)


class BinanceUsdm(BinanceConnector):
    MARKET = "usdm"
    VENUE = "binance:usdm"
    PATHS = Paths(
        time="/fapi/v1/time",
        exchange_info="/fapi/v1/exchangeInfo",
        depth="/fapi/v1/depth",
        order="/fapi/v1/order",
        open_orders="/fapi/v1/openOrders",
        cancel_all="/fapi/v1/allOpenOrders",
        depth_stream="{symbol}@depth@100ms",
        trade_stream="{symbol}@aggTrade",
        book_ticker_stream="{symbol}@bookTicker",
    )
    capabilities = Capabilities(
        order_types=frozenset(OrderType),
        time_in_force=frozenset(TimeInForce),
        amend=True,
        batch_size=BATCH,
        cancel_all=True,
        reduce_only=True,
        leverage=True,
        margin_mode=True,
        position_mode=True,
    )
    listen_key: str | None = None

    def _streams_client(self) -> Any:
        config = ConfigurationWebSocketStreams(stream_url=self.config.ws_url)
        return DerivativesTradingUsdsFutures(config_ws_streams=config).websocket_streams

    async def stream(self, name: str, on_message: Any, path: str | None = None) -> None:
        """USD-M serves depth and tickers on /public, trades and mark prices on /market."""
        if path is None:
            path = "public" if "@depth" in name or "@bookTicker" in name else "market"
        await super().stream(name, on_message, path)

    # ---- orders ----

    def __init__(self, config: ExchangeConfig) -> None:
        super().__init__(config)
        self._funding_seen: dict[str, None] = {}  # funding ids published, oldest first

    async def create_order(self, order: Order) -> OrderEvent:
        native = self.symbols.to_native(order.request.symbol)
        endpoint, params = usdm_params(order.request, native, order.client_order_id)
        if endpoint == "order":
            return await self.place(order, "order.place", self.PATHS.order, params)
        return await self.place(
            order,
            "algoOrder.place",
            "/fapi/v1/algoOrder",
            params,
            to_event=self._algo_event,
            lookup=self._fetch_algo,
        )

    async def create_orders(self, orders: Sequence[Order]) -> list[OrderEvent | OmsError]:
        """Plain orders in batches of five (one result per order, in order); conditional
        ones one by one. A batch whose answer is lost: each order UNKNOWN, resolved."""
        results: list[OrderEvent | OmsError] = []
        for start in range(0, len(orders), BATCH):
            chunk = orders[start : start + BATCH]
            if any(o.request.type.is_conditional for o in chunk):
                results += await super().create_orders(chunk)
                continue
            results += await self._batch(chunk)
        return results

    async def _batch(self, chunk: Sequence[Order]) -> list[OrderEvent | OmsError]:
        items = [
            usdm_params(o.request, self.symbols.to_native(o.request.symbol), o.client_order_id)[1]
            for o in chunk
        ]
        try:
            answers = await self.rest.call(
                "POST",
                "/fapi/v1/batchOrders",
                {"batchOrders": msgspec.json.encode(items).decode()},
                orders=len(chunk),
            )
        except OutcomeUnknown as unknown:
            return [self._unknown(o.request.symbol, o.client_order_id, unknown) for o in chunk]
        out: list[OrderEvent | OmsError] = []
        for order, answer in zip(chunk, answers, strict=True):
            if "code" in answer and "orderId" not in answer:
                out.append(
                    from_binance(answer["code"], answer.get("msg", ""), market="usdm", venue=self.VENUE)
                )
            else:
                out.append(self.order_event(answer, order.request.symbol))
        return out

    def _algo_event(self, answer: dict[str, Any], symbol: str) -> OrderEvent:
        return responses.algo_event(answer, self.VENUE, symbol)

    async def _fetch_algo(self, symbol: str, client_algo_id: str) -> OrderEvent:
        answer = await self.rest.call("GET", "/fapi/v1/algoOrder", {"clientAlgoId": client_algo_id})
        return self._algo_event(answer, symbol)

    async def cancel_order(self, order: Order) -> OrderEvent:
        if not order.request.type.is_conditional:
            return await super().cancel_order(order)
        params = {"clientAlgoId": order.client_order_id}
        await self.send("algoOrder.cancel", "/fapi/v1/algoOrder", "DELETE", params, cancel=True)
        return await self._fetch_algo(order.request.symbol, order.client_order_id)

    async def amend_order(
        self, order: Order, *, qty: Decimal | None = None, price: Decimal | None = None
    ) -> OrderEvent:
        """``order.modify``: a LIMIT order's price and/or quantity (it keeps its id and
        goes to the back of the queue, as Binance does)."""
        if order.request.type is not OrderType.LIMIT:
            raise self._unsupported("modifying orders other than LIMIT")
        params = {
            "symbol": self.symbols.to_native(order.request.symbol),
            "origClientOrderId": order.client_order_id,
            "side": order.request.side.value,
            "quantity": text(qty if qty is not None else order.request.qty),
            "price": text(price if price is not None else order.request.price or Decimal(0)),
        }
        answer = await self.send("order.modify", self.PATHS.order, "PUT", params, orders=1)
        return self.order_event(answer, order.request.symbol)

    # ---- account ----

    async def fetch_fills(self, symbol: str, since_ns: int = 0) -> list[Fill]:
        params = {"symbol": self.symbols.to_native(symbol)}
        if since_ns:
            params["startTime"] = str(since_ns // MS)
        rows = await self.rest.call("GET", "/fapi/v1/userTrades", params, weight=5)
        return [responses.usdm_trade(r, self.VENUE, symbol) for r in rows]

    async def fetch_funding(self, since_ns: int = 0) -> list[Funding]:
        """``FUNDING_FEE`` rows of ``/fapi/v1/income``, oldest first. Paged from the last
        row's time *inclusive* (several symbols settle in the same millisecond), so a
        page boundary never skips a payment; duplicates are dropped by ``tranId``."""
        out: dict[str, Funding] = {}
        start_ms = since_ns // MS
        while True:
            params = {"incomeType": "FUNDING_FEE", "limit": str(INCOME_PAGE), "startTime": str(start_ms)}
            rows = await self.rest.call("GET", "/fapi/v1/income", params, weight=30)
            new = [r for r in rows if str(r["tranId"]) not in out]
            for r in new:
                funding = responses.usdm_funding(r, self.VENUE, self.symbols.to_unified(r["symbol"]))
                out[funding.funding_id] = funding
            if len(rows) < INCOME_PAGE or not new:
                return list(out.values())
            start_ms = int(rows[-1]["time"])

    async def fetch_balances(self) -> list[Balance]:
        rows = await self.rest.call("GET", "/fapi/v3/balance", weight=5)
        now = time.time_ns()
        return [responses.usdm_balance(r, self.VENUE, now) for r in rows]

    async def fetch_positions(self) -> list[Position]:
        rows = await self.rest.call("GET", "/fapi/v3/positionRisk", weight=5)
        now = time.time_ns()
        return [
            responses.usdm_position(r, self.VENUE, self.symbols.to_unified(r["symbol"]), now) for r in rows
        ]

    async def fetch_fee_rates(self, symbol: str) -> FeeRates:
        params = {"symbol": self.symbols.to_native(symbol)}
        answer = await self.rest.call("GET", "/fapi/v1/commissionRate", params, weight=20)
        return responses.usdm_fee_rates(answer, self.VENUE, symbol, time.time_ns())

    async def fetch_symbol_settings(self, symbol: str) -> SymbolSettings:
        params = {"symbol": self.symbols.to_native(symbol)}
        [row] = await self.rest.call("GET", "/fapi/v1/symbolConfig", params, weight=5)
        return responses.usdm_symbol_settings(row, self.VENUE, symbol, time.time_ns())

    async def fetch_position_mode(self) -> bool:
        """True in hedge mode."""
        answer = await self.rest.call("GET", "/fapi/v1/positionSide/dual", weight=30)
        return bool(answer["dualSidePosition"])

    async def positions(self) -> dict[tuple[str, PositionSide], Position]:
        """(symbol, side) -> open position: cached, kept current by ACCOUNT_UPDATE."""
        return await self.account.positions(self.fetch_positions)

    async def symbol_settings(self, symbol: str) -> SymbolSettings:
        """Leverage and margin mode: cached, kept current by our own changes and by
        ACCOUNT_CONFIG_UPDATE."""
        return await self.account.symbol_settings(symbol, lambda: self.fetch_symbol_settings(symbol))

    async def position_mode(self) -> bool:
        return await self.account.position_mode(self.fetch_position_mode)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        params = {"symbol": self.symbols.to_native(symbol), "leverage": str(int(leverage))}
        answer = await self.rest.call("POST", "/fapi/v1/leverage", params)
        self._settings_changed(symbol, leverage=Decimal(answer["leverage"]))

    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        params = {
            "symbol": self.symbols.to_native(symbol),
            "marginType": "ISOLATED" if mode is MarginMode.ISOLATED else "CROSSED",
        }
        with contextlib.suppress(NoChange):  # already so
            await self.rest.call("POST", "/fapi/v1/marginType", params)
        self._settings_changed(symbol, margin_mode=mode)

    async def set_position_mode(self, hedge: bool) -> None:
        with contextlib.suppress(NoChange):
            await self.rest.call(
                "POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": str(hedge).lower()}
            )
        self.account.set_position_mode(hedge)

    def _settings_changed(self, symbol: str, **change: Any) -> None:
        """Update the cached settings (if cached: otherwise the next read loads them)."""
        cached = self.account.cached_settings(symbol)
        if cached is not None:
            self.account.set_symbol_settings(msgspec.structs.replace(cached, ts_ns=time.time_ns(), **change))

    def _on_account_event(self, event: BalanceEvent | PositionEvent) -> None:
        if isinstance(event, BalanceEvent):
            # ACCOUNT_UPDATE carries wallet balances, not the available balance the
            # REST view gives: reload on the next read rather than mix the two.
            self.account.forget("balances")
        else:
            self.account.apply(event)

    # ---- user data and mark prices ----

    async def _subscribe_user_data(self) -> None:
        answer = await self.rest.call("POST", "/fapi/v1/listenKey", signed=False)
        self.listen_key = str(answer["listenKey"])
        await self.stream(self.listen_key, self._on_user_event, "private")
        self.spawn(self._keep_alive())

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(KEEP_ALIVE_S)
            try:
                await self.rest.call("PUT", "/fapi/v1/listenKey", signed=False)
            except OmsError:
                continue  # the next round tries again; an expiry event renews the key

    def _on_user_event(self, raw: dict[str, Any]) -> None:
        try:
            event: FuturesEvent = msgspec.convert(raw.get("data", raw), type=FuturesEvent, strict=False)
        except msgspec.ValidationError:
            return  # an event type we do not model
        if isinstance(event, ListenKeyExpired):
            self.spawn(self._renew())
            return
        if isinstance(event, AccountConfigUpdate) and event.leverage is not None:
            symbol = self.symbols.to_unified(event.leverage.symbol)
            self._settings_changed(symbol, leverage=Decimal(event.leverage.leverage))
        if isinstance(event, AccountUpdate) and event.change.reason == "FUNDING_FEE":
            # The push gives the amount but, for cross margin, not the symbol: the
            # income history names both, with the payment's id.
            self.spawn(self._sync_funding(since_ns=event.time * MS))
        for normalized in normalize_futures(event, self.VENUE, self.symbols.to_unified):
            self.publish(normalized)

    async def _renew(self) -> None:
        """The listenKey expired: a new one, a new subscription, then the gap filled
        from REST (events sent while no key was subscribed)."""
        answer = await self.rest.call("POST", "/fapi/v1/listenKey", signed=False)
        key = str(answer["listenKey"])
        await self.stream(key, self._on_user_event, "private")
        if self.listen_key:
            self.forget_stream(self.listen_key)
        self.listen_key = key
        await self.fill_gap()

    async def _sync_funding(self, since_ns: int) -> None:
        """Publish the funding payments from ``since_ns`` (back off a minute: the push
        and the income row need not carry the same millisecond) not published yet."""
        try:
            payments = await self.fetch_funding(since_ns - 60_000 * MS)
        except OmsError as err:
            log.warning("could not fetch funding payments: %s", err)
            return
        for funding in payments:
            if funding.funding_id not in self._funding_seen:
                self._funding_seen[funding.funding_id] = None
                self.publish(FundingEvent(funding=funding))
        while len(self._funding_seen) > FUNDING_IDS_KEPT:
            del self._funding_seen[next(iter(self._funding_seen))]

    async def _after_streams_rebuilt(self) -> None:
        await self.fill_gap()  # the user stream was on the lost connection

    async def watch_mark_price(self, symbol: str) -> AsyncIterator[MarkPrice]:
        native = self.symbols.to_native(symbol)
        async for raw in self.frames(f"{native.lower()}@markPrice"):
            yield market_data.mark_price(raw, self.VENUE, symbol)
