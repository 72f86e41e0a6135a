"""The exception hierarchy: codes, messages, stdlib compatibility, pickling."""

from __future__ import annotations

import pickle
import queue
from decimal import Decimal

from oms import errors
from oms.queues import Queue


def test_every_error_has_a_code_and_a_message() -> None:
    err = errors.ShmBusy("the producer role is held")
    assert (err.code, err.message) == ("SHM_BUSY", "the producer role is held")
    assert str(err) == "the producer role is held [SHM_BUSY]"


def test_stdlib_compatible_bases() -> None:
    assert issubclass(errors.QueueFull, queue.Full)
    assert issubclass(errors.QueueEmpty, queue.Empty)
    assert issubclass(errors.InvalidInput, ValueError)
    assert issubclass(errors.ShmNotFound, FileNotFoundError)


def test_errors_raised_in_rust_are_the_python_classes() -> None:
    q = Queue(1)
    q.put_nowait(1)
    try:
        q.put_nowait(2)
    except queue.Full as caught:
        assert type(caught) is errors.QueueFull
        assert caught.code == "FULL"
    else:
        raise AssertionError("a full queue must raise")


def test_pickling_keeps_code_and_details() -> None:
    err = errors.RiskRejected(
        "too big", "MAX_ORDER_QTY", level="venue", value=Decimal("3"), limit=Decimal("2")
    )
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is errors.RiskRejected
    assert (back.code, back.level, back.value, back.limit) == (
        "MAX_ORDER_QTY",
        "venue",
        Decimal(3),
        Decimal(2),
    )


def test_every_core_code_maps_to_a_class() -> None:
    # The binding maps each core error variant; this table is the Python side of it.
    for code, cls in errors.CLASS_BY_CODE.items():
        assert issubclass(cls, errors.OmsError), code
