"""``oms.v1.PortfolioService``: positions (per venue and per asset), balances, P&L."""

from __future__ import annotations

import asyncio
from typing import Any

from oms.api import convert
from oms.engine import Engine
from oms.v1 import portfolio_pb2 as rpc


class PortfolioService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def list_positions(
        self, request: rpc.ListPositionsRequest, context: Any
    ) -> rpc.ListPositionsResponse:
        account = request.account or None
        return rpc.ListPositionsResponse(
            positions=[convert.position_out(p) for p in self.engine.positions(account)],
            aggregated=[convert.aggregate_out(a) for a in self.engine.aggregate_positions(account)],
        )

    async def list_balances(self, request: rpc.ListBalancesRequest, context: Any) -> rpc.ListBalancesResponse:
        venues = [request.venue] if request.venue else sorted(self.engine.exchanges)
        per_venue = await asyncio.gather(*(self.engine.balances(v) for v in venues))
        return rpc.ListBalancesResponse(
            balances=[convert.balance_out(b) for balances in per_venue for b in balances.values()]
        )

    async def get_pnl(self, request: rpc.GetPnlRequest, context: Any) -> rpc.GetPnlResponse:
        pnl = self.engine.pnl(request.account or None)
        return rpc.GetPnlResponse(
            realized=convert.dec(pnl["realized"]),
            unrealized=convert.dec(pnl["unrealized"]),
            fees=convert.dec(pnl["fees"]),
            net=convert.dec(pnl["net"]),
            funding=convert.dec(pnl["funding"]),
        )
