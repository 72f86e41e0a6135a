"""g. gRPC ingress (issue 6): an order through the API into the engine and back, against a
bare grpcio echo of the same message sizes on the same server as the floor.

The server runs in a child process (``--serve``): the engine on the null venue of
``bench_engine`` (accepted = validation, instrument rules, Rust risk check, state,
the venue's NEW), the real ``ApiServer`` with TLS 1.3, the guard and a token, and an
extra raw-bytes method ``/bench.Echo/Echo`` that answers a SubmitOrderResponse-sized
reply without parsing anything (the echo passes the same guard: TLS, token, scope and
rate). The client (this process, ``grpc.aio``) measures:

* unary: sequential ``SubmitOrder`` vs ``Echo`` of the same request bytes, per-call
  p50/p99 and the ratio of medians (target within 1.1x);
* batched: ``SubmitOrders`` of 100 orders, 4 calls in flight: orders/s (target 100,000/s);
* full round trip through ``oms run`` (a subprocess: simulators, NATS, engine, API):
  a resting limit order submitted until the simulator's acknowledgement, p50/p99.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc

from harness import Dist, Report, Target, emit, fmt_x, ratio, table
from oms.api.server import ApiConfig, ApiServer
from oms.api.stubs import ServiceStub
from oms.api.tls import ensure_dev_pki
from oms.api.tokens import TokenStore
from oms.client import order_request
from oms.v1 import common_pb2 as pb
from oms.v1 import orders_pb2

ECHO = "/bench.Echo/Echo"
BATCH = 100
IN_FLIGHT = 4


# ---- the server child ----


async def serve(data: Path) -> None:
    from bench_engine import NullVenue
    from oms.engine import Engine

    engine = Engine([NullVenue()])
    # not started: as in bench_engine, the null venue needs no connection or instrument load
    tokens = data / "tokens.json"
    token = TokenStore(tokens).create("bench", ["read", "trade"], rate_per_s=1e9, burst=1e9)
    reply = _sized_reply()

    async def echo(request: bytes, context: Any) -> bytes:
        return reply

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    config = ApiConfig(tls=ensure_dev_pki(data / "tls"), tokens=tokens, port=0)
    server = ApiServer(engine, config, extra_handlers=[handler])
    address = await server.start()
    print(f"{address} {token}", flush=True)
    await asyncio.Event().wait()


def _sized_reply() -> bytes:
    """What SubmitOrder answers for an accepted order, serialized (for the echo)."""
    order = pb.Order(
        order_id="omsmwvbench00000001",
        client_order_id="omsmwvbench00000001",
        venue_order_id="V1",
        request=_request(0),
        status=pb.ORDER_STATUS_NEW,
        filled_qty="0",
        created_ns=time.time_ns(),
        updated_ns=time.time_ns(),
    )
    return orders_pb2.SubmitOrderResponse(order=order).SerializeToString()


def _request(i: int, rng: random.Random | None = None) -> pb.OrderRequest:
    rng = rng or random.Random(i)
    price = Decimal(str(round(rng.gauss(50_000, 50), 2)))
    qty = Decimal(str(round(rng.uniform(0.001, 0.1), 6)))
    side = "BUY" if i % 2 else "SELL"
    return order_request(venue="null:spot", symbol="BTC/USDT", side=side, type="LIMIT", qty=qty, price=price)


# ---- the client ----


class Server:
    """The child server: ``address``, ``token``, ``ca``; stopped on exit."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", self.tmp.name],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent)},
        )
        assert self.proc.stdout is not None
        self.address, self.token = self.proc.stdout.readline().split()
        self.ca = (Path(self.tmp.name) / "tls" / "ca.pem").read_bytes()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.tmp.cleanup()


async def unary(server: Server, n: int) -> tuple[Dist, Dist]:
    """Sequential calls, alternating blocks of 100 echo / submit (same load on both)."""
    meta = (("authorization", f"Bearer {server.token}"),)
    async with grpc.aio.secure_channel(server.address, grpc.ssl_channel_credentials(server.ca)) as channel:
        stub = ServiceStub(channel, "OrderService")
        echo: Any = channel.unary_unary(ECHO)
        requests = [orders_pb2.SubmitOrderRequest(order=_request(i)) for i in range(n)]
        raw = [r.SerializeToString() for r in requests]
        for i in range(200):  # warm up both paths
            await echo(raw[i], metadata=meta)
            await stub.SubmitOrder(requests[i], metadata=meta)
        echo_ns: list[int] = []
        submit_ns: list[int] = []
        clock = time.perf_counter_ns
        for block in range(200, n, 100):
            for i in range(block, min(block + 100, n)):
                t0 = clock()
                await echo(raw[i], metadata=meta)
                echo_ns.append(clock() - t0)
            for i in range(block, min(block + 100, n)):
                t0 = clock()
                await stub.SubmitOrder(requests[i], metadata=meta)
                submit_ns.append(clock() - t0)
    return Dist.of(echo_ns), Dist.of(submit_ns)


async def batched(server: Server, batches: int) -> float:
    """Orders/s with SubmitOrders of BATCH orders, IN_FLIGHT calls at a time."""
    meta = (("authorization", f"Bearer {server.token}"),)
    rng = random.Random(7)
    payloads = [
        orders_pb2.SubmitOrdersRequest(orders=[_request(b * BATCH + i, rng) for i in range(BATCH)])
        for b in range(batches)
    ]
    async with grpc.aio.secure_channel(server.address, grpc.ssl_channel_credentials(server.ca)) as channel:
        stub = ServiceStub(channel, "OrderService")
        await stub.SubmitOrders(payloads[0], metadata=meta)
        queue = iter(payloads[1:])
        accepted = 0

        async def worker() -> None:
            nonlocal accepted
            for payload in queue:
                reply = await stub.SubmitOrders(payload, metadata=meta)
                accepted += sum(r.WhichOneof("result") == "order" for r in reply.results)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        elapsed = time.perf_counter() - start
    assert accepted == (batches - 1) * BATCH, accepted
    return accepted / elapsed


def round_trip(n: int) -> Dist | None:
    """Submit -> simulator ack -> reply through a real ``oms run``, resting orders."""

    with tempfile.TemporaryDirectory() as data:
        port = _free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oms",
                "run",
                "--data",
                data,
                "--grpc-port",
                str(port),
                "--http-port",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = _wait_for(f"127.0.0.1:{port}", Path(data))
            if client is None:
                return None
            with client:
                bid = Decimal(client.book("binance:spot", "BTC/USDT", 1).bids[0].price)
                price = (bid * Decimal("0.95")).quantize(Decimal("0.01"))
                samples = []
                for _ in range(n):
                    t0 = time.perf_counter_ns()
                    client.submit(
                        venue="binance:spot",
                        symbol="BTC/USDT",
                        side="BUY",
                        type="LIMIT",
                        qty="0.001",
                        price=price,
                    )
                    samples.append(time.perf_counter_ns() - t0)
                client.cancel_all()
            return Dist.of(samples)
        finally:
            proc.terminate()
            proc.wait(30)


def _wait_for(address: str, data: Path) -> Any:
    from oms.client import Client

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        token_file, ca = data / "dev-token", data / "tls" / "ca.pem"
        if token_file.exists() and ca.exists():
            client = Client(address, token=token_file.read_text().strip(), ca=ca, timeout=10)
            with contextlib.suppress(Exception):
                if client.health() == "SERVING":
                    return client
            client.close()
        time.sleep(0.5)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(report: Report, quick: bool) -> None:
    n, batches, trips = (1_200, 100, 100) if quick else (5_200, 600, 500)
    emit("## g. gRPC ingress (TLS 1.3, token, null venue) vs a bare grpcio echo on the same server")
    emit()
    server = Server()
    try:
        echo, submit = asyncio.run(unary(server, n))
        per_s = asyncio.run(batched(server, batches))
    finally:
        server.close()
    rows = [
        ["echo (raw bytes, same sizes)", f"{echo.p50 / 1000:.0f}", f"{echo.p99 / 1000:.0f}", f"{echo.n:,}"],
        [
            "SubmitOrder -> engine accepted",
            f"{submit.p50 / 1000:.0f}",
            f"{submit.p99 / 1000:.0f}",
            f"{submit.n:,}",
        ],
    ]
    emit(table(["unary, sequential", "p50 us", "p99 us", "calls"], rows))
    emit()
    slower = ratio(submit.p50, echo.p50)
    emit(f"SubmitOrder / echo (medians): {fmt_x(slower)} (target <= 1.1x)")
    emit()
    emit(
        f"batched: SubmitOrders x {BATCH} orders, {IN_FLIGHT} in flight, {(batches - 1) * BATCH:,} orders: "
        f"{per_s:,.0f} orders/s (target >= 100,000/s)"
    )
    emit()
    report.targets.append(Target("gRPC SubmitOrder p50 / bare echo p50", slower, "<=", 1.1))
    report.notes.append(f"gRPC batched ingress {per_s:,.0f} orders/s (target >= 100,000/s)")
    trip = round_trip(trips)
    if trip is None:
        emit("full round trip: `oms run` did not come up; skipped")
    else:
        emit(
            f"full round trip through `oms run` (submit -> Binance spot simulator ack -> reply, "
            f"{trip.n} resting limit orders): p50 {trip.p50 / 1000:.0f} us, p99 {trip.p99 / 1000:.0f} us"
        )
        report.notes.append(f"gRPC round trip to the simulator p50 {trip.p50 / 1000:.0f} us")
    emit()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        asyncio.run(serve(Path(sys.argv[2])))
