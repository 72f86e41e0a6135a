"""Positions in shared memory.

``PositionBook.create(name)`` makes ``/dev/shm/oms.<name>.positions`` and is its one
writer; ``PositionBook.attach(name)`` maps it read-only from any process. Each
position is a fixed ``#[repr(C)]`` record in its own slot, guarded by a seqlock, so
readers never block the writer and never see a torn record.

``RECORD_FIELDS`` describes the record layout (name, offset, size, kind, decimal
scale) exactly as the Rust core lays it out, so nobody retypes it.
"""

from typing import NamedTuple

from oms._core import (
    POSITION_FIELDS,
    POSITION_HEADER_SIZE,
    POSITION_RECORD_SIZE,
    POSITION_SLOT_SIZE,
    AggregatePosition,
    Position,
    PositionBook,
)


class FieldInfo(NamedTuple):
    """One field of the shared-memory position record."""

    name: str
    offset: int
    size: int
    kind: str  # "i128", "i64", "u64" or "utf8" (NUL-padded)
    scale: int  # decimal places of the fixed-point value (0: plain integer or text)


RECORD_FIELDS: tuple[FieldInfo, ...] = tuple(FieldInfo(*f) for f in POSITION_FIELDS)
RECORD_SIZE: int = POSITION_RECORD_SIZE
SLOT_SIZE: int = POSITION_SLOT_SIZE
HEADER_SIZE: int = POSITION_HEADER_SIZE

__all__ = [
    "HEADER_SIZE",
    "RECORD_FIELDS",
    "RECORD_SIZE",
    "SLOT_SIZE",
    "AggregatePosition",
    "FieldInfo",
    "Position",
    "PositionBook",
]
