"""The Exchange interface, capabilities, config and the registry (incl. entry points)."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from oms.errors import InvalidInput, NotSupported, OmsError, UnknownVenue
from oms.exchanges import (
    Capabilities,
    Exchange,
    ExchangeConfig,
    VenueHealth,
    create_exchange,
    register_exchange,
    registry,
)
from oms.model import (
    Balance,
    Fill,
    Instrument,
    MarginMode,
    Order,
    OrderBook,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Trade,
    UserEvent,
)


class BareSpot(Exchange):
    """The smallest legal connector: answers from memory. Exercises the interface
    contract (defaults, batch, NotSupported); real connectors come with the simulators."""

    capabilities = Capabilities(
        order_types=frozenset({OrderType.LIMIT}), time_in_force=frozenset({TimeInForce.GTC})
    )

    async def connect(self) -> None: ...
    async def close(self) -> None: ...
    async def health(self) -> VenueHealth:
        return VenueHealth(venue=self.venue, connected=True, trading=True)

    async def server_time(self) -> int:
        return 1

    async def load_instruments(self) -> list[Instrument]:
        return []

    async def create_order(self, order: Order) -> OrderEvent:
        if order.request.qty > 10:
            raise InvalidInput("qty too large for this test venue", field="qty")
        return OrderEvent(
            venue=self.venue,
            symbol=order.request.symbol,
            status=OrderStatus.NEW,
            client_order_id=order.client_order_id,
        )

    async def cancel_order(self, order: Order) -> OrderEvent:
        return OrderEvent(venue=self.venue, symbol=order.request.symbol, status=OrderStatus.CANCELED)

    async def fetch_order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> OrderEvent:
        return OrderEvent(
            venue=self.venue, symbol=symbol, status=OrderStatus.NEW, client_order_id=client_order_id
        )

    async def fetch_open_orders(self, symbol: str | None = None) -> list[OrderEvent]:
        return []

    async def fetch_fills(self, symbol: str, since_ns: int = 0) -> list[Fill]:
        return []

    async def fetch_balances(self) -> list[Balance]:
        return [Balance(venue=self.venue, asset="USDT", free=Decimal(100))]

    async def _empty(self) -> AsyncIterator[UserEvent]:
        for event in ():
            yield event

    def user_events(self) -> AsyncIterator[UserEvent]:
        return self._empty()

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        return OrderBook(venue=self.venue, symbol=symbol, bids=[], asks=[])

    def watch_book(self, symbol: str) -> AsyncIterator[OrderBook]:
        raise self._unsupported("book streams")

    def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        raise self._unsupported("trade streams")


def make_order(n: int, qty: str) -> Order:
    request = OrderRequest(
        venue="bare:spot",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=Decimal(1),
    )
    return Order(id=str(n), request=request, client_order_id=f"c{n}")


def test_an_incomplete_connector_cannot_be_built() -> None:
    class Incomplete(Exchange):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete(ExchangeConfig(venue="x:spot"))  # type: ignore[abstract]


def test_missing_features_say_not_supported() -> None:
    ex = BareSpot(ExchangeConfig(venue="bare:spot"))

    async def main() -> None:
        for call in (
            ex.set_leverage("BTC/USDT", Decimal(5)),
            ex.set_margin_mode("BTC/USDT", MarginMode.CROSS),
            ex.set_position_mode(True),
            ex.amend_order(make_order(1, "1"), price=Decimal(2)),
            ex.cancel_all(),
        ):
            with pytest.raises(NotSupported) as caught:
                await call
            assert caught.value.code == "NOT_SUPPORTED"
        assert await ex.fetch_positions() == []

    asyncio.run(main())


def test_batch_gives_one_result_per_order_in_order() -> None:
    ex = BareSpot(ExchangeConfig(venue="bare:spot"))
    results = asyncio.run(ex.create_orders([make_order(1, "1"), make_order(2, "11"), make_order(3, "2")]))
    assert [type(r).__name__ for r in results] == ["OrderEvent", "InvalidInput", "OrderEvent"]
    assert isinstance(results[1], OmsError)


def test_registry_builds_by_venue_id_and_suggests_on_typos() -> None:
    register_exchange("bare:spot", BareSpot, replace=True)
    ex = create_exchange(
        "bare:spot", ExchangeConfig(venue="bare:spot", api_key="key-123", api_secret="sec-456")
    )
    assert isinstance(ex, BareSpot) and ex.venue == "bare:spot"
    assert "key-123" not in repr(ex.config) and "sec-456" not in str(ex.config), "secrets are not printed"
    with pytest.raises(UnknownVenue) as caught:
        create_exchange("bare:spto")
    assert "did you mean bare:spot" in caught.value.message
    with pytest.raises(InvalidInput):
        create_exchange("bare:spot", ExchangeConfig(venue="other:spot"))
    with pytest.raises(InvalidInput):
        register_exchange("bare:spot", lambda c: BareSpot(c))


def test_config_is_validated_at_the_edge() -> None:
    with pytest.raises(ValidationError):
        ExchangeConfig(venue="binance:spot", recv_window_ms=0)
    with pytest.raises(ValidationError):
        ExchangeConfig(venue="binance:spot", client_order_prefix="has-dash")
    with pytest.raises(ValidationError):
        ExchangeConfig(venue="binance:spot", unknown_field=1)  # type: ignore[call-arg]


def test_third_party_connectors_register_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "oms_thirdparty.py").write_text(
        textwrap.dedent(
            """
            from tests.unit.test_exchanges import BareSpot

            class ThirdParty(BareSpot):
                pass
            """
        )
    )
    dist = tmp_path / "oms_thirdparty-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: oms-thirdparty\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[oms.exchanges]\nthird:spot = oms_thirdparty:ThirdParty\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(registry, "_factories", dict(registry._factories))
    assert "third:spot" in registry.available_venues()
    ex = create_exchange("third:spot")
    assert type(ex).__name__ == "ThirdParty"
