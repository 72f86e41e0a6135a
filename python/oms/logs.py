"""Structured logs: one JSON object per line on a stream (stderr by default).

Why JSON lines: a process under systemd writes to the journal and to rotated files, and
whoever reads them later (``jq``, Loki, a script after an incident) needs fields, not
prose to parse: when, how bad, which part, what happened, and the order id or venue
it happened to. Each line is::

    {"ts": "2024-08-08T12:00:00.123456Z", "level": "INFO", "logger": "oms.engine",
     "msg": "order sent", "order_id": "oms...", "venue": "binance:spot"}

``ts`` is ISO 8601 in UTC; fields passed with ``extra=`` follow (an extra that would
overwrite one of the four is renamed ``extra_<name>``); ``exc_info`` and
``stack_info`` are rendered as strings. Values JSON cannot carry (Decimal is a string
already) are written with ``str()``. Encoding is msgspec's, the project's JSON.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any, Final

import msgspec

#: What every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_BASE: Final = ("ts", "level", "logger", "msg")


def _fallback(value: Any) -> str:
    return str(value)


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON (see the module docstring for the fields)."""

    def __init__(self) -> None:
        super().__init__()
        self._encoder = msgspec.json.Encoder(enc_hook=_fallback)

    def format(self, record: logging.LogRecord) -> str:
        line = self.fields(record)
        try:
            return self._encoder.encode(line).decode()
        except (TypeError, ValueError, msgspec.EncodeError):  # e.g. a dict with odd keys in extra
            return self._encoder.encode({k: v if k in _BASE else repr(v) for k, v in line.items()}).decode()

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                line[f"extra_{key}" if key in line else key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return line


class _JsonHandler(logging.StreamHandler[IO[str]]):
    """Marks the handler this module installed, so configuring again replaces it."""


def configure_json_logging(
    level: str = "INFO", stream: IO[str] | None = None, *, others: str = "WARNING"
) -> logging.Handler:
    """Send ``oms`` log records at ``level`` or above, and everyone else's at ``others``
    or above (the exchange SDKs log every WebSocket message at INFO on the root logger),
    to ``stream`` (stderr) as JSON lines. DEBUG opens both.

    Sets the levels and installs one handler on the root logger; calling again replaces
    the handler installed before (other handlers are left alone). Returns the handler."""
    names = logging.getLevelNamesMapping()
    wanted = level.upper()
    if wanted not in names:
        raise ValueError(f"unknown log level {level!r}: one of {', '.join(sorted(names))}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _JsonHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    ours = names[wanted]
    theirs = names.get(others.upper(), logging.WARNING)
    root.setLevel(ours if ours == logging.DEBUG else max(ours, theirs))
    logging.getLogger("oms").setLevel(ours)
    return handler
