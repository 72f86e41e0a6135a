"""An engine process for the crash tests: strict durability, files, one order, and a
SIGKILL at the point named on the command line (``after_intent``: the intent is
acknowledged, nothing sent; ``after_ack``: the venue answered, nothing recorded of it;
``after_event``: everything recorded). Run by ``test_engine_crash.py``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal
from typing import Any

from oms.bus.publisher import JetStreamPublisher
from oms.engine import Engine
from oms.exchanges import ExchangeConfig, create_exchange
from oms.model import Order, OrderEvent, OrderRequest, OrderType, Side
from oms.storage.engine_files import EngineFiles


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def main(args: dict[str, Any]) -> None:
    exchange = create_exchange("binance:spot", ExchangeConfig(**args["config"]))
    publisher = JetStreamPublisher(args["nats"], lambda v, s: exchange.symbols.to_native(s))
    await publisher.start()
    engine = Engine([exchange], intents=publisher)
    engine.on_events(publisher.on_events, records=True)
    await engine.start()
    EngineFiles(engine, args["data"]).start()
    point = args["point"]
    send = exchange.create_order

    async def create_order(order: Order) -> OrderEvent:
        if point == "after_intent":
            die()
        event = await send(order)
        if point == "after_ack":
            die()
        return event

    exchange.create_order = create_order  # type: ignore[method-assign]
    request = OrderRequest(
        venue="binance:spot",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.1"),
        price=Decimal("49000"),
    )
    order = await engine.submit(request)
    print(order.client_order_id, flush=True)
    await asyncio.sleep(0.5)  # recorded everywhere
    die()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
