"""The file appender: chunks land in order per file and are counted by line, stamped
lines get their ``time``, a closed file is gzipped, failures are counted with their
error, a full or stopped appender says so. (That its thread never needs the GIL
shows in `make bench`, section f: the journal's writer no longer trails the order
path.)"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from oms.errors import ChannelClosed, InvalidInput, QueueFull
from oms.storage.appender import FileAppender


def test_chunks_land_in_order_per_file_and_are_counted_by_line(tmp_path: Path) -> None:
    appender = FileAppender(8)
    appender.start()
    a, b = tmp_path / "day/orders.jsonl", tmp_path / "day/trades.jsonl"
    for i in range(50):
        appender.append(a if i % 2 == 0 else b, b"%d\n%d\n" % (i, i), 2)
    appender.stop()
    assert appender.written == 100 and appender.failed == 0
    assert a.read_bytes() == b"".join(b"%d\n%d\n" % (i, i) for i in range(0, 50, 2))
    assert b.read_bytes().splitlines()[:2] == [b"1", b"1"]
    with pytest.raises(ChannelClosed):
        appender.append(a, b"late\n", 1)


def test_stamped_lines_get_their_time_and_a_miscount_is_refused(tmp_path: Path) -> None:
    appender = FileAppender(8)
    appender.start()
    path = tmp_path / "orders.jsonl"
    with pytest.raises(InvalidInput, match="one stamp per whole line"):
        appender.append_stamped(path, b'{"seq":1}\n{"seq":2}\n', [1])
    appender.append_stamped(path, b'{"seq":1}\n{"seq":2,"x":{"y":3}}\n', [1_700_000_000_000_000_007, 0])
    appender.stop()
    assert appender.written == 2 and appender.failed == 0
    assert path.read_text().splitlines() == [
        '{"seq":1,"time":"2023-11-14T22:13:20.000000007Z"}',
        '{"seq":2,"x":{"y":3},"time":"1970-01-01T00:00:00.000000000Z"}',
    ]


def test_a_closed_file_is_compressed_and_the_plain_one_removed(tmp_path: Path) -> None:
    appender = FileAppender(8)
    appender.start()
    path = tmp_path / "orders.jsonl"
    appender.append(path, b'{"seq":1}\n', 1)
    appender.close_file(path, compress=True)
    assert appender.sync(timeout=10)
    assert not path.exists()
    assert gzip.decompress((tmp_path / "orders.jsonl.gz").read_bytes()) == b'{"seq":1}\n'
    appender.stop()


def test_a_failed_write_is_counted_with_its_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    appender = FileAppender(8)
    appender.start()
    appender.append(tmp_path / "a-file/orders.jsonl", b"1\n2\n3\n", 3)
    appender.stop()
    assert (appender.written, appender.failed) == (0, 3)
    assert appender.last_error is not None and "a-file" in appender.last_error


def test_a_full_appender_waits_then_says_so(tmp_path: Path) -> None:
    appender = FileAppender(1)  # not started: nothing drains it
    appender.append(tmp_path / "x", b"1\n", 1)
    with pytest.raises(QueueFull):
        appender.append(tmp_path / "x", b"2\n", 1, timeout=0.05)
    appender.start()
    appender.append(tmp_path / "x", b"2\n", 1, timeout=10)
    appender.stop()
    assert (tmp_path / "x").read_bytes() == b"1\n2\n"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidInput):
        FileAppender(0)
    appender = FileAppender(1)
    appender.start()
    with pytest.raises(InvalidInput):
        appender.start()
    appender.stop()
