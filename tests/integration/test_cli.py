"""The ``oms`` command line as a user runs it: ``python -m oms run`` as a subprocess on a
free port with its own data directory, then each command as its own process (the
address and data directory from ``OMS_ADDRESS`` / ``OMS_DATA``, the dev token and CA
found under it). What is asserted is what the user sees: the printed lines, the JSON,
the one ``error:`` line and the exit status."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from .waiting import until

VENUES = {"binance:spot", "binance:usdm"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Oms:
    env: dict[str, str]

    def __call__(
        self, *args: str, token: str | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        env = self.env if token is None else self.env | {"OMS_TOKEN": token}
        command = [sys.executable, "-m", "oms", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)

    def ok(self, *args: str, token: str | None = None) -> str:
        done = self(*args, token=token)
        assert done.returncode == 0, f"oms {' '.join(args)}: exit {done.returncode}\n{done.stderr}"
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


def refused(done: subprocess.CompletedProcess[str], code: str, status: int = 1) -> None:
    """One ``error: ... [CODE]`` line on stderr, nothing on stdout, the exit status."""
    assert done.returncode == status, (done.returncode, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith(f"[{code}]"), lines


@pytest.fixture(scope="module")
def oms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oms]:
    root = tmp_path_factory.mktemp("oms-cli")
    (root / "shm").mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("OMS_TOKEN", "OMS_CA")}
    env |= {
        "OMS_ADDRESS": f"127.0.0.1:{port}",
        "OMS_DATA": str(root / "data"),
        "OMS_SHM_DIR": str(root / "shm"),
    }
    command = [sys.executable, "-m", "oms", "run", "--data", str(root / "data"), "--grpc-port", str(port)]
    command += ["--http-port", "0"]
    with (root / "run.log").open("w") as log:
        server = subprocess.Popen(command, env=env | {"PYTHONUNBUFFERED": "1"}, stdout=log, stderr=log)
    cli = Oms(env)
    try:

        def ready() -> bool:
            assert server.poll() is None, (root / "run.log").read_text()
            return cli("health", timeout=10).returncode == 0

        asyncio.run(until(ready, timeout=60, every=0.2))
        yield cli
    finally:
        server.send_signal(signal.SIGINT)
        try:
            status = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            status = server.wait(timeout=10)
    assert status == 0, f"oms run did not stop cleanly on Ctrl-C:\n{(root / 'run.log').read_text()}"


def filled(oms: Oms, order_id: str) -> dict[str, Any]:
    """The order once FILLED (a futures market order is acknowledged NEW, filled just after)."""
    found: dict[str, Any] = {}

    def done() -> bool:
        found.update(oms.json("order", "get", order_id))
        return bool(found["status"] == "ORDER_STATUS_FILLED")

    asyncio.run(until(done, timeout=15, every=0.1))
    return found


def test_market_orders_fill_on_spot_and_futures_and_show_as_positions(oms: Oms) -> None:
    spot_line = oms.ok("order", "submit", "binance:spot", "BTC/USDT", "buy", "0.001")
    order_id, venue, symbol, side, kind, qty = spot_line.split()[:6]
    assert (venue, symbol, side, kind, qty) == ("binance:spot", "BTC/USDT", "BUY", "MARKET", "0.001")
    assert " FILLED " in spot_line and " avg " in spot_line
    assert order_id in oms.ok("orders", "--venue", "binance:spot")
    futures = oms.json("order", "submit", "binance:usdm", "BTC/USDT:USDT", "BUY", "0.003")
    assert futures["request"]["type"] == "ORDER_TYPE_MARKET"
    order = filled(oms, futures["order_id"])
    assert order["filled_qty"] == "0.003" and Decimal(order["avg_price"]) > 0

    positions = oms.json("positions")
    held = {(p["venue"], p["symbol"]): Decimal(p["qty"]) for p in positions["positions"]}
    assert held[("binance:spot", "BTC/USDT")] >= Decimal("0.001")
    assert held[("binance:usdm", "BTC/USDT:USDT")] >= Decimal("0.003")
    [btc] = [a for a in positions["aggregated"] if a["base"] == "BTC"]
    assert Decimal(btc["net_qty"]) >= Decimal("0.004") and btc["positions"] == 2
    table = oms.ok("positions")
    assert "Positions by venue" in table and "Net by asset" in table and "BTC/USDT:USDT" in table


def far_below(oms: Oms, venue: str, symbol: str) -> str:
    """A buy price 3% under the best bid, on a 0.1 grid: it rests."""
    bid = Decimal(oms.json("book", venue, symbol, "--depth", "1")["bids"][0]["price"])
    return str((bid * Decimal("0.97")).quantize(Decimal("0.1")))


def test_a_resting_limit_order_is_listed_amended_and_canceled(oms: Oms) -> None:
    venue, symbol = "binance:usdm", "BTC/USDT:USDT"
    price = far_below(oms, venue, symbol)
    order = oms.json("order", "submit", venue, symbol, "buy", "0.003", "--price", price)
    order_id = order["order_id"]
    assert order["status"] == "ORDER_STATUS_NEW" and order["request"]["type"] == "ORDER_TYPE_LIMIT"
    assert order_id in {o["order_id"] for o in oms.json("orders", "--open")}
    assert order_id in oms.ok("orders", "--open", "--venue", venue)

    lower = str(Decimal(price) - 10)
    assert f"@ {lower}  NEW" in oms.ok("order", "amend", order_id, "--price", lower)
    assert Decimal(oms.json("order", "get", order_id)["request"]["price"]) == Decimal(lower)
    assert " CANCELED " in oms.ok("order", "cancel", order_id)
    assert order_id not in {o["order_id"] for o in oms.json("orders", "--open")}

    statuses = [
        e["order"]["order"]["status"]
        for e in map(json.loads, oms.ok("events", "--last", "50", "--json").splitlines())
        if "order" in e and e["order"]["order"]["order_id"] == order_id
    ]
    assert statuses[0] == "ORDER_STATUS_PENDING_NEW" and statuses[-1] == "ORDER_STATUS_CANCELED"


def test_events_show_an_order_and_its_fill(oms: Oms) -> None:
    order_id = oms.json("order", "submit", "binance:spot", "BTC/USDT", "sell", "0.001")["order_id"]
    filled(oms, order_id)
    events = [json.loads(line) for line in oms.ok("events", "--last", "50", "--json").splitlines()]
    mine = [e for e in events if order_id in json.dumps(e)]
    kinds = {(e["subject"], next(k for k in ("order", "fill", "position", "risk") if k in e)) for e in mine}
    assert ("orders.binance.spot.BTCUSDT", "order") in kinds
    assert ("trades.binance.spot.BTCUSDT", "fill") in kinds
    seqs = [int(e["seq"]) for e in events]
    assert seqs == sorted(seqs)

    lines = oms.ok(
        "events", "--subject", "trades.binance.spot.>", "--after-seq", str(seqs[0] - 1)
    ).splitlines()
    [fill] = [line for line in lines if order_id in line]
    seq, subject, fill_id, side, qty, at = fill.split()[:6]
    assert int(seq) >= seqs[0] and subject == "trades.binance.spot.BTCUSDT"
    assert (fill_id, side, qty, at) == (order_id, "SELL", "0.001", "@")


def test_events_follow_streams_until_ctrl_c(oms: Oms) -> None:
    """From the last event on (replayed if the follower subscribes late), then live."""
    last = [json.loads(line)["seq"] for line in oms.ok("events", "--last", "1", "--json").splitlines()]
    command = [sys.executable, "-m", "oms", "events", "--follow", "--subject", "orders.binance.spot.*"]
    command += ["--after-seq", last[0] if last else "0"]
    follower = subprocess.Popen(
        command, env=oms.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        order_id = oms.json("order", "submit", "binance:spot", "BTC/USDT", "buy", "0.001")["order_id"]
        assert follower.stdout is not None
        lines = [follower.stdout.readline().split()]
        while lines[-1][3] != "FILLED" and len(lines) < 5:  # seq subject id STATUS ...
            lines.append(follower.stdout.readline().split())
        assert all(s[1] == "orders.binance.spot.BTCUSDT" and s[2] == order_id for s in lines)
        assert lines[0][3] == "PENDING_NEW" and lines[-1][3] == "FILLED"
        assert follower.poll() is None  # still following
    finally:
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=15)
    assert follower.returncode == 0 and err == ""


def test_book_balances_pnl_and_health_read_as_tables_and_json(oms: Oms) -> None:
    book = oms.ok("book", "binance:spot", "BTC/USDT", "--depth", "3").splitlines()
    assert book[0].strip() == "binance:spot BTC/USDT"
    assert book[1].split() == ["BID", "QTY", "BID", "ASK", "ASK", "QTY"]
    bid_qty, bid, ask, ask_qty = book[2].split()
    assert len(book) == 5 and Decimal(bid) < Decimal(ask) and Decimal(bid_qty) > 0 < Decimal(ask_qty)
    balances = oms.json("balances", "--venue", "binance:spot")
    assert {b["asset"] for b in balances} >= {"BTC", "USDT"}
    assert all(b["venue"] == "binance:spot" for b in balances)
    assert "USDT" in oms.ok("balances")
    pnl = oms.json("pnl")
    assert Decimal(pnl["fees"]) > 0 and "net" in oms.ok("pnl")
    health = oms.ok("health")
    assert health.startswith("server SERVING") and "binance:spot" in health and "binance:usdm" in health
    assert {v["venue"] for v in oms.json("health")["venues"]} == VENUES


def test_refusals_usage_errors_and_an_unreachable_server_are_one_line(oms: Oms) -> None:
    refused(oms("order", "submit", "binance:spot", "BTC/USDX", "buy", "0.001"), "UNKNOWN_SYMBOL")
    refused(oms("order", "get", "no-such-order"), "UNKNOWN_ORDER")
    usage = oms("order", "submit", "binance:spot", "BTC/USDT", "hold", "0.001")
    assert usage.returncode == 2 and "buy|sell" in usage.stderr and "Traceback" not in usage.stderr
    nobody = oms("--address", f"127.0.0.1:{free_port()}", "orders")
    refused(nobody, "GRPC_UNAVAILABLE", status=3)
    assert "cannot reach the oms server" in nobody.stderr


def test_a_read_only_token_reads_but_cannot_trade(oms: Oms) -> None:
    created = oms("token", "create", "reader", "--scope", "read")
    token = created.stdout.strip()
    assert created.returncode == 0 and token.startswith("oms_") and "shown once" in created.stderr
    assert {"name": "reader", "scopes": ["read"]}.items() <= next(
        t for t in oms.json("token", "list") if t["name"] == "reader"
    ).items()
    refused(oms("order", "submit", "binance:spot", "BTC/USDT", "buy", "0.001", token=token), "SCOPE")
    assert isinstance(json.loads(oms.ok("orders", "--json", token=token)), list)
    refused(oms("orders", token="oms_not-a-token"), "UNAUTHENTICATED")


def test_halt_refuses_orders_until_resume(oms: Oms) -> None:
    try:
        assert oms.ok("halt").startswith("trading HALTED")
        refused(oms("order", "submit", "binance:spot", "BTC/USDT", "buy", "0.001"), "TRADING_HALTED")
    finally:
        assert oms.ok("resume").strip() == "trading ACTIVE"
    assert oms.json("order", "submit", "binance:spot", "BTC/USDT", "buy", "0.001")["order_id"]


def test_risk_limits_set_from_the_command_line_refuse_a_large_order(oms: Oms) -> None:
    scope = ("--venue", "binance:spot", "--symbol", "BTC/USDT")
    try:
        limits = oms.json("limits", "set", *scope, "--max-order-qty", "0.5", "--price-band-bps", "500")
        assert (limits["max_order_qty"], limits["price_band_bps"]) == ("0.5", 500)
        refused(oms("order", "submit", "binance:spot", "BTC/USDT", "buy", "0.6"), "MAX_ORDER_QTY")
        kept = oms.json("limits", "set", *scope, "--max-order-qty", "none")
        assert "max_order_qty" not in kept and kept["price_band_bps"] == 500
    finally:
        oms.ok("limits", "set", *scope, "--clear")
    assert oms.json("limits", "get", *scope) == {"scope": {"venue": "binance:spot", "symbol": "BTC/USDT"}}


def test_sigterm_stops_oms_run_cleanly_with_its_nats_server(tmp_path: Path) -> None:
    """systemd and `kill` send SIGTERM: everything stops as on Ctrl-C, nats-server too."""
    port = free_port()
    command = [sys.executable, "-m", "oms", "run", "--data", str(tmp_path), "--grpc-port", str(port)]
    server = subprocess.Popen(
        [*command, "--http-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if b"gRPC API" in line:
                break
        nats_pids = [int(p) for p in _pids_of(tmp_path)]
        assert nats_pids, "the embedded nats-server runs"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, "a clean stop, as on Ctrl-C"
        asyncio.run(until(lambda: not any(_alive(p) for p in nats_pids), timeout=10))
    finally:
        if server.poll() is None:
            server.kill()


def _pids_of(data: Path) -> list[str]:
    """nats-server processes whose config lives under ``data``."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "nats-server" in cmdline and str(data) in cmdline:
                found.append(proc.name)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
