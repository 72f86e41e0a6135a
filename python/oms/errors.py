"""The one exception hierarchy of oms.

Every error carries a machine-readable ``code`` (stable, part of the contract) and a
human sentence (``message``). The Rust core raises these same classes: the binding
imports them from here and maps each core error in one place
(``rust/oms-py/src/errors.rs``), so ``except oms.errors.RiskRejected`` works the same
whether the check ran in Rust or Python.

Where a stdlib exception means the same thing, ours subclasses it too
(``QueueFull`` is a ``queue.Full``, ``InvalidInput`` a ``ValueError``), so code
written against the stdlib keeps working.
"""

from __future__ import annotations

import queue
from decimal import Decimal
from typing import Any


class OmsError(Exception):
    """Base class: ``code`` says what went wrong, ``message`` says it to a person."""

    default_code = "OMS_ERROR"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep code and details across pickling (multiprocessing, executors).
        return (_rebuild, (type(self), self.message, self.code, self.details))


def _rebuild(cls: type[OmsError], message: str, code: str, details: dict[str, Any]) -> OmsError:
    return cls(message, code, **details)


# ---- bad input ----


class InvalidInput(OmsError, ValueError):
    """A value that breaks a documented rule: not a number, too precise, out of range."""

    default_code = "INVALID_ARGUMENT"


class MessageTooLarge(InvalidInput):
    default_code = "MESSAGE_TOO_LARGE"


class ArithmeticOverflow(OmsError, ArithmeticError):
    default_code = "ARITHMETIC_OVERFLOW"


class UnknownSymbol(InvalidInput):
    """A symbol the venue does not list; ``details["suggestions"]`` has the closest ones."""

    default_code = "UNKNOWN_SYMBOL"


class UnknownVenue(InvalidInput):
    default_code = "UNKNOWN_VENUE"


class FilterViolation(InvalidInput):
    """An order breaks an instrument rule (tick size, lot step, min notional, ...).
    ``rule`` names it, ``field`` the order field, ``value`` and ``limit`` the figures."""

    default_code = "FILTER_VIOLATION"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        *,
        rule: str | None = None,
        field: str | None = None,
        value: Decimal | None = None,
        limit: Decimal | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, code, rule=rule, field=field, value=value, limit=limit, **details)
        self.rule = rule
        self.field = field
        self.value = value
        self.limit = limit


class NotSupported(OmsError):
    """The venue does not offer this feature (see its ``Capabilities``)."""

    default_code = "NOT_SUPPORTED"


# ---- order lifecycle ----


class OrderStateError(OmsError):
    """Base of order state-machine errors."""

    default_code = "ORDER_STATE"


class IllegalTransition(OrderStateError):
    default_code = "ILLEGAL_TRANSITION"


class DuplicateFill(OrderStateError):
    """A fill whose trade id the order already has; nothing was changed."""

    default_code = "DUPLICATE_FILL"


class Overfill(OrderStateError):
    """Fills add up to more than the order quantity. The fill *was* recorded (it
    happened at the venue); this reports it so the engine can alert and reconcile."""

    default_code = "OVERFILL"


# ---- rate limits ----


class RateLimited(OmsError):
    """A request would break a rate limit; ``retry_after`` is the wait in seconds."""

    default_code = "RATE_LIMITED"

    def __init__(
        self, message: str, code: str | None = None, *, retry_after: float = 0.0, **details: Any
    ) -> None:
        super().__init__(message, code, retry_after=retry_after, **details)
        self.retry_after = retry_after


# ---- venue answers ----


class VenueError(OmsError):
    """A venue refused or could not answer a request. ``venue_code`` and
    ``venue_message`` are the venue's own (Binance's ``code`` and ``msg``), kept as sent;
    ``code`` is ours, the same for every venue."""

    default_code = "VENUE_ERROR"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        *,
        venue: str | None = None,
        venue_code: int | str | None = None,
        venue_message: str | None = None,
        http_status: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(
            message,
            code,
            venue=venue,
            venue_code=venue_code,
            venue_message=venue_message,
            http_status=http_status,
            **details,
        )
        self.venue = venue
        self.venue_code = venue_code
        self.venue_message = venue_message
        self.http_status = http_status


class OrderRejected(VenueError):
    """The venue refused the order: it was certainly not placed. ``code`` says why
    (``POST_ONLY_WOULD_TAKE``, ``DUPLICATE_CLIENT_ORDER_ID``, ``REDUCE_ONLY_REJECTED``...)."""

    default_code = "ORDER_REJECTED"


class InsufficientFunds(OrderRejected):
    default_code = "INSUFFICIENT_FUNDS"


class VenueFilterRejected(OrderRejected):
    """The venue's own instrument rules refused the order (``rule``: PRICE_FILTER, ...)."""

    default_code = "FILTER_FAILURE"

    def __init__(
        self, message: str, code: str | None = None, *, rule: str | None = None, **details: Any
    ) -> None:
        super().__init__(message, code, rule=rule, **details)
        self.rule = rule


class OrderNotFound(VenueError):
    """No such order at the venue (never placed, or finished and forgotten)."""

    default_code = "ORDER_NOT_FOUND"


class CancelRejected(VenueError):
    default_code = "CANCEL_REJECTED"


class NoChange(VenueError):
    """The venue is already in the requested state (same margin type, same order...):
    callers asking for a state may treat it as success."""

    default_code = "NO_CHANGE"


class InvalidRequest(VenueError, ValueError):
    """The venue could not accept the request as sent (a parameter, a combination)."""

    default_code = "INVALID_REQUEST"


class AuthenticationFailed(VenueError):
    """Key, signature or permissions refused."""

    default_code = "AUTHENTICATION_FAILED"


class ClockSkew(VenueError):
    """The request's timestamp fell outside the venue's receive window."""

    default_code = "CLOCK_SKEW"


class VenueUnavailable(VenueError):
    """The venue is down, overloaded or refusing work for now: nothing was done."""

    default_code = "VENUE_UNAVAILABLE"


class OutcomeUnknown(VenueError):
    """The request may or may not have taken effect (timeout, 5xx, a dropped
    connection): resolve by querying or the user stream, never by resending."""

    default_code = "OUTCOME_UNKNOWN"


class VenueRateLimited(RateLimited, VenueError):
    """A venue's rate limit (429) or ban (418, code ``IP_BANNED``); ``retry_after`` in s."""

    default_code = "RATE_LIMITED"


# ---- queues and rings ----


class QueueFull(OmsError, queue.Full):
    default_code = "FULL"


class QueueEmpty(OmsError, queue.Empty):
    default_code = "EMPTY"


class ChannelClosed(OmsError):
    """The queue or ring was closed and nothing is left to read."""

    default_code = "CLOSED"


# ---- shared memory ----


class SharedMemoryError(OmsError):
    default_code = "SHM_ERROR"


class ShmExists(SharedMemoryError, FileExistsError):
    default_code = "SHM_EXISTS"


class ShmNotFound(SharedMemoryError, FileNotFoundError):
    default_code = "SHM_NOT_FOUND"


class ShmLayoutError(SharedMemoryError):
    default_code = "SHM_LAYOUT"


class ShmBusy(SharedMemoryError):
    """Another live handle holds the exclusive role (producer, consumer, writer)."""

    default_code = "SHM_BUSY"


class BookFull(SharedMemoryError):
    default_code = "BOOK_FULL"


class ReadOnlyError(SharedMemoryError):
    default_code = "READ_ONLY"


# ---- operating system ----


class SystemResourceError(OmsError, OSError):
    default_code = "SYSTEM_ERROR"


class AffinityError(SystemResourceError):
    default_code = "AFFINITY_FAILED"


class MemoryLockError(SystemResourceError):
    default_code = "MLOCK_FAILED"


class IoError(SystemResourceError):
    default_code = "IO_ERROR"


# ---- risk ----


class RiskRejected(OmsError):
    """A pre-trade check refused the order. ``code`` is the rule (``MAX_POSITION``,
    ``PRICE_BAND``, ...); ``level`` where the limit is set (``symbol``, ``venue``,
    ``account``, ``global``); ``value`` and ``limit`` the figures, when the rule has them.
    """

    default_code = "RISK_REJECTED"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        *,
        level: str | None = None,
        value: Decimal | None = None,
        limit: Decimal | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, code, level=level, value=value, limit=limit, **details)
        self.level = level
        self.value = value
        self.limit = limit


#: Core error code -> class, used by the Rust binding (and by tests to check coverage).
CLASS_BY_CODE: dict[str, type[OmsError]] = {
    "INVALID_NUMBER": InvalidInput,
    "PRECISION_EXCEEDED": InvalidInput,
    "OUT_OF_RANGE": InvalidInput,
    "INVALID_ARGUMENT": InvalidInput,
    "WOULD_TRIGGER": InvalidInput,
    "ARITHMETIC_OVERFLOW": ArithmeticOverflow,
    "FULL": QueueFull,
    "EMPTY": QueueEmpty,
    "CLOSED": ChannelClosed,
    "MESSAGE_TOO_LARGE": MessageTooLarge,
    "SHM_EXISTS": ShmExists,
    "SHM_NOT_FOUND": ShmNotFound,
    "SHM_LAYOUT": ShmLayoutError,
    "SHM_BUSY": ShmBusy,
    "BOOK_FULL": BookFull,
    "READ_ONLY": ReadOnlyError,
    "AFFINITY_FAILED": AffinityError,
    "MLOCK_FAILED": MemoryLockError,
    "IO_ERROR": IoError,
}

__all__ = [
    "CLASS_BY_CODE",
    "AffinityError",
    "ArithmeticOverflow",
    "AuthenticationFailed",
    "BookFull",
    "CancelRejected",
    "ChannelClosed",
    "ClockSkew",
    "DuplicateFill",
    "FilterViolation",
    "IllegalTransition",
    "InsufficientFunds",
    "InvalidInput",
    "InvalidRequest",
    "IoError",
    "MemoryLockError",
    "MessageTooLarge",
    "NoChange",
    "NotSupported",
    "OmsError",
    "OrderNotFound",
    "OrderRejected",
    "OrderStateError",
    "OutcomeUnknown",
    "Overfill",
    "QueueEmpty",
    "QueueFull",
    "RateLimited",
    "ReadOnlyError",
    "RiskRejected",
    "SharedMemoryError",
    "ShmBusy",
    "ShmExists",
    "ShmLayoutError",
    "ShmNotFound",
    "SystemResourceError",
    "UnknownSymbol",
    "UnknownVenue",
    "VenueError",
    "VenueFilterRejected",
    "VenueRateLimited",
    "VenueUnavailable",
]
