"""The domain model every venue, the engine and the API share.

msgspec Structs for everything on hot paths; enums whose values are the strings that
travel; exact Decimals (never floats) for prices, quantities and money. The order
state machine is in :mod:`oms.model.state` (see docs/model.md)."""

from oms.model.account import Balance, FeeRates, Funding, Position, SymbolSettings
from oms.model.enums import (
    InstrumentKind,
    Liquidity,
    MarginMode,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TriggerPrice,
)
from oms.model.events import (
    BalanceEvent,
    FillEvent,
    FundingEvent,
    OrderEvent,
    PositionEvent,
    UserEvent,
    decode_event,
    encode_event,
)
from oms.model.market import BookLevel, Instrument, MarkPrice, OrderBook, Trade
from oms.model.orders import Fill, Order, OrderRequest

__all__ = [
    "Balance",
    "BalanceEvent",
    "BookLevel",
    "FeeRates",
    "Fill",
    "FillEvent",
    "Funding",
    "FundingEvent",
    "Instrument",
    "InstrumentKind",
    "Liquidity",
    "MarginMode",
    "MarkPrice",
    "Order",
    "OrderBook",
    "OrderEvent",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionEvent",
    "PositionSide",
    "Side",
    "SymbolSettings",
    "TimeInForce",
    "Trade",
    "TriggerPrice",
    "UserEvent",
    "decode_event",
    "encode_event",
]
