"""The API's defences, each from the outside: a TLS 1.2 connection gets no RPC
through, tokens are checked (missing, wrong, lacking the scope), a client over its rate
is told to wait, and bad input (oversized, malformed, NaN or negative quantities, a
37-character client id, an unknown symbol) is INVALID_ARGUMENT with no venue call."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from oms.api.stubs import ServiceStub
from oms.api.tokens import TokenStore
from oms.client import Client, order_request
from oms.errors import OmsError
from oms.v1 import common_pb2 as pb
from oms.v1 import orders_pb2

from .api_system import SystemThread
from .waiting import until_sync

DETAILS = "grpc-status-details-bin"
TLS13_ONLY_SUITES = "PSK-AES128-CBC-SHA"  # PSK: never offered by a certificate-based client


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SystemThread]:
    running = SystemThread(tmp_path_factory.mktemp("oms"))
    yield running
    running.close()


def token(system: SystemThread, name: str, *scopes: str, rate: float | None = None) -> str:
    return TokenStore(system.data / "tokens.json").create(name, list(scopes), rate_per_s=rate, burst=rate)


def stub(channel: grpc.Channel) -> ServiceStub:
    return ServiceStub(channel, "OrderService")


def secure(system: SystemThread) -> grpc.Channel:
    return grpc.secure_channel(system.address, grpc.ssl_channel_credentials(system.ca.read_bytes()))


def auth(value: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {value}"),)


def failure(call: object) -> tuple[grpc.StatusCode, str, status_pb2.Status]:
    """Run ``call``; return the status code, the oms code and the google.rpc.Status."""
    with pytest.raises(grpc.RpcError) as failed:
        call()  # type: ignore[operator]
    err = failed.value
    status = status_pb2.Status()
    for key, value in err.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == DETAILS:
            status = status_pb2.Status.FromString(value)
    info = error_details_pb2.ErrorInfo()
    reason = next((info.reason for d in status.details if d.Unpack(info)), "")
    return err.code(), reason, status  # type: ignore[attr-defined]


def orders_at_venues(system: SystemThread) -> int:
    """The paper account's orders at both simulators (the simulators' own background
    liquidity places orders all the time, under other accounts)."""

    async def count() -> int:
        paper = system.system.paper
        venues = (paper.spot.venue, paper.futures.venue)
        return sum(1 for venue in venues for o in venue.orders.values() if o.account.name == "paper")

    return system.call(count())


def spot_order(**changes: object) -> pb.OrderRequest:
    wire = order_request(venue="binance:spot", symbol="BTC/USDT", side="BUY", type="MARKET", qty="0.001")
    for name, value in changes.items():
        setattr(wire, name, value)
    return wire


# ---- TLS 1.3 only ----


class TlsTunnel:
    """Plaintext on a local port -> TLS (at most ``version``) to the API: lets a stock
    grpcio client reach the server over a TLS 1.2 connection, which grpcio itself
    would never negotiate."""

    def __init__(self, system: SystemThread, version: ssl.TLSVersion) -> None:
        self.context = ssl.create_default_context(cafile=str(system.ca))
        self.context.maximum_version = version
        self.context.set_alpn_protocols(["h2"])
        self.target = system.address.rsplit(":", 1)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.versions: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                plain, _ = self.listener.accept()
                upstream = socket.create_connection((self.target[0], int(self.target[1])))
                tls = self.context.wrap_socket(upstream, server_hostname="localhost")
                self.versions.append(str(tls.version()))
                threading.Thread(target=self._relay, args=(plain, tls), daemon=True).start()

    @staticmethod
    def _relay(plain: socket.socket, tls: ssl.SSLSocket) -> None:
        """Both directions in one thread: an SSL socket read and written from two
        threads at once corrupts its records (OpenSSL: "Corruption detected")."""
        with contextlib.suppress(OSError), plain, tls:
            while True:
                ready = [tls] if tls.pending() else select.select([plain, tls], [], [])[0]
                for source, sink in ((plain, tls), (tls, plain)):
                    if source in ready:
                        data = source.recv(65536)
                        if not data:
                            return
                        sink.sendall(data)

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize(
    ("version", "refused"), [(ssl.TLSVersion.TLSv1_2, True), (ssl.TLSVersion.TLSv1_3, False)]
)
def test_a_connection_below_tls_1_3_gets_no_rpc_through(
    system: SystemThread, version: ssl.TLSVersion, refused: bool
) -> None:
    tunnel = TlsTunnel(system, version)
    channel = grpc.insecure_channel(tunnel.address)
    try:
        request = orders_pb2.ListOrdersRequest()
        call = lambda: stub(channel).ListOrders(request, metadata=auth(system.token), timeout=10)  # noqa: E731
        if refused:
            code, reason, _ = failure(call)
            assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "TLS_VERSION")
            assert tunnel.versions == ["TLSv1.2"]
        else:  # the same tunnel at TLS 1.3 works: the refusal is the version's doing
            assert call().orders is not None
            assert tunnel.versions == ["TLSv1.3"]
    finally:
        channel.close()
        tunnel.close()


def test_plaintext_gets_no_tls_handshake_at_all(system: SystemThread) -> None:
    channel = grpc.insecure_channel(system.address)
    code, _, _ = failure(lambda: stub(channel).ListOrders(orders_pb2.ListOrdersRequest(), timeout=5))
    channel.close()
    assert code == grpc.StatusCode.UNAVAILABLE


# ---- tokens and scopes ----


def test_a_missing_or_wrong_token_is_unauthenticated(system: SystemThread) -> None:
    with secure(system) as channel:
        request = orders_pb2.ListOrdersRequest()
        code, reason, _ = failure(lambda: stub(channel).ListOrders(request, timeout=10))
        assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
        forged = "oms_" + "A" * 43
        code, reason, _ = failure(
            lambda: stub(channel).ListOrders(request, metadata=auth(forged), timeout=10)
        )
        assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")


def test_a_read_token_reads_but_cannot_trade(system: SystemThread) -> None:
    reader = auth(token(system, "reader", "read"))
    before = orders_at_venues(system)
    with secure(system) as channel:
        assert stub(channel).ListOrders(orders_pb2.ListOrdersRequest(), metadata=reader, timeout=10)
        submit = orders_pb2.SubmitOrderRequest(order=spot_order())
        code, reason, _ = failure(lambda: stub(channel).SubmitOrder(submit, metadata=reader, timeout=10))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "SCOPE")
    assert orders_at_venues(system) == before


def test_a_client_over_its_rate_is_told_when_to_retry(system: SystemThread) -> None:
    burst = auth(token(system, "bursty", "read", rate=5))
    with secure(system) as channel:
        request = orders_pb2.ListOrdersRequest()
        outcomes = []
        for _ in range(20):
            try:
                stub(channel).ListOrders(request, metadata=burst, timeout=10)
                outcomes.append("ok")
            except grpc.RpcError as err:
                outcomes.append(err.code().name)  # type: ignore[attr-defined]
        code, reason, status = failure(lambda: stub(channel).ListOrders(request, metadata=burst, timeout=10))
        # Another client is not affected by this one's bucket.
        assert stub(channel).ListOrders(request, metadata=auth(system.token), timeout=10)
    assert outcomes[:5] == ["ok"] * 5 and "RESOURCE_EXHAUSTED" in outcomes
    assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "CLIENT_RATE_LIMITED")
    retry = error_details_pb2.RetryInfo()
    assert any(d.Unpack(retry) for d in status.details) and retry.retry_delay.ToNanoseconds() > 0


# ---- bad input: INVALID_ARGUMENT, nothing sent ----

BAD_ORDERS = {
    "nan quantity": ({"qty": "NaN"}, "qty"),
    "negative quantity": ({"qty": "-0.001"}, "qty"),
    "infinite price": ({"type": pb.ORDER_TYPE_LIMIT, "price": "Infinity"}, "price"),
    "37-character client id": ({"client_order_id": "x" * 37}, "client_order_id"),
    "unknown symbol": ({"symbol": "BTC/USDX"}, "BTC/USDX"),
    "unknown venue": ({"venue": "nowhere:spot"}, "nowhere"),
    "no side": ({"side": pb.SIDE_UNSPECIFIED}, "side"),
}


@pytest.mark.parametrize("case", sorted(BAD_ORDERS))
def test_bad_orders_are_invalid_argument_and_nothing_is_sent(system: SystemThread, case: str) -> None:
    changes, named = BAD_ORDERS[case]
    before = orders_at_venues(system)
    submit = orders_pb2.SubmitOrderRequest(order=spot_order(**changes))
    with secure(system) as channel:
        code, reason, status = failure(
            lambda: stub(channel).SubmitOrder(submit, metadata=auth(system.token), timeout=10)
        )
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (reason, status.message)
    assert named in status.message
    assert orders_at_venues(system) == before


def test_malformed_and_oversized_messages_are_invalid_argument(system: SystemThread) -> None:
    dev = auth(system.token)
    with secure(system) as channel:
        raw = channel.unary_unary("/oms.v1.OrderService/SubmitOrder")
        code, reason, _ = failure(lambda: raw(b"\x0a\xff\xff\xff\x0f", metadata=dev, timeout=10))
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED")
        huge = orders_pb2.SubmitOrdersRequest(orders=[spot_order(tag="t" * 60)] * 20_000)
        code, reason, _ = failure(lambda: stub(channel).SubmitOrders(huge, metadata=dev, timeout=20))
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MESSAGE_TOO_LARGE")
        many = orders_pb2.SubmitOrdersRequest(orders=[spot_order()] * 1_001)
        code, reason, _ = failure(lambda: stub(channel).SubmitOrders(many, metadata=dev, timeout=20))
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "BATCH_TOO_LARGE")


def test_health_needs_no_token_but_does_need_tls(system: SystemThread) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    check = health_pb2.HealthCheckRequest()
    with secure(system) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(check, timeout=10)  # type: ignore[attr-defined]
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    tunnel = TlsTunnel(system, ssl.TLSVersion.TLSv1_2)
    with grpc.insecure_channel(tunnel.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        code, reason, _ = failure(lambda: health.Check(check, timeout=10))  # type: ignore[attr-defined]
    tunnel.close()
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "TLS_VERSION")


def test_the_handshake_level_option_refuses_tls_1_2_before_any_rpc(tmp_path: Path) -> None:
    """docs/api.md: started with GRPC_SSL_CIPHER_SUITES set to a TLS 1.2 suite no
    certificate-authenticated client offers, the server fails every TLS 1.2 handshake
    (TLS 1.3 suites are not governed by that list)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {"GRPC_SSL_CIPHER_SUITES": TLS13_ONLY_SUITES}
    command = [sys.executable, "-m", "oms", "run", "--data", str(tmp_path), "--grpc-port", str(port)]
    server = subprocess.Popen(
        [*command, "--http-port", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        until_sync(lambda: _serving(tmp_path, port), timeout=60, every=0.3)

        def handshake(version: ssl.TLSVersion) -> str:
            context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "ca.pem"))
            context.maximum_version = version
            with (
                socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                context.wrap_socket(raw, server_hostname="localhost") as tls,
            ):
                return str(tls.version())

        assert handshake(ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
        with pytest.raises(ssl.SSLError):
            handshake(ssl.TLSVersion.TLSv1_2)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def _serving(data: Path, port: int) -> bool:
    token, ca = data / "dev-token", data / "tls" / "ca.pem"
    if not (token.exists() and ca.exists()):
        return False
    with Client(f"127.0.0.1:{port}", token=token.read_text().strip(), ca=ca, timeout=5) as client:
        try:
            return client.health() == "SERVING"
        except OmsError:
            return False
