"""Binance USD-M Futures WebSocket API (``/ws-fapi/v1``) over the simulated venue.

The same envelope, signing, limits and Ed25519 sessions as the spot WebSocket API
(``spot_ws_api.py``), with futures' methods: ``order.place`` / ``cancel`` / ``modify`` /
``status``, ``account.status`` / ``balance`` / ``position`` (and their ``v2/`` forms), and
``userDataStream.start`` / ``ping`` / ``stop``, which manage the same listenKey as
``POST/PUT/DELETE /fapi/v1/listenKey`` (user data still flows on the ``/private``
stream; futures has no in-session subscription).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oms.sim.binance.spot_ws_api import Method, SpotWsApi, _account
from oms.sim.binance.usdm import FuturesExchange

if TYPE_CHECKING:
    from oms.sim.binance.usdm_rest import FuturesRestServer


class FuturesWsApi(SpotWsApi):
    permission = "FUTURES"

    def __init__(self, server: FuturesRestServer) -> None:
        self.server = server
        super().__init__(server.venue, server.keys, server.limits, server.server_time_ms)

    def _methods(self) -> dict[str, Method]:
        v, s = self.venue, self.server
        assert isinstance(v, FuturesExchange)

        def keyed(run: Any) -> Any:
            """A listenKey call: the account behind the signed request."""
            return lambda c, p, k: run(None, p, _account(k))

        account_status = Method(5, True, lambda c, p, k: v.account_info(_account(k)))
        balance = Method(5, True, lambda c, p, k: v.balance(_account(k)))
        position = Method(5, True, lambda c, p, k: v.position_risk(_account(k)))
        return {
            "session.logon": Method(2, True, self._logon),
            "session.status": Method(2, False, lambda c, p, k: self._session(c)),
            "session.logout": Method(2, False, self._logout),
            "order.place": Method(0, True, lambda c, p, k: v.new_order(_account(k), p), new_order=True),
            "order.cancel": Method(1, True, lambda c, p, k: v.cancel_order(_account(k), p)),
            "order.modify": Method(1, True, lambda c, p, k: v.modify_order(_account(k), p), new_order=True),
            "order.status": Method(1, True, lambda c, p, k: v.get_order(_account(k), p)),
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
