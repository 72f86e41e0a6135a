"""Find and build connectors by venue id.

Built-in connectors register with :func:`register_exchange`; third-party packages
declare an entry point in the group ``oms.exchanges`` whose name is the venue id::

    [project.entry-points."oms.exchanges"]
    "kraken:spot" = "oms_kraken:KrakenSpot"

Entry points are read lazily, the first time a venue is asked for."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable
from importlib.metadata import entry_points

from oms.errors import InvalidInput, UnknownVenue
from oms.exchanges.base import Exchange, ExchangeConfig
from oms.symbols import parse_venue

Factory = Callable[[ExchangeConfig], Exchange]
ENTRY_POINT_GROUP = "oms.exchanges"

_factories: dict[str, Factory] = {}
_entry_points_loaded = False
_lock = threading.Lock()


def register_exchange(venue: str, factory: Factory, *, replace: bool = False) -> None:
    """Make `venue` ("exchange:market") buildable by `factory` (usually the class)."""
    key = str(parse_venue(venue))
    with _lock:
        if key in _factories and not replace and _factories[key] is not factory:
            raise InvalidInput(
                f"venue {key} is already registered; pass replace=True to override", field="venue"
            )
        _factories[key] = factory


def _load_entry_points() -> None:
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
        found = list(entry_points(group=ENTRY_POINT_GROUP))
    for ep in found:
        if ep.name not in _factories:
            register_exchange(ep.name, _lazy(ep.name, ep.load))


def _lazy(venue: str, load: Callable[[], object]) -> Factory:
    def build(config: ExchangeConfig) -> Exchange:
        factory = load()
        if not callable(factory):
            raise InvalidInput(f"entry point for {venue} is not callable: {factory!r}", field="venue")
        exchange = factory(config)
        if not isinstance(exchange, Exchange):
            raise InvalidInput(f"entry point for {venue} built {type(exchange).__name__}, not an Exchange")
        return exchange

    return build


def available_venues() -> list[str]:
    _load_entry_points()
    with _lock:
        return sorted(_factories)


def create_exchange(venue: str, config: ExchangeConfig | None = None) -> Exchange:
    """Build the connector for `venue` ("binance:spot"); raises UnknownVenue with suggestions."""
    key = str(parse_venue(venue))
    _load_entry_points()
    with _lock:
        factory = _factories.get(key)
        known = sorted(_factories)
    if factory is None:
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownVenue(
            f"venue {key} has no connector (known: {', '.join(known) or 'none'}){hint}", suggestions=close
        )
    config = config or ExchangeConfig(venue=key)
    if config.venue != key:
        raise InvalidInput(f"config is for {config.venue}, not {key}", field="venue")
    return factory(config)
