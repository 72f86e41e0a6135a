"""Every ``oms.errors`` class to one gRPC status, in one table.

A failed RPC carries the status code a gRPC client expects (INVALID_ARGUMENT for bad
input, FAILED_PRECONDITION for a risk reject...) and, in the standard
``grpc-status-details-bin`` trailer, a ``google.rpc.Status`` with: an ``ErrorInfo``
(``reason`` = the oms code, ``domain`` = "oms", ``metadata`` = the error's details),
our ``oms.v1.ErrorDetail``, and a ``RetryInfo`` when waiting helps. Any language's
client reads them with its google.rpc support; ``oms.client`` raises the same
``oms.errors`` class the server raised.
"""

from __future__ import annotations

from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from oms import errors
from oms._core import REJECT_CODES
from oms.bus.publisher import JournalUnavailable
from oms.engine.recovery import Recovering
from oms.v1 import common_pb2

DOMAIN = "oms"
DETAILS_KEY = "grpc-status-details-bin"
Code = grpc.StatusCode

# Most specific first: the first class an error is an instance of decides.
_STATUS: list[tuple[type[BaseException], grpc.StatusCode]] = [
    (errors.RiskRejected, Code.FAILED_PRECONDITION),
    (Recovering, Code.UNAVAILABLE),
    (JournalUnavailable, Code.UNAVAILABLE),
    (errors.VenueRateLimited, Code.UNAVAILABLE),  # the venue's limit: the venue is unavailable to us
    (errors.RateLimited, Code.RESOURCE_EXHAUSTED),
    (errors.QueueFull, Code.RESOURCE_EXHAUSTED),
    (errors.MessageTooLarge, Code.INVALID_ARGUMENT),
    (errors.InvalidInput, Code.INVALID_ARGUMENT),
    (errors.NotSupported, Code.FAILED_PRECONDITION),
    (errors.OrderStateError, Code.FAILED_PRECONDITION),
    (errors.OrderNotFound, Code.NOT_FOUND),
    (errors.OutcomeUnknown, Code.UNKNOWN),  # may or may not have happened: query, never resend
    (errors.VenueUnavailable, Code.UNAVAILABLE),
    (errors.ClockSkew, Code.UNAVAILABLE),
    (errors.InvalidRequest, Code.INVALID_ARGUMENT),
    (errors.OrderRejected, Code.FAILED_PRECONDITION),
    (errors.VenueError, Code.FAILED_PRECONDITION),
]
# Codes whose class says less than the code does.
_BY_CODE = {"UNKNOWN_ORDER": Code.NOT_FOUND}


def status_code(err: errors.OmsError) -> grpc.StatusCode:
    if err.code in _BY_CODE:
        return _BY_CODE[err.code]
    for kind, code in _STATUS:
        if isinstance(err, kind):
            return code
    return Code.INTERNAL


def error_detail(err: errors.OmsError) -> common_pb2.ErrorDetail:
    return common_pb2.ErrorDetail(code=err.code, message=err.message, details=_strings(err.details))


def _strings(details: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in details.items() if value is not None}


def rich_status(code: grpc.StatusCode, oms_code: str, message: str, **details: Any) -> status_pb2.Status:
    """The google.rpc.Status of a failure: ErrorInfo, ErrorDetail, RetryInfo."""
    info = error_details_pb2.ErrorInfo(reason=oms_code, domain=DOMAIN, metadata=_strings(details))
    detail = common_pb2.ErrorDetail(code=oms_code, message=message, details=_strings(details))
    packed = [_pack(info), _pack(detail)]
    retry_after = details.get("retry_after")
    if retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(float(retry_after) * 1e9))
        packed.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=code.value[0], message=message, details=packed)


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


async def abort(context: grpc.aio.ServicerContext[Any, Any], err: errors.OmsError) -> NoReturn:
    await abort_with(context, status_code(err), err.code, err.message, **err.details)


async def abort_with(
    context: grpc.aio.ServicerContext[Any, Any],
    code: grpc.StatusCode,
    oms_code: str,
    message: str,
    **details: Any,
) -> NoReturn:
    status = rich_status(code, oms_code, message, **details)
    await context.abort(code, f"{message} [{oms_code}]", ((DETAILS_KEY, status.SerializeToString()),))
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


def error_of(rpc_error: grpc.RpcError) -> errors.OmsError:
    """The ``oms.errors`` exception a failed call stands for (client side)."""
    call: Any = rpc_error  # a grpc.Call as well: code(), details(), trailing_metadata()
    code: grpc.StatusCode = call.code()
    text: str = call.details() or code.name
    detail = _detail_of(rpc_error)
    if detail is None:
        return errors.OmsError(text, f"GRPC_{code.name}")
    cls = _class_of(detail.code, code)
    extra: dict[str, Any] = dict(detail.details)
    if issubclass(cls, errors.RateLimited):
        extra["retry_after"] = float(extra.get("retry_after", 0.0))
    try:
        return cls(detail.message, detail.code, **extra)
    except TypeError:  # a class whose keywords differ: keep the code and message
        return errors.OmsError(detail.message, detail.code, **extra)


def _detail_of(rpc_error: grpc.RpcError) -> common_pb2.ErrorDetail | None:
    call: Any = rpc_error
    trailers: Any = call.trailing_metadata() or ()
    for key, value in trailers:
        if key != DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        for item in status.details:
            detail = common_pb2.ErrorDetail()
            if item.Unpack(detail):
                return detail
    return None


def _class_of(oms_code: str, code: grpc.StatusCode) -> type[errors.OmsError]:
    """The most specific class whose default code is ``oms_code``, else by status."""
    if oms_code in REJECT_CODES or oms_code == "RISK_REJECTED":
        return errors.RiskRejected
    for cls in _all_classes():
        if cls.default_code == oms_code:
            return cls
    fallback = {
        Code.INVALID_ARGUMENT: errors.InvalidInput,
        Code.RESOURCE_EXHAUSTED: errors.RateLimited,
        Code.UNAVAILABLE: errors.VenueUnavailable,
        Code.NOT_FOUND: errors.OrderNotFound,
    }
    return fallback.get(code, errors.OmsError)


def _all_classes() -> list[type[errors.OmsError]]:
    found: list[type[errors.OmsError]] = []
    pending: list[type[errors.OmsError]] = [errors.OmsError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: -len(c.__mro__))  # most derived first
