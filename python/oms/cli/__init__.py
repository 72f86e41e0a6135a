"""The ``oms`` command line (typer for commands and options, rich for tables).

One entry point, ``oms.cli:main`` (also ``python -m oms``). Two kinds of commands:

* the system: ``oms run`` (everything in paper mode, with the gRPC API) and
  ``oms sim binance`` (the simulators alone) -- in ``system``;
* clients of the gRPC API through ``oms.client.Client``: ``oms order ...``,
  ``oms orders`` (``orders``), ``oms positions|balances|pnl|book`` (``portfolio``),
  ``oms events`` (``events``; ``--nats URL`` follows NATS directly), ``oms halt|resume|
  health``, ``oms limits get|set`` and the offline ``oms token create|list|revoke``
  (``admin``).

Modules: ``app`` builds the command tree and the global connection options
(``--address``/``OMS_ADDRESS``, ``--token``/``OMS_TOKEN``, ``--ca``/``OMS_CA``,
``--data``/``OMS_DATA``; the token and CA default to what ``oms run`` writes under the
data directory); ``connection`` opens the client and turns failures into one
``error: <message> [<CODE>]`` line (exit 1 refused, 2 usage, 3 unreachable);
``params`` checks option values; ``output`` draws tables and JSON (``--json`` prints
``oms.client.as_dict`` of the replies). docs/cli.md lists every command.
"""

from __future__ import annotations

from collections.abc import Sequence

from oms.cli.app import app

__all__ = ["app", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    app(args=None if argv is None else list(argv), prog_name="oms")
