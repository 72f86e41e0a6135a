"""Paper-trading Binance on 127.0.0.1: Spot and USD-M Futures simulators side by side.

Spot serves REST, the WebSocket API and market-data streams; futures serves REST, its
user-data stream and market-data streams. Both have BTCUSDT and ETHUSDT with seeded
background liquidity around one shared fair price, futures at a small premium (or, per
venue, one symbol replayed from a recording of Binance's own streams), and a ``paper``
account (100,000 USDT and 2 BTC on spot, 100,000 USDT of margin on futures). One fresh
Ed25519 key and one HMAC key work on both. What ``oms sim binance`` and ``make run``
start.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from oms.sim.binance import auth
from oms.sim.binance.market_model import FairPrice, MarketModel, SymbolModel
from oms.sim.binance.market_replay import MarketReplay, read_recording
from oms.sim.binance.rest_base import RestServer
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol

SPOT_SYMBOLS = [
    SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT"),
    SpotSymbol(
        symbol="ETHUSDT", base="ETH", quote="USDT", step_size=Decimal("0.0001"), min_qty=Decimal("0.0001")
    ),
]
FUTURES_SYMBOLS = [
    FuturesSymbol(symbol="BTCUSDT", base="BTC"),
    FuturesSymbol(symbol="ETHUSDT", base="ETH", tick_size=Decimal("0.01"), min_price=Decimal("39.86")),
]
SPOT_FUNDS = {"USDT": "100000", "BTC": "2"}
FUTURES_MARGIN = "100000"


def _models(skip: str | None = None, basis: float = 0.0) -> list[SymbolModel]:
    models = [
        SymbolModel("BTCUSDT", 50_000.0, basis=basis),
        SymbolModel("ETHUSDT", 3_000.0, size=Decimal("0.5"), basis=basis),
    ]
    return [m for m in models if m.symbol != skip]


@dataclass(frozen=True)
class Replays:
    """Recordings to replay instead of the seeded model (one symbol per venue)."""

    spot: Path | None = None
    futures: Path | None = None
    speed: float = 1.0


def recorded_symbol(path: Path) -> str:
    """The symbol a recording is of, from its first stream message."""
    first = next(m for m in read_recording(path) if m["stream"] != "snapshot")
    return str(first["stream"].split("@")[0]).upper()


@dataclass
class PaperBinance:
    """Both simulators, their market models or replays, and the paper account's keys."""

    spot: SpotRestServer
    futures: FuturesRestServer
    models: list[MarketModel]
    keys: list[tuple[auth.ApiKey, str]]
    replays: list[tuple[MarketReplay, Path]] = field(default_factory=list)


def build(seed: int, replays: Replays = Replays()) -> PaperBinance:
    keys = [auth.generate_key(kind, "paper") for kind in (auth.KeyType.ED25519, auth.KeyType.HMAC)]
    spot_venue = SpotExchange(SPOT_SYMBOLS)
    futures_venue = FuturesExchange(FUTURES_SYMBOLS)
    players: list[tuple[MarketReplay, Path]] = []
    models = []
    # Related markets: one fair price path; futures trade at a small premium over spot,
    # and each venue's deviation from the path is its own (different seeds).
    fair = FairPrice(seed)
    venues = ((spot_venue, replays.spot, seed + 1, 0.0), (futures_venue, replays.futures, seed + 2, 0.0003))
    for venue, path, venue_seed, basis in venues:
        symbol = recorded_symbol(path) if path else None
        if path and symbol:
            players.append((MarketReplay(venue, symbol), path))
        models.append(MarketModel(venue, _models(skip=symbol, basis=basis), venue_seed, fair))
    spot_venue.add_account("paper", SPOT_FUNDS)
    futures_venue.add_account("paper", FUTURES_MARGIN)
    spot = SpotRestServer(spot_venue, auth.KeyStore(k for k, _ in keys))
    futures = FuturesRestServer(futures_venue, auth.KeyStore(k for k, _ in keys))
    return PaperBinance(spot, futures, models, keys, players)


def banner(spot_url: str, futures_url: str, keys: list[tuple[auth.ApiKey, str]]) -> str:
    """What to point an SDK or connector at (URLs first, one per line, easy to grep)."""
    spot_ws, futures_ws = spot_url.replace("http", "ws"), futures_url.replace("http", "ws")
    (ed_key, ed_private), (hmac_key, hmac_secret) = keys
    return "\n".join(
        [
            "Binance simulators (paper mode)",
            f"  spot REST          {spot_url}",
            f"  spot WS API        {spot_ws}/ws-api/v3",
            f"  spot streams       {spot_ws}",
            f"  futures REST       {futures_url}",
            f"  futures streams    {futures_ws}",
            "",
            f"Ed25519 API key: {ed_key.api_key}",
            f"private key (PKCS#8):\n{ed_private}",
            f"HMAC API key: {hmac_key.api_key}",
            f"HMAC secret:  {hmac_secret}",
            "",
            f"Account 'paper': spot {SPOT_FUNDS['USDT']} USDT + {SPOT_FUNDS['BTC']} BTC; "
            f"futures {FUTURES_MARGIN} USDT margin. Ctrl-C to stop.",
        ]
    )


async def _replay(player: MarketReplay, path: Path, speed: float) -> None:
    """Play a recording at its pace; its book stays as the record left it afterwards."""
    await player.run(read_recording(path), speed)
    print(f"replay of {path.name} finished: {player.applied}", flush=True)


async def serve(
    spot_port: int = 0,
    futures_port: int = 0,
    seed: int = 20240601,
    interval: float = 0.5,
    replays: Replays = Replays(),
) -> None:
    """Start both simulators, print the banner, and run the market until cancelled."""
    paper = build(seed, replays)
    for model in paper.models:
        model.step()
    servers: list[RestServer] = []
    try:
        spot_url = await paper.spot.start(port=spot_port)
        servers.append(paper.spot)
        futures_url = await paper.futures.start(port=futures_port)
        servers.append(paper.futures)
        print(banner(spot_url, futures_url, paper.keys), flush=True)
        await asyncio.gather(
            *(model.run(interval) for model in paper.models),
            *(_replay(player, path, replays.speed) for player, path in paper.replays),
        )
    finally:
        for server in servers:
            await server.stop()
