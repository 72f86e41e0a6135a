"""``oms.client``: the Python client of the gRPC API (the one the ``oms`` CLI uses).

``Client`` is synchronous, ``AsyncClient`` the same calls for asyncio. Both speak TLS
(trusting ``ca``, the dev CA ``oms run`` writes to ``data/tls/ca.pem`` by default),
send the bearer token on every call, and turn a failed call back into the
``oms.errors`` exception the server raised (``RiskRejected`` with its code,
``InvalidInput`` naming the field, ``RateLimited`` with ``retry_after``...).

Replies are the ``oms.v1`` protobuf messages; ``as_dict`` makes JSON-ready dicts of them.

    with Client("127.0.0.1:50051", token=..., ca="data/tls/ca.pem") as oms:
        order = oms.submit(venue="binance:spot", symbol="BTC/USDT", side="BUY",
                           type="LIMIT", qty="0.001", price="60000")
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format, message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from oms.api import convert
from oms.api.status import error_of
from oms.api.stubs import ServiceStub
from oms.model import OrderRequest, OrderType, PositionSide, Side, TimeInForce, TriggerPrice
from oms.v1 import admin_pb2, events_pb2, market_data_pb2, orders_pb2, portfolio_pb2
from oms.v1 import common_pb2 as pb

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_TIMEOUT_S = 30.0
R = TypeVar("R", bound=message.Message)
Number = Decimal | str | int


_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "side": Side,
    "type": OrderType,
    "time_in_force": TimeInForce,
    "trigger_by": TriggerPrice,
    "position_side": PositionSide,
}


def as_dict(reply: message.Message) -> dict[str, Any]:
    """A reply as JSON-ready data (field names as in the .proto, enums by name)."""
    return json_format.MessageToDict(reply, preserving_proto_field_name=True)


def order_request(request: OrderRequest | None = None, **fields: Any) -> pb.OrderRequest:
    """The wire form of an order: from a model ``OrderRequest`` or its fields as keywords
    (decimals as Decimal/str/int, enums as model enums or their names)."""
    if request is None:
        for name, kind in _ENUM_FIELDS.items():
            if name in fields and fields[name] is not None:
                fields[name] = kind(str(fields[name]).upper().replace("-", "_"))
        request = OrderRequest(**fields)
    return convert.order_request_out(request)


def _credentials(ca: Path | str | bytes | None, cert: Path | str | None, key: Path | str | None) -> Any:
    def read(p: Path | str | bytes | None) -> bytes | None:
        return p if isinstance(p, bytes) or p is None else Path(p).read_bytes()

    return grpc.ssl_channel_credentials(read(ca), read(key), read(cert))


class _Base:
    def __init__(self, token: str | None, timeout: float) -> None:
        token = token or os.environ.get("OMS_TOKEN")
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.timeout = timeout

    def _stubs(self, channel: Any) -> None:
        self.orders_stub = ServiceStub(channel, "OrderService")
        self.portfolio_stub = ServiceStub(channel, "PortfolioService")
        self.market_stub = ServiceStub(channel, "MarketDataService")
        self.events_stub = ServiceStub(channel, "EventService")
        self.admin_stub = ServiceStub(channel, "AdminService")
        self.health_stub: Any = health_pb2_grpc.HealthStub(channel)  # its stubs omit the methods


class Client(_Base):
    """Synchronous client; use as a context manager or call ``close()``."""

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        *,
        token: str | None = None,
        ca: Path | str | bytes | None = None,
        cert: Path | str | None = None,
        key: Path | str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        super().__init__(token, timeout)
        self.channel = grpc.secure_channel(address, _credentials(ca, cert, key))
        self._stubs(self.channel)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def _call(self, method: Any, request: message.Message) -> Any:
        try:
            return method(request, metadata=self.metadata, timeout=self.timeout)
        except grpc.RpcError as err:
            raise error_of(err) from None

    # ---- orders ----
    def submit(self, request: OrderRequest | None = None, **fields: Any) -> pb.Order:
        reply = self._call(
            self.orders_stub.SubmitOrder,
            orders_pb2.SubmitOrderRequest(order=order_request(request, **fields)),
        )
        return reply.order  # type: ignore[no-any-return]

    def submit_many(self, requests: list[pb.OrderRequest]) -> list[orders_pb2.OrderResult]:
        reply = self._call(self.orders_stub.SubmitOrders, orders_pb2.SubmitOrdersRequest(orders=requests))
        return list(reply.results)

    def amend(
        self,
        order_id: str,
        *,
        qty: Number | None = None,
        price: Number | None = None,
        stop_price: Number | None = None,
    ) -> pb.Order:
        request = _amend(order_id, qty, price, stop_price)
        return self._call(self.orders_stub.AmendOrder, request).order  # type: ignore[no-any-return]

    def cancel(self, order_id: str) -> pb.Order:
        request = orders_pb2.CancelOrderRequest(order_id=order_id)
        return self._call(self.orders_stub.CancelOrder, request).order  # type: ignore[no-any-return]

    def cancel_all(self, venue: str = "", symbol: str = "") -> list[pb.Order]:
        request = orders_pb2.CancelAllRequest(venue=venue, symbol=symbol)
        return list(self._call(self.orders_stub.CancelAll, request).orders)

    def order(self, order_id: str) -> pb.Order:
        request = orders_pb2.GetOrderRequest(order_id=order_id)
        return self._call(self.orders_stub.GetOrder, request).order  # type: ignore[no-any-return]

    def orders(
        self, *, open_only: bool = False, venue: str = "", symbol: str = "", limit: int = 0
    ) -> list[pb.Order]:
        request = orders_pb2.ListOrdersRequest(open_only=open_only, venue=venue, symbol=symbol, limit=limit)
        return list(self._call(self.orders_stub.ListOrders, request).orders)

    # ---- portfolio ----
    def positions(self, account: str = "") -> portfolio_pb2.ListPositionsResponse:
        request = portfolio_pb2.ListPositionsRequest(account=account)
        return self._call(self.portfolio_stub.ListPositions, request)  # type: ignore[no-any-return]

    def balances(self, venue: str = "") -> list[pb.Balance]:
        request = portfolio_pb2.ListBalancesRequest(venue=venue)
        return list(self._call(self.portfolio_stub.ListBalances, request).balances)

    def pnl(self, account: str = "") -> portfolio_pb2.GetPnlResponse:
        request = portfolio_pb2.GetPnlRequest(account=account)
        return self._call(self.portfolio_stub.GetPnl, request)  # type: ignore[no-any-return]

    # ---- market data and events ----
    def book(self, venue: str, symbol: str, depth: int = 0) -> pb.OrderBook:
        request = market_data_pb2.GetBookRequest(venue=venue, symbol=symbol, depth=depth)
        return self._call(self.market_stub.GetBook, request)  # type: ignore[no-any-return]

    def events(
        self, subjects: list[str] | None = None, *, after_seq: int = 0, last: int = 0, follow: bool = False
    ) -> Iterator[events_pb2.Event]:
        request = events_pb2.StreamEventsRequest(
            subjects=subjects or [], after_seq=after_seq, last=last, follow=follow
        )
        stream = self.events_stub.StreamEvents(
            request, metadata=self.metadata, timeout=None if follow else self.timeout
        )
        try:
            yield from stream
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                raise error_of(err) from None
        finally:
            stream.cancel()

    # ---- admin ----
    def trading_state(self) -> admin_pb2.TradingStateResponse:
        request = admin_pb2.GetTradingStateRequest()
        return self._call(self.admin_stub.GetTradingState, request)  # type: ignore[no-any-return]

    def set_trading_state(self, state: str) -> admin_pb2.TradingStateResponse:
        request = admin_pb2.SetTradingStateRequest(
            state=pb.TradingState.Value(f"TRADING_STATE_{state.upper()}")
        )
        return self._call(self.admin_stub.SetTradingState, request)  # type: ignore[no-any-return]

    def halt(self) -> admin_pb2.TradingStateResponse:
        return self.set_trading_state("HALTED")

    def resume(self) -> admin_pb2.TradingStateResponse:
        return self.set_trading_state("ACTIVE")

    def risk_limits(self, account: str = "", venue: str = "", symbol: str = "") -> admin_pb2.RiskLimits:
        request = admin_pb2.GetRiskLimitsRequest(
            scope=admin_pb2.RiskScope(account=account, venue=venue, symbol=symbol)
        )
        return self._call(self.admin_stub.GetRiskLimits, request)  # type: ignore[no-any-return]

    def set_risk_limits(self, limits: admin_pb2.RiskLimits) -> admin_pb2.RiskLimits:
        request = admin_pb2.SetRiskLimitsRequest(limits=limits)
        return self._call(self.admin_stub.SetRiskLimits, request)  # type: ignore[no-any-return]

    def venue_health(self) -> list[admin_pb2.VenueHealth]:
        return list(self._call(self.admin_stub.GetVenueHealth, admin_pb2.GetVenueHealthRequest()).venues)

    def health(self, service: str = "") -> str:
        """``SERVING`` / ``NOT_SERVING`` from grpc.health.v1 (no token needed)."""
        reply = self._call(self.health_stub.Check, health_pb2.HealthCheckRequest(service=service))
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


class AsyncClient(_Base):
    """The same calls for asyncio: ``async with AsyncClient(...) as oms: await oms.submit(...)``."""

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        *,
        token: str | None = None,
        ca: Path | str | bytes | None = None,
        cert: Path | str | None = None,
        key: Path | str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        super().__init__(token, timeout)
        self.channel = grpc.aio.secure_channel(address, _credentials(ca, cert, key))
        self._stubs(self.channel)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def _call(self, method: Any, request: message.Message) -> Any:
        try:
            return await method(request, metadata=self.metadata, timeout=self.timeout)
        except grpc.RpcError as err:
            raise error_of(err) from None

    async def submit(self, request: OrderRequest | None = None, **fields: Any) -> pb.Order:
        wire = orders_pb2.SubmitOrderRequest(order=order_request(request, **fields))
        return (await self._call(self.orders_stub.SubmitOrder, wire)).order  # type: ignore[no-any-return]

    async def submit_many(self, requests: list[pb.OrderRequest]) -> list[orders_pb2.OrderResult]:
        reply = await self._call(
            self.orders_stub.SubmitOrders, orders_pb2.SubmitOrdersRequest(orders=requests)
        )
        return list(reply.results)

    async def amend(
        self,
        order_id: str,
        *,
        qty: Number | None = None,
        price: Number | None = None,
        stop_price: Number | None = None,
    ) -> pb.Order:
        request = _amend(order_id, qty, price, stop_price)
        return (await self._call(self.orders_stub.AmendOrder, request)).order  # type: ignore[no-any-return]

    async def cancel(self, order_id: str) -> pb.Order:
        request = orders_pb2.CancelOrderRequest(order_id=order_id)
        return (await self._call(self.orders_stub.CancelOrder, request)).order  # type: ignore[no-any-return]

    async def order(self, order_id: str) -> pb.Order:
        request = orders_pb2.GetOrderRequest(order_id=order_id)
        return (await self._call(self.orders_stub.GetOrder, request)).order  # type: ignore[no-any-return]

    async def orders(
        self, *, open_only: bool = False, venue: str = "", symbol: str = "", limit: int = 0
    ) -> list[pb.Order]:
        request = orders_pb2.ListOrdersRequest(open_only=open_only, venue=venue, symbol=symbol, limit=limit)
        return list((await self._call(self.orders_stub.ListOrders, request)).orders)

    async def cancel_all(self, venue: str = "", symbol: str = "") -> list[pb.Order]:
        request = orders_pb2.CancelAllRequest(venue=venue, symbol=symbol)
        return list((await self._call(self.orders_stub.CancelAll, request)).orders)

    async def positions(self, account: str = "") -> portfolio_pb2.ListPositionsResponse:
        request = portfolio_pb2.ListPositionsRequest(account=account)
        return await self._call(self.portfolio_stub.ListPositions, request)  # type: ignore[no-any-return]

    async def balances(self, venue: str = "") -> list[pb.Balance]:
        request = portfolio_pb2.ListBalancesRequest(venue=venue)
        return list((await self._call(self.portfolio_stub.ListBalances, request)).balances)

    async def pnl(self, account: str = "") -> portfolio_pb2.GetPnlResponse:
        request = portfolio_pb2.GetPnlRequest(account=account)
        return await self._call(self.portfolio_stub.GetPnl, request)  # type: ignore[no-any-return]

    async def book(self, venue: str, symbol: str, depth: int = 0) -> pb.OrderBook:
        request = market_data_pb2.GetBookRequest(venue=venue, symbol=symbol, depth=depth)
        return await self._call(self.market_stub.GetBook, request)  # type: ignore[no-any-return]

    async def events(
        self, subjects: list[str] | None = None, *, after_seq: int = 0, last: int = 0, follow: bool = False
    ) -> AsyncIterator[events_pb2.Event]:
        request = events_pb2.StreamEventsRequest(
            subjects=subjects or [], after_seq=after_seq, last=last, follow=follow
        )
        stream = self.events_stub.StreamEvents(request, metadata=self.metadata)
        try:
            async for event in stream:
                yield event
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                raise error_of(err) from None
        finally:
            stream.cancel()

    async def trading_state(self) -> admin_pb2.TradingStateResponse:
        request = admin_pb2.GetTradingStateRequest()
        return await self._call(self.admin_stub.GetTradingState, request)  # type: ignore[no-any-return]

    async def set_trading_state(self, state: str) -> admin_pb2.TradingStateResponse:
        request = admin_pb2.SetTradingStateRequest(
            state=pb.TradingState.Value(f"TRADING_STATE_{state.upper()}")
        )
        return await self._call(self.admin_stub.SetTradingState, request)  # type: ignore[no-any-return]

    async def halt(self) -> admin_pb2.TradingStateResponse:
        return await self.set_trading_state("HALTED")

    async def resume(self) -> admin_pb2.TradingStateResponse:
        return await self.set_trading_state("ACTIVE")

    async def risk_limits(self, account: str = "", venue: str = "", symbol: str = "") -> admin_pb2.RiskLimits:
        request = admin_pb2.GetRiskLimitsRequest(
            scope=admin_pb2.RiskScope(account=account, venue=venue, symbol=symbol)
        )
        return await self._call(self.admin_stub.GetRiskLimits, request)  # type: ignore[no-any-return]

    async def set_risk_limits(self, limits: admin_pb2.RiskLimits) -> admin_pb2.RiskLimits:
        request = admin_pb2.SetRiskLimitsRequest(limits=limits)
        return await self._call(self.admin_stub.SetRiskLimits, request)  # type: ignore[no-any-return]

    async def venue_health(self) -> list[admin_pb2.VenueHealth]:
        reply = await self._call(self.admin_stub.GetVenueHealth, admin_pb2.GetVenueHealthRequest())
        return list(reply.venues)

    async def health(self, service: str = "") -> str:
        """``SERVING`` / ``NOT_SERVING`` from grpc.health.v1 (no token needed)."""
        reply = await self._call(self.health_stub.Check, health_pb2.HealthCheckRequest(service=service))
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def _amend(
    order_id: str, qty: Number | None, price: Number | None, stop_price: Number | None
) -> orders_pb2.AmendOrderRequest:
    return orders_pb2.AmendOrderRequest(
        order_id=order_id, qty=convert.num(qty), price=convert.num(price), stop_price=convert.num(stop_price)
    )
