"""`Exchange`: the one asyncio interface every venue connector implements.

The engine speaks only this; connectors translate to and from the venue (native
symbols, signatures, error codes) and yield normalized events from
:mod:`oms.model`. Optional features a venue lacks are declared in
:class:`Capabilities`; calling one raises :class:`oms.errors.NotSupported` (code
``NOT_SUPPORTED``) rather than failing at the venue."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from oms.errors import NotSupported, OmsError
from oms.exchanges.client_ids import ClientOrderIds
from oms.model import (
    Balance,
    FeeRates,
    Fill,
    Funding,
    Instrument,
    MarginMode,
    MarkPrice,
    Order,
    OrderBook,
    OrderEvent,
    OrderType,
    Position,
    TimeInForce,
    Trade,
    UserEvent,
)
from oms.symbols import SymbolMap


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What a venue can do natively (the engine emulates or refuses the rest)."""

    order_types: frozenset[OrderType]
    time_in_force: frozenset[TimeInForce]
    amend: bool = False  # modify price/qty in place
    batch_size: int = 1  # max orders per batch request (1: no native batch)
    cancel_all: bool = True
    reduce_only: bool = False
    leverage: bool = False
    margin_mode: bool = False
    position_mode: bool = False
    oco: bool = False
    user_stream: bool = True
    market_data: bool = True


class ExchangeConfig(BaseModel):
    """How to reach a venue: keys, endpoints (production, testnet or local simulator)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    rest_url: str | None = None
    ws_url: str | None = None
    ws_api_url: str | None = None
    recv_window_ms: int = Field(default=5000, ge=1, le=60000)
    request_timeout_s: float = Field(default=10.0, gt=0)  # trading calls: Binance's backend limit is 10 s
    client_order_prefix: str = Field(default="oms", pattern=r"^[A-Za-z0-9]{1,8}$")
    options: dict[str, str] = Field(default_factory=dict)


class VenueHealth(msgspec.Struct, frozen=True, kw_only=True):
    venue: str
    connected: bool
    trading: bool  # False when e.g. clock skew or a ban stops order entry
    clock_offset_ms: float | None = None
    latency_ms: float | None = None
    rate_limit_headroom: dict[str, int] = msgspec.field(default_factory=dict)
    last_error: str | None = None
    ts_ns: int = 0


class Exchange(abc.ABC):
    """One venue (``exchange:market``). Create through :func:`oms.exchanges.create_exchange`."""

    venue: str
    capabilities: Capabilities

    def __init__(self, config: ExchangeConfig) -> None:
        self.config = config
        self.venue = config.venue
        self.symbols = SymbolMap(config.venue, [])
        self.instruments: dict[str, Instrument] = {}  # unified symbol -> rules (load_instruments)
        # The engine's order path takes ids from here directly (in the core).
        self.client_ids = ClientOrderIds(config.client_order_prefix)

    def new_client_order_id(self) -> str:
        """A client order id legal on this venue, unique and never reused."""
        return self.client_ids.next()

    def is_our_client_id(self, client_order_id: str) -> bool:
        """Made by an ``oms`` with this configuration's prefix (any session): recovery
        adopts such orders and reports the others as foreign."""
        return self.client_ids.is_ours(client_order_id)

    def _unsupported(self, what: str) -> NotSupported:
        return NotSupported(f"{self.venue} does not support {what}", venue=self.venue, feature=what)

    # ---- lifecycle ----
    @abc.abstractmethod
    async def connect(self) -> None:
        """Open sessions and streams; measure the clock offset."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close everything; idempotent."""

    @abc.abstractmethod
    async def health(self) -> VenueHealth: ...

    @abc.abstractmethod
    async def server_time(self) -> int:
        """The venue's clock, ns since the epoch."""

    @abc.abstractmethod
    async def load_instruments(self) -> list[Instrument]:
        """Fetch instrument metadata and rebuild ``self.symbols`` from it."""

    # ---- orders ----
    @abc.abstractmethod
    async def create_order(self, order: Order) -> OrderEvent:
        """Send once. A timeout or 5xx returns status UNKNOWN, never a resend."""

    async def create_orders(self, orders: Sequence[Order]) -> list[OrderEvent | OmsError]:
        """Batch: one result per order, in order (native batch where the venue has one)."""
        results: list[OrderEvent | OmsError] = []
        for order in orders:
            try:
                results.append(await self.create_order(order))
            except OmsError as err:
                results.append(err)
        return results

    async def amend_order(
        self, order: Order, *, qty: Decimal | None = None, price: Decimal | None = None
    ) -> OrderEvent:
        raise self._unsupported("amending orders")

    async def create_oco(self, above: Order, below: Order) -> list[OrderEvent]:
        """One-cancels-the-other: two orders, same side and quantity, one above the
        market and one below; when one executes the venue cancels the other. One event
        per leg, ``[above, below]``; an unknown outcome is UNKNOWN for both legs."""
        raise self._unsupported("OCO order lists")

    @abc.abstractmethod
    async def cancel_order(self, order: Order) -> OrderEvent: ...

    async def cancel_all(self, symbol: str | None = None) -> list[OrderEvent]:
        raise self._unsupported("cancel-all")

    @abc.abstractmethod
    async def fetch_order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> OrderEvent: ...

    @abc.abstractmethod
    async def fetch_open_orders(self, symbol: str | None = None) -> list[OrderEvent]: ...

    @abc.abstractmethod
    async def fetch_fills(self, symbol: str, since_ns: int = 0) -> list[Fill]: ...

    # ---- account ----
    @abc.abstractmethod
    async def fetch_balances(self) -> list[Balance]: ...

    async def fetch_positions(self) -> list[Position]:
        return []  # spot venues hold balances, not positions

    async def fetch_funding(self, since_ns: int = 0) -> list[Funding]:
        """Funding payments since ``since_ns``, oldest first."""
        return []  # spot venues have no perpetuals, so no funding

    async def fetch_fee_rates(self, symbol: str) -> FeeRates:
        """The maker and taker rates this account pays on ``symbol``."""
        raise self._unsupported("fee rates")

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        raise self._unsupported("leverage")

    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        raise self._unsupported("margin modes")

    async def set_position_mode(self, hedge: bool) -> None:
        raise self._unsupported("position modes")

    # ---- streams ----
    @abc.abstractmethod
    def user_events(self) -> AsyncIterator[UserEvent]:
        """Normalized order / fill / balance / position updates, fills de-duplicated."""

    @abc.abstractmethod
    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook: ...

    @abc.abstractmethod
    def watch_book(self, symbol: str) -> AsyncIterator[OrderBook]:
        """A local book kept by snapshot + diffs, resynced on gaps."""

    @abc.abstractmethod
    def watch_trades(self, symbol: str) -> AsyncIterator[Trade]: ...

    def watch_book_ticker(self, symbol: str) -> AsyncIterator[OrderBook]:
        """Best bid and ask as they change, as one-level books."""
        raise self._unsupported("book tickers")

    def watch_mark_price(self, symbol: str) -> AsyncIterator[MarkPrice]:
        raise self._unsupported("mark prices")
