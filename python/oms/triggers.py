"""Price triggers of conditional orders (stop-loss, take-profit, trailing stops), in the
Rust core.

A ``TriggerBook`` holds the orders waiting on one price source (the last trade, or the
mark price) of one symbol. Feed it every new price with ``on_price``: it removes and
returns the ids that fire, oldest first; what a fired order becomes is the caller's
business. Plain levels fire at or above / at or below a price; trailing stops follow
the best price since activation and fire ``callback_bps`` away from it (exact integer
arithmetic). Adding a level the last price already meets raises ``InvalidInput`` with
code ``WOULD_TRIGGER``. Used by the exchange simulators; the engine's emulated
conditional orders and backtests reuse it.
"""

from oms._core import TriggerBook

__all__ = ["TriggerBook"]
