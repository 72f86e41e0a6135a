"""oms.triggers.TriggerBook from Python: levels, trailing stops, and the refusals a
venue turns into "would immediately trigger"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oms.errors import InvalidInput
from oms.triggers import TriggerBook


def test_levels_fire_once_oldest_first() -> None:
    book = TriggerBook()
    book.add_level(10, "AT_OR_BELOW", "49000")
    book.add_level(11, "AT_OR_ABOVE", Decimal("52000"))
    book.add_level(12, "AT_OR_BELOW", "49500")
    assert len(book) == 3 and 11 in book
    assert book.on_price("49600") == []
    assert book.on_price("48000") == [10, 12]
    assert book.on_price("47000") == []
    assert book.remove(11) and not book.remove(11)
    assert len(book) == 0 and book.last_price == Decimal("47000")


def test_trailing_stop_fires_a_callback_away_from_the_best_price() -> None:
    book = TriggerBook()
    book.add_trailing(1, "SELL", 100, activation="51000")
    assert [book.on_price(p) for p in ("50400", "51000", "51500", "50985.1")] == [[], [], [], []]
    assert book.on_price("50985") == [1]


def test_refusals() -> None:
    book = TriggerBook()
    book.on_price("100")
    with pytest.raises(InvalidInput) as now:
        book.add_level(1, "AT_OR_ABOVE", "99.99")
    assert now.value.code == "WOULD_TRIGGER"
    with pytest.raises(InvalidInput) as passed:
        book.add_trailing(2, "BUY", 50, activation="100.5")
    assert passed.value.code == "WOULD_TRIGGER"
    book.add_level(3, "AT_OR_BELOW", "90")
    with pytest.raises(InvalidInput):
        book.add_level(3, "AT_OR_BELOW", "80")
    with pytest.raises(InvalidInput):
        book.add_trailing(4, "SELL", 10_000)
    with pytest.raises(ValueError):
        book.add_level(5, "SIDEWAYS", "1")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        book.add_level(6, "AT_OR_ABOVE", "1.000000001")  # beyond the 10^-8 scale
