"""The simulated Binance Spot venue: accounts, order entry, matching, balances,
responses and user-data events, with no transport. The REST and WebSocket API
servers call into this; so can tests, directly.

Parameters arrive as Binance sends them (strings keyed by Binance's names) and
answers are Binance's JSON shapes, with its quirks (``cummulativeQuoteQty``,
``origQuoteOrderQty`` with six decimals, ``orderListId: -1``). Matching is the Rust
core's price-time book; funds are locked when an order rests and moved on every fill,
commission taken from what the side receives.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from oms.errors import InvalidInput
from oms.matching import MatchingEngine, MatchResult
from oms.model import OrderType, Side
from oms.sim.binance import errors
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.market_data import MarketPublisher
from oms.sim.binance.order_history import OrderHistory
from oms.sim.binance.spot_amend import amend_keep_priority
from oms.sim.binance.spot_order_lists import OrderLists
from oms.sim.binance.spot_orders import (
    HISTORY,
    SpotAccount,
    SpotOrder,
    commission_rates,
    int_param,
    number_param,
    order_test_answer,
)
from oms.sim.binance.spot_stops import STOP_TYPES, SpotStops
from oms.sim.binance.spot_symbols import SpotSymbol, exchange_info, fmt

D = Decimal
ZERO = D(0)
_CLIENT_ID = re.compile(r"[a-zA-Z0-9-_]{1,36}")  # used with fullmatch: no trailing newline slips by
_ORDER_ID = re.compile(r"[0-9]{1,20}")
_TIF = {"GTC", "IOC", "FOK"}
_CANCEL_RESTRICTIONS = {"ONLY_NEW": "NEW", "ONLY_PARTIALLY_FILLED": "PARTIALLY_FILLED"}
_RESP_TYPES = {"ACK", "RESULT", "FULL"}
_STP = {"NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"}
_NOT_SUPPORTED = {
    "MARKET": "Market orders are not supported for this symbol.",
    "STOP_LOSS": "Stop loss orders are not supported for this symbol.",
    "STOP_LOSS_LIMIT": "Stop loss limit orders are not supported for this symbol.",
    "TAKE_PROFIT": "Take profit orders are not supported for this symbol.",
    "TAKE_PROFIT_LIMIT": "Take profit limit orders are not supported for this symbol.",
}
_KNOWN_TYPES = {
    "LIMIT",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
    "LIMIT_MAKER",
}

# Binance's conditional type names -> the model's (the filters are the model's rules)
_MODEL_TYPES = {
    "STOP_LOSS": "STOP_MARKET",
    "STOP_LOSS_LIMIT": "STOP_LIMIT",
    "TAKE_PROFIT": "TAKE_PROFIT_MARKET",
}


def _reject(msg: str) -> BinanceApiError:
    return BinanceApiError(-2010, msg)


class SpotExchange:
    """One simulated Spot venue (all symbols, all accounts)."""

    def __init__(self, symbols: list[SpotSymbol], clock_ms: Callable[[], int] | None = None) -> None:
        self.symbols = {s.symbol: s for s in symbols}
        self.books = {s.symbol: MatchingEngine() for s in symbols}
        self.accounts: dict[str, SpotAccount] = {}
        self.orders: OrderHistory[SpotOrder] = OrderHistory(HISTORY)
        self._by_engine_id: dict[int, SpotOrder] = {}
        self.open_client_ids: dict[tuple[str, str, str], SpotOrder] = {}  # (account, symbol, clientOrderId)
        self._order_ids = {s.symbol: itertools.count(1) for s in symbols}
        self._engine_ids = itertools.count(1)
        self.trades: deque[dict[str, Any]] = deque(maxlen=HISTORY)  # myTrades rows, all accounts
        self.last_price: dict[str, Decimal] = {}
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self._owner_ids = itertools.count(1)
        self.execution_ids = itertools.count(1)  # executionReport "I" and amend's executionId
        self._expired_prices: dict[int, Decimal] = {}
        self._prevented_ids = itertools.count(0)  # preventedMatchId
        # Market data: trades, depth diffs and top of book after every book change.
        self.market = MarketPublisher((s.symbol for s in symbols), futures=False, text=fmt)
        self.stops = SpotStops(self)  # conditional orders waiting for their trigger
        self.order_lists = OrderLists(self)  # OCO lists

    # ---- accounts ----

    def add_account(self, name: str, balances: Mapping[str, Decimal | str] | None = None) -> SpotAccount:
        account = SpotAccount(name, next(self._owner_ids))
        for asset, amount in (balances or {}).items():
            account.move(asset, free=D(amount))
        account.changed.clear()
        self.accounts[name] = account
        return account

    def account_info(self, name: str) -> dict[str, Any]:
        """``GET /api/v3/account``."""
        return self.accounts[name].view(self._clock_ms())

    def commission(self, name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``GET /api/v3/account/commission``."""
        return commission_rates(self.accounts[name], self.symbol_of(params).symbol)

    def exchange_info(self) -> dict[str, Any]:
        """``GET /api/v3/exchangeInfo``."""
        return exchange_info(self.symbols.values(), self._clock_ms())

    # ---- order entry ----

    def symbol_of(self, params: Mapping[str, str]) -> SpotSymbol:
        name = params.get("symbol")
        if not name:
            raise errors.mandatory("symbol")
        symbol = self.symbols.get(name)
        if symbol is None:
            raise BinanceApiError(-1121, "Invalid symbol.")
        return symbol

    def new_order(
        self,
        account_name: str,
        params: Mapping[str, str],
        test: bool = False,
        *,
        order_list_id: int = -1,
        lock: Decimal | None = None,
        liquidity: bool = False,
    ) -> dict[str, Any]:
        """``POST /api/v3/order``: validate, lock funds, match, answer (ACK/RESULT/FULL).
        With `test` (``order/test``) stop after validation: nothing is placed. A
        conditional order waits for its trigger instead of matching (``spot_stops``).
        An order-list leg names its list and the funds it locks (``lock``: the list
        locks once for both legs). ``liquidity`` marks the venue's own background market
        (replayed depth): no symbol filters and no open-order cap apply to it."""
        account = self.accounts[account_name]
        symbol = self.symbol_of(params)
        side, order_type, tif, qty, price, stp, client_id, resp_type = self._parse_new(params, symbol)
        stop_price, trailing_delta = self.stops.parse(params, order_type, symbol)
        if symbol.status != "TRADING":
            raise _reject("Market is closed.")
        key = (account.name, symbol.symbol, client_id)
        if key in self.open_client_ids:
            raise _reject("Duplicate order sent.")
        book = self.books[symbol.symbol]
        top_before = (book.best_bid(), book.best_ask())
        reference = self._reference_price(symbol.symbol, book)
        if not liquidity:
            model_type = _MODEL_TYPES.get(order_type, order_type)
            symbol.check_filters(side, OrderType(model_type), qty, price, stop_price or None, reference)
            mine = sum(1 for a, sym, _ in self.open_client_ids if a == account.name and sym == symbol.symbol)
            if mine >= symbol.max_num_orders:
                raise BinanceApiError(-1013, "Filter failure: MAX_NUM_ORDERS")
        if test:
            return order_test_answer(account, params)
        own_asks = (
            self._own_levels(account, symbol.symbol, Side.SELL)
            if stp in ("EXPIRE_MAKER", "EXPIRE_BOTH")
            else {}
        )
        lock_price = price if price is not None else (stop_price or None)
        lock_asset, lock_amount = self._required_funds(
            symbol, side, order_type, qty, lock_price, book, own_asks
        )
        lock_amount = lock_amount if lock is None else lock
        if account.free.get(lock_asset, ZERO) < lock_amount:
            raise _reject("Account has insufficient balance for requested action.")
        if order_type == "LIMIT_MAKER" and self._would_take(book, side, price):
            raise _reject("Order would immediately match and take.")
        now = self._clock_ms()
        order = SpotOrder(
            order_id=next(self._order_ids[symbol.symbol]),
            client_order_id=client_id,
            account=account,
            symbol=symbol,
            side=side,
            type=order_type,
            time_in_force=tif,
            price=price or ZERO,
            orig_qty=qty,
            stp=stp,
            time=now,
            locked_asset=lock_asset,
            locked_left=lock_amount,
            orig_quote_qty=number_param(params, "quoteOrderQty", required=False) or ZERO,
            stop_price=stop_price,
            trailing_delta=trailing_delta,
            working=order_type not in STOP_TYPES,
            order_list_id=order_list_id,
        )
        if not order.working:
            self.stops.wait(order)  # -2010 when the last price already triggers it
            account.move(lock_asset, free=-lock_amount, locked=lock_amount)
            self.execution_report(order, "NEW", now)
            self.open_client_ids[key] = order
            self.orders.remember(order)
            self.report_balances(now)
            return self._response(order, [], resp_type, now)
        engine_id = next(self._engine_ids)
        try:
            result = book.submit(
                engine_id,
                account.owner_id,
                side.value,
                qty,
                price,
                time_in_force="POST_ONLY" if order_type == "LIMIT_MAKER" else tif,  # type: ignore[arg-type]
                stp=stp,  # type: ignore[arg-type]
            )
        except InvalidInput as err:  # nothing was locked or reported yet
            raise BinanceApiError(-1013, f"Filter failure: {err.message}") from None
        account.move(lock_asset, free=-lock_amount, locked=lock_amount)
        self.execution_report(order, "NEW", now)
        fills = self._complete(order, engine_id, result, top_before, now)
        self.stops.after_trades(symbol.symbol)
        return self._response(order, fills, resp_type, now)

    def _complete(
        self,
        order: SpotOrder,
        engine_id: int,
        result: MatchResult,
        top_before: tuple[object, object],
        now: int,
    ) -> list[dict[str, Any]]:
        """After the book took the order: settle its fills, rest or finish it, keep it,
        report balances and publish the market-data change; the taker's fill rows."""
        fills = self._settle(order, result, now)
        if order.is_open and result.status in ("NEW", "PARTIALLY_FILLED"):
            order.engine_id = engine_id
            self._by_engine_id[engine_id] = order
            self.open_client_ids[(order.account.name, order.symbol.symbol, order.client_order_id)] = order
        else:
            self._finish(order, "EXPIRED_IN_MATCH" if result.status == "EXPIRED_IN_MATCH" else None, now)
        self.orders.remember(order)
        self.report_balances(now)
        side = order.side
        changed = {(side.opposite, f.price) for f in result.fills}
        changed |= {(side.opposite, self._expired_prices.pop(i)) for i, _ in result.expired_makers}
        if (
            order.engine_id == engine_id
            and order.working
            and order.type not in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")
        ):
            changed.add((side, order.price))
        self.publish_market(order.symbol.symbol, changed, top_before, result, side, now)
        return fills

    def activate(self, order: SpotOrder) -> None:
        """A conditional order's trigger fired: it goes to the book now, as a MARKET
        order (STOP_LOSS, TAKE_PROFIT) or a LIMIT at its price (the ``_LIMIT`` types). A
        market buy that its funds no longer cover expires."""
        now = self._clock_ms()
        symbol, book = order.symbol, self.books[order.symbol.symbol]
        if order.order_list_id != -1:
            self.order_lists.leg_executing(order, now)
        top_before = (book.best_bid(), book.best_ask())
        order.working, order.working_time, order.update_time = True, now, now
        limit = order.type.endswith("_LIMIT")
        qty = order.orig_qty - order.executed_qty
        if not limit and order.side is Side.BUY:
            _, cost = self._required_funds(symbol, order.side, "MARKET", qty, None, book, {})
            if cost > order.locked_left + order.account.free.get(order.locked_asset, ZERO):
                self._finish(order, "EXPIRED", now)
                self.report_balances(now)
                return
        self.execution_report(order, "NEW", now)  # on the book from now on (w=true)
        engine_id = next(self._engine_ids)
        try:
            result = book.submit(
                engine_id,
                order.account.owner_id,
                order.side.value,
                qty,
                order.price if limit else None,
                time_in_force=order.time_in_force if limit else "GTC",  # type: ignore[arg-type]
                stp=order.stp,  # type: ignore[arg-type]
            )
        except InvalidInput:
            self._finish(order, "EXPIRED", now)
            self.report_balances(now)
            return
        self._complete(order, engine_id, result, top_before, now)

    def report_balances(self, now: int) -> None:
        for account in self.accounts.values():
            account.report_balances(now)

    def _parse_new(
        self, params: Mapping[str, str], symbol: SpotSymbol
    ) -> tuple[Side, str, str, Decimal, Decimal | None, str, str, str]:
        side_text = params.get("side") or ""
        if not side_text:
            raise errors.mandatory("side")
        if side_text not in ("BUY", "SELL"):
            raise BinanceApiError(-1117, "Invalid side.")
        order_type = params.get("type") or ""
        if not order_type:
            raise errors.mandatory("type")
        if order_type not in _KNOWN_TYPES:
            raise BinanceApiError(-1116, "Invalid orderType.")
        if order_type not in symbol.order_types:
            raise _reject(_NOT_SUPPORTED.get(order_type, "Unsupported order combination"))
        limit_priced = order_type in ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
        takes_tif = order_type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
        tif = params.get("timeInForce") or ""
        if takes_tif and not tif:
            raise errors.mandatory("timeInForce")
        if tif and tif not in _TIF:
            raise BinanceApiError(-1115, "Invalid timeInForce.")
        if tif and not takes_tif:
            raise BinanceApiError(-1106, "Parameter 'timeInForce' sent when not required.")
        qty = self._quantity(params, symbol, Side(side_text), order_type)
        price = number_param(params, "price", required=limit_priced)
        if price is not None and not limit_priced:
            raise BinanceApiError(-1106, "Parameter 'price' sent when not required.")
        if qty is None or qty <= 0 or (price is not None and price <= 0):
            raise _reject("Price * QTY is zero or less.")
        stp = params.get("selfTradePreventionMode") or "EXPIRE_TAKER"
        if stp not in _STP:
            raise errors.illegal_chars("selfTradePreventionMode", "|".join(sorted(_STP)))
        client_id = params.get("newClientOrderId") or f"sim{next(self._engine_ids):x}{self._clock_ms():x}"
        if not _CLIENT_ID.fullmatch(client_id):
            raise errors.illegal_chars("newClientOrderId", "^[a-zA-Z0-9-_]{1,36}$")
        default_resp = "FULL" if order_type in ("MARKET", "LIMIT") else "ACK"
        resp_type = params.get("newOrderRespType") or default_resp
        if resp_type not in _RESP_TYPES:
            raise errors.illegal_chars("newOrderRespType", "ACK|RESULT|FULL")
        return Side(side_text), order_type, tif or "GTC", qty, price, stp, client_id, resp_type

    def _quantity(
        self, params: Mapping[str, str], symbol: SpotSymbol, side: Side, order_type: str
    ) -> Decimal:
        """``quantity``, or for MARKET orders the base quantity ``quoteOrderQty`` buys (or
        sells for) against the book now, floored to the market step size."""
        if not params.get("quoteOrderQty"):
            if order_type == "MARKET" and not params.get("quantity"):
                raise BinanceApiError(
                    -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
                )
            qty = number_param(params, "quantity", required=True)
            assert qty is not None
            return qty
        if order_type != "MARKET" or params.get("quantity"):
            raise BinanceApiError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
        quote = number_param(params, "quoteOrderQty", required=True)
        assert quote is not None
        book = self.books[symbol.symbol]
        levels = book.depth(1_000_000)[1 if side is Side.BUY else 0]
        qty, left = ZERO, quote
        for price, level_qty in levels:
            take = min(level_qty, left / price)
            qty, left = qty + take, left - take * price
            if not left:
                break
        step = symbol.market_step_size if symbol.market_step_size else symbol.step_size
        return (qty / step).to_integral_value(rounding=ROUND_DOWN) * step

    def _reference_price(self, symbol: str, book: MatchingEngine) -> Decimal | None:
        """Last trade, else the mid of the book: Binance's average price stands in."""
        if symbol in self.last_price:
            return self.last_price[symbol]
        bid, ask = book.best_bid(), book.best_ask()
        if bid and ask:
            return (bid[0] + ask[0]) / 2
        return (bid or ask or (None, None))[0]

    @staticmethod
    def _would_take(book: MatchingEngine, side: Side, price: Decimal | None) -> bool:
        best = book.best_ask() if side is Side.BUY else book.best_bid()
        if best is None or price is None:
            return False
        return best[0] <= price if side is Side.BUY else best[0] >= price

    @staticmethod
    def _required_funds(
        symbol: SpotSymbol,
        side: Side,
        order_type: str,
        qty: Decimal,
        price: Decimal | None,
        book: MatchingEngine,
        skip: Mapping[Decimal, Decimal],
    ) -> tuple[str, Decimal]:
        """Asset and amount an order needs now: base for sells; for buys the limit
        cost, or for market buys the cost of walking the book (without the quantity in
        `skip`: the taker's own asks that self-trade prevention will remove)."""
        if side is Side.SELL:
            return symbol.base, qty
        if price is not None:
            return symbol.quote, qty * price
        cost, left = ZERO, qty
        for level_price, level_qty in book.depth(1_000_000)[1]:
            take = min(left, level_qty - skip.get(level_price, ZERO))
            cost += take * level_price
            left -= take
            if not left:
                break
        return symbol.quote, cost

    def _own_levels(self, account: SpotAccount, symbol: str, side: Side) -> dict[Decimal, Decimal]:
        levels: dict[Decimal, Decimal] = {}
        for o in self._by_engine_id.values():
            if o.account is account and o.symbol.symbol == symbol and o.side is side:
                levels[o.price] = levels.get(o.price, ZERO) + o.orig_qty - o.executed_qty
        return levels

    # ---- settlement ----

    def _settle(self, taker: SpotOrder, result: MatchResult, now: int) -> list[dict[str, Any]]:
        """Move funds and update both sides for every fill; return the taker's fill rows."""
        rows = []
        symbol = taker.symbol
        for fill in result.fills:
            maker = self._by_engine_id[fill.maker_id]
            price, qty = fill.price, fill.qty
            taker_fee = self._trade(taker, price, qty, is_maker=False, trade_id=fill.trade_id, now=now)
            self._trade(maker, price, qty, is_maker=True, trade_id=fill.trade_id, now=now)
            if fill.maker_remaining == 0:
                self._close_resting(maker, "FILLED", now, fill.maker_id)
            self.last_price[symbol.symbol] = price
            rows.append(
                {
                    "price": fmt(price),
                    "qty": fmt(qty),
                    "commission": fmt(taker_fee[0]),
                    "commissionAsset": taker_fee[1],
                    "tradeId": fill.trade_id,
                }
            )
        for maker_id, qty in result.expired_makers:
            maker = self._by_engine_id[maker_id]
            self._expired_prices[maker_id] = maker.price
            maker.prevented_match_id, maker.prevented_qty = next(self._prevented_ids), qty
            taker.prevented.append(
                {
                    "preventedMatchId": maker.prevented_match_id,
                    "makerOrderId": maker.order_id,
                    "price": fmt(maker.price),
                    "makerPreventedQuantity": fmt(qty),
                }
            )
            self._close_resting(maker, "EXPIRED_IN_MATCH", now, maker_id)
        return rows

    def _trade(
        self, order: SpotOrder, price: Decimal, qty: Decimal, *, is_maker: bool, trade_id: int, now: int
    ) -> tuple[Decimal, str]:
        if order.order_list_id != -1:
            self.order_lists.leg_executing(order, now)  # before the funds move: see there
        account, symbol = order.account, order.symbol
        rate = account.maker_fee if is_maker else account.taker_fee
        notional = price * qty
        if order.side is Side.BUY:
            spent, spent_asset, received, received_asset = notional, symbol.quote, qty, symbol.base
        else:
            spent, spent_asset, received, received_asset = qty, symbol.base, notional, symbol.quote
        fee = (received * rate).quantize(D(1).scaleb(-8))
        # What was locked for this quantity: a limit buy locked qty x its limit, so a fill
        # at a better price frees the difference now.
        reserved = qty * order.price if order.side is Side.BUY and order.price else spent
        released = min(reserved, order.locked_left)
        order.locked_left -= released
        from_locked = min(spent, released)
        account.move(spent_asset, free=released - from_locked - (spent - from_locked), locked=-released)
        account.move(received_asset, free=received - fee)
        order.executed_qty += qty
        order.quote_qty += notional
        order.update_time = now
        order.status = "FILLED" if order.executed_qty >= order.orig_qty else "PARTIALLY_FILLED"
        self.trades.append(
            {
                "symbol": symbol.symbol,
                "id": trade_id,
                "orderId": order.order_id,
                "orderListId": order.order_list_id,
                "price": fmt(price),
                "qty": fmt(qty),
                "quoteQty": fmt(notional),
                "commission": fmt(fee),
                "commissionAsset": received_asset,
                "time": now,
                "isBuyer": order.side is Side.BUY,
                "isMaker": is_maker,
                "isBestMatch": True,
                "_account": account.name,
            }
        )
        self.execution_report(order, "TRADE", now, last=(price, qty, fee, received_asset, trade_id, is_maker))
        return fee, received_asset

    def _close_resting(self, order: SpotOrder, status: str, now: int, engine_id: int) -> None:
        self._by_engine_id.pop(engine_id, None)
        self._finish(order, status if status != "FILLED" else None, now)

    def take_off(self, order: SpotOrder) -> None:
        """Off the book, or out of the trigger book while it waits."""
        if order.engine_id:
            self.books[order.symbol.symbol].cancel(order.engine_id)
            self._by_engine_id.pop(order.engine_id, None)
        else:
            self.stops.remove(order)

    def expire(self, order: SpotOrder, now: int) -> None:
        """End an open order with EXPIRED (the other leg of its OCO executed)."""
        book = self.books[order.symbol.symbol]
        top_before = (book.best_bid(), book.best_ask())
        was_on_book = bool(order.engine_id)
        self.take_off(order)
        self._finish(order, "EXPIRED", now)
        if was_on_book:
            changed = {(order.side, order.price)}
            self.publish_market(order.symbol.symbol, changed, top_before, None, order.side, now)

    def _finish(self, order: SpotOrder, status: str | None, now: int, cancel_id: str = "") -> None:
        """The order is done: release what it still locks; report the final status."""
        if order.locked_left:
            order.account.move(order.locked_asset, free=order.locked_left, locked=-order.locked_left)
            order.locked_left = ZERO
        self.open_client_ids.pop((order.account.name, order.symbol.symbol, order.client_order_id), None)
        if status is None and order.status == "FILLED":
            return
        if status is None:
            status = "EXPIRED" if order.executed_qty < order.orig_qty else "FILLED"
        order.status = status
        order.update_time = now
        execution = "TRADE_PREVENTION" if status == "EXPIRED_IN_MATCH" else status
        self.execution_report(order, execution, now, cancel_id=cancel_id)

    # ---- cancel and queries ----

    def find_order(
        self, account: str, params: Mapping[str, str], id_field: str, client_field: str
    ) -> SpotOrder:
        symbol = self.symbol_of(params)
        order_id, client_id = params.get(id_field), params.get(client_field)
        if not order_id and not client_id:
            raise BinanceApiError(
                -1102, f"Param '{id_field}' or '{client_field}' must be sent, but both were empty/null!"
            )
        order = None
        if order_id:
            if not _ORDER_ID.fullmatch(order_id):
                raise errors.illegal_chars(id_field, "^[0-9]{1,20}$")
            order = self.orders.get(symbol.symbol, int(order_id))
        else:
            order = self.orders.by_client_id(account, symbol.symbol, client_id or "")
        if order is None or order.account.name != account:
            raise BinanceApiError(-2013, "Order does not exist.")
        return order

    def get_order(self, account: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self.find_order(account, params, "orderId", "origClientOrderId").view()

    def cancel_order(self, account: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``DELETE /api/v3/order``; ``cancelRestrictions`` (ONLY_NEW /
        ONLY_PARTIALLY_FILLED) cancels only an order in that status."""
        restriction = params.get("cancelRestrictions") or ""
        if restriction and restriction not in _CANCEL_RESTRICTIONS:
            raise BinanceApiError(-1145, "Invalid cancelRestrictions")
        try:
            order = self.find_order(account, params, "orderId", "origClientOrderId")
        except BinanceApiError as err:
            if err.code == -2013:
                raise BinanceApiError(-2011, "Unknown order sent.") from None
            raise
        if not order.is_open:
            raise BinanceApiError(-2011, "Unknown order sent.")
        if restriction and order.status != _CANCEL_RESTRICTIONS[restriction]:
            raise BinanceApiError(-2011, "Order was not canceled due to cancel restrictions.")
        if order.order_list_id != -1:  # canceling one leg cancels the list: the list answers
            return self.order_lists.cancel(
                account, {"symbol": order.symbol.symbol, "orderListId": str(order.order_list_id)}
            )
        now = self._clock_ms()
        cancel_id = params.get("newClientOrderId") or f"cancel{order.order_id}"
        self.cancel_resting(order, cancel_id, now)
        self.report_balances(now)
        return self.cancel_answer(order, cancel_id, now)

    def cancel_resting(self, order: SpotOrder, cancel_id: str, now: int) -> None:
        """Take an open order off (the book or the trigger book) as CANCELED."""
        book = self.books[order.symbol.symbol]
        top_before = (book.best_bid(), book.best_ask())
        was_on_book = bool(order.engine_id)
        self.take_off(order)
        self._finish(order, "CANCELED", now, cancel_id)
        if was_on_book:
            changed = {(order.side, order.price)}
            self.publish_market(order.symbol.symbol, changed, top_before, None, order.side, now)

    def now(self) -> int:
        return self._clock_ms()

    @staticmethod
    def cancel_answer(order: SpotOrder, cancel_id: str, now: int) -> dict[str, Any]:
        """What ``DELETE /api/v3/order`` answers for a canceled order."""
        view = order.view()
        response = {
            "symbol": view["symbol"],
            "origClientOrderId": order.client_order_id,
            "orderId": order.order_id,
            "orderListId": order.order_list_id,
            "clientOrderId": cancel_id,
            "transactTime": now,
        }
        response.update(_result_fields(view))
        if order.stop_price:
            response["stopPrice"] = view["stopPrice"]
        return response

    def open_orders(self, account: str, symbol: str | None = None) -> list[dict[str, Any]]:
        return [
            o.view()
            for o in self.orders.values()
            if o.account.name == account and o.is_open and (symbol is None or o.symbol.symbol == symbol)
        ]

    def amend_keep_priority(self, account: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``PUT /api/v3/order/amend/keepPriority`` (see ``spot_amend``)."""
        return amend_keep_priority(self, account, params)

    def cancel_all(self, account: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``DELETE /api/v3/openOrders``: cancel every open order of the symbol (-2011 when
        there is none), answering each cancel as ``DELETE /api/v3/order`` would."""
        symbol = self.symbol_of(params).symbol
        mine = [
            o
            for o in self.orders.values()
            if o.account.name == account and o.is_open and o.symbol.symbol == symbol
        ]
        if not mine:
            raise BinanceApiError(-2011, "Unknown order sent.")
        # An OCO answers once, in the list's shape (its other leg is canceled with it).
        return [
            self.cancel_order(account, {"symbol": symbol, "orderId": str(o.order_id)})
            for o in mine
            if o.is_open
        ]

    def all_orders(self, account: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``GET /api/v3/allOrders``: the account's orders of a symbol, oldest first, from
        ``orderId`` (or within ``startTime``..``endTime``), at most ``limit`` (500, max 1000)."""
        symbol = self.symbol_of(params).symbol
        first = int_param(params, "orderId", 0)
        start, end = int_param(params, "startTime", 0), int_param(params, "endTime", 2**63)
        limit = int_param(params, "limit", 500)
        if not 1 <= limit <= 1000:
            raise errors.illegal_chars("limit", "1-1000")
        mine = (
            o
            for o in sorted(self.orders.values(), key=lambda o: o.order_id)
            if o.symbol.symbol == symbol
            and o.account.name == account
            and o.order_id >= first
            and start <= o.time <= end
        )
        return [o.view() for _, o in zip(range(limit), mine, strict=False)]

    def my_trades(self, account: str, symbol: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in t.items() if k != "_account"}
            for t in self.trades
            if t["_account"] == account and t["symbol"] == symbol
        ]

    def depth(self, symbol: str, limit: int = 100) -> dict[str, Any]:
        book = self.books[book_symbol(self, symbol)]
        bids, asks = book.depth(limit)
        return {
            "lastUpdateId": self.update_ids[book_symbol(self, symbol)],
            "bids": [[fmt(p), fmt(q)] for p, q in bids],
            "asks": [[fmt(p), fmt(q)] for p, q in asks],
        }

    # ---- market data ----

    @property
    def market_listeners(self) -> list[Callable[[str, dict[str, Any]], None]]:
        return self.market.listeners

    def partial_depth(self, symbol: str, levels: int, diff: dict[str, Any]) -> dict[str, Any]:
        return self.market.partial_depth(self.books[symbol], levels, diff)

    @property
    def update_ids(self) -> dict[str, int]:
        return self.market.update_ids

    def publish_market(
        self,
        symbol: str,
        changed: set[tuple[Side, Decimal]],
        top_before: tuple[object, object],
        result: MatchResult | None,
        taker_side: Side,
        now: int,
    ) -> None:
        fills = list(result.fills) if result else []
        self.market.publish(symbol, self.books[symbol], changed, top_before, fills, taker_side, now)

    # ---- responses and events ----

    def _response(
        self, order: SpotOrder, fills: list[dict[str, Any]], resp_type: str, now: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "symbol": order.symbol.symbol,
            "orderId": order.order_id,
            "orderListId": order.order_list_id,
            "clientOrderId": order.client_order_id,
            "transactTime": now,
        }
        if resp_type == "ACK":
            return out
        view = order.view()
        out.update(_result_fields(view))
        if order.stop_price:
            out["stopPrice"] = view["stopPrice"]
        if order.trailing_delta:
            out["trailingDelta"] = order.trailing_delta
        out["workingTime"] = order.working_since
        if resp_type == "FULL":
            out["fills"] = fills
        if order.prevented:
            out["preventedMatches"] = order.prevented
        return out

    def execution_report(
        self,
        order: SpotOrder,
        execution: str,
        now: int,
        last: tuple[Decimal, Decimal, Decimal, str, int, bool] | None = None,
        cancel_id: str = "",
    ) -> None:
        """Emit the order's ``executionReport`` on its account stream."""
        report = order.execution_report(execution, now, next(self.execution_ids), last, cancel_id)
        order.account.emit(report)


_RESULT_FIELDS = (
    "price",
    "origQty",
    "executedQty",
    "origQuoteOrderQty",
    "cummulativeQuoteQty",
    "status",
    "timeInForce",
    "type",
    "side",
    "selfTradePreventionMode",
)


def _result_fields(view: dict[str, Any]) -> dict[str, Any]:
    """The order fields a RESULT/FULL response and a cancel response share, in Binance's order."""
    return {name: view[name] for name in _RESULT_FIELDS}


def book_symbol(venue: SpotExchange, symbol: str) -> str:
    """The listed symbol, or -1121."""
    return venue.symbol_of({"symbol": symbol}).symbol
