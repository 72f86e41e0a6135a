"""``Engine``: the OMS in one asyncio object. Hand it an order and from then on it owns
it: checked, sent once, tracked through every state the venue reports, its fills
applied to positions and to the risk engine's reservations.

The path of an order (``submit``): the request's shape (``OrderRequest.validate``) ->
the venue and the instrument's rules (``oms.instruments.check_exact_order``) -> the Rust risk
check, which reserves the order's worst case -> PENDING_NEW under a fresh client order
id -> the connector. Anything refused before the connector raises (nothing was sent,
nothing is kept, a risk refusal is also an event); once sent, the answer is the order's
state, REJECTED included.

After that the venue drives: order reports and fills from the connectors' user streams
(and the answers to our own requests) are applied to the order (``tracking.py`` says
how), to the shared-memory ``PositionBook`` and to the risk engine; an order that ends
frees what is left of its reservation. Every change is an ``EngineEvent``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import msgspec

from oms._core import OrderPath
from oms.engine import tracking
from oms.engine.conditional import CONDITIONAL_TYPES, ConditionalOrders
from oms.engine.events import (
    BatchSink,
    EngineEvent,
    EventHub,
    Listener,
    OrderUpdate,
    RecordSink,
    RiskDecision,
)
from oms.engine.funding import FundingLedger
from oms.engine.order_registry import OrderRegistry
from oms.engine.recovery import EventStreams, Recovering, Recovery
from oms.engine.tracking import CHANGED, OrderTracker
from oms.errors import (
    InvalidInput,
    NotSupported,
    OmsError,
    OrderStateError,
    RiskRejected,
    UnknownSymbol,
    UnknownVenue,
)
from oms.exchanges.base import Exchange
from oms.instruments import check_exact_order, check_order
from oms.model import (
    Balance,
    Instrument,
    MarkPrice,
    Order,
    OrderRequest,
    OrderStatus,
    Side,
    TriggerPrice,
)
from oms.model.orders import order_to_builtins
from oms.model.state import PENDING, TERMINAL
from oms.model.values import to_decimal
from oms.positions import AggregatePosition, Position, PositionBook
from oms.risk import RiskEngine, TradingState

log = logging.getLogger(__name__)

# Orders that ended and are still kept in memory (the newest): enough for any late
# report or query of the day's recent trading, while a busy engine's memory stays flat.
KEEP_CLOSED = 10_000


class IntentJournal(Protocol):
    async def journal_intents(self, updates: list[OrderUpdate]) -> None: ...
    async def read_intents(self, since_ns: int) -> list[dict[str, Any]]: ...


class Engine:
    def __init__(
        self,
        exchanges: Iterable[Exchange],
        *,
        risk: RiskEngine | None = None,
        positions: PositionBook | None = None,
        intents: IntentJournal | None = None,
        streams: EventStreams | None = None,
        keep_closed: int = KEEP_CLOSED,
    ) -> None:
        """``intents``: strict durability — every order's intent is acknowledged by
        JetStream (``JetStreamPublisher.journal_intents``) before it is sent; without it
        (``fast``) events are journaled asynchronously and recovery reconciles.
        ``streams``: where recovery reads the published events back
        (``oms.bus.replay.StreamReplay``); without it, from the journal files alone.
        ``keep_closed``: how many of the orders that ended ``orders()`` and lookups still
        find (the newest; older ones are in the journal and on JetStream)."""
        if keep_closed < 0:
            raise InvalidInput(f"keep_closed must be 0 or more, not {keep_closed}", field="keep_closed")
        self.exchanges = {ex.venue: ex for ex in exchanges}
        self.risk = risk or RiskEngine()
        self._own_positions = positions is None
        self.positions_book = positions or PositionBook.create(f"oms-engine-{os.getpid()}-{id(self):x}")
        self.events = EventHub()
        # The order path in the core: it owns the order maps the registry and the
        # tracker read (one call per accept, venue report and fill).
        self.path = OrderPath(self, self.events, self.events.log, self.risk, self.positions_book, keep_closed)
        self.registry = OrderRegistry(self.path)
        self.tracker = OrderTracker(self)
        self.funding = FundingLedger(self)
        self.conditional = ConditionalOrders(self)
        self.intents = intents
        self.streams = streams
        self._prices: dict[tuple[str, str], Decimal] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._recovering = False
        self._day: int | None = None  # the UTC day the daily P&L counts from
        self._day_start_pnl = Decimal(0)
        self.recovery: Recovery | None = None
        # Writes a snapshot (EngineFiles sets it): awaited after an order is held or a
        # group linked, before the caller hears of it, since the events do not carry
        # conditional terms or group links and only a snapshot brings them back.
        self.save_state: Callable[[], Awaitable[object]] | None = None

    # ---- lifecycle ----

    async def start(self, *, recover_from: Path | str | None = None) -> None:
        """Connect every venue and follow its user stream. With ``recover_from`` (a data
        dir), first come back to the state recorded there and reconcile it with the
        venues (``recovery.py``); new orders are refused until that is done. (Events
        the venues send meanwhile wait in the connectors' queues.)"""
        for exchange in self.exchanges.values():
            await exchange.connect()
        if recover_from is not None:
            self._recovering = True
            self.recovery = Recovery(self, recover_from)
            await self.recovery.restore(self.streams)
            if self.intents is not None:
                since = self.recovery.since_ns - 60 * 1_000_000_000
                self.recovery.add_intents(await self.intents.read_intents(since))
        for exchange in self.exchanges.values():
            self.spawn(self.tracker.follow(exchange))
        if self.recovery is not None:
            await self.recovery.reconcile()
            self._recovering = False
        self._started = True

    @property
    def started(self) -> bool:
        """True from the end of ``start()`` (recovery included) until ``stop()``."""
        return self._started

    @property
    def recovering(self) -> bool:
        """True while ``start()`` reconciles with the venues (new orders are refused)."""
        return self._recovering

    async def stop(self) -> None:
        self._started = False
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for exchange in self.exchanges.values():
            with contextlib.suppress(OmsError, OSError):
                await exchange.close()
        self.events.close()
        if self._own_positions:
            self.positions_book.unlink()

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- orders ----

    def submit(self, request: OrderRequest) -> Coroutine[Any, Any, Order]:
        """Check and send one order (await it). The same ``idempotency_key`` twice
        (concurrently too) returns the first order and sends nothing more. A plain
        ``def`` handing back the coroutine that does the work: an ``async def`` here
        would cost every order a second coroutine."""
        key = request.idempotency_key
        return self._submit(request) if key is None else self._submit_once(key, request)

    async def _submit_once(self, key: str, request: OrderRequest) -> Order:
        earlier = self.registry.claim(key)
        if earlier is not None:
            return await asyncio.shield(earlier)
        try:
            order = await self._submit(request)
        except BaseException as err:
            self.registry.settle(key, None, err)
            raise
        self.registry.settle(key, order)
        return order

    async def submit_many(self, requests: Sequence[OrderRequest]) -> list[Order | OmsError]:
        """Each order checked on its own (the batch in one call to the core:
        ``OrderPath.accept_many``); the accepted ones sent together (the venue's batch
        where it has one). One result per request, in order: the order, or the error
        that refused it (nothing was sent for it)."""
        if self._recovering:
            return [self._recovering_error() for _ in requests]
        results: list[Order | OmsError] = self.path.accept_many(requests)
        by_venue: dict[str, list[Order]] = {}
        held = 0
        for request, result in zip(requests, results, strict=True):
            if isinstance(result, OmsError):
                if isinstance(result, RiskRejected):
                    self._risk_refused(request, result)
            elif request.type in CONDITIONAL_TYPES and self.conditional.needs_emulation(result):
                self.conditional.hold(result)
                held += 1
            else:
                by_venue.setdefault(request.venue, []).append(result)
        if held:
            await self._conditional_saved()
        await asyncio.gather(*(self._send_batch(self.exchanges[v], orders) for v, orders in by_venue.items()))
        return results

    async def _submit(self, request: OrderRequest) -> Order:
        order, exchange = self._accept(request)
        if request.type in CONDITIONAL_TYPES and self.conditional.needs_emulation(order):
            self.conditional.hold(order)  # sent when it triggers (conditional.py)
            await self._conditional_saved()
            return order
        if self.intents is not None:  # strict durability (an await spared otherwise)
            await self._journal_intents([order])
        try:
            event = await exchange.create_order(order)
        except OmsError as err:
            self.tracker.refused(order, err)
            return order
        changes = self.path.report(order, event)  # tracker.apply_report, its call spared
        if changes > CHANGED:
            self.tracker.after_report(order, changes)
        return order

    async def _journal_intents(self, orders: list[Order]) -> None:
        """Strict mode: the intents acknowledged by JetStream, or the orders withdrawn
        (nothing sent) and the error raised."""
        if self.intents is None or not orders:
            return
        try:
            await self.intents.journal_intents([OrderUpdate.of(o, self.events.next_seq()) for o in orders])
        except OmsError as err:
            for order in orders:
                self.tracker.refused(order, err)
            raise

    async def _send_batch(self, exchange: Exchange, orders: list[Order]) -> None:
        try:
            await self._journal_intents(orders)
        except OmsError:
            return  # each order is REJECTED with the reason
        report, tracker = self.path.report, self.tracker
        for order, result in zip(orders, await exchange.create_orders(orders), strict=True):
            if isinstance(result, OmsError):
                tracker.refused(order, result)
            else:
                changes = report(order, result)  # tracker.apply_report, its call spared
                if changes > CHANGED:
                    tracker.after_report(order, changes)

    def _accept(self, request: OrderRequest) -> tuple[Order, Exchange]:
        """Everything before the venue, in the core (``OrderPath.accept``): shape,
        instrument rules, risk. Raises, with nothing kept, on a refusal (a risk
        refusal is also an event); else the order is PENDING_NEW and reserved."""
        if self._recovering:
            raise self._recovering_error()
        try:
            order = self.path.accept(request)
        except RiskRejected as err:
            self._risk_refused(request, err)
            raise
        return order, self.exchanges[request.venue]

    @staticmethod
    def _recovering_error() -> Recovering:
        return Recovering("the engine is recovering: new orders wait until it has reconciled with the venues")

    def _risk_refused(self, request: OrderRequest, err: RiskRejected) -> None:
        """A risk refusal is an event (``RiskDecision``) as well as the caller's error."""
        self.emit(
            RiskDecision(
                seq=self.events.next_seq(),
                venue=request.venue,
                symbol=request.symbol,
                account=request.account,
                side=request.side,
                qty=request.qty,
                code=err.code,
                message=err.message,
                ts_ns=time.time_ns(),
            )
        )

    def _market(self, venue: str, symbol: str) -> tuple[Exchange, Instrument]:
        """The venue's exchange and its instrument ``symbol`` (the order path asks once
        per market, and again after the instruments are reloaded)."""
        exchange = self._exchange(venue)
        instrument = exchange.instruments.get(symbol)
        if instrument is None:
            raise UnknownSymbol(f"{venue} does not list {symbol}", venue=venue, symbol=symbol)
        return exchange, instrument

    def _forgotten(self, orders: list[Order]) -> None:
        """The order path took ``orders`` (ended, older than the newest
        ``keep_closed``) out of its maps: drop what else names them. Called from inside
        the path, so it must not call the path back."""
        self.registry.forget(orders)
        self.conditional.forget(orders)

    def _check_exact(self, instrument: Instrument, request: OrderRequest) -> None:
        """The instrument's rules the exact way (an order the core's filters cannot
        pass: this words the refusal, or passes what they could not tell)."""
        check_exact_order(  # validate() made the numbers exact
            instrument,
            side=request.side,
            type=request.type,
            qty=request.qty,
            price=request.price,
            stop_price=request.stop_price,
            reference_price=self._prices.get((request.venue, request.symbol)),
        )

    def _check_rules(self, request: OrderRequest) -> Exchange:
        """The request's shape and its instrument's rules, exactly (held amends)."""
        request.validate()
        exchange, instrument = self._market(request.venue, request.symbol)
        self._check_exact(instrument, request)
        return exchange

    async def cancel(self, order_id: str) -> Order:
        order = self.order(order_id)
        self._must_be_open(order, "cancel")
        if self.conditional.cancel(order):  # held here: nothing at the venue
            return order
        order.transition(OrderStatus.PENDING_CANCEL, ts_ns=time.time_ns())
        self.emit_order(order)
        try:
            event = await self._exchange(order.request.venue).cancel_order(order)
        except OmsError as err:
            self.tracker.not_done(order, err)
            raise
        self.tracker.apply_report(order, event)
        return order

    async def amend(
        self,
        order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> Order:
        """A new total quantity and/or price (see each venue's amend in docs/exchanges),
        or stop price for an order the engine holds. The risk engine reserves the
        amended order before anything is sent."""
        order = self.order(order_id)
        self._must_be_open(order, "amend")
        if qty is None and price is None and stop_price is None:
            raise InvalidInput("amend needs a new qty, price or stop price", field="qty")
        if order.id in self.conditional.held:
            return await self._amend_held(order, qty=qty, price=price, stop_price=stop_price)
        if stop_price is not None:
            raise NotSupported(
                "the stop price of an order at the venue is changed by canceling it and submitting anew"
            )
        request = order.request
        new_qty, new_price = (
            qty if qty is not None else request.qty,
            price if price is not None else request.price,
        )
        if new_qty <= order.filled_qty:
            raise InvalidInput(
                f"qty {new_qty} is not above the {order.filled_qty} already filled", field="qty"
            )
        exchange = self._exchange(request.venue)
        instrument = exchange.instruments[request.symbol]
        check_order(instrument, side=request.side, type=request.type, qty=new_qty, price=new_price)
        replacement = tracking.risk_order(request, new_qty - order.filled_qty, new_price)
        self.risk.check(replacement)  # held next to the old one until the venue answers
        order.transition(OrderStatus.PENDING_REPLACE, ts_ns=time.time_ns())
        self.emit_order(order)
        try:
            event = await exchange.amend_order(order, qty=qty, price=price)
        except OmsError as err:
            self.risk.release(replacement)
            self.tracker.not_done(order, err)
            raise
        order.request = msgspec.structs.replace(request, qty=new_qty, price=new_price)
        self.tracker.amended(order, event, replacement)
        return order

    async def _amend_held(
        self, order: Order, *, qty: Decimal | None, price: Decimal | None, stop_price: Decimal | None
    ) -> Order:
        """Held here, so amended here: the new terms checked like a new order's, the
        reservation swapped (``tracker.swap_reservation``); nothing is sent. A stop
        moved past the price fires on the next price, as emulation does."""
        changes = {"qty": qty, "price": price, "stop_price": stop_price}
        request = msgspec.structs.replace(
            order.request, **{k: v for k, v in changes.items() if v is not None}
        )
        self._check_rules(request)
        self.tracker.swap_reservation(order, tracking.risk_order(request, request.qty, request.price))
        order.request = request
        order.updated_ns = time.time_ns()
        self.emit_order(order)
        await self._conditional_saved()
        return order

    async def _conditional_saved(self) -> None:
        if self.save_state is not None:
            await self.save_state()

    async def submit_oco(self, first: OrderRequest, second: OrderRequest) -> list[Order]:
        """Two orders, one cancels the other: the first fill (or trigger) of either
        cancels the other. Each leg goes its own way (native, emulated or plain)."""
        orders = [await self.submit(first), await self.submit(second)]
        self.conditional.link("OCO", orders)
        await self._conditional_saved()
        return orders

    async def submit_bracket(
        self, entry: OrderRequest, stop_loss: OrderRequest, take_profit: OrderRequest
    ) -> list[Order]:
        """An entry and its two exits (conditional orders, held by the engine): the exits
        are armed when the entry has filled, and the first of them to trade cancels
        the other."""
        for exit_request in (stop_loss, take_profit):
            if not exit_request.type.is_conditional:
                raise InvalidInput(
                    "a bracket's exits are conditional orders (stop / take-profit)", field="type"
                )
            exit_request.emulate = True
        placed = await self.submit(entry)
        exits = []
        for exit_request in (stop_loss, take_profit):
            order, _ = self._accept(exit_request)
            self.conditional.hold(order, armed=placed.status is OrderStatus.FILLED)
            exits.append(order)
        orders = [placed, *exits]
        self.conditional.link("BRACKET", orders)
        await self._conditional_saved()
        return orders

    async def cancel_all(self, *, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of a venue, of a symbol); the ones the venue could
        not cancel are left as they are and logged."""
        targets = [
            o for o in self.orders(open_only=True, venue=venue, symbol=symbol) if o.status not in PENDING
        ]
        results = await asyncio.gather(*(self.cancel(o.id) for o in targets), return_exceptions=True)
        for order, result in zip(targets, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("cancel of %s failed: %s", order.id, result)
        return targets

    # ---- trading state (kill switch) ----

    async def halt(self) -> list[Order]:
        """HALTED: nothing new is accepted, and every open order on every venue is canceled."""
        self.risk.set_trading_state(TradingState.HALTED.value)
        return await self.cancel_all()

    def resume(self) -> None:
        self.risk.set_trading_state(TradingState.ACTIVE.value)

    @property
    def trading_state(self) -> TradingState:
        return TradingState(self.risk.trading_state)

    # ---- reading ----

    def order(self, order_id: str) -> Order:
        order = self.registry.get(order_id)
        if order is None:
            raise InvalidInput(f"no order {order_id!r}", "UNKNOWN_ORDER", field="order_id")
        return order

    def orders(
        self, *, open_only: bool = False, venue: str | None = None, symbol: str | None = None
    ) -> list[Order]:
        return [
            o
            for o in self.registry
            if (not open_only or o.status not in TERMINAL)
            and (venue is None or o.request.venue == venue)
            and (symbol is None or o.request.symbol == symbol)
        ]

    def positions(self, account: str | None = None) -> list[Position]:
        return self.positions_book.positions(account)

    def aggregate_positions(self, account: str | None = None) -> list[AggregatePosition]:
        """One line per base asset across venues (the unified position)."""
        return self.positions_book.aggregate(account)

    def pnl(self, account: str | None = None) -> dict[str, Decimal]:
        """Realized, unrealized, fees, funding and net P&L over every position, in quote
        units (net = realized + unrealized - fees + funding)."""
        rows = self.positions(account)
        realized = sum((p.realized_pnl for p in rows), Decimal(0))
        unrealized = sum((p.unrealized_pnl for p in rows), Decimal(0))
        fees = sum((p.fees_paid for p in rows), Decimal(0))
        funding = sum((p.funding for p in rows), Decimal(0))
        return {
            "realized": realized,
            "unrealized": unrealized,
            "fees": fees,
            "funding": funding,
            "net": realized + unrealized - fees + funding,
        }

    def state(self) -> dict[str, Any]:
        """What a snapshot keeps (JSON-ready): the last event sequence, the trading
        state, every open order and every position."""
        positions = [
            {
                "account": p.account,
                "venue": p.venue,
                "symbol": p.symbol,
                "qty": str(p.qty),
                "avg_entry_price": None if p.avg_entry_price is None else str(p.avg_entry_price),
                "realized_pnl": str(p.realized_pnl),
                "unrealized_pnl": str(p.unrealized_pnl),
                "fees_paid": str(p.fees_paid),
                "funding": str(p.funding),
                "net_pnl": str(p.net_pnl),
                "mark_price": None if p.mark_price is None else str(p.mark_price),
                "cost_basis": str(p.cost_basis),  # exact: what recovery restores from
                "fill_count": p.fill_count,
            }
            for p in self.positions()
        ]
        return {
            "seq": self.events.last_seq,
            "ts_ns": time.time_ns(),
            "trading_state": str(self.trading_state),
            "trading_state_cause": self.risk.trading_state_cause,
            "daily_pnl": str(self.risk.daily_pnl),
            "open_orders": [order_to_builtins(o) for o in self.orders(open_only=True)],
            "positions": positions,
            "conditional": self.conditional.state(),
            "funding_last_ns": dict(self.funding.last_ns),
        }

    async def balances(self, venue: str) -> dict[str, Balance]:
        exchange = self._exchange(venue)
        cached = getattr(exchange, "balances", None)
        if cached is not None:
            balances: dict[str, Balance] = await cached()
            return balances
        return {b.asset: b for b in await exchange.fetch_balances()}

    # ---- prices ----

    def set_price(self, venue: str, symbol: str, price: Decimal) -> None:
        """A reference price: the risk engine's band and notional checks, market orders'
        notional, and positions' unrealized P&L. Kept only once it is known exact."""
        price = to_decimal(price, "price")
        self.risk.set_reference_price(venue, symbol, price)
        self.path.set_price(venue, symbol, price)
        self._prices[(venue, symbol)] = price
        self.positions_book.mark(venue, symbol, price)
        self.update_daily_pnl()

    def update_daily_pnl(self) -> None:
        """Today's net P&L (since 00:00 UTC, or since start) to the risk engine, whose
        daily loss limit moves trading to REDUCING, then HALTED; a halt this causes
        cancels every open order, as the kill switch does."""
        if not self.risk.has_daily_loss_limit:
            return  # nothing to enforce: spare the order path reading every position
        day = time.time_ns() // 86_400_000_000_000
        net = self.pnl()["net"]
        if day != self._day:
            if self._day is not None:
                self.risk.reset_daily()
            self._day, self._day_start_pnl = day, net
        before = self.risk.trading_state
        after = self.risk.update_daily_pnl(net - self._day_start_pnl)
        if after == "HALTED" and before != "HALTED":
            log.error("daily loss limit reached: trading HALTED, canceling every open order")
            self.spawn(self._cancel_everything())

    async def _cancel_everything(self) -> None:
        await self.cancel_all()

    def price(self, venue: str, symbol: str) -> Decimal | None:
        """The last reference price set or tracked (None before any)."""
        return self._prices.get((venue, symbol))

    def track(self, venue: str, symbol: str) -> None:
        """Follow a symbol's prices from the venue (mark price where there is one, else
        the middle of the best bid and ask) into ``set_price``."""
        self.spawn(self._track(self._exchange(venue), symbol))

    async def _track(self, exchange: Exchange, symbol: str) -> None:
        """The reference price from the mark (where there is one) or the middle of the
        touch; every kind of price also to the conditional orders."""
        feeds = [self._follow_touch(exchange, symbol), self._follow_trades(exchange, symbol)]
        try:
            marks = exchange.watch_mark_price(symbol)
        except NotSupported:
            marks = None
        if marks is not None:
            feeds.append(self._follow_marks(exchange, symbol, marks))
        await asyncio.gather(*feeds)

    async def _follow_marks(self, exchange: Exchange, symbol: str, marks: AsyncIterator[MarkPrice]) -> None:
        async for mark in marks:
            self._set_tracked(exchange.venue, symbol, mark.mark)
            self.on_market_price(exchange.venue, symbol, TriggerPrice.MARK, mark.mark)

    async def _follow_touch(self, exchange: Exchange, symbol: str) -> None:
        has_mark = exchange.capabilities.leverage  # futures: the mark is the reference
        async for top in exchange.watch_book_ticker(symbol):
            bid, ask = top.best_bid, top.best_ask
            if bid is None or ask is None or bid.price <= 0 or ask.price <= 0:
                continue
            mid = top.mid  # on the 10^-8 grid: a bare average may have a ninth decimal
            if not has_mark and mid is not None:
                self._set_tracked(exchange.venue, symbol, mid)
            self.on_market_price(exchange.venue, symbol, TriggerPrice.BID_ASK, bid.price, Side.SELL)
            self.on_market_price(exchange.venue, symbol, TriggerPrice.BID_ASK, ask.price, Side.BUY)

    async def _follow_trades(self, exchange: Exchange, symbol: str) -> None:
        async for trade in exchange.watch_trades(symbol):
            self.on_market_price(exchange.venue, symbol, TriggerPrice.LAST, trade.price)

    def on_market_price(
        self, venue: str, symbol: str, kind: TriggerPrice, price: Decimal, side: Side | None = None
    ) -> None:
        """A market price of one kind (tracked, or handed in by a strategy or a replay):
        the conditional orders the engine holds are checked against it."""
        self.conditional.on_price(venue, symbol, kind, price, side)

    def _set_tracked(self, venue: str, symbol: str, price: Decimal) -> None:
        try:
            self.set_price(venue, symbol, price)
        except OmsError as err:  # one bad tick must not end the tracking
            log.warning("price %s for %s on %s not used: %s", price, symbol, venue, err)

    # ---- events ----

    def subscribe(self) -> AsyncIterator[EngineEvent]:
        return self.events.subscribe()

    def on_event(self, listener: Listener) -> Callable[[], None]:
        """``listener`` called with every event as it happens (keep it quick)."""
        return self.events.on(listener)

    def on_events(self, sink: BatchSink | RecordSink, *, records: bool = False) -> Callable[[], None]:
        """``sink`` called with the events in order, a batch at a time, once the event
        loop is free (where the journal and the publishers do their encoding); with
        ``records``, the order path's updates in the core's form (``EventHub.on_batch``)."""
        return self.events.on_batch(sink, records=records)

    def emit(self, event: EngineEvent) -> None:
        self.events.emit(event)

    def emit_order(self, order: Order) -> None:
        self.events.emit_order(order)

    # ---- helpers ----

    def _exchange(self, venue: str) -> Exchange:
        exchange = self.exchanges.get(venue)
        if exchange is None:
            known = ", ".join(sorted(self.exchanges)) or "none"
            raise UnknownVenue(f"no venue {venue!r} in this engine (known: {known})", venue=venue)
        return exchange

    @staticmethod
    def _must_be_open(order: Order, action: str) -> None:
        if order.status in TERMINAL:
            raise OrderStateError(
                f"order {order.id} is {order.status}: nothing to {action}",
                "ORDER_NOT_OPEN",
                status=str(order.status),
            )

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("engine task failed", exc_info=task.exception())
