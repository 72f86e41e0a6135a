"""The simulated Binance USD-M Futures venue (perpetuals), transport-free.

Accounts hold a USDT wallet, positions per (symbol, position side) — one-way (``BOTH``,
signed) or hedge mode (``LONG``/``SHORT``) — a leverage and a margin type per symbol.
An order needs initial margin (notional / leverage) from the available balance
(wallet + unrealized P&L - positions' and open orders' initial margin), else -2019.
Fills move positions at average cost, realize P&L and charge commission in USDT, and
emit ``ORDER_TRADE_UPDATE`` and ``ACCOUNT_UPDATE`` events. Conditional types answer
-4120: they live on the algo-order endpoint since Dec 2025 (``usdm_algo.py``), whose
triggers this venue feeds with every last and mark price. Matching is the Rust core's.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal

from oms.matching import MatchingEngine
from oms.model import Side
from oms.sim.binance import errors, usdm_views
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.market_data import MarketPublisher
from oms.sim.binance.order_history import OrderHistory
from oms.sim.binance.spot_orders import HISTORY, int_param, number_param
from oms.sim.binance.usdm_algo import ALGO_TYPES, AlgoBook, AlgoOrder
from oms.sim.binance.usdm_funding import Funding
from oms.sim.binance.usdm_liquidation import MAINT_RATE, Liquidator
from oms.sim.binance.usdm_orders import FuturesAccount, FuturesOrder, FuturesPosition, num
from oms.sim.binance.usdm_symbols import FuturesSymbol

D = Decimal
ZERO = D(0)
EIGHT = D("1e-8")


MAKER_FEE = D("0.0002")
TAKER_FEE = D("0.0005")
DEFAULT_LEVERAGE = 20
_TIF: dict[str, Literal["GTC", "IOC", "FOK", "POST_ONLY"]] = {
    "GTC": "GTC",
    "IOC": "IOC",
    "FOK": "FOK",
    "GTX": "POST_ONLY",
}
ALGO_ONLY = "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."


class FuturesExchange:
    def __init__(self, symbols: list[FuturesSymbol], clock_ms: Callable[[], int] | None = None) -> None:
        self.symbols = {s.symbol: s for s in symbols}
        self.books = {s.symbol: MatchingEngine() for s in symbols}
        self.mark_price: dict[str, Decimal] = {}
        self.last_price: dict[str, Decimal] = {}
        self.accounts: dict[str, FuturesAccount] = {}
        self.orders: OrderHistory[FuturesOrder] = OrderHistory(HISTORY)
        self._resting: dict[int, FuturesOrder] = {}
        self._order_ids = itertools.count(1)
        self._engine_ids = itertools.count(1)
        self._owner_ids = itertools.count(1)
        self.trades: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._income_ids = itertools.count(1)
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        # Market data: trades, depth diffs and top of book after every book change.
        self.market = MarketPublisher(self.symbols, futures=True, text=num)
        self.algos = AlgoBook(self, self._clock_ms)
        self.funding = Funding(self, self._clock_ms())
        self.liquidator = Liquidator(self)

    @property
    def market_listeners(self) -> list[Callable[[str, dict[str, Any]], None]]:
        return self.market.listeners

    def partial_depth(self, symbol: str, levels: int, diff: dict[str, Any]) -> dict[str, Any]:
        return self.market.partial_depth(self.books[symbol], levels, diff)

    def add_account(self, name: str, usdt: Decimal | str) -> FuturesAccount:
        account = FuturesAccount(name, next(self._owner_ids), D(usdt))
        self.accounts[name] = account
        self.record_income(account, "", "TRANSFER", D(usdt), self._clock_ms())
        return account

    def symbol_of(self, params: Mapping[str, str]) -> FuturesSymbol:
        name = params.get("symbol")
        if not name:
            raise errors.mandatory("symbol")
        if name not in self.symbols:
            raise BinanceApiError(-1121, "Invalid symbol.")
        return self.symbols[name]

    # ---- margin ----

    def _leverage(self, account: FuturesAccount, symbol: str) -> int:
        return account.leverage.get(symbol, DEFAULT_LEVERAGE)

    def working_price(self, symbol: str, working_type: str) -> Decimal | None:
        """What conditional orders trigger on: the last trade (CONTRACT_PRICE) or the
        mark price (MARK_PRICE)."""
        if working_type == "MARK_PRICE":
            return self.mark_price.get(symbol)
        return self.last_price.get(symbol)

    def mark_of(self, symbol: str) -> Decimal | None:
        return self._mark(symbol)

    def _mark(self, symbol: str) -> Decimal | None:
        if symbol in self.mark_price:
            return self.mark_price[symbol]
        bid, ask = self.books[symbol].best_bid(), self.books[symbol].best_ask()
        return (bid[0] + ask[0]) / 2 if bid and ask else None

    def is_isolated(self, account: FuturesAccount, symbol: str) -> bool:
        return account.margin_type.get(symbol, "cross") == "isolated"

    def _move_isolated(
        self,
        account: FuturesAccount,
        position: FuturesPosition,
        before: Decimal,
        signed: Decimal,
        price: Decimal,
        realized: Decimal,
    ) -> None:
        """Isolated margin: what a fill opens moves its initial margin from the wallet into
        the position; realized P&L lands in the position, and what a fill closes hands its
        share of the position's margin back to the wallet."""
        closed = min(abs(signed), abs(before)) if before and (before > 0) != (signed > 0) else ZERO
        opened = abs(signed) - closed
        position.isolated_wallet += realized
        if closed:
            release = position.isolated_wallet * closed / abs(before)
            position.isolated_wallet -= release
            account.wallet += max(release, ZERO)  # a loss beyond the isolated margin stays there
        if not position.qty and position.isolated_wallet < 0:
            position.isolated_wallet = ZERO  # written off (Binance's insurance fund would take it)
        if opened:
            add = opened * price / self._leverage(account, position.symbol)
            account.wallet -= add
            position.isolated_wallet += add

    def unrealized(self, account: FuturesAccount, position: FuturesPosition) -> Decimal:
        mark = self._mark(position.symbol)
        return ZERO if mark is None or not position.qty else (mark - position.entry) * position.qty

    def available(self, account: FuturesAccount) -> Decimal:
        """Wallet + unrealized - initial margin of positions and open orders."""
        upnl, position_margin, order_margin = self._margins(account)
        return account.wallet + upnl - position_margin - order_margin

    # ---- orders ----

    def new_order(
        self, account_name: str, params: Mapping[str, str], *, liquidity: bool = False
    ) -> dict[str, Any]:
        """``POST /fapi/v1/order``. ``liquidity`` marks the venue's own background market
        (replayed depth): no filters, open-order cap or margin check apply to it."""
        account = self.accounts[account_name]
        symbol = self.symbol_of(params)
        side_text, order_type = params.get("side") or "", params.get("type") or ""
        if side_text not in ("BUY", "SELL"):
            raise errors.mandatory("side") if not side_text else BinanceApiError(-1117, "Invalid side.")
        if order_type in ALGO_TYPES:
            raise BinanceApiError(-4120, ALGO_ONLY)
        if order_type not in ("LIMIT", "MARKET"):
            raise errors.mandatory("type") if not order_type else BinanceApiError(-1116, "Invalid orderType.")
        side = Side(side_text)
        qty = number_param(params, "quantity", required=True)
        assert qty is not None
        price = number_param(params, "price", required=order_type == "LIMIT")
        tif = params.get("timeInForce") or "GTC"
        if tif not in _TIF:
            raise BinanceApiError(-1115, "Invalid timeInForce.")
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        position_side = self.position_side_of(account, params, reduce_only)
        mark = self._mark(symbol.symbol)
        if not liquidity:
            symbol.check_filters(side, qty, price, mark, reduce_only)
        if not liquidity and (
            sum(1 for o in self._resting.values() if o.account is account and o.symbol is symbol)
            >= symbol.max_num_orders
        ):
            raise BinanceApiError(-2025, "Reach max open order limit.")
        position = account.position(symbol.symbol, position_side)
        closing = ZERO if liquidity else self._open_closing_qty(account, symbol.symbol, position_side, side)
        reduces = self._reduces(position, side, qty, closing)
        closes_hedge_leg = (position_side, side) in (("LONG", Side.SELL), ("SHORT", Side.BUY))
        if (reduce_only or closes_hedge_leg) and not reduces:
            raise BinanceApiError(-2022, "ReduceOnly Order is rejected.")
        client_id = params.get("newClientOrderId")
        if client_id and any(
            o.client_order_id == client_id and o.account is account and o.symbol is symbol
            for o in self._resting.values()
        ):
            raise BinanceApiError(-4116, "clientOrderId is duplicated")
        valuation = price if price is not None else (mark or self._best_opposite(symbol.symbol, side))
        if valuation is None and not reduces:
            raise BinanceApiError(-2019, "Margin is insufficient.")  # nothing to value it by
        margin = (
            ZERO if reduces or valuation is None else qty * valuation / self._leverage(account, symbol.symbol)
        )
        if not liquidity and margin > self.available(account):
            raise BinanceApiError(-2019, "Margin is insufficient.")
        now = self._clock_ms()
        order = FuturesOrder(
            order_id=next(self._order_ids),
            client_order_id=client_id or f"sim{now:x}{next(self._engine_ids)}",
            account=account,
            symbol=symbol,
            side=side,
            type=order_type,
            time_in_force=tif,
            price=price or ZERO,
            orig_qty=qty,
            reduce_only=reduce_only,
            position_side=position_side,
            time=now,
            margin=margin,
        )
        self._match(order, qty, price, "NEW", now)
        self.orders.remember(order)
        return order.view()

    @staticmethod
    def position_side_of(account: FuturesAccount, params: Mapping[str, str], reduce_only: bool) -> str:
        """``positionSide``: BOTH in one-way mode, LONG/SHORT in hedge mode (-4061), where
        ``reduceOnly`` is not accepted (-1106)."""
        position_side = params.get("positionSide") or "BOTH"
        if (position_side == "BOTH") == account.dual or position_side not in ("BOTH", "LONG", "SHORT"):
            raise BinanceApiError(-4061, "Order's position side does not match user's setting.")
        if reduce_only and account.dual:
            raise BinanceApiError(-1106, "Parameter 'reduceonly' sent when not required.")
        return position_side

    def place_triggered(self, algo: AlgoOrder) -> dict[str, Any]:
        """The order a fired algo order places: MARKET (or LIMIT at its price for STOP /
        TAKE_PROFIT), for its quantity or, with closePosition, the whole position."""
        account, symbol = algo.account, algo.symbol.symbol
        qty = algo.quantity
        if algo.close_position:
            position = account.position(symbol, algo.position_side).qty
            qty = abs(position) if (position > 0) == (algo.side is Side.SELL) else ZERO
            if not qty:
                raise BinanceApiError(-2022, "ReduceOnly Order is rejected.")
        params = {
            "symbol": symbol,
            "side": algo.side.value,
            "type": "LIMIT" if algo.limit_child else "MARKET",
            "quantity": str(qty),
            "positionSide": algo.position_side,
            "newClientOrderId": algo.client_algo_id,
        }
        if algo.limit_child:
            params |= {"price": str(algo.price), "timeInForce": algo.time_in_force}
        if (algo.reduce_only or algo.close_position) and not account.dual:
            params["reduceOnly"] = "true"
        return self.new_order(account.name, params)

    def _match(
        self, order: FuturesOrder, qty: Decimal, price: Decimal | None, execution: str, now: int
    ) -> None:
        """Send `qty` of the order to the book, report it (NEW or AMENDMENT), settle the
        fills, rest or expire what is left, and publish the market-data change."""
        symbol, side, account = order.symbol, order.side, order.account
        engine_id = next(self._engine_ids)
        book = self.books[symbol.symbol]
        top_before = (book.best_bid(), book.best_ask())
        result = book.submit(
            engine_id,
            account.owner_id,
            side.value,
            qty,
            price,
            time_in_force=_TIF[order.time_in_force],
            stp="EXPIRE_TAKER",
        )
        if result.status == "REJECTED":
            raise BinanceApiError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            )
        self._report(order, execution, now)
        for fill in result.fills:
            maker = self._resting[fill.maker_id]
            self._trade(order, fill.price, fill.qty, is_maker=False, trade_id=fill.trade_id, now=now)
            self._trade(maker, fill.price, fill.qty, is_maker=True, trade_id=fill.trade_id, now=now)
            if fill.maker_remaining == 0:
                del self._resting[fill.maker_id]
        if result.status in ("NEW", "PARTIALLY_FILLED"):
            order.engine_id = engine_id
            self._resting[engine_id] = order
        elif order.status != "FILLED":
            stp = result.status == "EXPIRED_IN_MATCH"
            order.status, order.margin = ("EXPIRED_IN_MATCH" if stp else "EXPIRED"), ZERO
            self._report(order, "EXPIRED", now)
        changed = {(side.opposite, f.price) for f in result.fills}
        if order.engine_id == engine_id and price is not None:
            changed.add((side, price))
        self.market.publish(symbol.symbol, book, changed, top_before, result.fills, side, now)
        if result.fills:
            self.last_price[symbol.symbol] = result.fills[-1].price
            self.algos.on_price(symbol.symbol, "CONTRACT_PRICE", result.fills[-1].price)

    @staticmethod
    def _reduces(position: FuturesPosition, side: Side, qty: Decimal, closing: Decimal) -> bool:
        """Whether the order only shrinks the position, even after every open order on
        its side that closes the same position has filled (`closing`)."""
        needed = qty + closing
        if position.side == "LONG":
            return side is Side.SELL and needed <= position.qty
        if position.side == "SHORT":
            return side is Side.BUY and needed <= -position.qty
        signed = qty if side is Side.BUY else -qty
        return position.qty != 0 and (position.qty > 0) != (signed > 0) and needed <= abs(position.qty)

    def _open_closing_qty(
        self, account: FuturesAccount, symbol: str, position_side: str, side: Side
    ) -> Decimal:
        return sum(
            (
                o.orig_qty - o.executed_qty
                for o in self._resting.values()
                if o.account is account
                and o.symbol.symbol == symbol
                and o.position_side == position_side
                and o.side is side
            ),
            ZERO,
        )

    def _best_opposite(self, symbol: str, side: Side) -> Decimal | None:
        best = self.books[symbol].best_ask() if side is Side.BUY else self.books[symbol].best_bid()
        return best[0] if best else None

    def _trade(
        self, order: FuturesOrder, price: Decimal, qty: Decimal, *, is_maker: bool, trade_id: int, now: int
    ) -> None:
        account = order.account
        position = account.position(order.symbol.symbol, order.position_side)
        signed = qty if order.side is Side.BUY else -qty
        before = position.qty
        realized = position.fill(signed, price)
        fee = (price * qty * (MAKER_FEE if is_maker else TAKER_FEE)).quantize(EIGHT)  # as reported in `n`
        account.wallet -= fee
        if self.is_isolated(account, position.symbol):
            self._move_isolated(account, position, before, signed, price, realized)
        else:
            account.wallet += realized
        if order.orig_qty:
            order.margin -= order.margin * qty / (order.orig_qty - order.executed_qty)
        order.executed_qty += qty
        order.cum_quote += price * qty
        order.update_time = now
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"
        self.trades.append(
            {
                "buyer": order.side is Side.BUY,
                "commission": f"{fee:.8f}",
                "commissionAsset": "USDT",
                "id": trade_id,
                "maker": is_maker,
                "orderId": order.order_id,
                "price": str(price),
                "qty": str(qty),
                "quoteQty": str(price * qty),
                "realizedPnl": f"{realized:.8f}",
                "side": order.side.value,
                "positionSide": order.position_side,
                "symbol": order.symbol.symbol,
                "time": now,
                "_account": account.name,
            }
        )
        if realized:
            self.record_income(account, order.symbol.symbol, "REALIZED_PNL", realized, now, trade_id)
        self.record_income(account, order.symbol.symbol, "COMMISSION", -fee, now, trade_id)
        account.emit(
            {
                "e": "TRADE_LITE",
                "E": now,
                "T": now,
                "s": order.symbol.symbol,
                "q": str(order.orig_qty),
                "p": str(order.price),
                "m": is_maker,
                "c": order.client_order_id,
                "S": order.side.value,
                "L": str(price),
                "l": str(qty),
                "t": trade_id,
                "i": order.order_id,
            }
        )
        self._report(order, "TRADE", now, last=(price, qty, fee, trade_id, is_maker, realized))
        self.report_account(account, position, "ORDER", now)

    def report_account(
        self,
        account: FuturesAccount,
        position: FuturesPosition,
        reason: str,
        now: int,
        change: Decimal = ZERO,
    ) -> None:
        """``ACCOUNT_UPDATE``: the wallet and one position, with the reason (``m``) and
        the balance change other than P&L and commission (``bc``: a funding payment).
        As Binance does, a funding payment on a cross position carries no ``P``."""
        wallet = f"{account.wallet:.8f}"
        cross_funding = reason == "FUNDING_FEE" and not self.is_isolated(account, position.symbol)
        account.emit(
            {
                "e": "ACCOUNT_UPDATE",
                "E": now,
                "T": now,
                "a": {
                    "m": reason,
                    "B": [{"a": "USDT", "wb": wallet, "cw": wallet, "bc": f"{change:.8f}"}],
                    "P": [] if cross_funding else [self._position_event(account, position)],
                },
            }
        )

    def record_income(
        self,
        account: FuturesAccount,
        symbol: str,
        kind: str,
        amount: Decimal,
        now: int,
        trade_id: int | None = None,
    ) -> None:
        account.income.append(
            {
                "symbol": symbol,
                "incomeType": kind,
                "income": f"{amount:.8f}",
                "asset": "USDT",
                "info": kind,
                "time": now,
                "tranId": next(self._income_ids),
                "tradeId": "" if trade_id is None else str(trade_id),
            }
        )

    def income_history(self, account_name: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/income``: transfers, realized P&L and commissions, oldest first,
        filtered by ``symbol``/``incomeType``/``startTime``/``endTime``, at most ``limit``
        (100 by default, 1000 at most)."""
        symbol, kind = params.get("symbol"), params.get("incomeType")
        start, end = int_param(params, "startTime", 0), int_param(params, "endTime", 2**63)
        limit = int_param(params, "limit", 100)
        if not 1 <= limit <= 1000:
            raise errors.illegal_chars("limit", "1-1000")
        rows = (
            row
            for row in self.accounts[account_name].income
            if (not symbol or row["symbol"] == symbol)
            and (not kind or row["incomeType"] == kind)
            and start <= row["time"] <= end
        )
        return [row for _, row in zip(range(limit), rows, strict=False)]

    def _position_event(self, account: FuturesAccount, p: FuturesPosition) -> dict[str, Any]:
        return {
            "s": p.symbol,
            "pa": str(p.qty),
            "ep": f"{p.entry:.8f}",
            "bep": f"{p.entry:.8f}",
            "cr": "0",
            "up": f"{self.unrealized(account, p):.8f}",
            "mt": account.margin_type.get(p.symbol, "cross"),
            "iw": f"{p.isolated_wallet:.8f}",
            "ps": p.side,
            "ma": "USDT",
        }

    def _report(
        self,
        order: FuturesOrder,
        execution: str,
        now: int,
        last: tuple[Decimal, Decimal, Decimal, int, bool, Decimal] | None = None,
    ) -> None:
        """``ORDER_TRADE_UPDATE`` on the order's account stream."""
        price, qty, fee, trade_id, is_maker, realized = last or (ZERO, ZERO, ZERO, 0, False, ZERO)
        view = order.view()
        order.account.emit(
            {
                "e": "ORDER_TRADE_UPDATE",
                "E": now,
                "T": now,
                "o": {
                    "s": order.symbol.symbol,
                    "c": order.client_order_id,
                    "S": order.side.value,
                    "o": order.type,
                    "f": order.time_in_force,
                    "q": str(order.orig_qty),
                    "p": str(order.price),
                    "ap": view["avgPrice"],
                    "sp": "0",
                    "x": execution,
                    "X": order.status,
                    "i": order.order_id,
                    "l": str(qty),
                    "z": str(order.executed_qty),
                    "L": str(price),
                    "N": "USDT",
                    "n": f"{fee:.8f}",
                    "T": now,
                    "t": trade_id,
                    "b": "0",
                    "a": "0",
                    "m": is_maker,
                    "R": order.reduce_only,
                    "wt": "CONTRACT_PRICE",
                    "ot": order.type,
                    "ps": order.position_side,
                    "cp": False,
                    "rp": f"{realized:.8f}",
                    "pP": False,
                    "si": 0,
                    "ss": 0,
                    "V": "EXPIRE_TAKER",
                    "pm": "NONE",
                    "gtd": 0,
                    "er": "0",
                },
            }
        )
        if not order.is_open:
            self.algos.child_done(order.order_id, order.executed_qty, D(view["avgPrice"]))

    def cancel_order(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``DELETE /fapi/v1/order``; an unknown or finished order is -2011, as on spot."""
        try:
            order = self._find(account_name, params)
        except BinanceApiError as err:
            if err.code != -2013:
                raise
            raise BinanceApiError(-2011, "Unknown order sent.") from None
        if not order.is_open:
            raise BinanceApiError(-2011, "Unknown order sent.")
        book = self.books[order.symbol.symbol]
        top_before = (book.best_bid(), book.best_ask())
        book.cancel(order.engine_id)
        self._resting.pop(order.engine_id, None)
        order.status, order.margin, order.update_time = "CANCELED", ZERO, self._clock_ms()
        self._report(order, "CANCELED", order.update_time)
        changed = {(order.side, order.price)}
        self.market.publish(order.symbol.symbol, book, changed, top_before, [], order.side, order.update_time)
        return order.view()

    def modify_order(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``PUT /fapi/v1/order``: new price and quantity for an open LIMIT order. It keeps
        its id but leaves the queue (re-entered at the back, and may trade at once);
        margin is re-reserved for what is left. A GTX order that would now take is
        refused before anything changes."""
        order = self._find(account_name, params)
        if not order.is_open:
            raise BinanceApiError(-2013, "Order does not exist.")
        if order.type != "LIMIT":
            raise BinanceApiError(-5025, "Only limit order is supported.")
        if (params.get("side") or "") != order.side.value:
            raise errors.mandatory("side")
        qty, price = (
            number_param(params, "quantity", required=True),
            number_param(params, "price", required=True),
        )
        assert qty is not None and price is not None
        if (qty, price) == (order.orig_qty, order.price):
            raise BinanceApiError(-5027, "No need to modify the order.")
        if qty <= order.executed_qty:
            raise BinanceApiError(-4003, "Quantity less than or equal to zero.")
        symbol, account = order.symbol, order.account
        symbol.check_filters(order.side, qty, price, self._mark(symbol.symbol), order.reduce_only)
        margin = (
            ZERO
            if order.margin == 0
            else (qty - order.executed_qty) * price / self._leverage(account, symbol.symbol)
        )
        if margin - order.margin > self.available(account):
            raise BinanceApiError(-2019, "Margin is insufficient.")
        book = self.books[symbol.symbol]
        if order.time_in_force == "GTX" and self._crosses(book, order.side, price):
            raise BinanceApiError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            )
        top_before = (book.best_bid(), book.best_ask())
        book.cancel(order.engine_id)
        self._resting.pop(order.engine_id, None)
        now = self._clock_ms()
        self.market.publish(symbol.symbol, book, {(order.side, order.price)}, top_before, [], order.side, now)
        order.orig_qty, order.price, order.margin, order.update_time = qty, price, margin, now
        self._match(order, qty - order.executed_qty, price, "AMENDMENT", now)
        return order.view()

    @staticmethod
    def _crosses(book: MatchingEngine, side: Side, price: Decimal) -> bool:
        best = book.best_ask() if side is Side.BUY else book.best_bid()
        return best is not None and (price >= best[0] if side is Side.BUY else price <= best[0])

    def _find(self, account_name: str, params: Mapping[str, str]) -> FuturesOrder:
        symbol = self.symbol_of(params)
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if order_id:
            order = self.orders.get(symbol.symbol, int(order_id)) if order_id.isdigit() else None
        else:
            order = self.orders.by_client_id(account_name, symbol.symbol, client_id or "")
        if order is not None and order.account.name == account_name:
            return order
        if not order_id and not client_id:
            raise BinanceApiError(
                -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"
            )
        raise BinanceApiError(-2013, "Order does not exist.")

    def get_order(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._find(account_name, params).query_view()

    def open_orders(self, account_name: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openOrders`` (all symbols when ``symbol`` is absent)."""
        symbol = self.symbol_of(params).symbol if params.get("symbol") else None
        return [
            o.query_view()
            for o in self._resting.values()
            if o.account.name == account_name and (symbol is None or o.symbol.symbol == symbol)
        ]

    def cancel_all(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``DELETE /fapi/v1/allOpenOrders``: each open order of the symbol is canceled
        (with its own ORDER_TRADE_UPDATE), and the answer is futures' ``code: 200``."""
        symbol = self.symbol_of(params).symbol
        for order in [o for o in self._resting.values() if o.account.name == account_name]:
            if order.symbol.symbol == symbol:
                self.cancel_order(account_name, {"symbol": symbol, "orderId": str(order.order_id)})
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # ---- account settings and views ----

    def change_leverage(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        symbol = self.symbol_of(params)
        text = params.get("leverage") or ""
        if not text.isdigit() or not 1 <= int(text) <= symbol.max_leverage:
            raise BinanceApiError(-4028, f"Leverage {text} is not valid")
        account = self.accounts[account_name]
        account.leverage[symbol.symbol] = int(text)
        now = self._clock_ms()
        account.emit(
            {"e": "ACCOUNT_CONFIG_UPDATE", "E": now, "T": now, "ac": {"s": symbol.symbol, "l": int(text)}}
        )
        return {"leverage": int(text), "maxNotionalValue": "1000000", "symbol": symbol.symbol}

    def change_margin_type(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        account, symbol = self.accounts[account_name], self.symbol_of(params)
        wanted = (params.get("marginType") or "").lower()
        if wanted not in ("isolated", "crossed"):
            raise errors.mandatory("marginType")
        wanted = "cross" if wanted == "crossed" else wanted
        if account.margin_type.get(symbol.symbol, "cross") == wanted:
            raise BinanceApiError(-4046, "No need to change margin type.")
        if any(o.account is account and o.symbol is symbol for o in self._resting.values()):
            raise BinanceApiError(-4047, "Margin type cannot be changed if there exists open orders.")
        if any(p.qty for (s, _), p in account.positions.items() if s == symbol.symbol):
            raise BinanceApiError(-4048, "Margin type cannot be changed if there exists position.")
        account.margin_type[symbol.symbol] = wanted
        return {"code": 200, "msg": "success"}  # futures' quirk: a success that looks like an error

    def change_position_mode(self, account_name: str, dual: bool) -> dict[str, Any]:
        account = self.accounts[account_name]
        if account.dual == dual:
            raise BinanceApiError(-4059, "No need to change position side.")
        account.dual = dual
        return {"code": 200, "msg": "success"}

    def set_mark_price(self, symbol: str, price: Decimal | str) -> None:
        """Set the mark price (what margin and unrealized P&L use) and publish it on
        ``<symbol>@markPrice``, as the venue does every second; then settle funding
        that has come due, check margins (``usdm_liquidation``) and fire mark-price
        conditional orders."""
        self.mark_price[symbol] = mark = D(price)
        now = self._clock_ms()
        self.funding.on_mark(symbol, now)
        event = {"e": "markPriceUpdate", "E": now, "s": symbol, "p": num(mark), "ap": num(mark)}
        rate, next_funding = self.funding.rates[symbol], self.funding.next_time[symbol]
        event |= {"i": num(mark), "P": num(mark), "r": f"{rate:.8f}", "T": next_funding}
        self.market.emit(f"{symbol.lower()}@markPrice", event)
        self.liquidator.on_mark(symbol)
        self.algos.on_price(symbol, "MARK_PRICE", mark)

    def now(self) -> int:
        return self._clock_ms()

    def cross_positions(self, account: FuturesAccount) -> list[FuturesPosition]:
        return [p for p in account.positions.values() if p.qty and not self.is_isolated(account, p.symbol)]

    def margin_balance(self, account: FuturesAccount) -> Decimal:
        """Cross: wallet + the cross positions' unrealized P&L at the marks."""
        return account.wallet + sum(
            (self.unrealized(account, p) for p in self.cross_positions(account)), ZERO
        )

    def position_maintenance(self, position: FuturesPosition) -> Decimal:
        return abs(position.qty) * (self._mark(position.symbol) or position.entry) * MAINT_RATE

    def maintenance(self, account: FuturesAccount) -> Decimal:
        """Maintenance margin of the cross positions."""
        return sum((self.position_maintenance(p) for p in self.cross_positions(account)), ZERO)

    def open_orders_of(self, account: FuturesAccount) -> list[FuturesOrder]:
        return [o for o in self._resting.values() if o.account is account]

    def _margins(self, account: FuturesAccount) -> tuple[Decimal, Decimal, Decimal]:
        """Cross margin: (unrealized P&L, position initial margin, open-order initial
        margin); isolated positions stand apart with their own wallets."""
        upnl = position_margin = ZERO
        for p in account.positions.values():
            if p.qty and not self.is_isolated(account, p.symbol):
                upnl += self.unrealized(account, p)
                position_margin += (
                    abs(p.qty) * (self._mark(p.symbol) or p.entry) / self._leverage(account, p.symbol)
                )
        orders = sum((o.margin for o in self._resting.values() if o.account is account), ZERO)
        return upnl, position_margin, orders

    def margins(self, account: FuturesAccount) -> tuple[Decimal, Decimal, Decimal]:
        return self._margins(account)

    def leverage_of(self, account: FuturesAccount, symbol: str) -> int:
        return self._leverage(account, symbol)

    # GET /fapi/v3/balance, /account, /positionRisk (and the WS API's): usdm_views.
    def balance(self, account_name: str) -> list[dict[str, Any]]:
        return usdm_views.balance(self, self.accounts[account_name])

    def account_info(self, account_name: str) -> dict[str, Any]:
        return usdm_views.account_info(self, self.accounts[account_name])

    def position_risk(self, account_name: str) -> list[dict[str, Any]]:
        return usdm_views.position_risk(self, self.accounts[account_name])

    def symbol_config(self, account_name: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        name = params.get("symbol") or None
        if name is not None:
            self.symbol_of(params)  # -1121 for an unknown symbol
        return usdm_views.symbol_config(self, self.accounts[account_name], name)

    def commission_rate(self, params: Mapping[str, str]) -> dict[str, Any]:
        return usdm_views.commission_rate(self.symbol_of(params).symbol, MAKER_FEE, TAKER_FEE)
