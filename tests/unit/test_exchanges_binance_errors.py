"""Every Binance error code in the published tables becomes a deliberate oms.errors
class with Binance's code and message kept; codes that mean different things on spot
and futures, and messages that refine a code, are told apart."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from oms import errors
from oms.exchanges.binance.errors import Market, from_binance, from_http_status


def published_codes(shared_dir: Path) -> dict[Market, list[tuple[int, str, str]]]:
    """(code, name, first message) of the spot (Appendix A) and USD-M (Appendix B) tables."""
    text = (shared_dir / "reference/binance/errors_and_limits.md").read_text()
    spot_part = text[text.index("## 7. Appendix A") : text.index("## 8. Appendix B")]
    futures_part = text[text.index("## 8. Appendix B") :]
    row = re.compile(r"^\| (-\d+) \| ([^|]+) \| ([^|]+) \|", re.M)
    return {
        market: [(int(c), n.strip(), m.split("<br>")[0].strip()) for c, n, m in row.findall(part)]
        for market, part in (("spot", spot_part), ("usdm", futures_part))
    }


def test_every_published_code_maps_to_a_deliberate_class(shared_dir: Path) -> None:
    tables = published_codes(shared_dir)
    assert len(tables["spot"]) > 100 and len(tables["usdm"]) > 150
    for market, rows in tables.items():
        for code, name, message in rows:
            err = from_binance(code, message, market=market)
            assert isinstance(err, errors.VenueError), (market, code)
            assert type(err) is not errors.VenueError, f"{market} {code} {name} has no deliberate class"
            assert (err.venue_code, err.venue_message) == (code, message)
            assert err.venue == f"binance:{market}" and message in err.message


@pytest.mark.parametrize(
    ("code", "market", "cls", "ours"),
    [
        (-2021, "spot", errors.OrderRejected, "CANCEL_REPLACE_PARTIAL"),
        (-2021, "usdm", errors.OrderRejected, "WOULD_TRIGGER_IMMEDIATELY"),
        (-2022, "usdm", errors.OrderRejected, "REDUCE_ONLY_REJECTED"),
        (-2026, "spot", errors.OrderNotFound, "ORDER_ARCHIVED"),
        (-1007, "spot", errors.OutcomeUnknown, "OUTCOME_UNKNOWN"),
        (-1006, "usdm", errors.OutcomeUnknown, "OUTCOME_UNKNOWN"),
        (-1021, "spot", errors.ClockSkew, "CLOCK_SKEW"),
        (-2015, "usdm", errors.AuthenticationFailed, "REJECTED_API_KEY"),
        (-2019, "usdm", errors.InsufficientFunds, "INSUFFICIENT_MARGIN"),
        (-4014, "usdm", errors.VenueFilterRejected, "FILTER_FAILURE"),
        (-4046, "usdm", errors.NoChange, "NO_CHANGE"),
        (-5022, "usdm", errors.OrderRejected, "POST_ONLY_WOULD_TAKE"),
        (-1102, "spot", errors.InvalidRequest, "INVALID_REQUEST"),
    ],
)
def test_codes_by_market(code: int, market: Market, cls: type[errors.OmsError], ours: str) -> None:
    err = from_binance(code, "as sent", market=market)
    assert (type(err), err.code) == (cls, ours)


@pytest.mark.parametrize(
    ("code", "message", "cls", "ours"),
    [
        (
            -2010,
            "Account has insufficient balance for requested action.",
            errors.InsufficientFunds,
            "INSUFFICIENT_FUNDS",
        ),
        (-2010, "Order would immediately match and take.", errors.OrderRejected, "POST_ONLY_WOULD_TAKE"),
        (-2010, "Duplicate order sent.", errors.OrderRejected, "DUPLICATE_CLIENT_ORDER_ID"),
        (-2010, "Order would trigger immediately.", errors.OrderRejected, "WOULD_TRIGGER_IMMEDIATELY"),
        (-2010, "Something new.", errors.OrderRejected, "ORDER_REJECTED"),
        (-2011, "Unknown order sent.", errors.OrderNotFound, "ORDER_NOT_FOUND"),
        (
            -2011,
            "Order was not canceled due to cancel restrictions.",
            errors.CancelRejected,
            "CANCEL_RESTRICTIONS_NOT_MET",
        ),
        (-1013, "Filter failure: LOT_SIZE", errors.VenueFilterRejected, "FILTER_FAILURE"),
    ],
)
def test_spot_messages_refine_the_code(
    code: int, message: str, cls: type[errors.OmsError], ours: str
) -> None:
    err = from_binance(code, message, market="spot")
    assert (type(err), err.code) == (cls, ours)


def test_filter_rule_rate_limits_and_pickling() -> None:
    lot = from_binance(-1013, "Filter failure: LOT_SIZE", market="spot")
    assert isinstance(lot, errors.VenueFilterRejected) and lot.rule == "LOT_SIZE"
    banned = from_binance(
        -1003, "Way too much request weight used", market="spot", http_status=418, retry_after=120
    )
    assert isinstance(banned, errors.VenueRateLimited) and isinstance(banned, errors.RateLimited)
    assert (banned.code, banned.retry_after, banned.http_status) == ("IP_BANNED", 120, 418)
    back = pickle.loads(pickle.dumps(banned))
    assert (type(back), back.code, back.retry_after, back.venue_code) == (
        errors.VenueRateLimited,
        "IP_BANNED",
        120,
        -1003,
    )


def test_bare_http_errors() -> None:
    assert isinstance(from_http_status(503, market="spot"), errors.OutcomeUnknown)
    assert isinstance(from_http_status(500, market="usdm"), errors.OutcomeUnknown)
    assert from_http_status(418, market="spot").code == "IP_BANNED"
    assert isinstance(from_http_status(401, market="spot"), errors.AuthenticationFailed)
