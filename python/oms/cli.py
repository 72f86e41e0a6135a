"""The ``oms`` command: ``oms run`` (the whole system in paper mode), ``oms sim binance``
(the simulators alone), ``oms events`` (follow the engine's events on NATS). The gRPC
server, client commands and replay join it as they land.

argparse (standard library) is enough for a handful of subcommands and adds no
dependency."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from oms.sim.binance import paper


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="oms", description="Multi-exchange crypto order management system.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sim = commands.add_parser("sim", help="run exchange simulators").add_subparsers(
        dest="venue", required=True, metavar="VENUE"
    )
    binance = sim.add_parser("binance", help="Binance Spot and USD-M Futures in paper mode on 127.0.0.1")
    binance.add_argument("--spot-port", type=int, default=0, help="spot port (default: any free one)")
    binance.add_argument("--futures-port", type=int, default=0, help="futures port (default: any free one)")
    binance.add_argument("--seed", type=int, default=20240601, help="seed of the market model")
    binance.add_argument("--interval", type=float, default=0.5, help="seconds between market-model steps")
    binance.add_argument(
        "--spot-replay",
        type=Path,
        metavar="FILE",
        help="replay a recorded Binance spot stream file (hftbacktest .gz) as that symbol's market",
    )
    binance.add_argument("--futures-replay", type=Path, metavar="FILE", help="the same for USD-M futures")
    binance.add_argument("--replay-speed", type=float, default=1.0, help="replay pace (2 = twice as fast)")
    run = commands.add_parser("run", help="simulators, embedded NATS, engine and files, in paper mode")
    run.add_argument("--data", type=Path, default=Path("data"), help="data directory (default: ./data)")
    run.add_argument("--demo", action="store_true", help="place one small order on each market at start")
    run.add_argument("--seed", type=int, default=20240601, help="seed of the simulated markets")
    run.add_argument(
        "--nats",
        action="append",
        metavar="URL",
        help="use this NATS server (repeat for a cluster) instead of the embedded one",
    )
    events = commands.add_parser("events", help="print the engine's events as NATS delivers them")
    events.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS URL (oms run prints it)")
    events.add_argument(
        "--subject", action="append", help="subject pattern (default: orders, trades, positions, risk)"
    )
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "run":
        from oms import paper_system

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(paper_system.run(args.data, demo=args.demo, seed=args.seed, nats_urls=args.nats))
        return
    if args.command == "events":
        from oms.bus.follow import follow

        subjects = args.subject or ["orders.>", "trades.>", "positions.>", "risk.>"]
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(follow(args.nats, subjects))
        return
    if args.command == "sim" and args.venue == "binance":
        with contextlib.suppress(KeyboardInterrupt):
            replays = paper.Replays(args.spot_replay, args.futures_replay, args.replay_speed)
            asyncio.run(paper.serve(args.spot_port, args.futures_port, args.seed, args.interval, replays))


if __name__ == "__main__":
    main()
