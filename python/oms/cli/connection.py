"""Where the client commands connect, and what a failure looks like to the user.

``Settings`` holds the global options (``--address``, ``--token``, ``--ca``, ``--data``,
``--timeout``, each with its ``OMS_*`` variable); ``connect(ctx)`` opens the client.
``fail(err)`` turns any ``oms.errors.OmsError`` into one ``error: <message> [<CODE>]``
line on stderr and the exit status: 3 when the server cannot be reached, 1 for every
refusal (typer's own usage errors exit 2).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer

from oms.cli.output import errors
from oms.client import DEFAULT_ADDRESS, Client
from oms.errors import OmsError

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
#: Codes of failed calls that never reached an oms server (no oms error detail came back).
UNREACHABLE = frozenset({"GRPC_UNAVAILABLE", "GRPC_DEADLINE_EXCEEDED"})


@dataclass(frozen=True)
class Settings:
    address: str = DEFAULT_ADDRESS
    token: str | None = None
    ca: Path | None = None  # None: <data>/tls/ca.pem if it exists, else the system's roots
    data: Path = Path("data")
    timeout: float = 30.0

    def resolved_token(self) -> str | None:
        """``--token`` / ``OMS_TOKEN``, else the dev token ``oms run`` wrote."""
        if self.token:
            return self.token
        with contextlib.suppress(OSError):
            return (self.data / "dev-token").read_text().strip() or None
        return None

    def resolved_ca(self) -> Path | None:
        if self.ca is not None:
            return self.ca  # typer checked that it exists
        dev_ca = self.data / "tls" / "ca.pem"
        return dev_ca if dev_ca.is_file() else None


def settings(ctx: typer.Context) -> Settings:
    found = ctx.find_object(Settings)
    return found if found is not None else Settings()


@contextlib.contextmanager
def connect(ctx: typer.Context) -> Iterator[Client]:
    s = settings(ctx)
    with Client(s.address, token=s.resolved_token(), ca=s.resolved_ca(), timeout=s.timeout) as client:
        yield client


def exit_code(err: OmsError) -> int:
    return EXIT_UNREACHABLE if err.code in UNREACHABLE else EXIT_REFUSED


def error_line(err: OmsError, address: str) -> str:
    text = " ".join(err.message.split())  # one line, whatever the server or grpc said
    if err.code == "GRPC_UNAVAILABLE":
        text = f"cannot reach the oms server at {address} (is `oms run` running?): {text}"
    elif err.code == "GRPC_DEADLINE_EXCEEDED":  # an order may have been placed all the same
        text = f"no answer from {address} in time (--timeout); the request may or may not have taken effect"
    return f"error: {text} [{err.code}]"


def fail(err: OmsError, address: str) -> typer.Exit:
    """Print the error line; the ``typer.Exit`` to raise with the right status."""
    errors.print(error_line(err, address), markup=False, soft_wrap=True)
    return typer.Exit(exit_code(err))
