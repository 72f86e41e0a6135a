"""The order state machine: one transition table, and the rules for fills.

``TRANSITIONS[a]`` is the set of statuses an order in status ``a`` may move to.
Everything else raises :class:`oms.errors.IllegalTransition`. Reporting the status an
order already has is a no-op (venues and our own recovery repeat themselves).

Rules that are not plain edges:

* **UNKNOWN** is entered when a request was sent and its outcome is not known
  (timeout, 5xx, dropped connection). It leaves only for what the venue reports when
  queried or streamed, including REJECTED when the venue never saw the order. It is
  never resolved by resending.
* **PENDING_CANCEL / PENDING_REPLACE** remember the status they came from; when the
  venue refuses the cancel or amend, :func:`revert_pending` goes back to it.
* **Fills** are facts. They are de-duplicated by trade id; they move NEW, TRIGGERED,
  PENDING_NEW and UNKNOWN to PARTIALLY_FILLED or FILLED; while a cancel or replace is
  pending, a partial fill keeps the pending status (a full one ends in FILLED); a fill
  that arrives after CANCELED/EXPIRED (out-of-order delivery) is recorded and the
  status stays. A fill on a REJECTED order contradicts the venue and raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from oms.errors import IllegalTransition
from oms.model.enums import OrderStatus as S

TRANSITIONS: Final[Mapping[S, frozenset[S]]] = {
    S.PENDING_NEW: frozenset(
        {
            S.NEW,
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.PENDING_CANCEL,
            S.CANCELED,
            S.REJECTED,
            S.EXPIRED,
            S.TRIGGERED,
            S.UNKNOWN,
        }
    ),
    S.NEW: frozenset(
        {
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.PENDING_CANCEL,
            S.CANCELED,
            S.PENDING_REPLACE,
            S.EXPIRED,
            S.TRIGGERED,
        }
    ),
    S.TRIGGERED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.PENDING_REPLACE, S.EXPIRED, S.REJECTED}
    ),
    S.PARTIALLY_FILLED: frozenset({S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.PENDING_REPLACE, S.EXPIRED}),
    S.PENDING_CANCEL: frozenset(
        {S.CANCELED, S.FILLED, S.EXPIRED, S.NEW, S.PARTIALLY_FILLED, S.TRIGGERED, S.UNKNOWN}
    ),
    S.PENDING_REPLACE: frozenset(
        {S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.EXPIRED, S.TRIGGERED, S.UNKNOWN}
    ),
    S.UNKNOWN: frozenset(
        {S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED, S.TRIGGERED}
    ),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}

#: Statuses an order never leaves.
TERMINAL: Final = frozenset(status for status, after in TRANSITIONS.items() if not after)
#: Statuses in which a fill may arrive (the rest: REJECTED, FILLED raise).
FILLABLE: Final = frozenset(
    {S.PENDING_NEW, S.NEW, S.TRIGGERED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE, S.UNKNOWN}
)
#: Terminal statuses that still record a late fill without changing status.
LATE_FILL_OK: Final = frozenset({S.CANCELED, S.EXPIRED})
PENDING: Final = frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE})


def can_transition(current: S, new: S) -> bool:
    return new == current or new in TRANSITIONS[current]


def check_transition(current: S, new: S, order_id: str = "") -> None:
    """Raise :class:`IllegalTransition` (naming both statuses) if ``current -> new`` is not allowed."""
    if not can_transition(current, new):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (terminal)"
        who = f"order {order_id}: " if order_id else ""
        raise IllegalTransition(
            f"{who}status {current} cannot become {new}; allowed from {current}: {allowed}",
            current=str(current),
            new=str(new),
        )


def status_after_fill(current: S, filled_all: bool) -> S:
    """Status an order takes after a fill (see the module rules)."""
    if current in LATE_FILL_OK:
        return current
    if filled_all:
        return S.FILLED
    if current in PENDING:
        return current
    return S.PARTIALLY_FILLED
