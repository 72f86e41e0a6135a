"""Binance error codes -> ``oms.errors`` classes, in one place.

Every answer Binance gives with a negative ``code`` becomes one of our venue errors
(``oms.errors.VenueError`` and subclasses), with the venue's code and message kept as
sent (``venue_code``, ``venue_message``) and our own stable ``code``. Where Binance
reuses a code for different things the market decides (-2021, -2022, -2026 mean one
thing on spot and another on USD-M futures); where one code covers many causes the
message decides (spot -2010 and -1013 carry the matching engine's or filter's
message). The outcome of a request answered -1000, -1006 or -1007, or with a 5xx and
no code, is unknown: ``OutcomeUnknown`` (resolve, never resend).
"""

from __future__ import annotations

import re
from typing import Literal

from oms.errors import (
    AuthenticationFailed,
    CancelRejected,
    ClockSkew,
    InsufficientFunds,
    InvalidRequest,
    NoChange,
    OmsError,
    OrderNotFound,
    OrderRejected,
    OutcomeUnknown,
    VenueError,
    VenueFilterRejected,
    VenueRateLimited,
    VenueUnavailable,
)

Market = Literal["spot", "usdm"]
Rule = tuple[type[VenueError], str]

_AUTH: Rule = (AuthenticationFailed, "AUTHENTICATION_FAILED")
_UNKNOWN: Rule = (OutcomeUnknown, "OUTCOME_UNKNOWN")
_DOWN: Rule = (VenueUnavailable, "VENUE_UNAVAILABLE")
_REQUEST: Rule = (InvalidRequest, "INVALID_REQUEST")
_REJECTED: Rule = (OrderRejected, "ORDER_REJECTED")
_FILTER: Rule = (VenueFilterRejected, "FILTER_FAILURE")
_FUNDS: Rule = (InsufficientFunds, "INSUFFICIENT_FUNDS")
_NO_CHANGE: Rule = (NoChange, "NO_CHANGE")

# Codes with one meaning on both markets.
_BOTH: dict[int, Rule] = {
    -1000: _UNKNOWN,  # "An unknown error occurred while processing the request."
    -1001: _DOWN,
    -1002: _AUTH,
    -1003: (VenueRateLimited, "RATE_LIMITED"),
    -1004: _REQUEST,
    -1005: _REQUEST,
    -1006: _UNKNOWN,
    -1007: _UNKNOWN,
    -1008: _DOWN,
    -1010: _REJECTED,
    -1011: _AUTH,
    -1013: _REJECTED,  # spot: refined by the filter message below
    -1014: (OrderRejected, "UNSUPPORTED_ORDER_COMBINATION"),
    -1015: (VenueRateLimited, "ORDER_RATE_LIMITED"),
    -1016: _DOWN,
    -1020: (InvalidRequest, "UNSUPPORTED_OPERATION"),
    -1021: (ClockSkew, "CLOCK_SKEW"),
    -1022: (AuthenticationFailed, "INVALID_SIGNATURE"),
    -1023: _REQUEST,
    -1033: _AUTH,
    -1034: (VenueRateLimited, "CONNECTION_LIMITED"),
    -1035: _DOWN,
    -1099: (OrderNotFound, "NOT_FOUND"),
    -1111: (InvalidRequest, "BAD_PRECISION"),
    -1121: (InvalidRequest, "BAD_SYMBOL"),
    -1125: (InvalidRequest, "INVALID_LISTEN_KEY"),
    -2010: _REJECTED,  # refined by the matching engine's message below
    -2011: (CancelRejected, "CANCEL_REJECTED"),  # "Unknown order sent." -> ORDER_NOT_FOUND below
    -2012: (CancelRejected, "CANCEL_ALL_FAILED"),
    -2013: (OrderNotFound, "ORDER_NOT_FOUND"),
    -2014: (AuthenticationFailed, "BAD_API_KEY"),
    -2015: (AuthenticationFailed, "REJECTED_API_KEY"),
    -2016: (OrderRejected, "NO_TRADING_WINDOW"),
    -2017: (AuthenticationFailed, "API_KEYS_LOCKED"),
    -2018: _FUNDS,
    -2019: (InsufficientFunds, "INSUFFICIENT_MARGIN"),
    -2020: (OrderRejected, "UNABLE_TO_FILL"),
    -2023: (OrderRejected, "USER_IN_LIQUIDATION"),
    -2024: (OrderRejected, "POSITION_NOT_SUFFICIENT"),
    -2025: (OrderRejected, "MAX_OPEN_ORDERS"),
    -2027: (OrderRejected, "MAX_LEVERAGE_POSITION"),
    -2028: (OrderRejected, "MIN_LEVERAGE_RATIO"),
    -2035: (InvalidRequest, "SUBSCRIPTION_ACTIVE"),
    -2036: (InvalidRequest, "SUBSCRIPTION_INACTIVE"),
    -2038: (OrderRejected, "AMEND_REJECTED"),
    -2039: (OrderNotFound, "CLIENT_ORDER_ID_INVALID"),
    -2042: (InvalidRequest, "MAXIMUM_SUBSCRIPTION_IDS"),
    -2043: (OrderRejected, "NO_REFERENCE_PRICE"),
    -4046: _NO_CHANGE,  # margin type already so
    -4052: _NO_CHANGE,
    -4059: _NO_CHANGE,  # position mode already so
    -4171: _NO_CHANGE,
    -5027: _NO_CHANGE,  # modify with the same values
    -4116: (OrderRejected, "DUPLICATE_CLIENT_ORDER_ID"),
    -4120: (OrderRejected, "USE_ALGO_ORDER_ENDPOINT"),
    -4164: _FILTER,
    -5021: (OrderRejected, "FOK_NOT_FILLED"),
    -5022: (OrderRejected, "POST_ONLY_WOULD_TAKE"),
    -5028: (ClockSkew, "CLOCK_SKEW"),
}

# Same code, different meaning.
_BY_MARKET: dict[Market, dict[int, Rule]] = {
    "spot": {
        -2021: (OrderRejected, "CANCEL_REPLACE_PARTIAL"),
        -2022: (OrderRejected, "CANCEL_REPLACE_FAILED"),
        -2026: (OrderNotFound, "ORDER_ARCHIVED"),
    },
    "usdm": {
        -2021: (OrderRejected, "WOULD_TRIGGER_IMMEDIATELY"),
        -2022: (OrderRejected, "REDUCE_ONLY_REJECTED"),
        -2026: (OrderRejected, "REDUCE_ONLY_TYPE_NOT_SUPPORTED"),
    },
}

# USD-M's order validation codes that are its filters (LOT_SIZE, PRICE_FILTER,
# PERCENT_PRICE, MIN_NOTIONAL equivalents).
_FUTURES_FILTERS = {-4001, -4002, -4003, -4004, -4005, -4006, -4007, -4013, -4014, -4016, -4023, -4024}
_FUTURES_FILTERS |= {-4184, -4210, -4211}

# Spot -2010 / -1013 messages (the matching engine's and the filters') -> our code.
_MESSAGES: list[tuple[re.Pattern[str], Rule]] = [
    (re.compile(r"insufficient balance", re.I), _FUNDS),
    (re.compile(r"would immediately match and take", re.I), (OrderRejected, "POST_ONLY_WOULD_TAKE")),
    (re.compile(r"^Duplicate order sent", re.I), (OrderRejected, "DUPLICATE_CLIENT_ORDER_ID")),
    (re.compile(r"would trigger immediately", re.I), (OrderRejected, "WOULD_TRIGGER_IMMEDIATELY")),
    (re.compile(r"^Market is closed", re.I), (OrderRejected, "MARKET_CLOSED")),
    (re.compile(r"not supported for this symbol", re.I), (OrderRejected, "ORDER_TYPE_NOT_SUPPORTED")),
    (re.compile(r"^Unknown order sent", re.I), (OrderNotFound, "ORDER_NOT_FOUND")),
    (re.compile(r"cancel restrictions", re.I), (CancelRejected, "CANCEL_RESTRICTIONS_NOT_MET")),
    (re.compile(r"^Filter failure: (?P<rule>\w+)"), _FILTER),
]


def _rule(code: int, message: str, market: Market) -> Rule:
    for pattern, rule in _MESSAGES:
        if code in (-1010, -1013, -2010, -2011, -2038) and pattern.search(message):
            return rule
    if code in _BY_MARKET[market]:
        return _BY_MARKET[market][code]
    if code in _BOTH:
        return _BOTH[code]
    if market == "usdm" and code in _FUTURES_FILTERS:
        return _FILTER
    if -1199 <= code <= -1100 or -1299 <= code <= -1200:
        return _REQUEST  # parameters: missing, malformed, not allowed together
    if -4999 <= code <= -4000 or -5999 <= code <= -5000:
        return _REJECTED  # futures order and account-setting refusals
    return (VenueError, "VENUE_ERROR")


def from_binance(
    code: int,
    message: str,
    *,
    market: Market,
    venue: str | None = None,
    http_status: int | None = None,
    retry_after: float | None = None,
) -> OmsError:
    """The ``oms.errors`` exception for a Binance error answer."""
    cls, our_code = _rule(code, message, market)
    if cls is VenueRateLimited and (http_status == 418 or "banned until" in message):
        # the WebSocket API's SDK drops the 418 status; the message still says it
        our_code = "IP_BANNED"
    venue = venue or f"binance:{market}"
    text = f"{venue} refused: {message} ({code})"
    if cls is VenueRateLimited:
        return VenueRateLimited(
            text,
            our_code,
            retry_after=retry_after or 0.0,
            venue=venue,
            venue_code=code,
            venue_message=message,
            http_status=http_status,
        )
    if cls is VenueFilterRejected:
        match = re.match(r"^Filter failure: (\w+)", message)
        return VenueFilterRejected(
            text,
            our_code,
            rule=match[1] if match else None,
            venue=venue,
            venue_code=code,
            venue_message=message,
            http_status=http_status,
        )
    return cls(text, our_code, venue=venue, venue_code=code, venue_message=message, http_status=http_status)


def from_http_status(status: int, *, market: Market, venue: str | None = None) -> OmsError:
    """An HTTP error with no Binance body (or one the SDK did not keep): 5xx means the
    outcome is unknown (Binance: "do NOT treat this as a failure"), except 503 "Service
    Unavailable" style refusals the caller can tell apart by code."""
    venue = venue or f"binance:{market}"
    text = f"{venue} answered HTTP {status}"
    if status >= 500:
        return OutcomeUnknown(f"{text}: outcome unknown", venue=venue, http_status=status)
    if status in (401, 403):
        return AuthenticationFailed(text, venue=venue, http_status=status)
    if status in (418, 429):
        code = "IP_BANNED" if status == 418 else "RATE_LIMITED"
        return VenueRateLimited(text, code, venue=venue, http_status=status)
    return InvalidRequest(text, venue=venue, http_status=status)


__all__ = ["Market", "from_binance", "from_http_status"]
