"""Binance USD-M Futures REST (``/fapi/...``) and its user-data stream over the
simulated futures venue.

User data still goes through a listenKey on futures: ``POST /fapi/v1/listenKey`` (API
key only; the same key while it lives), ``PUT`` to keep it alive for 60 minutes,
``DELETE`` to close it. Events arrive on ``/private/stream`` after ``SUBSCRIBE`` with the
listenKey (frames ``{"stream": listenKey, "data": event}``), or on ``/private/ws/<key>``.
A key not kept alive expires: its subscribers get ``listenKeyExpired`` and nothing more
(``expire_listen_keys`` runs on each request; ``POST /admin/expire-listen-keys`` forces it).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from oms.sim.binance import auth, errors, market_rest
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.rest_base import RestServer, depth_limit, depth_weight
from oms.sim.binance.sockets import Outbox, SocketSet
from oms.sim.binance.spot_orders import parse_params
from oms.sim.binance.streams import MarketStreams
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_orders import num
from oms.sim.binance.usdm_ws_api import FuturesWsApi

LISTEN_KEY_TTL_MS = 60 * 60 * 1000
MAX_BATCH = 5  # orders per batchOrders call; each counts against the order-rate limit
MAX_BATCH_CANCEL = 10  # ids per DELETE batchOrders


def _batch(text: str | None) -> list[dict[str, Any]]:
    """The ``batchOrders`` parameter: a JSON list of 1..5 order objects."""
    if not text:
        raise errors.mandatory("batchOrders")
    try:
        items = json.loads(text)
    except ValueError:
        raise BinanceApiError(-1130, "Data sent for parameter 'batchOrders' is not valid.") from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BinanceApiError(-1130, "Data sent for parameter 'batchOrders' is not valid.")
    if not 1 <= len(items) <= MAX_BATCH:
        raise BinanceApiError(-4082, f"Invalid number of batch place orders: {len(items)}")
    return items


def _each(
    items: list[dict[str, Any]], action: Callable[[dict[str, str]], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Run `action` on every item on its own: its result, or its error as ``{code, msg}``
    (batch calls answer HTTP 200 with both mixed, in request order)."""
    results: list[dict[str, Any]] = []
    for item in items:
        try:
            results.append(action(parse_params(item)))
        except BinanceApiError as err:
            results.append(err.to_json())
    return results


def _id_list(text: str, name: str) -> list[Any]:
    """``orderIdList`` / ``origClientOrderIdList``: a JSON array of at most ten ids."""
    try:
        ids = json.loads(text)
    except ValueError:
        ids = None
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BATCH_CANCEL:
        raise BinanceApiError(-1130, f"Data sent for parameter '{name}' is not valid.")
    return ids


@dataclass
class ListenKey:
    key: str
    account: str
    expires_ms: int
    subscribers: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)


class FuturesRestServer(RestServer):
    permission = "FUTURES"

    def __init__(
        self, venue: FuturesExchange, keys: auth.KeyStore, clock_ms: Callable[[], int] | None = None
    ) -> None:
        self.venue = venue
        self.listen_keys: dict[str, ListenKey] = {}
        super().__init__(keys, clock_ms)
        self.sockets = SocketSet(
            self.server_time_ms, shutdown_frame=lambda now: {"e": "serverShutdown", "E": now}
        )

    def routes(self) -> None:
        public, signed, keyed, v = self.public, self.signed, self.keyed, self.venue
        add_get, add_post, add_put, add_delete = (
            self.app.router.add_get,
            self.app.router.add_post,
            self.app.router.add_put,
            self.app.router.add_delete,
        )
        add_get("/fapi/v1/ping", public(1, lambda r, p, a: {}))
        add_get("/fapi/v1/time", public(1, lambda r, p, a: {"serverTime": self.server_time_ms()}))
        add_get("/fapi/v1/exchangeInfo", public(1, lambda r, p, a: self._exchange_info()))
        add_get("/fapi/v1/depth", public(depth_weight, self._depth))
        several = lambda p: 2 if p.get("symbol") else 5  # noqa: E731 - one symbol, or all
        add_get("/fapi/v1/trades", public(5, lambda r, p, a: market_rest.recent_trades(v, p, True)))
        add_get("/fapi/v1/aggTrades", public(20, lambda r, p, a: market_rest.agg_trades(v, p)))
        add_get(
            "/fapi/v1/ticker/bookTicker",
            public(several, lambda r, p, a: market_rest.book_ticker(v, p, num, True)),
        )
        add_get(
            "/fapi/v1/ticker/price",
            public(several, lambda r, p, a: market_rest.price_ticker(v, p, num, True)),
        )
        add_post("/fapi/v1/order", signed(0, lambda r, p, a: v.new_order(a, p), orders=1))
        add_put("/fapi/v1/order", signed(0, lambda r, p, a: v.modify_order(a, p), orders=1))
        add_delete("/fapi/v1/order", signed(1, lambda r, p, a: v.cancel_order(a, p)))
        add_get("/fapi/v1/order", signed(1, lambda r, p, a: v.get_order(a, p)))
        add_post("/fapi/v1/batchOrders", signed(5, self._batch_orders, orders=MAX_BATCH))
        add_put("/fapi/v1/batchOrders", signed(5, self._batch_modify, orders=MAX_BATCH))
        add_delete("/fapi/v1/batchOrders", signed(1, self._batch_cancel))
        add_get("/fapi/v1/openOrders", signed(1, lambda r, p, a: v.open_orders(a, p)))
        algos = v.algos  # conditional orders (STOP*, TAKE_PROFIT*, TRAILING_STOP_MARKET)
        add_post("/fapi/v1/algoOrder", signed(0, lambda r, p, a: algos.place(a, p), orders=1))
        add_delete("/fapi/v1/algoOrder", signed(1, lambda r, p, a: algos.cancel(a, p)))
        add_get("/fapi/v1/algoOrder", signed(1, lambda r, p, a: algos.get(a, p)))
        add_delete("/fapi/v1/algoOpenOrders", signed(1, lambda r, p, a: algos.cancel_all(a, p)))
        add_get("/fapi/v1/openAlgoOrders", signed(1, lambda r, p, a: algos.open_orders(a, p)))
        add_get("/fapi/v1/allAlgoOrders", signed(5, lambda r, p, a: algos.all_orders(a, p)))
        add_delete("/fapi/v1/allOpenOrders", signed(1, lambda r, p, a: v.cancel_all(a, p)))
        for version in ("v2", "v3"):
            add_get(f"/fapi/{version}/balance", signed(5, lambda r, p, a: v.balance(a)))
            add_get(f"/fapi/{version}/account", signed(5, lambda r, p, a: v.account_info(a)))
        add_post("/fapi/v1/leverage", signed(1, lambda r, p, a: v.change_leverage(a, p)))
        add_post("/fapi/v1/marginType", signed(1, lambda r, p, a: v.change_margin_type(a, p)))
        add_post("/fapi/v1/positionSide/dual", signed(1, self._position_mode))
        add_get(
            "/fapi/v1/positionSide/dual", signed(30, lambda r, p, a: {"dualSidePosition": v.accounts[a].dual})
        )
        add_get("/fapi/v3/positionRisk", signed(5, lambda r, p, a: v.position_risk(a)))
        add_get("/fapi/v1/symbolConfig", signed(5, lambda r, p, a: v.symbol_config(a, p)))
        add_get("/fapi/v1/commissionRate", signed(20, lambda r, p, a: v.commission_rate(p)))
        add_get("/fapi/v1/userTrades", signed(5, self._user_trades))
        add_get("/fapi/v1/income", signed(30, lambda r, p, a: v.income_history(a, p)))
        add_post("/fapi/v1/listenKey", keyed(1, self.open_listen_key))
        add_put("/fapi/v1/listenKey", keyed(1, self.keep_alive))
        add_delete("/fapi/v1/listenKey", keyed(1, self.close_listen_key))
        add_get("/private/stream", self._private_stream)
        add_get("/private/ws/{key}", self._private_stream)
        funding = v.funding
        premium_weight = lambda p: 1 if p.get("symbol") else 10  # noqa: E731
        add_get("/fapi/v1/premiumIndex", public(premium_weight, lambda r, p, a: funding.premium_index(p)))
        add_get("/fapi/v1/fundingRate", public(1, lambda r, p, a: funding.rate_history(p)))
        self.app.router.add_post("/admin/expire-listen-keys", self._admin_expire)
        self.app.router.add_post("/admin/funding", self._admin_funding)
        self.ws_api = FuturesWsApi(self)
        self.app.router.add_get("/ws-fapi/v1", self.ws_api.handle)
        self.streams = MarketStreams(self.venue, self.faults)
        for prefix in ("", "/market", "/public"):  # the SDK opens /market and /public
            self.streams.routes(self.app, prefix)

    def _exchange_info(self) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "serverTime": self.server_time_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
            ],
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [s.exchange_info() for s in self.venue.symbols.values()],
        }

    def _depth(self, request: web.Request, params: dict[str, str], _: str) -> dict[str, Any]:
        symbol = params.get("symbol", "")
        if symbol not in self.venue.books:
            raise BinanceApiError(-1121, "Invalid symbol.")
        bids, asks = self.venue.books[symbol].depth(depth_limit(params, default=500, maximum=1000))
        now = self.server_time_ms()
        return {
            "lastUpdateId": self.venue.market.update_ids[symbol],
            "E": now,
            "T": now,
            "bids": [[str(p), str(q)] for p, q in bids],
            "asks": [[str(p), str(q)] for p, q in asks],
        }

    def _batch_orders(
        self, request: web.Request, params: dict[str, str], account: str
    ) -> list[dict[str, Any]]:
        """``POST /fapi/v1/batchOrders``: up to five orders, each placed on its own; the
        answer is HTTP 200 with, in request order, the order or its ``{code, msg}``."""
        return _each(_batch(params.get("batchOrders")), lambda item: self.venue.new_order(account, item))

    def _batch_modify(
        self, request: web.Request, params: dict[str, str], account: str
    ) -> list[dict[str, Any]]:
        """``PUT /fapi/v1/batchOrders``: up to five modifications, answered like a batch
        of new orders."""
        return _each(_batch(params.get("batchOrders")), lambda item: self.venue.modify_order(account, item))

    def _batch_cancel(
        self, request: web.Request, params: dict[str, str], account: str
    ) -> list[dict[str, Any]]:
        """``DELETE /fapi/v1/batchOrders``: up to ten orders named by ``orderIdList`` or
        ``origClientOrderIdList`` (JSON arrays), each canceled or answered ``{code, msg}``."""
        symbol = params.get("symbol", "")
        if params.get("orderIdList"):
            ids, field = _id_list(params["orderIdList"], "orderIdList"), "orderId"
        elif params.get("origClientOrderIdList"):
            ids, field = (
                _id_list(params["origClientOrderIdList"], "origClientOrderIdList"),
                "origClientOrderId",
            )
        else:
            raise BinanceApiError(
                -1102,
                "Param 'orderIdList' or 'origClientOrderIdList' must be sent, but both were empty/null!",
            )
        items = [{"symbol": symbol, field: str(i)} for i in ids]
        return _each(items, lambda item: self.venue.cancel_order(account, item))

    def _position_mode(self, request: web.Request, params: dict[str, str], account: str) -> dict[str, Any]:
        wanted = (params.get("dualSidePosition") or "").lower()
        if wanted not in ("true", "false"):
            raise BinanceApiError(
                -1102, "Mandatory parameter 'dualSidePosition' was not sent, was empty/null, or malformed."
            )
        return self.venue.change_position_mode(account, wanted == "true")

    def _user_trades(
        self, request: web.Request, params: dict[str, str], account: str
    ) -> list[dict[str, Any]]:
        symbol = params.get("symbol", "")
        return [
            {k: v for k, v in t.items() if k != "_account"}
            for t in self.venue.trades
            if t["_account"] == account and t["symbol"] == symbol
        ]

    # ---- listenKey ----

    def expire_listen_keys(self, force: bool = False) -> int:
        """Expire keys past their TTL (all of them with `force`); returns how many."""
        now = self.server_time_ms()
        expired = [k for k in self.listen_keys.values() if force or k.expires_ms <= now]
        for key in expired:
            event = {"e": "listenKeyExpired", "E": now, "listenKey": key.key}
            for subscriber in list(key.subscribers):
                subscriber(event)
                self.venue.accounts[key.account].listeners.remove(subscriber)
            del self.listen_keys[key.key]
        return len(expired)

    def _live_key(self, account: str) -> ListenKey | None:
        self.expire_listen_keys()
        return next((k for k in self.listen_keys.values() if k.account == account), None)

    def open_listen_key(
        self, request: web.Request | None, params: dict[str, str], account: str
    ) -> dict[str, Any]:
        key = self._live_key(account)
        if key is None:
            key = ListenKey(secrets.token_urlsafe(48)[:64], account, 0)
            self.listen_keys[key.key] = key
        key.expires_ms = self.server_time_ms() + LISTEN_KEY_TTL_MS
        return {"listenKey": key.key}

    def keep_alive(self, request: web.Request | None, params: dict[str, str], account: str) -> dict[str, Any]:
        key = self._live_key(account)
        if key is None:
            raise BinanceApiError(
                -1125,
                "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`",
            )
        key.expires_ms = self.server_time_ms() + LISTEN_KEY_TTL_MS
        return {"listenKey": key.key}

    def close_listen_key(
        self, request: web.Request | None, params: dict[str, str], account: str
    ) -> dict[str, Any]:
        key = self._live_key(account)
        if key is not None:
            for subscriber in key.subscribers:
                self.venue.accounts[account].listeners.remove(subscriber)
            del self.listen_keys[key.key]
        return {}

    async def _admin_expire(self, request: web.Request) -> web.Response:
        return web.json_response({"expired": self.expire_listen_keys(force=True)})

    async def _admin_funding(self, request: web.Request) -> web.Response:
        """``POST /admin/funding?symbol=BTCUSDT[&rate=0.0003]``: set the rate (optional)
        and settle funding now, instead of waiting for the next 8-hour mark."""
        symbol = request.query.get("symbol", "")
        if symbol not in self.venue.symbols:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        if "rate" in request.query:
            self.venue.funding.set_rate(symbol, Decimal(request.query["rate"]))
        self.venue.funding.settle(symbol, self.server_time_ms())
        return web.json_response({"symbol": symbol, "fundingRate": str(self.venue.funding.rates[symbol])})

    # ---- the private (user data) stream ----

    async def _private_stream(self, request: web.Request) -> web.WebSocketResponse:
        outbox = Outbox()
        attached: list[tuple[ListenKey, Callable[[dict[str, Any]], None]]] = []
        raw = "key" in request.match_info

        def attach(name: str) -> bool:
            key = self.listen_keys.get(name)
            if key is None:
                return False

            def deliver(event: dict[str, Any]) -> None:
                outbox.put(event if raw else {"stream": name, "data": event})

            key.subscribers.append(deliver)
            self.venue.accounts[key.account].listeners.append(deliver)
            attached.append((key, deliver))
            return True

        def control(text: str) -> dict[str, Any]:
            try:
                frame = json.loads(text)
                names = [str(n) for n in frame.get("params") or []]
            except (ValueError, AttributeError):
                return {"error": {"code": 3, "msg": "Invalid JSON"}, "id": None}
            if frame.get("method") == "SUBSCRIBE":
                unknown = [n for n in names if not attach(n)]
                if unknown:
                    return {
                        "error": {"code": 2, "msg": f"Invalid request: unknown listenKey {unknown[0]}"},
                        "id": frame.get("id"),
                    }
            return {"result": None, "id": frame.get("id")}

        if raw:
            attach(request.match_info["key"])
        try:
            return await self.sockets.serve(request, outbox, control)
        finally:
            for key, deliver in attached:
                if deliver in key.subscribers:
                    key.subscribers.remove(deliver)
                listeners = self.venue.accounts[key.account].listeners
                if deliver in listeners:
                    listeners.remove(deliver)

    async def disconnect_sockets(self) -> int:
        return (
            await self.sockets.disconnect() + await self.streams.disconnect() + await self.ws_api.disconnect()
        )

    async def shutdown_sockets(self) -> None:
        await self.sockets.shutdown()
        await self.streams.shutdown()
        await self.ws_api.shutdown()
