"""How the CLI shows things: rich tables on stdout, JSON for ``--json``, one ``error:``
line on stderr.

Figures are printed exactly as the server sent them (decimal strings), enums without
their proto prefix (``SIDE_BUY`` -> ``BUY``); JSON is ``oms.client.as_dict`` unchanged.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf import message
from rich.console import Console
from rich.table import Table

from oms.client import as_dict
from oms.v1 import common_pb2 as pb

# Not a terminal (a pipe, a file, a test): never wrap a table row to 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 1000)
errors = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 1000)


def enum_name(msg: message.Message, field: str) -> str:
    """An enum field's name without its prefix: ``ORDER_STATUS_FILLED`` -> ``FILLED``;
    empty for ``*_UNSPECIFIED``."""
    kind = msg.DESCRIPTOR.fields_by_name[field].enum_type
    assert kind is not None, f"{field} is not an enum field"
    number = getattr(msg, field)
    if number == 0:
        return ""
    value = kind.values_by_number.get(number)
    if value is None:
        return str(number)
    prefix = kind.values_by_number[0].name.removesuffix("UNSPECIFIED")
    return value.name.removeprefix(prefix)


def clock(ns: int, *, date: bool = True) -> str:
    """Local time of a nanosecond timestamp; empty for 0."""
    if not ns:
        return ""
    seconds = ns / 1e9
    stamp = time.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S", time.localtime(seconds))
    return f"{stamp}.{int(ns // 1_000_000 % 1000):03d}"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def print_json_line(data: Any) -> None:
    sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def dicts(replies: Iterable[message.Message]) -> list[dict[str, Any]]:
    return [as_dict(reply) for reply in replies]


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    """A table; columns whose name starts with ``>`` are right-aligned (figures)."""
    out = Table(title=title, title_justify="left", box=None, header_style="bold", pad_edge=False)
    for column in columns:
        figure = column.startswith(">")
        out.add_column(column.lstrip(">"), justify="right" if figure else "left", no_wrap=True)
    for row in rows:
        out.add_row(*row)
    return out


def fields_table(pairs: Iterable[tuple[str, str]]) -> Table:
    """A two-column name / value table (one record)."""
    out = Table(box=None, show_header=False, pad_edge=False)
    out.add_column(style="bold", no_wrap=True)
    out.add_column(no_wrap=True)
    for name, value in pairs:
        out.add_row(name, value)
    return out


def show(*renderables: Any) -> None:
    for item in renderables:
        console.print(item, markup=False)


def order_line(order: pb.Order) -> str:
    """``<id>  <venue> <symbol> BUY LIMIT 0.001 @ 60000  NEW  filled 0 [avg ...] [reason]``."""
    r = order.request
    price = (f" @ {r.price}" if r.price else "") + (f" stop {r.stop_price}" if r.stop_price else "")
    text = (
        f"{order.order_id}  {r.venue} {r.symbol} {enum_name(r, 'side')} {enum_name(r, 'type')}"
        f" {r.qty}{price}  {enum_name(order, 'status')}  filled {order.filled_qty or '0'}"
    )
    if order.avg_price:
        text += f" avg {order.avg_price}"
    return text + (f"  ({order.reason})" if order.reason else "")


ORDER_COLUMNS = ("ID", "CREATED", "VENUE", "SYMBOL", "SIDE", "TYPE", ">QTY", ">PRICE", "STATUS", ">FILLED")


def order_row(order: pb.Order) -> list[str]:
    r = order.request
    return [
        order.order_id,
        clock(order.created_ns),
        r.venue,
        r.symbol,
        enum_name(r, "side"),
        enum_name(r, "type"),
        r.qty,
        r.price or r.stop_price,
        enum_name(order, "status"),
        order.filled_qty,
        order.avg_price,
    ]


def orders_table(orders: Sequence[pb.Order], title: str | None = None) -> Table:
    return table(title, (*ORDER_COLUMNS, ">AVG PRICE"), (order_row(o) for o in orders))


def order_fields(order: pb.Order) -> list[tuple[str, str]]:
    """Every field worth reading of one order, for ``oms order get``."""
    r = order.request
    pairs = [
        ("order id", order.order_id),
        ("client order id", order.client_order_id),
        ("venue order id", order.venue_order_id),
        ("venue", r.venue),
        ("symbol", r.symbol),
        ("side", enum_name(r, "side")),
        ("type", enum_name(r, "type")),
        ("qty", r.qty),
        ("price", r.price),
        ("stop price", r.stop_price),
        ("time in force", enum_name(r, "time_in_force") or "GTC"),
        ("reduce only", "yes" if r.reduce_only else ""),
        ("account", r.account),
        ("status", enum_name(order, "status")),
        ("filled", order.filled_qty),
        ("avg price", order.avg_price),
        ("fees", ", ".join(f"{amount} {asset}" for asset, amount in sorted(order.fees.items()))),
        ("reason", order.reason),
        ("created", clock(order.created_ns)),
        ("updated", clock(order.updated_ns)),
    ]
    return [(name, value) for name, value in pairs if value]


def working(what: str) -> contextlib.AbstractContextManager[object]:
    """A spinner on stderr while something slow runs (only on a terminal: pipes and
    ``--json`` output stay clean)."""
    if not errors.is_terminal:
        return contextlib.nullcontext()
    return errors.status(what)
