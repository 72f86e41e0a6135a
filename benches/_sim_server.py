"""A Binance Spot simulator in its own process for ``bench_binance.py`` (client and
server in one interpreter would share the GIL and distort the round trip).

Prints one JSON line (``url``, ``api_key``, ``secret``) once it listens on loopback,
then serves until its stdin closes. Its limits are raised so that a benchmark's
hundreds of orders a second meet no -1015 (the client reads them from exchangeInfo).
"""

from __future__ import annotations

import asyncio
import json
import sys

from oms.sim.binance import auth
from oms.sim.binance.limits import Limits
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol

UNLIMITED = Limits(weight_per_minute=10**9, orders_per_10s=10**9, orders_per_day=10**12)


async def serve() -> None:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
    venue.add_account("bench", {"BTC": "1000", "USDT": "100000000"})
    key, secret = auth.generate_key(auth.KeyType.ED25519, "bench", ["SPOT"])
    server = SpotRestServer(venue, auth.KeyStore([key]))
    server.limits.limits = UNLIMITED  # before any request: the limiters are made on first use
    url = await server.start()
    print(json.dumps({"url": url, "api_key": key.api_key, "secret": secret}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes
    await server.stop()


if __name__ == "__main__":
    asyncio.run(serve())
