"""The order state machine, as the Rust core enforces it (``oms_core::orders``, where
the rules are written down): its transition table, and the status sets the engine
asks about. ``Order.transition`` and ``Order.apply_fill`` apply them.

``TRANSITIONS[a]`` is the set of statuses an order in status ``a`` may move to.
Everything else raises :class:`oms.errors.IllegalTransition`. Reporting the status an
order already has is a no-op (venues and our own recovery repeat themselves).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from oms._core import order_transitions
from oms.model.enums import OrderStatus as S

TRANSITIONS: Final[Mapping[S, frozenset[S]]] = {
    S(status): frozenset(S(n) for n in after) for status, after in order_transitions()
}

#: Statuses an order never leaves.
TERMINAL: Final = frozenset(status for status, after in TRANSITIONS.items() if not after)
#: A cancel or amend is with the venue (the order remembers the status it came from).
PENDING: Final = frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE})
