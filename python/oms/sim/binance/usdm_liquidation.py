"""Margin calls and liquidation of the simulated USD-M venue (cross margin).

After every mark price each account holding a position in that symbol is checked: its
margin balance is wallet + unrealized P&L at the marks, its maintenance margin
|notional| x 0.4% per position (Binance's first notional bracket). At a margin ratio
(maintenance / balance) of 80% the account gets one ``MARGIN_CALL`` (another only after
it recovers below); at 100% the venue liquidates it: every open order of the account is
canceled and every position closed by a reduce-only MARKET order the venue places
itself, with client id ``autoclose-<time>`` as Binance names them, filled against the
book like any order. What the book cannot absorb stays open: no insurance fund or
auto-deleveraging is modeled. An isolated position is checked on its own margin
(isolated wallet + unrealized P&L) and liquidated alone.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import TYPE_CHECKING

from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.usdm_orders import FuturesAccount, FuturesPosition

if TYPE_CHECKING:
    from oms.sim.binance.usdm import FuturesExchange

MAINT_RATE = Decimal("0.004")  # maintenance margin rate of Binance's first notional bracket
CALL_RATIO = Decimal("0.8")
ZERO = Decimal(0)


class Liquidator:
    def __init__(self, venue: FuturesExchange) -> None:
        self.venue = venue
        self._called: set[str] = set()  # accounts that got a margin call and have not recovered
        self.liquidations = 0

    def on_mark(self, symbol: str) -> None:
        for account in list(self.venue.accounts.values()):
            if any(s == symbol and p.qty for (s, _), p in account.positions.items()):
                self.check(account)

    def check(self, account: FuturesAccount) -> None:
        for position in [p for p in account.positions.values() if p.qty]:
            if self.venue.is_isolated(account, position.symbol):
                self._check_isolated(account, position)
        maintenance = self.venue.maintenance(account)
        balance = self.venue.margin_balance(account)
        if not maintenance:
            self._called.discard(account.name)
            return
        if balance <= maintenance:
            self._liquidate(account)
        elif maintenance >= balance * CALL_RATIO:
            if account.name not in self._called:
                self._called.add(account.name)
                self._margin_call(account)
        else:
            self._called.discard(account.name)

    def _check_isolated(self, account: FuturesAccount, position: FuturesPosition) -> None:
        """An isolated position is liquidated alone, when its own margin (isolated wallet +
        unrealized P&L) falls to its maintenance margin."""
        margin = position.isolated_wallet + self.venue.unrealized(account, position)
        if margin <= self.venue.position_maintenance(position):
            self.liquidations += 1
            self._close(account, position)

    def _margin_call(self, account: FuturesAccount) -> None:
        venue, now = self.venue, self.venue.now()
        positions = []
        for p in self.venue.cross_positions(account):
            mark = venue.mark_of(p.symbol) or p.entry
            positions.append(
                {
                    "s": p.symbol,
                    "ps": p.side,
                    "pa": str(p.qty),
                    "mt": account.margin_type.get(p.symbol, "cross").upper().replace("CROSS", "CROSSED"),
                    "iw": f"{p.isolated_wallet:.8f}",
                    "mp": f"{mark:.8f}",
                    "up": f"{venue.unrealized(account, p):.8f}",
                    "mm": f"{venue.position_maintenance(p):.8f}",
                }
            )
        account.emit({"e": "MARGIN_CALL", "E": now, "cw": f"{account.wallet:.8f}", "p": positions})

    def _liquidate(self, account: FuturesAccount) -> None:
        venue = self.venue
        self.liquidations += 1
        for symbol in {o.symbol.symbol for o in venue.open_orders_of(account)}:
            venue.cancel_all(account.name, {"symbol": symbol})
        for position in self.venue.cross_positions(account):
            self._close(account, position)
        self._called.discard(account.name)

    def _close(self, account: FuturesAccount, position: FuturesPosition) -> None:
        params = {
            "symbol": position.symbol,
            "side": "SELL" if position.qty > 0 else "BUY",
            "type": "MARKET",
            "quantity": str(abs(position.qty)),
            "positionSide": position.side,
            "newClientOrderId": f"autoclose-{self.venue.now()}",
        }
        if not account.dual:
            params["reduceOnly"] = "true"
        with contextlib.suppress(BinanceApiError):  # an empty book: the position stays
            self.venue.new_order(account.name, params, liquidity=True)


def liquidation_price(position: FuturesPosition, others_balance: Decimal, maint_rate: Decimal) -> Decimal:
    """The mark at which this position's account reaches its maintenance margin, the
    rest of the account held still (cross margin): wallet + the other positions' P&L
    less their maintenance is `others_balance`. 0 when no positive price does it."""
    q, e = position.qty, position.entry
    denominator = q - abs(q) * maint_rate
    if not q or not denominator:
        return ZERO
    price = (e * q - others_balance) / denominator
    return price if price > 0 else ZERO
