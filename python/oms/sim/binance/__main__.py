"""``python -m oms.sim.binance``: a paper-trading Binance Spot on 127.0.0.1.

Starts the REST API, the WebSocket API and market-data streams over a simulated venue
with BTCUSDT and ETHUSDT, seeded background liquidity, and a ``paper`` account funded
with 100,000 USDT and 2 BTC. Prints the URLs and a fresh Ed25519 key (and an HMAC key)
to configure an SDK or connector with. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from decimal import Decimal

from oms.sim.binance import auth
from oms.sim.binance.market_model import MarketModel, SymbolModel
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol

SYMBOLS = [
    SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT"),
    SpotSymbol(
        symbol="ETHUSDT", base="ETH", quote="USDT", step_size=Decimal("0.0001"), min_qty=Decimal("0.0001")
    ),
]


def build(seed: int) -> tuple[SpotRestServer, MarketModel, list[tuple[auth.ApiKey, str]]]:
    venue = SpotExchange(SYMBOLS)
    model = MarketModel(
        venue, [SymbolModel("BTCUSDT", 50_000.0), SymbolModel("ETHUSDT", 3_000.0, size=Decimal("0.5"))], seed
    )
    venue.add_account("paper", {"USDT": "100000", "BTC": "2"})
    keys = [auth.generate_key(kind, "paper", ["SPOT"]) for kind in (auth.KeyType.ED25519, auth.KeyType.HMAC)]
    return SpotRestServer(venue, auth.KeyStore(k for k, _ in keys)), model, keys


async def main(port: int, seed: int) -> None:
    server, model, keys = build(seed)
    model.step()
    url = await server.start(port=port)
    ws = url.replace("http", "ws")
    print(f"Binance Spot simulator (paper) on {url}")
    print(f"  REST        {url}/api/v3/...\n  WS API      {ws}/ws-api/v3\n  streams     {ws}/stream")
    (ed_key, ed_private), (hmac_key, hmac_secret) = keys
    print(f"\nEd25519 API key: {ed_key.api_key}\nprivate key (PKCS#8):\n{ed_private}")
    print(f"HMAC API key: {hmac_key.api_key}\nHMAC secret:  {hmac_secret}\n")
    print("Account 'paper': 100000 USDT, 2 BTC. Ctrl-C to stop.", flush=True)
    try:
        await model.run()
    finally:
        await server.stop()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the market model")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.port, args.seed))


if __name__ == "__main__":
    cli()
