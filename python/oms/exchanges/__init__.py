"""The exchange abstraction: one interface, a registry, capabilities and config."""

from oms.exchanges.base import Capabilities, Exchange, ExchangeConfig, VenueHealth
from oms.exchanges.registry import ENTRY_POINT_GROUP, available_venues, create_exchange, register_exchange

__all__ = [
    "ENTRY_POINT_GROUP",
    "Capabilities",
    "Exchange",
    "ExchangeConfig",
    "VenueHealth",
    "available_venues",
    "create_exchange",
    "register_exchange",
]
