"""LockedBuffer: locked in RAM (visible in /proc as VmLck), zeroed, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oms.errors import ChannelClosed, InvalidInput, MemoryLockError
from oms.locked_memory import LockedBuffer


def locked_kib() -> int:
    match = re.search(r"VmLck:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert match
    return int(match.group(1))


def test_bytes_are_locked_written_in_place_and_zeroed() -> None:
    before = locked_kib()
    with LockedBuffer(10_000) as buf:
        assert locked_kib() >= before + 12  # 10,000 bytes round up to 3 pages
        buf.write(b"api-secret", offset=2)
        view = memoryview(buf)
        assert bytes(view[2:12]) == b"api-secret"
        view[0] = 7
        view.release()
        buf.zero()
        with memoryview(buf) as again:
            assert not any(again)
    assert buf.closed
    assert locked_kib() == before
    with pytest.raises(ChannelClosed):
        buf.write(b"x")


def test_close_refuses_while_a_view_is_alive() -> None:
    buf = LockedBuffer(16)
    view = memoryview(buf)
    with pytest.raises(BufferError):
        buf.close()
    view.release()
    buf.close()


def test_refusals_are_clear() -> None:
    with pytest.raises(InvalidInput):
        LockedBuffer(0)
    with pytest.raises(InvalidInput):
        LockedBuffer(4).write(b"12345")
    with pytest.raises(MemoryLockError) as caught:
        LockedBuffer(1 << 40)
    assert "RLIMIT_MEMLOCK" in caught.value.message or "mmap" in caught.value.message
