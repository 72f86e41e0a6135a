"""``oms sim binance`` as a user runs it: a subprocess on chosen ports that prints its
endpoints and paper keys; the printed keys sign requests both venues accept."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_spot.spot import Spot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def banner() -> Iterator[dict[str, str]]:
    with running() as fields:
        yield fields


@contextlib.contextmanager
def running(*extra: str) -> Iterator[dict[str, str]]:
    """Start the command, read its banner up to the last line, stop it with Ctrl-C."""
    spot_port, futures_port = free_port(), free_port()
    command = [sys.executable, "-m", "oms", "sim", "binance", "--spot-port", str(spot_port)]
    command += ["--futures-port", str(futures_port), "--seed", "3", *extra]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while not lines or "Ctrl-C" not in lines[-1]:
            line = process.stdout.readline()
            assert line, f"the simulator exited early: {lines}"
            lines.append(line.rstrip("\n"))
        endpoints = (re.fullmatch(r"\s+(\S.*?)\s{2,}(\S+)", line) for line in lines)
        fields = {m[1]: m[2] for m in endpoints if m}
        keys = (re.fullmatch(r"(HMAC API key|HMAC secret):\s+(\S+)", line) for line in lines)
        fields |= {m[1]: m[2] for m in keys if m}
        fields["expected spot"] = f"http://127.0.0.1:{spot_port}"
        fields["expected futures"] = f"http://127.0.0.1:{futures_port}"
        yield fields
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def test_serves_spot_and_futures_on_the_chosen_ports_with_working_paper_keys(banner: dict[str, str]) -> None:
    assert banner["spot REST"] == banner["expected spot"]
    assert banner["futures REST"] == banner["expected futures"]
    key, secret = banner["HMAC API key"], banner["HMAC secret"]
    spot_config = ConfigurationRestAPI(api_key=key, api_secret=secret, base_path=banner["spot REST"])
    spot = Spot(config_rest_api=spot_config)
    balances = {b.asset: b.free for b in spot.rest_api.get_account().data().balances or []}
    assert balances["USDT"] == "100000.00000000" and balances["BTC"] == "2.00000000"
    futures_config = ConfigurationRestAPI(api_key=key, api_secret=secret, base_path=banner["futures REST"])
    futures = DerivativesTradingUsdsFutures(config_rest_api=futures_config).rest_api
    book = futures.order_book(symbol="BTCUSDT", limit=5).data()
    assert book.bids and book.asks and float(book.bids[0][0]) < float(book.asks[0][0])


def test_spot_replay_makes_the_recorded_market_the_venue_market(shared_dir: Path) -> None:
    """BTCUSDT replayed from Binance's August 2024 record (~61,800 USDT), ETHUSDT still
    from the seeded model (~3,000)."""
    record = shared_dir / "data/market/hftbacktest/spot/btcusdt_20240808.gz"
    with running("--spot-replay", str(record), "--replay-speed", "20") as fields:
        spot = Spot(
            config_rest_api=ConfigurationRestAPI(base_path=fields["spot REST"], timeout=5000, retries=0)
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            bids = spot.rest_api.depth(symbol="BTCUSDT", limit=5).data().bids
            if bids:
                break
            time.sleep(0.2)
        assert bids, "the replay showed no book within 30 s"
        assert Decimal("60000") < Decimal(bids[0][0]) < Decimal("64000")
        eth = spot.rest_api.depth(symbol="ETHUSDT", limit=5).data().bids
        assert eth and Decimal("2000") < Decimal(eth[0][0]) < Decimal("4000")
