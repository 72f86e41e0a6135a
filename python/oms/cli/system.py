"""``oms run`` (the whole system in paper mode) and ``oms sim binance`` (the simulators
alone). Both run until Ctrl-C, which stops them cleanly (exit status 0)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_SEED = 20240601


def run(
    data: Annotated[Path, typer.Option(envvar="OMS_DATA", help="Data directory.")] = Path("data"),
    demo: Annotated[
        bool, typer.Option("--demo", help="Place one small order on each market at start.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the simulated markets.")] = DEFAULT_SEED,
    nats: Annotated[
        list[str] | None,
        typer.Option(
            metavar="URL", help="Use this NATS server (repeat for a cluster) instead of the embedded one."
        ),
    ] = None,
    grpc_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port of the gRPC API (0: any free one).")
    ] = 50051,
    http_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port of /metrics, /healthz, /readyz (0: any free one).")
    ] = 9464,
    reflection: Annotated[bool, typer.Option(help="Serve gRPC server reflection.")] = True,
    log_level: Annotated[
        str, typer.Option(help="DEBUG, INFO, WARNING or ERROR (JSON lines on stderr).")
    ] = "INFO",
) -> None:
    """Simulators, embedded NATS, engine, files, the gRPC API and metrics, in paper mode."""
    from oms import paper_system

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            paper_system.run(
                data,
                demo=demo,
                seed=seed,
                nats_urls=nats or None,
                grpc_port=grpc_port,
                http_port=http_port,
                reflection=reflection,
                log_level=log_level.upper(),
            )
        )


def sim_binance(
    spot_port: Annotated[int, typer.Option(help="Spot port (0: any free one).")] = 0,
    futures_port: Annotated[int, typer.Option(help="Futures port (0: any free one).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the market model.")] = DEFAULT_SEED,
    interval: Annotated[float, typer.Option(help="Seconds between market-model steps.")] = 0.5,
    spot_replay: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Replay a recorded Binance spot stream file (hftbacktest .gz)."),
    ] = None,
    futures_replay: Annotated[
        Path | None, typer.Option(metavar="FILE", help="The same for USD-M futures.")
    ] = None,
    replay_speed: Annotated[float, typer.Option(help="Replay pace (2 = twice as fast).")] = 1.0,
) -> None:
    """Binance Spot and USD-M Futures simulators in paper mode on 127.0.0.1."""
    from oms.sim.binance import paper

    with contextlib.suppress(KeyboardInterrupt):
        replays = paper.Replays(spot_replay, futures_replay, replay_speed)
        asyncio.run(paper.serve(spot_port, futures_port, seed, interval, replays))
