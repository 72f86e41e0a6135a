"""``oms events``: the engine's events from the gRPC API (retained, then live with
``--follow``), one line each; or, with ``--nats URL``, straight from NATS as before."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from oms.cli.connection import connect
from oms.cli.output import enum_name, print_json_line, show
from oms.client import as_dict
from oms.v1 import events_pb2

NATS_SUBJECTS = ["orders.>", "trades.>", "positions.>", "risk.>"]


def _order(event: events_pb2.Event) -> str:
    o = event.order.order
    r = o.request
    price = f" @ {r.price}" if r.price else ""
    avg = f" avg {o.avg_price}" if o.avg_price else ""
    reason = f" ({o.reason})" if o.reason else ""
    head = f"{o.order_id} {enum_name(o, 'status')} {enum_name(r, 'side')} {enum_name(r, 'type')}"
    return f"{head} {r.qty}{price} filled {o.filled_qty}{avg}{reason}"


def _fill(event: events_pb2.Event) -> str:
    f = event.fill
    fee = f" fee {f.fee} {f.fee_asset}" if f.fee else ""
    return (
        f"{f.order_id} {enum_name(f, 'side')} {f.qty} @ {f.price}{fee} {enum_name(f, 'liquidity')}".rstrip()
    )


def _position(event: events_pb2.Event) -> str:
    p = event.position.position
    entry = f" entry {p.avg_entry_price}" if p.avg_entry_price else ""
    return f"{p.symbol} qty {p.qty}{entry} unrealized {p.unrealized_pnl or '0'} ({p.account})"


def _risk(event: events_pb2.Event) -> str:
    return f"REJECTED {event.risk.code}: {event.risk.message}"  # the message names the order


_SUMMARIES = {"order": _order, "fill": _fill, "position": _position, "risk": _risk}


def summary(event: events_pb2.Event) -> str:
    """The gist of one event: what changed, with its figures."""
    kind = event.WhichOneof("event")
    return _SUMMARIES[kind](event) if kind in _SUMMARIES else ""


def events(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep streaming live events until Ctrl-C.")
    ] = False,
    subject: Annotated[
        list[str] | None,
        typer.Option(metavar="PATTERN", help="Subject pattern, e.g. 'trades.binance.spot.>' (repeatable)."),
    ] = None,
    last: Annotated[int, typer.Option(min=0, help="Only the last N retained events (0: all).")] = 0,
    after_seq: Annotated[int, typer.Option(min=0, help="Only events after this sequence number.")] = 0,
    nats: Annotated[
        str | None, typer.Option(metavar="URL", help="Follow this NATS server directly instead of the API.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per event and line.")] = False,
) -> None:
    """Print the engine's events: seq, subject and a summary per line."""
    with contextlib.suppress(KeyboardInterrupt):
        if nats is not None:
            from oms.bus.follow import follow as follow_nats

            asyncio.run(follow_nats(nats, subject or NATS_SUBJECTS))
            return
        with connect(ctx) as oms:
            for event in oms.events(subject, after_seq=after_seq, last=last, follow=follow):
                if as_json:
                    print_json_line(as_dict(event))
                else:
                    show(f"{event.seq} {event.subject} {summary(event)}")
