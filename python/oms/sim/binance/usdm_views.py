"""The USD-M account views: ``GET /fapi/v3/balance``, ``/fapi/v3/account`` and
``/fapi/v3/positionRisk`` (v2 alike, and the WebSocket API's ``account.*``), computed
from the venue's wallets, positions, marks and open orders; and the per-symbol
settings: ``/fapi/v1/symbolConfig`` and ``/fapi/v1/commissionRate``."""

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
    isolated_wallets = sum((p.isolated_wallet for p in account.positions.values()), ZERO)
    return [
        {
            "accountAlias": "SgsR",
            "asset": "USDT",
            "balance": f"{account.wallet + isolated_wallets:.8f}",
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
    isolated = [p for p in account.positions.values() if p.qty and venue.is_isolated(account, p.symbol)]
    isolated_wallets = sum((p.isolated_wallet for p in isolated), ZERO)
    isolated_upnl = sum((venue.unrealized(account, p) for p in isolated), ZERO)
    wallet, total_upnl = account.wallet + isolated_wallets, upnl + isolated_upnl
    totals = {
        "totalInitialMargin": position_margin + isolated_wallets + order_margin,
        "totalMaintMargin": sum(
            (
                abs(p.qty) * (venue.mark_of(p.symbol) or p.entry) * MAINT_RATE
                for p in account.positions.values()
            ),
            ZERO,
        ),
        "totalWalletBalance": wallet,
        "totalUnrealizedProfit": total_upnl,
        "totalMarginBalance": wallet + total_upnl,
        "totalPositionInitialMargin": position_margin + isolated_wallets,
        "totalOpenOrderInitialMargin": order_margin,
        "totalCrossWalletBalance": account.wallet,
        "totalCrossUnPnl": upnl,
        "availableBalance": available,
        "maxWithdrawAmount": max(available, ZERO),
    }
    asset = {
        "asset": "USDT",
        "walletBalance": wallet,
        "unrealizedProfit": total_upnl,
        "marginBalance": wallet + total_upnl,
        "maintMargin": totals["totalMaintMargin"],
        "initialMargin": position_margin + isolated_wallets + order_margin,
        "positionInitialMargin": position_margin + isolated_wallets,
        "openOrderInitialMargin": order_margin,
        "crossWalletBalance": account.wallet,
        "crossUnPnl": upnl,
        "availableBalance": available,
        "maxWithdrawAmount": max(available, ZERO),
    }
    positions = [
        {k: p[k] for k in ("symbol", "positionSide", "positionAmt", "unRealizedProfit", "notional")}
        | {k: p[k] for k in ("isolatedMargin", "isolatedWallet", "initialMargin")}
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
    if venue.is_isolated(account, position.symbol):  # only its own margin stands behind it
        return liquidation_price(position, position.isolated_wallet, MAINT_RATE)
    others = [o for o in venue.cross_positions(account) if o is not position]
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
        upnl = venue.unrealized(account, p)
        isolated = venue.is_isolated(account, p.symbol)
        out.append(
            {
                "symbol": p.symbol,
                "positionSide": p.side,
                "positionAmt": str(p.qty),
                "entryPrice": num(p.entry),
                "breakEvenPrice": num(p.entry),
                "markPrice": str(mark),
                "unRealizedProfit": f"{upnl:.8f}",
                "liquidationPrice": num(_liquidation_price(venue, account, p)),
                "isolatedMargin": f"{p.isolated_wallet + upnl:.8f}" if isolated else "0",
                "notional": str(notional),
                "marginAsset": "USDT",
                "isolatedWallet": f"{p.isolated_wallet:.8f}" if isolated else "0",
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


def symbol_config(
    venue: FuturesExchange, account: FuturesAccount, symbol: str | None
) -> list[dict[str, Any]]:
    """``GET /fapi/v1/symbolConfig``: leverage and margin type, one symbol or all."""
    names = [symbol] if symbol else sorted(venue.symbols)
    return [
        {
            "symbol": name,
            "marginType": "ISOLATED" if venue.is_isolated(account, name) else "CROSSED",
            "isAutoAddMargin": False,
            "leverage": venue.leverage_of(account, name),
            "maxNotionalValue": "1000000",
        }
        for name in names
    ]


def commission_rate(symbol: str, maker: Decimal, taker: Decimal) -> dict[str, Any]:
    """``GET /fapi/v1/commissionRate``."""
    return {
        "symbol": symbol,
        "makerCommissionRate": f"{maker:f}",
        "takerCommissionRate": f"{taker:f}",
        "rpiCommissionRate": "0",
    }
