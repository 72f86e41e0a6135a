"""The USD-M account views: ``GET /fapi/v3/balance``, ``/fapi/v3/account`` and
``/fapi/v3/positionRisk`` (v2 alike, and the WebSocket API's ``account.*``), computed
from the venue's wallets, positions, marks and open orders."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oms.sim.binance.usdm_liquidation import MAINT_RATE, liquidation_price
from oms.sim.binance.usdm_orders import FuturesAccount, FuturesPosition, num

if TYPE_CHECKING:
    from oms.sim.binance.usdm import FuturesExchange

ZERO = Decimal(0)


def balance(venue: FuturesExchange, account: FuturesAccount) -> list[dict[str, Any]]:
    """``GET /fapi/v3/balance`` (v2 alike): the USDT margin asset."""
    upnl, _, _ = venue.margins(account)
    available = venue.available(account)
    return [
        {
            "accountAlias": "SgsR",
            "asset": "USDT",
            "balance": f"{account.wallet:.8f}",
            "crossWalletBalance": f"{account.wallet:.8f}",
            "crossUnPnl": f"{upnl:.8f}",
            "availableBalance": f"{available:.8f}",
            "maxWithdrawAmount": f"{max(available, ZERO):.8f}",
            "marginAvailable": True,
            "updateTime": venue.now(),
        }
    ]


def account_info(venue: FuturesExchange, account: FuturesAccount) -> dict[str, Any]:
    """``GET /fapi/v3/account`` (v2 alike): totals, the USDT asset and open positions."""
    upnl, position_margin, order_margin = venue.margins(account)
    available = venue.available(account)
    totals = {
        "totalInitialMargin": position_margin + order_margin,
        "totalMaintMargin": sum(
            (
                abs(p.qty) * (venue.mark_of(p.symbol) or p.entry) * MAINT_RATE
                for p in account.positions.values()
            ),
            ZERO,
        ),
        "totalWalletBalance": account.wallet,
        "totalUnrealizedProfit": upnl,
        "totalMarginBalance": account.wallet + upnl,
        "totalPositionInitialMargin": position_margin,
        "totalOpenOrderInitialMargin": order_margin,
        "totalCrossWalletBalance": account.wallet,
        "totalCrossUnPnl": upnl,
        "availableBalance": available,
        "maxWithdrawAmount": max(available, ZERO),
    }
    asset = {
        "asset": "USDT",
        "walletBalance": account.wallet,
        "unrealizedProfit": upnl,
        "marginBalance": account.wallet + upnl,
        "maintMargin": totals["totalMaintMargin"],
        "initialMargin": position_margin + order_margin,
        "positionInitialMargin": position_margin,
        "openOrderInitialMargin": order_margin,
        "crossWalletBalance": account.wallet,
        "crossUnPnl": upnl,
        "availableBalance": available,
        "maxWithdrawAmount": max(available, ZERO),
    }
    positions = [
        {k: p[k] for k in ("symbol", "positionSide", "positionAmt", "unRealizedProfit", "notional")}
        | {"isolatedMargin": "0", "isolatedWallet": "0", "initialMargin": p["initialMargin"]}
        | {"maintMargin": p["maintMargin"], "updateTime": p["updateTime"]}
        for p in position_risk(venue, account)
    ]
    text = {k: f"{v:.8f}" for k, v in totals.items()}
    return text | {
        "assets": [
            {k: v if isinstance(v, str) else f"{v:.8f}" for k, v in asset.items()}
            | {"marginAvailable": True, "updateTime": venue.now()}
        ],
        "positions": positions,
    }


def _liquidation_price(venue: FuturesExchange, account: FuturesAccount, position: FuturesPosition) -> Decimal:
    others = [o for o in account.positions.values() if o is not position and o.qty]
    rest = account.wallet + sum(
        (venue.unrealized(account, o) - venue.position_maintenance(o) for o in others), ZERO
    )
    return liquidation_price(position, rest, MAINT_RATE)


def position_risk(venue: FuturesExchange, account: FuturesAccount) -> list[dict[str, Any]]:
    """``GET /fapi/v3/positionRisk`` (positions that are open)."""
    out = []
    for p in account.positions.values():
        if not p.qty:
            continue
        mark = venue.mark_of(p.symbol) or p.entry
        lev = venue.leverage_of(account, p.symbol)
        notional = p.qty * mark
        out.append(
            {
                "symbol": p.symbol,
                "positionSide": p.side,
                "positionAmt": str(p.qty),
                "entryPrice": num(p.entry),
                "breakEvenPrice": num(p.entry),
                "markPrice": str(mark),
                "unRealizedProfit": f"{venue.unrealized(account, p):.8f}",
                "liquidationPrice": num(_liquidation_price(venue, account, p)),
                "isolatedMargin": "0",
                "notional": str(notional),
                "marginAsset": "USDT",
                "isolatedWallet": "0",
                "initialMargin": f"{abs(notional) / lev:.8f}",
                "maintMargin": f"{abs(notional) * MAINT_RATE:.8f}",
                "positionInitialMargin": f"{abs(notional) / lev:.8f}",
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
                "updateTime": venue.now(),
            }
        )
    return out
