"""JSON logs: one object per line with ts, level, logger, msg, the extras and the
exception as text; configuring twice replaces the handler instead of doubling lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from oms.logs import configure_json_logging


@pytest.fixture(name="stream")
def stream_fixture() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    try:
        yield stream
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_its_extras(stream: io.StringIO) -> None:
    configure_json_logging("INFO", stream)
    logging.getLogger("oms.engine").info(
        "order %s sent", "o1", extra={"order_id": "o1", "qty": Decimal("0.1"), "venue": "binance:spot"}
    )
    [line] = lines(stream)
    assert line["level"] == "INFO" and line["logger"] == "oms.engine" and line["msg"] == "order o1 sent"
    assert (line["order_id"], line["qty"], line["venue"]) == ("o1", "0.1", "binance:spot")
    ts = datetime.fromisoformat(str(line["ts"]))
    assert str(line["ts"]).endswith("Z") and ts.tzinfo is not None and ts.utcoffset() == UTC.utcoffset(ts)


def test_an_exception_is_a_string_field_on_one_line(stream: io.StringIO) -> None:
    configure_json_logging("INFO", stream)
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        logging.getLogger("oms.x").exception("failed")
    assert len(stream.getvalue().splitlines()) == 1
    [line] = lines(stream)
    assert line["level"] == "ERROR"
    assert isinstance(line["exc_info"], str) and "ValueError: bad" in line["exc_info"]
    assert "Traceback" in line["exc_info"]


def test_levels_odd_values_and_colliding_extras(stream: io.StringIO) -> None:
    configure_json_logging("warning", stream)
    log = logging.getLogger("oms.y")
    log.info("not shown")
    log.warning("shown", extra={"level": "mine", "thing": object(), "tags": {"a", "b"}})
    [line] = lines(stream)
    assert line["level"] == "WARNING" and line["extra_level"] == "mine"
    assert str(line["thing"]).startswith("<object object")
    assert sorted(line["tags"]) == ["a", "b"]


def test_configuring_again_replaces_the_handler(stream: io.StringIO) -> None:
    first = io.StringIO()
    configure_json_logging("INFO", first)
    configure_json_logging("DEBUG", stream)
    logging.getLogger("oms.z").debug("once")
    assert first.getvalue() == ""
    assert [line["msg"] for line in lines(stream)] == ["once"]


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure_json_logging("LOUD")
