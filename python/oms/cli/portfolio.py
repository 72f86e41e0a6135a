"""``oms positions``, ``oms balances``, ``oms pnl`` and ``oms book``."""

from __future__ import annotations

import itertools
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from oms.cli.connection import connect
from oms.cli.output import dicts, fields_table, print_json, show, table
from oms.cli.params import Account, Json, Venue
from oms.client import as_dict
from oms.v1 import common_pb2 as pb

POSITION_COLUMNS = (
    *("ACCOUNT", "VENUE", "SYMBOL", ">QTY", ">ENTRY", ">MARK"),
    *(">REALIZED", ">UNREALIZED", ">FEES", ">FUNDING", ">NET"),
)
AGGREGATE_COLUMNS = (
    *("BASE", "QUOTE", ">NET QTY", ">LONG", ">SHORT"),
    *(">REALIZED", ">UNREALIZED", ">FEES", ">FUNDING", ">POSITIONS"),
)


def _position_row(p: pb.Position) -> list[str]:
    return [
        *(p.account, p.venue, p.symbol, p.qty, p.avg_entry_price, p.mark_price),
        *(p.realized_pnl, p.unrealized_pnl, p.fees_paid, p.funding or "0", p.net_pnl),
    ]


def _aggregate_row(a: pb.AggregatePosition) -> list[str]:
    return [
        *(a.base, a.quote, a.net_qty, a.long_qty, a.short_qty),
        *(a.realized_pnl, a.unrealized_pnl, a.fees_paid, a.funding or "0", str(a.positions)),
    ]


def positions(ctx: typer.Context, account: Account = "", as_json: Json = False) -> None:
    """Positions per venue and symbol, then net per base asset across venues."""
    with connect(ctx) as oms:
        reply = oms.positions(account)
    if as_json:
        print_json(as_dict(reply))
        return
    if not reply.positions:
        show("no positions")
        return
    show(
        table("Positions by venue", POSITION_COLUMNS, map(_position_row, reply.positions)),
        "",
        table("Net by asset", AGGREGATE_COLUMNS, map(_aggregate_row, reply.aggregated)),
    )


def _is_zero(text: str) -> bool:
    try:
        return Decimal(text or "0") == 0
    except InvalidOperation:
        return False


def balances(
    ctx: typer.Context,
    venue: Venue = "",
    show_all: Annotated[bool, typer.Option("--all", help="Include zero balances.")] = False,
    as_json: Json = False,
) -> None:
    """Balances per venue and asset (zero ones hidden unless --all)."""
    with connect(ctx) as oms:
        found = oms.balances(venue)
    shown = [b for b in found if show_all or not (_is_zero(b.free) and _is_zero(b.locked))]
    if as_json:
        print_json(dicts(shown))
    elif shown:
        rows = ([b.venue, b.asset, b.free, b.locked] for b in shown)
        show(table(None, ("VENUE", "ASSET", ">FREE", ">LOCKED"), rows))
    else:
        show("no balances")


def pnl(ctx: typer.Context, account: Account = "", as_json: Json = False) -> None:
    """Realized, unrealized, fees, funding and net P&L (quote units)."""
    with connect(ctx) as oms:
        reply = oms.pnl(account)
    if as_json:
        print_json(as_dict(reply))
        return
    pairs = [("realized", reply.realized), ("unrealized", reply.unrealized)]
    pairs += [("fees", reply.fees), ("funding", reply.funding or "0"), ("net", reply.net)]
    show(fields_table(pairs))


def book(
    ctx: typer.Context,
    venue: Annotated[str, typer.Argument(help="exchange:market, e.g. binance:spot.")],
    symbol: Annotated[str, typer.Argument(help="Unified symbol, e.g. BTC/USDT.")],
    depth: Annotated[int, typer.Option(min=0, help="Levels a side (0: 10).")] = 10,
    as_json: Json = False,
) -> None:
    """The order book as the engine sees it: bids and asks side by side, best first."""
    with connect(ctx) as oms:
        reply = oms.book(venue, symbol, depth)
    if as_json:
        print_json(as_dict(reply))
        return
    empty = pb.BookLevel()
    levels = itertools.zip_longest(reply.bids, reply.asks, fillvalue=empty)
    rows = ([bid.qty, bid.price, ask.price, ask.qty] for bid, ask in levels)
    show(table(f"{reply.venue} {reply.symbol}", (">BID QTY", ">BID", ">ASK", ">ASK QTY"), rows))
