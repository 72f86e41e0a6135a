"""The command tree: every ``oms`` command and where it lives, in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from oms.cli import admin, events, orders, portfolio, system
from oms.cli.connection import Settings, fail, settings
from oms.client import DEFAULT_ADDRESS
from oms.errors import OmsError


class _Commands(TyperGroup):
    """The root group: a refused or failed call anywhere below ends as one error line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OmsError as err:
            raise fail(err, settings(ctx).address) from None


def _typer(help_text: str, **options: Any) -> typer.Typer:
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        **options,
    )


app = _typer("Multi-exchange crypto order management system.", cls=_Commands)


@app.callback()
def connection(
    ctx: typer.Context,
    address: Annotated[
        str, typer.Option(envvar="OMS_ADDRESS", help="The gRPC API, host:port.")
    ] = DEFAULT_ADDRESS,
    token: Annotated[
        str | None, typer.Option(envvar="OMS_TOKEN", help="Bearer token (default: <data>/dev-token).")
    ] = None,
    ca: Annotated[
        Path | None,
        typer.Option(
            envvar="OMS_CA",
            exists=True,
            dir_okay=False,
            help="CA certificate to trust (default: <data>/tls/ca.pem).",
        ),
    ] = None,
    data: Annotated[Path, typer.Option(envvar="OMS_DATA", help="Data directory of `oms run`.")] = Path(
        "data"
    ),
    timeout: Annotated[float, typer.Option(envvar="OMS_TIMEOUT", min=0.1, help="Seconds per call.")] = 30.0,
) -> None:
    """Connection options of the client commands (before the command: oms --address H:P orders)."""
    ctx.obj = Settings(address=address, token=token, ca=ca, data=data, timeout=timeout)


app.command()(system.run)
sim = _typer("Run exchange simulators.")
sim.command("binance")(system.sim_binance)
app.add_typer(sim, name="sim")

order = _typer("Submit, amend, cancel and look up orders.")
order.command()(orders.submit)
order.command()(orders.amend)
order.command()(orders.cancel)
order.command("cancel-all")(orders.cancel_all)
order.command()(orders.get)
app.add_typer(order, name="order")
app.command("orders")(orders.list_orders)

app.command()(portfolio.positions)
app.command()(portfolio.balances)
app.command()(portfolio.pnl)
app.command()(portfolio.book)
app.command()(events.events)

app.command()(admin.halt)
app.command()(admin.resume)
app.command()(admin.health)
limits = _typer("Risk limits (global, or per account, venue and symbol).")
limits.command("get")(admin.limits_get)
limits.command("set")(admin.limits_set)
app.add_typer(limits, name="limits")
token = _typer("API tokens in <data>/tokens.json (no server needed).")
token.command("create")(admin.token_create)
token.command("list")(admin.token_list)
token.command("revoke")(admin.token_revoke)
app.add_typer(token, name="token")
