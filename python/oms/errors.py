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
    "BookFull",
    "ChannelClosed",
    "DuplicateFill",
    "FilterViolation",
    "IllegalTransition",
    "InvalidInput",
    "IoError",
    "MemoryLockError",
    "MessageTooLarge",
    "NotSupported",
    "OmsError",
    "OrderStateError",
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
]
