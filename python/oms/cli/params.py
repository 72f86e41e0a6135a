"""Option types shared by the commands, and the checks that make a bad value a usage
error (exit 2, typer's message) before anything is sent."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, TypeVar

import typer

E = TypeVar("E", bound=StrEnum)

Json = Annotated[bool, typer.Option("--json", help="Print the reply as JSON (the API's message fields).")]
Venue = Annotated[str, typer.Option("--venue", help="Only this venue, e.g. binance:spot.")]
Symbol = Annotated[str, typer.Option("--symbol", help="Only this symbol, e.g. BTC/USDT.")]
Account = Annotated[str, typer.Option("--account", help="Only this account.")]


def names(kind: type[StrEnum]) -> str:
    return "|".join(member.value.lower().replace("_", "-") for member in kind)


def choice(kind: type[E], value: str, option: str) -> E:
    """``buy``, ``BUY``, ``limit-maker``, ``LIMIT_MAKER``... -> the model enum member."""
    key = value.strip().upper().replace("-", "_")
    try:
        return kind(key)
    except ValueError:
        raise typer.BadParameter(f"{value!r}: choose from {names(kind)}", param_hint=option) from None


def decimal(value: str, option: str) -> str:
    """A figure as typed, once it is known to be a finite decimal (the server checks the rest)."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"{value!r} is not a number", param_hint=option) from None
    if not number.is_finite():
        raise typer.BadParameter(f"{value!r} is not a finite number", param_hint=option)
    return value.strip()
