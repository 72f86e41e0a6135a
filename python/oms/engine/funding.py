"""Futures funding payments into positions and P&L, each payment exactly once.

A venue pays or charges funding on a perpetual position every few hours (Binance:
00:00, 08:00 and 16:00 UTC). The connector reports each payment as a ``Funding``
with the venue's id for it; the ledger books it on the position in the shared-memory
``PositionBook`` (its ``funding`` field, part of net P&L and of the daily loss), emits
a ``FundingUpdate`` (journaled in ``trades.jsonl``, published to JetStream) and the
position's ``PositionUpdate``.

Which account: a venue connector is one venue account, while the engine may book
several of its own accounts on it. A payment goes to the accounts holding a position
in that (venue, symbol) now, split by the size of each position (8 decimal places,
the remainder to the largest, so the shares add up exactly). If none holds one (the
position was closed after the funding time), it goes to the account whose position
there changed last, else to ``default``.

Exactly once: the ids applied are kept (rebuilt from the journal on recovery), so a
payment reported twice (the stream and the catch-up at start) is booked once.
"""

from __future__ import annotations

import logging
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

import msgspec

from oms.engine.events import FundingUpdate
from oms.model import Funding

if TYPE_CHECKING:
    from oms.engine.engine import Engine

log = logging.getLogger(__name__)
SHARE_QUANTUM = Decimal("1e-8")
DEFAULT_ACCOUNT = "default"


class FundingLedger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._applied: set[tuple[str, str]] = set()  # (venue, funding id)
        self.last_ns: dict[str, int] = {}  # venue -> time of the latest payment applied

    def apply(self, funding: Funding) -> bool:
        """Book a payment the venue reported; False if it was booked before."""
        if not self._note(funding):
            return False
        for account, amount in self.shares(funding):
            position = self.engine.positions_book.apply_funding(
                account, funding.venue, funding.symbol, amount, funding.ts_ns or None
            )
            share = msgspec.structs.replace(funding, amount=amount)
            engine = self.engine
            engine.emit(FundingUpdate(seq=engine.events.next_seq(), account=account, funding=share))
            engine.events.emit_position(position)
        self.engine.update_daily_pnl()
        return True

    def replay(self, account: str, funding: Funding) -> None:
        """A journaled share (recovery): booked again into the fresh book, no events."""
        self._note(funding)
        self.engine.positions_book.apply_funding(
            account, funding.venue, funding.symbol, funding.amount, funding.ts_ns or None
        )

    def _note(self, funding: Funding) -> bool:
        key = (funding.venue, funding.funding_id)
        if key in self._applied:
            return False
        self._applied.add(key)
        self.last_ns[funding.venue] = max(self.last_ns.get(funding.venue, 0), funding.ts_ns)
        return True

    def shares(self, funding: Funding) -> list[tuple[str, Decimal]]:
        """(account, amount) pairs that add up to ``funding.amount`` exactly."""
        there = [
            p
            for p in self.engine.positions_book.positions()
            if p.venue == funding.venue and p.symbol == funding.symbol
        ]
        holders = sorted((p for p in there if p.qty), key=lambda p: abs(p.qty), reverse=True)
        if not holders:
            latest = max(there, key=lambda p: p.updated_ns, default=None)
            return [(latest.account if latest is not None else DEFAULT_ACCOUNT, funding.amount)]
        total = sum((abs(p.qty) for p in holders), Decimal(0))
        rest = [
            (p.account, (funding.amount * abs(p.qty) / total).quantize(SHARE_QUANTUM, ROUND_DOWN))
            for p in holders[1:]
        ]
        largest = funding.amount - sum((amount for _, amount in rest), Decimal(0))
        return [(holders[0].account, largest), *((a, x) for a, x in rest if x)]
