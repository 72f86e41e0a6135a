"""Binance USD-M Futures WebSocket API (``/ws-fapi/v1``) over the simulated venue.

The shared protocol of ``ws_api.py`` (envelope, signing, limits, Ed25519 sessions)
with futures' methods: ``order.place`` / ``cancel`` / ``modify`` / ``status``,
``algoOrder.place`` / ``cancel`` (conditional orders), ``account.status`` / ``balance``
/ ``position`` (and their ``v2/`` forms), and ``userDataStream.start`` / ``ping`` /
``stop``, which manage the same listenKey as ``POST/PUT/DELETE /fapi/v1/listenKey``
(user data still flows on the ``/private`` stream; futures has no in-session
subscription).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oms.sim.binance.auth import ApiKey
from oms.sim.binance.ws_api import Connection, Method, WsApi, account_of

if TYPE_CHECKING:
    from oms.sim.binance.usdm_rest import FuturesRestServer

ListenKeyCall = Callable[[None, dict[str, str], str], dict[str, Any]]


class FuturesWsApi(WsApi):
    permission = "FUTURES"

    def __init__(self, server: FuturesRestServer) -> None:
        self.server = server
        self.futures = server.venue
        super().__init__(server.venue, server.keys, server.limits, server.server_time_ms, server.faults)

    def _methods(self) -> dict[str, Method]:
        v, s = self.futures, self.server

        def keyed(run: ListenKeyCall) -> Callable[[Connection, dict[str, str], ApiKey | None], Any]:
            """A listenKey call for the account behind the request's API key."""
            return lambda c, p, k: run(None, p, account_of(k))

        account_status = Method(5, True, lambda c, p, k: v.account_info(account_of(k)))
        balance = Method(5, True, lambda c, p, k: v.balance(account_of(k)))
        position = Method(5, True, lambda c, p, k: v.position_risk(account_of(k)))
        return super()._methods() | {
            "order.place": Method(0, True, lambda c, p, k: v.new_order(account_of(k), p), new_order=True),
            "order.cancel": Method(1, True, lambda c, p, k: v.cancel_order(account_of(k), p)),
            "order.modify": Method(1, True, lambda c, p, k: v.modify_order(account_of(k), p), new_order=True),
            "order.status": Method(1, True, lambda c, p, k: v.get_order(account_of(k), p)),
            "algoOrder.place": Method(
                0, True, lambda c, p, k: v.algos.place(account_of(k), p), new_order=True
            ),
            "algoOrder.cancel": Method(1, True, lambda c, p, k: v.algos.cancel(account_of(k), p)),
            "account.status": account_status,
            "v2/account.status": account_status,
            "account.balance": balance,
            "v2/account.balance": balance,
            "account.position": position,
            "v2/account.position": position,
            "userDataStream.start": Method(1, False, keyed(s.open_listen_key), key_only=True),
            "userDataStream.ping": Method(1, False, keyed(s.keep_alive), key_only=True),
            "userDataStream.stop": Method(1, False, keyed(s.close_listen_key), key_only=True),
        }
