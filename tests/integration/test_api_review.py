"""Regression tests from a review of the gRPC API, each from a client's (or an
attacker's) side: errors come back as the class the server raised, with typed details,
however long the input they echo; bad admin input is INVALID_ARGUMENT, not INTERNAL;
idempotency keys hold on the batch path and a batch keeps its order; a resume point the
server never reached is refused; a canceled market-data stream leaves nothing feeding
behind; a stopping server says so; extra services are guarded; tokens survive concurrent
writers and a revocation takes effect at once; mutual TLS works end to end."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import stat
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

from oms import errors
from oms.api.server import ApiConfig, ApiServer
from oms.api.stubs import ServiceStub
from oms.api.tls import TlsFiles, ensure_dev_pki, issue_client_cert
from oms.api.tokens import TokenStore
from oms.client import AsyncClient, Client, order_request
from oms.engine import Engine
from oms.v1 import admin_pb2, market_data_pb2
from oms.v1 import common_pb2 as pb

from .api_system import SystemThread
from .waiting import until, until_sync

SPOT = {"venue": "binance:spot", "symbol": "BTC/USDT"}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SystemThread]:
    running = SystemThread(tmp_path_factory.mktemp("oms"))
    yield running
    running.close()


@pytest.fixture()
def oms(system: SystemThread) -> Iterator[Client]:
    with system.client() as client:
        yield client


def market(**changes: Any) -> dict[str, Any]:
    return {**SPOT, "side": "BUY", "type": "MARKET", "qty": "0.001", **changes}


# ---- errors: the same class, code and details on the client ----


def test_a_refusal_comes_back_as_the_class_the_server_raised(oms: Client) -> None:
    filled = oms.submit(**market())
    with pytest.raises(errors.OmsError) as not_open:
        oms.cancel(filled.order_id)
    assert type(not_open.value) is errors.OrderStateError
    assert (not_open.value.code, not_open.value.details) == ("ORDER_NOT_OPEN", {"status": "FILLED"})
    with pytest.raises(errors.OmsError) as unknown:
        oms.order("no-such-order")
    assert type(unknown.value) is errors.InvalidInput  # what the engine raised (status NOT_FOUND)
    assert (unknown.value.code, unknown.value.details) == ("UNKNOWN_ORDER", {"field": "order_id"})


def test_error_details_keep_their_types(oms: Client) -> None:
    scope = admin_pb2.RiskScope(**SPOT)
    oms.set_risk_limits(admin_pb2.RiskLimits(scope=scope, max_order_qty="0.5"))
    try:
        with pytest.raises(errors.RiskRejected) as risk:
            oms.submit(**market(qty="0.6"))
    finally:
        oms.set_risk_limits(admin_pb2.RiskLimits(scope=scope))
    assert (risk.value.value, risk.value.limit) == (Decimal("0.6"), Decimal("0.5"))
    with pytest.raises(errors.FilterViolation) as tick:
        oms.submit(**market(type="LIMIT", price="50000.001"))
    assert tick.value.value == Decimal("50000.001") and isinstance(tick.value.limit, Decimal)


def test_an_error_echoing_a_huge_input_still_reaches_the_client(oms: Client) -> None:
    """An unknown 20 kB symbol is quoted in the error: unclipped, the status trailer
    passed grpc's metadata limit and the client got RESOURCE_EXHAUSTED instead."""
    with pytest.raises(errors.OmsError) as refused:
        oms.submit(**market(symbol="BTC/" + "Y" * 20_000))
    assert type(refused.value) is errors.UnknownSymbol and refused.value.code == "UNKNOWN_SYMBOL"
    assert len(refused.value.message) < 2_000


def test_negative_integer_risk_limits_are_invalid_argument(oms: Client) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        oms.set_risk_limits(admin_pb2.RiskLimits(max_open_orders=-1))
    assert "max_open_orders" in refused.value.message


# ---- the batch path ----


def test_idempotency_keys_hold_on_the_batch_path(oms: Client) -> None:
    keyed = market(symbol="ETH/USDT", qty="0.01", idempotency_key="review-batch-key")
    first = oms.submit(**keyed)
    again = oms.submit_many([order_request(**keyed), order_request(**keyed)])
    assert [r.order.order_id for r in again] == [first.order_id] * 2
    fresh = market(symbol="ETH/USDT", qty="0.01", idempotency_key="review-batch-key-2")
    batch = oms.submit_many([order_request(**fresh), order_request(**fresh)])
    retried = oms.submit_many([order_request(**fresh)])
    assert len({r.order.order_id for r in [*batch, *retried]}) == 1
    keys = [o.request.idempotency_key for o in oms.orders()]
    assert keys.count("review-batch-key") == 1 and keys.count("review-batch-key-2") == 1


def test_a_batch_of_mixed_items_answers_in_order(oms: Client) -> None:
    no_side = order_request(**market(tag="t1"))
    no_side.side = pb.SIDE_UNSPECIFIED
    items = [
        order_request(**market(tag="t0")),
        no_side,  # refused by the API's conversion
        order_request(**market(tag="t2", symbol="BTC/USDX")),  # refused by the engine
        order_request(**market(tag="t3", idempotency_key="review-mixed-key")),
        order_request(**market(tag="t4")),
    ]
    results = oms.submit_many(items)
    assert [r.WhichOneof("result") for r in results] == ["order", "error", "error", "order", "order"]
    assert [r.order.request.tag for r in results if r.HasField("order")] == ["t0", "t3", "t4"]
    assert (results[1].error.code, results[2].error.code) == ("INVALID_ENUM", "UNKNOWN_SYMBOL")
    assert results[2].error.error_class == "UnknownSymbol"


# ---- events and market data streams ----


def test_a_resume_point_ahead_of_the_server_is_out_of_range(oms: Client) -> None:
    """A client resuming with a seq this server never gave (another server's, or made
    up) would otherwise wait forever for events it will never be sent."""
    with pytest.raises(errors.OmsError) as refused:
        list(oms.events(after_seq=2**62))
    assert refused.value.code == "EVENTS_AHEAD"


def test_a_resume_point_from_before_a_restart_is_told_the_events_expired(oms: Client) -> None:
    """Numbering goes on across restarts, so a seq from an earlier life is older than
    anything this server holds: the client must learn it missed events (and read
    JetStream), not silently get only the new ones."""
    with pytest.raises(errors.OmsError) as refused:
        list(oms.events(after_seq=1))
    assert refused.value.code == "EVENTS_EXPIRED"


def listeners(system: SystemThread, stream: str) -> list[Any]:
    """The callbacks the spot connector's stream client calls for ``stream``."""

    async def read() -> list[Any]:
        streams: Any = system.system.engine.exchanges["binance:spot"]._streams  # type: ignore[union-attr]
        connection = streams.stream_connections.stream_connections_map.get(stream)
        return [] if connection is None else list(connection.stream_callback_map.get(stream, []))

    return system.call(read())


def test_a_canceled_market_data_stream_leaves_no_listener_behind(system: SystemThread) -> None:
    """Each canceled StreamTrades / StreamBook left its callback feeding a queue nobody
    read (memory growing with every trade), and took over the connector's record of the
    subscription, so after a reconnect the engine's own price tracking was gone."""
    until_sync(lambda: bool(listeners(system, "btcusdt@trade")), timeout=10)  # the engine's tracking
    engine_own = listeners(system, "btcusdt@trade")
    with grpc.secure_channel(system.address, grpc.ssl_channel_credentials(system.ca.read_bytes())) as ch:
        stub = ServiceStub(ch, "MarketDataService")
        meta = (("authorization", f"Bearer {system.token}"),)
        for _ in range(3):
            trades = stub.StreamTrades(market_data_pb2.StreamTradesRequest(**SPOT), metadata=meta)
            book = stub.StreamBook(market_data_pb2.StreamBookRequest(**SPOT, depth=5), metadata=meta)
            next(book)
            next(trades)
            trades.cancel()
            book.cancel()
    until_sync(lambda: listeners(system, "btcusdt@trade") == engine_own, timeout=10)
    until_sync(lambda: not listeners(system, "btcusdt@depth@100ms"), timeout=10)
    spot: Any = system.system.engine.exchanges["binance:spot"]  # type: ignore[union-attr]
    rebuilds = spot.stream_rebuilds
    system.loop.call_soon_threadsafe(spot._streams_lost)  # as when the connection drops
    until_sync(lambda: spot.stream_rebuilds > rebuilds, timeout=15)
    assert listeners(system, "btcusdt@trade") == engine_own


# ---- tokens ----


def test_a_revoked_token_is_refused_by_the_running_server(system: SystemThread) -> None:
    store = TokenStore(system.data / "tokens.json")
    token = store.create("review-revoked", ["read"])
    with system.client(token) as client:
        assert client.orders(limit=1) is not None
        store.revoke("review-revoked")
        with pytest.raises(errors.OmsError) as refused:
            client.orders(limit=1)
    assert refused.value.code == "UNAUTHENTICATED"


def test_a_token_written_within_the_same_clock_tick_is_seen(tmp_path: Path) -> None:
    """File times move in coarse ticks: a second write may keep the same mtime."""
    path = tmp_path / "tokens.json"
    server = TokenStore(path)
    first = TokenStore(path).create("first", ["read"])
    assert server.verify(first) is not None
    mtime = path.stat().st_mtime_ns
    second = TokenStore(path).create("second", ["read"])
    os.utime(path, ns=(mtime, mtime))
    assert server.verify(second) is not None


def _create_tokens(path: Path, worker: int, go: Any) -> None:
    go.wait(30)
    store = TokenStore(path)
    for i in range(10):
        store.create(f"w{worker}-{i}", ["read"])


def test_concurrent_token_creation_loses_nothing(tmp_path: Path) -> None:
    """Two ``oms token create`` at once: each rewrote the file from what it had read
    (one's tokens lost) through the same temporary file (crashing the other)."""
    path = tmp_path / "tokens.json"
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    workers = [context.Process(target=_create_tokens, args=(path, w, go)) for w in range(6)]
    for w in workers:
        w.start()
    go.set()
    for w in workers:
        w.join(30)
    assert [w.exitcode for w in workers] == [0] * 6
    assert len(TokenStore(path).names()) == 60
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.tmp"))


# ---- TLS files ----


def test_private_keys_are_0600_even_when_rewritten_over_looser_files(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    tls.mkdir()
    for name in ("ca.key", "server.key"):
        (tls / name).write_text("old")
        (tls / name).chmod(0o644)
    ensure_dev_pki(tls)
    cert, key = issue_client_cert(tls, "alice")
    for path in (tls / "ca.key", tls / "server.key", key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(cert.stat().st_mode) == 0o644


# ---- a server of our own: mutual TLS, extra services, stopping ----


class OwnServer:
    """An ``ApiServer`` on an engine without venues, on this test's event loop."""

    def __init__(self, root: Path, tls: TlsFiles, handlers: list[grpc.GenericRpcHandler] | None = None):
        self.root = root
        self.ca = root / "tls" / "ca.pem"
        store = TokenStore(root / "tokens.json")
        self.tokens = {scope: store.create(scope, [scope]) for scope in ("read", "trade")}
        self.engine = Engine([])
        self.server = ApiServer(
            self.engine, ApiConfig(tls=tls, tokens=root / "tokens.json", port=0), handlers
        )
        self.address = ""

    async def __aenter__(self) -> OwnServer:
        await self.engine.start()
        self.address = await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.stop(0.5)
        await self.engine.stop()

    def client(self, scope: str = "read", **tls: Path) -> AsyncClient:
        return AsyncClient(self.address, token=self.tokens[scope], ca=self.ca, timeout=10, **tls)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 25))


async def outcome(call: Awaitable[object]) -> str:
    """ "ok" or the oms code of the refusal."""
    try:
        await call
    except errors.OmsError as err:
        return err.code
    return "ok"


def test_mutual_tls_lets_a_dev_ca_client_certificate_in_and_no_other(tmp_path: Path) -> None:
    files = ensure_dev_pki(tmp_path / "tls")
    mutual = TlsFiles(cert=files.cert, key=files.key, client_ca=tmp_path / "tls" / "ca.pem")
    cert, key = issue_client_cert(tmp_path / "tls", "alice")
    ensure_dev_pki(tmp_path / "other")
    stranger = issue_client_cert(tmp_path / "other", "mallory")

    async def test() -> None:
        async with OwnServer(tmp_path, mutual) as own:
            async with own.client(cert=cert, key=key) as alice:
                assert await outcome(alice.orders()) == "ok"
            async with own.client() as nobody:
                assert await outcome(nobody.orders()) == "GRPC_UNAVAILABLE"
            async with own.client(cert=stranger[0], key=stranger[1]) as mallory:
                assert await outcome(mallory.orders()) == "GRPC_UNAVAILABLE"

    run(test)


def test_an_extra_service_is_behind_the_token_check(tmp_path: Path) -> None:
    async def echo(request: bytes, context: Any) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "review.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )

    async def test() -> None:
        async with OwnServer(tmp_path, ensure_dev_pki(tmp_path / "tls"), [handler]) as own:
            creds = grpc.ssl_channel_credentials(own.ca.read_bytes())
            async with grpc.aio.secure_channel(own.address, creds) as channel:
                call: Any = channel.unary_unary("/review.Echo/Echo")
                codes = []
                for token in ("", own.tokens["read"], own.tokens["trade"]):
                    meta = (("authorization", f"Bearer {token}"),) if token else ()
                    try:
                        assert await call(b"hi", metadata=meta, timeout=10) == b"hi"
                        codes.append("OK")
                    except grpc.aio.AioRpcError as err:
                        codes.append(err.code().name)
            assert codes == ["UNAUTHENTICATED", "PERMISSION_DENIED", "OK"]
            async with own.client() as client:  # health still needs no token
                assert await client.health() == "SERVING"

    run(test)


def test_a_stopping_server_ends_event_streams_as_unavailable(tmp_path: Path) -> None:
    """Not as a slow consumer (RESOURCE_EXHAUSTED), which tells a client to read faster."""

    async def test() -> None:
        own = OwnServer(tmp_path, ensure_dev_pki(tmp_path / "tls"))
        async with own, own.client() as client:

            async def follow() -> str:
                return await outcome(_drain(client.events(follow=True)))

            following = asyncio.ensure_future(follow())
            await until(lambda: bool(own.server.events._live))  # the stream is open
            await own.server.stop(0.5)
            assert await following == "SERVER_STOPPING"

    run(test)


async def _drain(events: Any) -> None:
    async for _ in events:
        pass


def test_the_async_client_has_every_call_of_the_sync_one() -> None:
    calls = {name for name in vars(Client) if not name.startswith("_")} - {"close"}
    assert calls - set(vars(AsyncClient)) == set()
