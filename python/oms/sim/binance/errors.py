"""Binance's error envelope: ``{"code": -1022, "msg": "..."}`` with an HTTP status.
The simulator answers with these exact codes and messages (see the reference
``errors_and_limits.md``); ``to_json`` is what goes on the wire."""

from __future__ import annotations

from typing import Any


class BinanceApiError(Exception):
    """An error the simulated venue returns to its client (not an oms error)."""

    def __init__(self, code: int, msg: str, http_status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.retry_after: int | None = None  # seconds, for 429 / 418

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


def illegal_chars(param: str, legal: str) -> BinanceApiError:
    return BinanceApiError(
        -1100, f"Illegal characters found in parameter '{param}'; legal range is '{legal}'."
    )


def mandatory(param: str) -> BinanceApiError:
    return BinanceApiError(
        -1102, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."
    )


def timestamp_outside_window() -> BinanceApiError:
    return BinanceApiError(-1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead() -> BinanceApiError:
    return BinanceApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def bad_signature() -> BinanceApiError:
    return BinanceApiError(-1022, "Signature for this request is not valid.")


def bad_key_format() -> BinanceApiError:
    return BinanceApiError(-2014, "API-key format invalid.", http_status=401)


def rejected_key() -> BinanceApiError:
    return BinanceApiError(-2015, "Invalid API-key, IP, or permissions for action.", http_status=401)
