"""Queue (threads) and ShmRing (processes): nothing lost, nothing doubled, clear errors."""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from pathlib import Path

import pytest

from oms.errors import ChannelClosed, InvalidInput, MessageTooLarge, QueueEmpty, QueueFull, ShmBusy, ShmExists
from oms.queues import Queue, ShmRing

# ---- Queue ----


def test_queue_is_fifo_and_bounded() -> None:
    q = Queue(3)
    for item in ("a", {"b": 1}, None):
        q.put_nowait(item)
    assert (len(q), q.full(), q.capacity) == (3, True, 3)
    with pytest.raises(QueueFull):
        q.put_nowait("overflow")
    assert [q.get_nowait() for _ in range(3)] == ["a", {"b": 1}, None]
    with pytest.raises(QueueEmpty):
        q.get_nowait()


def test_blocking_get_times_out_and_releases_the_gil() -> None:
    q = Queue(1)
    ticks = 0

    def busy() -> None:
        nonlocal ticks
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            ticks += 1

    t = threading.Thread(target=busy)
    t.start()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.2)
    t.join()
    assert ticks > 1000, "the other thread ran while get() waited"


def test_blocking_put_waits_for_room() -> None:
    q = Queue(1)
    q.put(1)
    threading.Timer(0.05, q.get).start()
    q.put(2, timeout=5)
    assert q.get_nowait() == 2
    q.put(3)
    with pytest.raises(QueueFull):
        q.put(4, timeout=0.01)


def test_batches() -> None:
    q = Queue(5)
    assert q.put_many(range(8)) == 5
    assert q.get_many(3) == [0, 1, 2]
    assert q.get_many(10) == [3, 4]
    assert q.get_many(10, timeout=0.01) == []


def test_close_drains_then_raises_closed() -> None:
    q = Queue(4)
    q.put(1)
    q.close()
    with pytest.raises(ChannelClosed):
        q.put(2)
    assert q.get() == 1
    with pytest.raises(ChannelClosed):
        q.get(timeout=1)


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInput):
        Queue(0)
    with pytest.raises(InvalidInput):
        Queue(1).get(timeout=-1)


def test_threads_lose_nothing() -> None:
    q = Queue(64)
    per_producer = 5000
    received: list[int] = []
    lock = threading.Lock()

    def produce(base: int) -> None:
        for i in range(per_producer):
            q.put(base + i, timeout=10)

    def consume() -> None:
        while True:
            batch = q.get_many(100, timeout=0.5)
            if not batch:
                return
            with lock:
                received.extend(batch)

    producers = [threading.Thread(target=produce, args=(p * 1_000_000,)) for p in range(3)]
    consumers = [threading.Thread(target=consume) for _ in range(2)]
    for t in producers + consumers:
        t.start()
    for t in producers + consumers:
        t.join(60)
    expected = sorted(p * 1_000_000 + i for p in range(3) for i in range(per_producer))
    assert sorted(received) == expected


# ---- ShmRing ----


def _consume(name: str, count: int, out: multiprocessing.Queue[tuple[int, int, list[int]]]) -> None:
    """Child: read `count` messages; report (received, bad, first few sequence errors)."""
    ring = ShmRing.attach(name, role="consumer")
    expected, bad, errors = 0, 0, []
    for _ in range(count):
        message = ring.get(timeout=20)
        seq = int.from_bytes(message[:8], "little")
        body = message[8:]
        if seq != expected or body != bytes([seq % 251]) * (seq % 97):
            bad += 1
            errors.append(seq)
        expected += 1
    out.put((expected, bad, errors[:5]))


def _message(seq: int) -> bytes:
    return seq.to_bytes(8, "little") + bytes([seq % 251]) * (seq % 97)


def test_two_processes_every_message_once_in_order_across_wrap_around(name: str) -> None:
    count = 30_000
    ctx = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[tuple[int, int, list[int]]] = ctx.Queue()
    # 1 KiB ring, messages up to ~110 bytes: it wraps around thousands of times.
    with ShmRing.create(name, capacity=1024, role="producer") as ring:
        child = ctx.Process(target=_consume, args=(name, count, results))
        child.start()
        for seq in range(count):
            ring.put(_message(seq), timeout=20)
        received, bad, errors = results.get(timeout=60)
        child.join(10)
    assert (received, bad, errors) == (count, 0, [])
    assert child.exitcode == 0


def test_full_empty_and_sizes_are_reported(name: str) -> None:
    producer = ShmRing.create(name, capacity=64, role="producer")
    consumer = ShmRing.attach(name)
    with pytest.raises(QueueEmpty):
        consumer.get_nowait()
    assert producer.put_many([b"12345678"] * 10) == 4
    with pytest.raises(QueueFull):
        producer.put(b"x", timeout=0.01)
    with pytest.raises(MessageTooLarge):
        producer.put(b"x" * (producer.max_message + 1))
    assert consumer.get_many(10) == [b"12345678"] * 4
    producer.close()
    with pytest.raises(ChannelClosed):
        consumer.get(timeout=1)


def test_roles_are_exclusive_and_the_creator_cleans_up(name: str, shm_dir: Path) -> None:
    ring = ShmRing.create(name, capacity=4096, role="consumer")
    path = Path(ring.path)
    assert path.parent == shm_dir and path.exists()
    with pytest.raises(ShmBusy):
        ShmRing.attach(name, role="consumer")
    with pytest.raises(ShmExists):
        ShmRing.create(name, capacity=4096)
    producer = ShmRing.attach(name, role="producer")
    with pytest.raises(InvalidInput):
        producer.get_nowait()
    ring.close()
    assert not path.exists()
    del producer


def test_a_stale_ring_is_replaced_only_when_nobody_holds_it(name: str) -> None:
    holder = ShmRing.create(name, capacity=4096, role="producer")
    path = Path(holder.path)
    with pytest.raises(ShmBusy):
        ShmRing.create(name, capacity=4096, role="producer", replace=True)
    keep = path.with_name(path.name + ".keep")
    os.link(path, keep)  # a second name keeps the file when the owner removes it
    del holder  # like a crashed process: roles released, file left behind
    keep.rename(path)
    with pytest.raises(ShmExists):
        ShmRing.create(name, capacity=4096)
    fresh = ShmRing.create(name, capacity=4096, role="producer", replace=True)
    fresh.put(b"ok")
    fresh.close()
    assert not path.exists()


def test_waiting_get_wakes_when_data_arrives(name: str) -> None:
    producer = ShmRing.create(name, capacity=4096)
    consumer = ShmRing.attach(name)
    consumer.set_spin(0.0)  # go straight to the futex sleep
    threading.Timer(0.1, producer.put, args=(b"late",)).start()
    started = time.monotonic()
    assert consumer.get(timeout=10) == b"late"
    assert time.monotonic() - started < 5


def test_absurd_timeouts_mean_forever_not_a_crash(name: str) -> None:
    q = Queue(1)
    threading.Timer(0.05, q.put, args=(1,)).start()
    assert q.get(timeout=1e20) == 1
    producer = ShmRing.create(name, capacity=4096)
    consumer = ShmRing.attach(name)
    threading.Timer(0.05, producer.put, args=(b"x",)).start()
    assert consumer.get(timeout=1e300) == b"x"
    consumer.set_spin(1e30)  # capped, not a crash
