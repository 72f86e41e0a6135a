"""b. ``oms.queues.Queue`` vs ``queue.Queue``, ``queue.SimpleQueue`` and ``collections.deque``
(one thread, batch-timed), and c. the ``ShmRing`` cross-process round trip vs
``multiprocessing.Pipe`` (a child process started with 'spawn' echoes each message;
its code is in ``_ring_echo.py``).
"""

from __future__ import annotations

import collections
import gc
import multiprocessing as mp
import os
import queue
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import _ring_echo
from harness import Dist, Report, Target, emit, fmt_ns, fmt_x, gc_paused, ratio, table
from oms.errors import QueueEmpty
from oms.queues import Queue, ShmRing


@dataclass(frozen=True)
class Sizes:
    queue_items: int
    queue_repeats: int
    ring_round_trips: int
    ring_warmup: int


FULL = Sizes(queue_items=200_000, queue_repeats=7, ring_round_trips=20_000, ring_warmup=2_000)
QUICK = Sizes(queue_items=20_000, queue_repeats=7, ring_round_trips=5_000, ring_warmup=500)


# ------------------------------------------------------------------------------ b. queues


def queue_oms_single(items: list[object], capacity: int) -> float:
    q = Queue(capacity)
    put, get = q.put_nowait, q.get_nowait
    clock = time.perf_counter_ns
    start = clock()
    for item in items:
        put(item)
        get()
    return (clock() - start) / len(items)


def queue_oms_batched(items: list[object], capacity: int) -> float:
    q = Queue(capacity)
    put_many, get_many = q.put_many, q.get_many
    chunks = [items[i : i + 100] for i in range(0, len(items), 100)]
    clock = time.perf_counter_ns
    start = clock()
    for chunk in chunks:
        put_many(chunk)
        get_many(100)
    return (clock() - start) / len(items)


def queue_stdlib(items: list[object], capacity: int) -> float:
    q: queue.Queue[object] = queue.Queue(maxsize=capacity)
    put, get = q.put_nowait, q.get_nowait
    clock = time.perf_counter_ns
    start = clock()
    for item in items:
        put(item)
        get()
    return (clock() - start) / len(items)


def queue_simple(items: list[object], capacity: int) -> float:
    q: queue.SimpleQueue[object] = queue.SimpleQueue()  # unbounded: capacity unused
    put, get = q.put_nowait, q.get_nowait
    clock = time.perf_counter_ns
    start = clock()
    for item in items:
        put(item)
        get()
    return (clock() - start) / len(items)


def queue_deque(items: list[object], capacity: int) -> float:
    q: collections.deque[object] = collections.deque(maxlen=capacity)
    append, popleft = q.append, q.popleft
    clock = time.perf_counter_ns
    start = clock()
    for item in items:
        append(item)
        popleft()
    return (clock() - start) / len(items)


def run_queues(report: Report, quick: bool) -> None:
    sizes = QUICK if quick else FULL
    emit("## b. Queue put + get from Python (one thread)")
    emit()
    capacity = 1024
    items: list[object] = [(i, "order", i * 0.5) for i in range(sizes.queue_items)]
    variants: list[tuple[str, Callable[[list[object], int], float]]] = [
        ("`oms.queues.Queue` put_nowait + get_nowait", queue_oms_single),
        ("`oms.queues.Queue` put_many(100) + get_many(100)", queue_oms_batched),
        ("`queue.Queue` put_nowait + get_nowait", queue_stdlib),
        ("`queue.SimpleQueue` put_nowait + get_nowait (C, unbounded)", queue_simple),
        ("`collections.deque` append + popleft (not thread-safe)", queue_deque),
    ]
    results: dict[str, list[float]] = {label: [] for label, _ in variants}
    gc.collect()
    for _ in range(sizes.queue_repeats):  # interleaved repeats
        for label, run in variants:
            with gc_paused():
                results[label].append(run(items, capacity))
    median = {label: statistics.median(values) for label, values in results.items()}
    stdlib = median[variants[2][0]]
    emit(
        f"{sizes.queue_items:,} items per run, batch-timed; median and min of {sizes.queue_repeats} "
        f"interleaved runs; capacity {capacity} where bounded."
    )
    emit()
    emit(
        table(
            ["implementation", "ns/item (median)", "ns/item (min)", "queue.Queue / this"],
            [
                [
                    label,
                    fmt_ns(median[label]),
                    fmt_ns(min(results[label])),
                    fmt_x(ratio(stdlib, median[label])),
                ]
                for label, _ in variants
            ],
        )
    )
    emit()
    report.targets += [
        Target(
            "b. queue.Queue / oms Queue (put_nowait + get_nowait)",
            ratio(stdlib, median[variants[0][0]]),
            ">=",
            5,
        ),
    ]


# -------------------------------------------------------------------------- c. ShmRing


MESSAGE = bytes(range(64))


def stop_child(child: BaseProcess) -> None:
    child.join(timeout=10)
    if child.is_alive():
        child.terminate()
        child.join(timeout=5)


def await_first_reply(get: Callable[[], bytes | None], child: BaseProcess) -> bytes:
    """The child needs a moment to start (spawn + imports): wait up to 60 s while it lives."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reply = get()
        if reply is not None:
            return reply
        if not child.is_alive():
            raise RuntimeError(f"echo process {child.name} exited with {child.exitcode}")
    raise TimeoutError(f"no reply from echo process {child.name}")


def ring_round_trips(sizes: Sizes) -> list[int]:
    ctx = mp.get_context("spawn")
    pid = os.getpid()
    request_name, reply_name = f"bench-req-{pid}", f"bench-rep-{pid}"
    requests = ShmRing.create(request_name, capacity=1 << 16, role="producer")
    replies = ShmRing.create(reply_name, capacity=1 << 16, role="consumer")
    child = ctx.Process(
        target=_ring_echo.ring_echo, args=(request_name, reply_name), name="ring-echo", daemon=True
    )
    samples: list[int] = []
    try:
        child.start()
        put, get = requests.put_nowait, replies.get

        def poll() -> bytes | None:
            try:
                return get(timeout=1)
            except QueueEmpty:
                return None

        put(MESSAGE)
        assert await_first_reply(poll, child) == MESSAGE
        for _ in range(sizes.ring_warmup):
            put(MESSAGE)
            get(timeout=5)
        clock = time.perf_counter_ns
        append = samples.append
        reply = b""
        gc.collect()
        with gc_paused():
            for _ in range(sizes.ring_round_trips):
                start = clock()
                put(MESSAGE)
                reply = get(timeout=5)
                end = clock()
                append(end - start)
        assert reply == MESSAGE, "ring echo returned a different message"
        put(_ring_echo.STOP)
    finally:
        stop_child(child)
        replies.close()
        requests.close()
    for ring in (requests, replies):
        assert not os.path.exists(ring.path), f"{ring.path} left behind"
    return samples


def pipe_round_trips(sizes: Sizes) -> list[int]:
    ctx = mp.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=_ring_echo.pipe_echo, args=(child_end,), name="pipe-echo", daemon=True)
    samples: list[int] = []
    try:
        child.start()
        child_end.close()  # so a dead child means EOFError here, never a hang
        send, recv = parent_end.send_bytes, parent_end.recv_bytes

        def poll(conn: Connection = parent_end) -> bytes | None:
            return conn.recv_bytes() if conn.poll(1) else None

        send(MESSAGE)
        assert await_first_reply(poll, child) == MESSAGE
        for _ in range(sizes.ring_warmup):
            send(MESSAGE)
            recv()
        clock = time.perf_counter_ns
        append = samples.append
        reply = b""
        gc.collect()
        with gc_paused():
            for _ in range(sizes.ring_round_trips):
                start = clock()
                send(MESSAGE)
                reply = recv()
                end = clock()
                append(end - start)
        assert reply == MESSAGE, "pipe echo returned a different message"
        send(_ring_echo.STOP)
    finally:
        stop_child(child)
        parent_end.close()
    return samples


def run_ring(report: Report, quick: bool) -> None:
    sizes = QUICK if quick else FULL
    emit("## c. ShmRing cross-process round trip (64-byte message, echoed by a child process)")
    emit()
    ring = Dist.of(ring_round_trips(sizes))
    pipe = Dist.of(pipe_round_trips(sizes))
    emit(
        f"{sizes.ring_round_trips:,} timed round trips after {sizes.ring_warmup:,} warm-up ones; child "
        "started with multiprocessing 'spawn'; no CPU pinning. ShmRing: ring A parent->child, ring B "
        "child->parent, capacity 64 KiB, `put_nowait` + `get(timeout=5)`; Pipe: duplex "
        "`multiprocessing.Pipe()`, `send_bytes` + `recv_bytes`."
    )
    emit()
    emit(
        table(
            ["transport", "p50 ns", "p99 ns", "p99.9 ns", "Pipe / this (p50)"],
            [
                [
                    "`ShmRing`",
                    fmt_ns(ring.p50),
                    fmt_ns(ring.p99),
                    fmt_ns(ring.p999),
                    fmt_x(ratio(pipe.p50, ring.p50)),
                ],
                ["`multiprocessing.Pipe`", fmt_ns(pipe.p50), fmt_ns(pipe.p99), fmt_ns(pipe.p999), "1.0x"],
            ],
        )
    )
    emit()
    report.targets.append(
        Target("c. Pipe p50 / ShmRing p50 (round trip)", ratio(pipe.p50, ring.p50), ">=", 5)
    )
