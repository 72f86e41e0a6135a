"""Operating commands: ``oms halt|resume|health``, ``oms limits get|set`` (scope
``admin`` on the server) and ``oms token create|list|revoke`` (offline, on
``<data>/tokens.json``; a running server picks changes up by itself)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import msgspec
import typer

from oms.api.tokens import TokenStore
from oms.cli.connection import connect, settings
from oms.cli.output import clock, dicts, errors, fields_table, print_json, show, table
from oms.cli.params import Json, decimal
from oms.client import Client, as_dict
from oms.errors import OmsError
from oms.v1 import admin_pb2
from oms.v1 import common_pb2 as pb

# ---- the kill switch and health ----


def _print_state(reply: admin_pb2.TradingStateResponse, as_json: bool) -> None:
    if as_json:
        print_json(as_dict(reply))
        return
    state = pb.TradingState.Name(reply.state).removeprefix("TRADING_STATE_")
    cause = f" (cause {reply.cause})" if reply.cause and reply.cause != "NONE" else ""
    canceled = f", {reply.canceled_orders} open orders canceled" if reply.canceled_orders else ""
    show(f"trading {state}{cause}{canceled}")


def halt(ctx: typer.Context, as_json: Json = False) -> None:
    """Kill switch: refuse new orders and cancel every open order on every venue."""
    with connect(ctx) as oms:
        _print_state(oms.halt(), as_json)


def resume(ctx: typer.Context, as_json: Json = False) -> None:
    """Accept orders again after a halt."""
    with connect(ctx) as oms:
        _print_state(oms.resume(), as_json)


def _venue_row(h: admin_pb2.VenueHealth) -> list[str]:
    headroom = " ".join(f"{name}={left}" for name, left in sorted(h.rate_limit_headroom.items()))
    return [
        *(h.venue, "yes" if h.connected else "NO", "yes" if h.trading else "NO"),
        *(f"{h.clock_offset_ms:.1f}", f"{h.latency_ms:.1f}", headroom, h.last_error),
    ]


def _venues(oms: Client) -> list[admin_pb2.VenueHealth] | None:
    """Each venue's health, or None (with a note) when the token may not ask (scope admin)."""
    try:
        return oms.venue_health()
    except OmsError as err:
        if err.code != "SCOPE":
            raise
        errors.print(f"note: no venue health: {err.message}", markup=False)
        return None


def health(ctx: typer.Context, as_json: Json = False) -> None:
    """The server's gRPC health, then each venue's (exit 1 when anything is unhealthy)."""
    with connect(ctx) as oms:
        status = oms.health()
        venues = _venues(oms)
    if as_json:
        print_json({"status": status, "venues": None if venues is None else dicts(venues)})
    else:
        show(f"server {status}")
        if venues is not None:
            columns = (
                "VENUE",
                "CONNECTED",
                "TRADING",
                ">CLOCK OFFSET MS",
                ">LATENCY MS",
                "HEADROOM",
                "LAST ERROR",
            )
            show(table(None, columns, map(_venue_row, venues)))
    if status != "SERVING" or not all(v.connected for v in venues or ()):
        raise typer.Exit(1)


# ---- risk limits ----

LIMITS = [field.name for field in admin_pb2.RiskLimits.DESCRIPTOR.fields if field.name != "scope"]
OFF = {"0", "", "none", "off"}
Scope = Annotated[str, typer.Option(help="Scope: empty for every one (the global limits).")]


def _print_limits(limits: admin_pb2.RiskLimits, as_json: bool) -> None:
    if as_json:
        print_json(as_dict(limits))
        return
    s = limits.scope
    where = ", ".join(
        f"{k} {v}" for k, v in (("account", s.account), ("venue", s.venue), ("symbol", s.symbol)) if v
    )
    show(f"risk limits ({where or 'global'})")
    show(fields_table((name, str(getattr(limits, name) or "-")) for name in LIMITS))


def limits_get(
    ctx: typer.Context, account: Scope = "", venue: Scope = "", symbol: Scope = "", as_json: Json = False
) -> None:
    """Show the risk limits set at one scope ('-': no limit)."""
    with connect(ctx) as oms:
        _print_limits(oms.risk_limits(account, venue, symbol), as_json)


Dec = Annotated[str | None, typer.Option(help="Decimal; 0 or 'none' removes the limit.")]
Int = Annotated[int | None, typer.Option(min=0, help="0 removes the limit.")]


def limits_set(
    ctx: typer.Context,
    account: Scope = "",
    venue: Scope = "",
    symbol: Scope = "",
    max_order_qty: Dec = None,
    max_order_notional: Dec = None,
    max_position_qty: Dec = None,
    max_gross_exposure: Dec = None,
    max_leverage: Dec = None,
    price_band_bps: Int = None,
    max_orders_per_second: Int = None,
    order_burst: Int = None,
    max_open_orders: Int = None,
    daily_loss_limit: Dec = None,
    daily_loss_reducing: Dec = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Start from no limits instead of the current ones.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Change risk limits at one scope; the limits not given stay as they are."""
    options = locals()  # the parameters: one option per limit, named as in RiskLimits
    given = {name: options[name] for name in LIMITS if options[name] is not None}
    with connect(ctx) as oms:
        limits = admin_pb2.RiskLimits() if clear else oms.risk_limits(account, venue, symbol)
        limits.scope.CopyFrom(admin_pb2.RiskScope(account=account, venue=venue, symbol=symbol))
        for name, value in given.items():
            setattr(limits, name, _limit_value(name, value))
        _print_limits(oms.set_risk_limits(limits), as_json)


def _limit_value(name: str, value: Any) -> Any:
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return "" if text.lower() in OFF else decimal(text, "--" + name.replace("_", "-"))


# ---- tokens ----


class TokenScope(StrEnum):
    """The scopes, as typer choices."""

    read = "read"
    trade = "trade"
    admin = "admin"


def _store(ctx: typer.Context) -> TokenStore:
    return TokenStore(settings(ctx).data / "tokens.json")


def token_create(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Who the token is for (1-64 characters; replaces one of that name).")
    ],
    scope: Annotated[
        list[TokenScope] | None, typer.Option(help="read, trade or admin (repeatable; default read).")
    ] = None,
    rate: Annotated[float | None, typer.Option(min=0.001, help="This client's requests per second.")] = None,
    burst: Annotated[float | None, typer.Option(min=1, help="This client's burst.")] = None,
) -> None:
    """Create an API token and print it (the only time it is shown)."""
    scopes = [s.value for s in scope or [TokenScope.read]]
    store = _store(ctx)
    token = store.create(name, scopes, rate_per_s=rate, burst=burst)
    print(token)
    errors.print(f"token {name!r} ({', '.join(scopes)}) saved in {store.path}; shown once", markup=False)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def token_list(ctx: typer.Context, as_json: Json = False) -> None:
    """The tokens in <data>/tokens.json (names and scopes; tokens are never stored)."""
    infos = _store(ctx).names()
    if as_json:
        print_json([{k: v for k, v in msgspec.structs.asdict(t).items() if k != "sha256"} for t in infos])
        return
    rows = (
        [t.name, ",".join(t.scopes), clock(t.created_ns), _number(t.rate_per_s), _number(t.burst)]
        for t in infos
    )
    show(table(None, ("NAME", "SCOPES", "CREATED", ">RATE/S", ">BURST"), rows) if infos else "no tokens")


def token_revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token by name."""
    if not _store(ctx).revoke(name):
        errors.print(f"error: no token named {name!r} [NOT_FOUND]", markup=False)
        raise typer.Exit(1)
    show(f"token {name!r} revoked")
