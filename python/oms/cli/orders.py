"""``oms order submit|amend|cancel|cancel-all|get`` and ``oms orders``."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from oms.cli.connection import connect
from oms.cli.output import (
    dicts,
    fields_table,
    order_fields,
    order_line,
    orders_table,
    print_json,
    show,
    working,
)
from oms.cli.params import Json, Symbol, Venue, choice, decimal, names
from oms.client import as_dict
from oms.model import OrderType, Side, TimeInForce
from oms.v1 import common_pb2 as pb


def _order_type(kind: str | None, price: str | None, post_only: bool) -> OrderType:
    """``--type`` if given; else LIMIT with a price, MARKET without; ``--post-only`` is LIMIT_MAKER."""
    order_type = choice(OrderType, kind, "--type") if kind else None
    if post_only:
        if order_type not in (None, OrderType.LIMIT, OrderType.LIMIT_MAKER):
            raise typer.BadParameter("--post-only goes with limit orders", param_hint="--post-only")
        return OrderType.LIMIT_MAKER
    if order_type is not None:
        return order_type
    return OrderType.LIMIT if price is not None else OrderType.MARKET


def _figures(**values: str | None) -> dict[str, str]:
    return {name: decimal(v, "--" + name.replace("_", "-")) for name, v in values.items() if v is not None}


def _print_order(order: pb.Order, as_json: bool) -> None:
    if as_json:
        print_json(as_dict(order))
    else:
        show(order_line(order))


def submit(
    ctx: typer.Context,
    venue: Annotated[str, typer.Argument(help="exchange:market, e.g. binance:spot or binance:usdm.")],
    symbol: Annotated[str, typer.Argument(help="Unified symbol: BTC/USDT, BTC/USDT:USDT (perpetual).")],
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    qty: Annotated[str, typer.Argument(help="Quantity in base units, e.g. 0.001.")],
    type_: Annotated[
        str | None,
        typer.Option("--type", help=f"{names(OrderType)}; default: limit with --price, else market."),
    ] = None,
    price: Annotated[str | None, typer.Option(help="Limit price.")] = None,
    stop_price: Annotated[
        str | None, typer.Option(help="Trigger price of stop / take-profit orders.")
    ] = None,
    tif: Annotated[
        str | None, typer.Option(help=f"Time in force: {names(TimeInForce)} (default gtc).")
    ] = None,
    expire_in: Annotated[float | None, typer.Option(help="GTD: expire this many seconds from now.")] = None,
    trailing_bps: Annotated[str | None, typer.Option(help="Trailing-stop callback in basis points.")] = None,
    reduce_only: Annotated[bool, typer.Option("--reduce-only", help="Only reduce a position.")] = False,
    post_only: Annotated[bool, typer.Option("--post-only", help="Maker only (type limit-maker).")] = False,
    client_id: Annotated[str | None, typer.Option(help="Your client order id (1-36 characters).")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="The same key twice returns the first order.")
    ] = None,
    account: Annotated[str, typer.Option(help="Account.")] = "default",
    tag: Annotated[str | None, typer.Option(help="Free label kept with the order.")] = None,
    as_json: Json = False,
) -> None:
    """Submit an order; prints it as the venue acknowledged it (id, status, filled, avg price)."""
    fields: dict[str, Any] = dict(
        venue=venue,
        symbol=symbol,
        side=choice(Side, side, "SIDE"),
        type=_order_type(type_, price, post_only),
        qty=decimal(qty, "QTY"),
        reduce_only=reduce_only,
        account=account,
        client_order_id=client_id,
        idempotency_key=idempotency_key,
        tag=tag,
        **_figures(price=price, stop_price=stop_price, trailing_bps=trailing_bps),
    )
    if tif is not None:
        fields["time_in_force"] = choice(TimeInForce, tif, "--tif")
    if expire_in is not None:
        fields["expire_at_ns"] = time.time_ns() + int(expire_in * 1e9)
    with connect(ctx) as oms:
        _print_order(oms.submit(**fields), as_json)


def amend(
    ctx: typer.Context,
    order_id: Annotated[str, typer.Argument(help="The order's id (as submit printed it).")],
    qty: Annotated[str | None, typer.Option(help="New quantity.")] = None,
    price: Annotated[str | None, typer.Option(help="New limit price.")] = None,
    stop_price: Annotated[
        str | None, typer.Option("--stop-price", help="New stop price (an order the engine holds).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Change a resting order's quantity, price, or (held by the engine) stop price."""
    if qty is None and price is None and stop_price is None:
        raise typer.BadParameter("give --qty, --price and/or --stop-price", param_hint="--qty/--price")
    changes = _figures(qty=qty, price=price, stop_price=stop_price)
    with connect(ctx) as oms:
        _print_order(oms.amend(order_id, **changes), as_json)


def cancel(
    ctx: typer.Context,
    order_id: Annotated[str, typer.Argument(help="The order's id.")],
    as_json: Json = False,
) -> None:
    """Cancel one order."""
    with connect(ctx) as oms:
        _print_order(oms.cancel(order_id), as_json)


def cancel_all(ctx: typer.Context, venue: Venue = "", symbol: Symbol = "", as_json: Json = False) -> None:
    """Cancel every open order (of a venue, of a symbol)."""
    with connect(ctx) as oms, working("canceling every open order..."):
        canceled = oms.cancel_all(venue, symbol)
    if as_json:
        print_json(dicts(canceled))
        return
    for order in canceled:
        show(order_line(order))
    show(f"{len(canceled)} order{'' if len(canceled) == 1 else 's'} canceled")


def get(
    ctx: typer.Context,
    order_id: Annotated[str, typer.Argument(help="The order's id.")],
    as_json: Json = False,
) -> None:
    """Show one order in full."""
    with connect(ctx) as oms:
        order = oms.order(order_id)
    if as_json:
        print_json(as_dict(order))
    else:
        show(fields_table(order_fields(order)))


def list_orders(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only open orders.")] = False,
    venue: Venue = "",
    symbol: Symbol = "",
    limit: Annotated[int, typer.Option(min=0, help="At most this many, newest first (0: 1,000).")] = 0,
    as_json: Json = False,
) -> None:
    """List orders, newest first."""
    with connect(ctx) as oms:
        orders = oms.orders(open_only=open_only, venue=venue, symbol=symbol, limit=limit)
    if as_json:
        print_json(dicts(orders))
    elif orders:
        show(orders_table(orders))
    else:
        show("no open orders" if open_only else "no orders")
