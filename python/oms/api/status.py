"""Every ``oms.errors`` class to one gRPC status, in one table.

A failed RPC carries the status code a gRPC client expects (INVALID_ARGUMENT for bad
input, FAILED_PRECONDITION for a risk reject...) and, in the standard
``grpc-status-details-bin`` trailer, a ``google.rpc.Status`` with: an ``ErrorInfo``
(``reason`` = the oms code, ``domain`` = "oms", ``metadata`` = the error's details),
our ``oms.v1.ErrorDetail`` (which also names the class), and a ``RetryInfo`` when
waiting helps. Any language's client reads them with its google.rpc support;
``oms.client`` raises the same ``oms.errors`` class the server raised. Messages and
detail values are clipped so that the trailer stays within grpc's metadata limit.
"""

from __future__ import annotations

import contextlib
import typing
from decimal import Decimal
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


#: Longest message / detail value sent back: an error may quote its input (an unknown
#: 20 kB symbol), and a trailer over grpc's metadata limit (8 kB) loses the whole status.
MAX_MESSAGE = 1_024
MAX_DETAIL = 256


def error_detail(err: errors.OmsError) -> common_pb2.ErrorDetail:
    """What a failed RPC or a refused batch item carries, class included (for clients
    that rebuild it: several classes share a status, and some raise codes of their own)."""
    return _detail(err.code, err.message, err.details, type(err).__name__)


def _detail(
    oms_code: str, message: str, details: dict[str, Any], error_class: str = ""
) -> common_pb2.ErrorDetail:
    return common_pb2.ErrorDetail(
        code=oms_code, message=_clip(message, MAX_MESSAGE), details=_strings(details), error_class=error_class
    )


def _strings(details: dict[str, Any]) -> dict[str, str]:
    return {key: _clip(str(value), MAX_DETAIL) for key, value in details.items() if value is not None}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def rich_status(
    code: grpc.StatusCode, detail: common_pb2.ErrorDetail, retry_after: Any = None
) -> status_pb2.Status:
    """The google.rpc.Status of a failure: ErrorInfo, ErrorDetail, RetryInfo."""
    info = error_details_pb2.ErrorInfo(reason=detail.code, domain=DOMAIN, metadata=detail.details)
    packed = [_pack(info), _pack(detail)]
    if retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(float(retry_after) * 1e9))
        packed.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=code.value[0], message=detail.message, details=packed)


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


async def abort(context: grpc.aio.ServicerContext[Any, Any], err: errors.OmsError) -> NoReturn:
    await _abort(context, status_code(err), error_detail(err), err.details.get("retry_after"))


async def abort_with(
    context: grpc.aio.ServicerContext[Any, Any],
    code: grpc.StatusCode,
    oms_code: str,
    message: str,
    /,
    **details: Any,
) -> NoReturn:
    """A failure that is no ``oms.errors`` exception (the guard's, the transport's).
    Positional-only, so that any detail name (``message``, ``code``) is a detail."""
    await _abort(context, code, _detail(oms_code, message, details), details.get("retry_after"))


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any],
    code: grpc.StatusCode,
    detail: common_pb2.ErrorDetail,
    retry_after: Any,
) -> NoReturn:
    status = rich_status(code, detail, retry_after)
    trailer = ((DETAILS_KEY, status.SerializeToString()),)
    await context.abort(code, f"{detail.message} [{detail.code}]", trailer)
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


def error_of(rpc_error: grpc.RpcError) -> errors.OmsError:
    """The ``oms.errors`` exception a failed call stands for (client side): the class
    the server named, its code, and its details typed as the class's keywords are."""
    call: Any = rpc_error  # a grpc.Call as well: code(), details(), trailing_metadata()
    code: grpc.StatusCode = call.code()
    text: str = call.details() or code.name
    detail = _detail_of(rpc_error)
    if detail is None:
        return errors.OmsError(text, f"GRPC_{code.name}")
    cls = _class_of(detail, code)
    extra = _typed(cls, dict(detail.details))
    try:
        return cls(detail.message, detail.code, **extra)
    except TypeError:  # a class whose keywords differ: keep the code and message
        return errors.OmsError(detail.message, detail.code, **extra)


def _typed(cls: type[errors.OmsError], details: dict[str, str]) -> dict[str, Any]:
    """Details travel as strings; those the class types (``RiskRejected.value``: Decimal,
    ``retry_after``: float, ``http_status``: int) come back as such when they parse."""
    hints: dict[str, Any] = {}
    for base in reversed(cls.__mro__):  # every class's own keywords (VenueRateLimited: two)
        if "__init__" in vars(base) and issubclass(base, errors.OmsError):
            with contextlib.suppress(NameError, TypeError):  # annotations we cannot resolve
                hints |= typing.get_type_hints(base.__init__)
    return {key: _parsed(hints.get(key), text) for key, text in details.items()}


def _parsed(hint: Any, text: str) -> Any:
    for kind in typing.get_args(hint) or (hint,):
        if kind in (Decimal, int, float):
            try:
                return kind(text)
            except (ValueError, ArithmeticError):
                continue
    return text


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


def _class_of(detail: common_pb2.ErrorDetail, code: grpc.StatusCode) -> type[errors.OmsError]:
    """The class the server named; else the most specific class whose default code is
    the oms code; else by status (a server that names no class: the guard, older ones)."""
    classes = _all_classes()
    named = [cls for cls in classes if cls.__name__ == detail.error_class]
    if named:
        return named[0]
    oms_code = detail.code
    if oms_code in REJECT_CODES or oms_code == "RISK_REJECTED":
        return errors.RiskRejected
    for cls in classes:
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
