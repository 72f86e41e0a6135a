"""Binance Spot WebSocket API (``/ws-api/v3``) over the simulated venue, on the shared
protocol in ``ws_api.py``. User data comes through ``userDataStream.subscribe``
(logged-on session) or ``userDataStream.subscribe.signature`` (any key type) as
``{"subscriptionId", "event"}`` frames, subscription ids counting from 0 per connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oms.sim.binance import auth
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.faults import Faults
from oms.sim.binance.limits import RequestLimits
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_cancel_replace import cancel_replace
from oms.sim.binance.ws_api import Connection, Method, WsApi, account_of


class SpotWsApi(WsApi):
    permission = "SPOT"

    def __init__(
        self,
        venue: SpotExchange,
        keys: auth.KeyStore,
        limits: RequestLimits,
        clock_ms: Callable[[], int] | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.spot = venue
        super().__init__(venue, keys, limits, clock_ms, faults)

    def _methods(self) -> dict[str, Method]:
        v = self.spot
        return super()._methods() | {
            "ping": Method(1, False, lambda c, p, k: {}),
            "time": Method(1, False, lambda c, p, k: {"serverTime": self._clock_ms()}),
            "exchangeInfo": Method(
                20, False, lambda c, p, k: v.exchange_info() | {"rateLimits": self.limits.limits.published()}
            ),
            "order.place": Method(1, True, lambda c, p, k: v.new_order(account_of(k), p), new_order=True),
            "order.test": Method(1, True, lambda c, p, k: v.new_order(account_of(k), p, test=True)),
            "order.cancel": Method(1, True, lambda c, p, k: v.cancel_order(account_of(k), p)),
            "order.cancelReplace": Method(
                1, True, lambda c, p, k: cancel_replace(v, account_of(k), p), new_order=True
            ),
            "order.amend.keepPriority": Method(
                4, True, lambda c, p, k: v.amend_keep_priority(account_of(k), p)
            ),
            "openOrders.cancelAll": Method(1, True, lambda c, p, k: v.cancel_all(account_of(k), p)),
            "allOrders": Method(20, True, lambda c, p, k: v.all_orders(account_of(k), p)),
            "order.status": Method(4, True, lambda c, p, k: v.get_order(account_of(k), p)),
            "openOrders.status": Method(
                6, True, lambda c, p, k: v.open_orders(account_of(k), p.get("symbol"))
            ),
            "account.status": Method(20, True, lambda c, p, k: v.account_info(account_of(k))),
            "account.commission": Method(20, True, lambda c, p, k: v.commission(account_of(k), p)),
            "myTrades": Method(20, True, lambda c, p, k: v.my_trades(account_of(k), p.get("symbol", ""))),
            "userDataStream.subscribe": Method(2, False, self._subscribe_session),
            "userDataStream.subscribe.signature": Method(2, True, self._subscribe),
            "userDataStream.unsubscribe": Method(2, False, self._unsubscribe),
            "session.subscriptions": Method(
                2, False, lambda c, p, k: [{"subscriptionId": i} for i in c.subscriptions]
            ),
        }

    def _subscribe_session(
        self, conn: Connection, params: dict[str, str], key: auth.ApiKey | None
    ) -> dict[str, Any]:
        if conn.key is None:
            raise BinanceApiError(-2015, "Invalid API-key, IP, or permissions for action.", http_status=401)
        return self._subscribe(conn, params, conn.key)

    def _subscribe(self, conn: Connection, params: dict[str, str], key: auth.ApiKey | None) -> dict[str, Any]:
        account = account_of(key)
        subscription = conn.next_subscription
        conn.next_subscription += 1

        def deliver(event: dict[str, Any]) -> None:
            conn.outbox.put({"subscriptionId": subscription, "event": event})

        self.venue.accounts[account].listeners.append(deliver)
        conn.subscriptions[subscription] = (account, deliver)
        return {"subscriptionId": subscription}

    def _unsubscribe(
        self, conn: Connection, params: dict[str, str], key: auth.ApiKey | None
    ) -> dict[str, Any]:
        wanted = params.get("subscriptionId")
        ids = list(conn.subscriptions) if wanted is None else [int(wanted)]
        for subscription in ids:
            entry = conn.subscriptions.pop(subscription, None)
            if entry is not None:
                self.venue.accounts[entry[0]].listeners.remove(entry[1])
        return {}
