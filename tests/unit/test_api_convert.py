"""The API's conversions without a server: every ``OrderRequest`` field and every enum
member survive wire and back; every error class the server raises is rebuilt by
``oms.api.status.error_of`` with its code and typed details; long texts are clipped."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import grpc
import msgspec
import pytest

from oms import errors
from oms.api import convert, status
from oms.bus.publisher import JournalUnavailable
from oms.engine.recovery import Recovering
from oms.model import OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce, TriggerPrice
from oms.model.enums import Liquidity
from oms.v1 import common_pb2 as pb

EVERYTHING_SET = OrderRequest(
    venue="binance:usdm",
    symbol="BTC/USDT:USDT",
    side=Side.SELL,
    type=OrderType.TRAILING_STOP,
    qty=Decimal("0.00100000"),
    stop_price=Decimal("61000.5"),
    time_in_force=TimeInForce.GTD,
    expire_at_ns=1_900_000_000_000_000_000,
    trailing_bps=Decimal("25.5"),
    activation_price=Decimal("1E+5"),
    trigger_by=TriggerPrice.MARK,
    reduce_only=True,
    position_side=PositionSide.SHORT,
    account="desk-7",
    client_order_id="cid-1:x/y",
    idempotency_key="key-1",
    tag="tag-1",
    emulate=True,
)


def wire_and_back(request: OrderRequest) -> OrderRequest:
    wire = pb.OrderRequest.FromString(convert.order_request_out(request).SerializeToString())
    return convert.order_request_in(wire).validate()


def test_every_order_request_field_survives_the_wire() -> None:
    back = wire_and_back(EVERYTHING_SET)
    expected = msgspec.structs.replace(EVERYTHING_SET).validate()
    for field in OrderRequest.__struct_fields__:
        assert getattr(back, field) == getattr(expected, field), field
        assert type(getattr(back, field)) is type(getattr(expected, field)), field


def test_defaults_survive_the_wire() -> None:
    plain = OrderRequest(
        venue="binance:spot",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("1"),
        price=Decimal("50000"),
    )
    assert wire_and_back(plain) == msgspec.structs.replace(plain).validate()


@pytest.mark.parametrize(
    "kind", [Side, OrderType, TimeInForce, OrderStatus, TriggerPrice, PositionSide, Liquidity]
)
def test_every_enum_member_round_trips(kind: type[StrEnum]) -> None:
    numbers = {convert.enum_out(member) for member in kind}
    assert 0 not in numbers and len(numbers) == len(kind)
    for member in kind:
        assert convert.enum_in(kind, convert.enum_out(member), "f") is member


def test_an_unknown_enum_number_is_invalid_input_naming_the_field() -> None:
    with pytest.raises(errors.InvalidInput) as bad:
        convert.enum_in(Side, 7, "side")
    assert bad.value.code == "INVALID_ENUM" and bad.value.details == {"field": "side"}


# ---- errors: server -> wire -> client ----


class FailedCall(grpc.RpcError):
    """What a grpc client raises for a failed call, made from what ``abort`` sends."""

    def __init__(self, err: errors.OmsError) -> None:
        self._code = status.status_code(err)
        detail = status.error_detail(err)
        self._status = status.rich_status(self._code, detail, err.details.get("retry_after"))

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._status.message  # type: ignore[no-any-return]

    def trailing_metadata(self) -> Any:
        return ((status.DETAILS_KEY, self._status.SerializeToString()),)


SERVER_ERRORS: list[errors.OmsError] = [
    errors.OrderStateError("order 1 is FILLED: nothing to cancel", "ORDER_NOT_OPEN", status="FILLED"),
    errors.InvalidInput("no order 'x'", "UNKNOWN_ORDER", field="order_id"),
    errors.InvalidInput("qty: not a number", "INVALID_NUMBER", field="qty"),
    errors.UnknownSymbol("no BTC/USDX", venue="binance:spot", symbol="BTC/USDX"),
    errors.FilterViolation(
        "tick",
        "PRICE_TICK",
        rule="PRICE_FILTER",
        field="price",
        value=Decimal("50000.001"),
        limit=Decimal("0.01"),
    ),
    errors.RiskRejected(
        "too big", "MAX_ORDER_QTY", level="symbol", value=Decimal("0.6"), limit=Decimal("0.5")
    ),
    errors.RateLimited("slow down", retry_after=1.5),
    errors.VenueRateLimited("429", venue="binance:spot", http_status=429, retry_after=2.0),
    errors.OrderRejected(
        "would take",
        "POST_ONLY_WOULD_TAKE",
        venue="binance:spot",
        venue_code=-2010,
        venue_message="Order would immediately match and take.",
    ),
    errors.InsufficientFunds("no money", venue="binance:spot", venue_code=-2010),
    errors.OutcomeUnknown("timeout", venue="binance:usdm"),
    errors.NotSupported("no OCO here"),
    Recovering("the engine is recovering"),
    JournalUnavailable("JetStream is down"),
]


@pytest.mark.parametrize("err", SERVER_ERRORS, ids=lambda e: f"{type(e).__name__}-{e.code}")
def test_the_client_rebuilds_the_class_code_and_typed_details(err: errors.OmsError) -> None:
    back = status.error_of(FailedCall(err))
    assert type(back) is type(err)
    assert (back.code, back.message) == (err.code, err.message)
    assert back.details == err.details


def test_a_status_without_our_detail_keeps_the_grpc_code() -> None:
    class Bare(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.UNAVAILABLE

        def details(self) -> str:
            return "connection refused"

        def trailing_metadata(self) -> Any:
            return None

    back = status.error_of(Bare())
    assert type(back) is errors.OmsError and back.code == "GRPC_UNAVAILABLE"


def test_long_texts_are_clipped_to_fit_a_trailer() -> None:
    err = errors.UnknownSymbol("no " + "Y" * 50_000, symbol="Y" * 50_000)
    detail = status.error_detail(err)
    wire = status.rich_status(grpc.StatusCode.INVALID_ARGUMENT, detail).SerializeToString()
    assert len(wire) < 4_096 and detail.message.startswith("no YYY")


def test_a_corrupt_token_file_keeps_the_tokens_loaded_before(tmp_path: Path) -> None:
    from oms.api.tokens import TokenStore
    from oms.errors import InvalidInput

    store = TokenStore(tmp_path / "tokens.json")
    token = store.create("alice", ["read"])
    (tmp_path / "tokens.json").write_text("{not json")
    info = store.verify(token)
    assert info is not None and info.name == "alice"
    with pytest.raises(InvalidInput):
        store.create("bob", ["read"])  # a writer refuses to overwrite what it cannot read
