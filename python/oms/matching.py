"""Price-time priority matching for one symbol, in the Rust core.

Used by the exchange simulators and backtests. ``submit`` walks the opposite side
(best price first, oldest order first, fills at the maker's price); time in force
decides the rest: GTC rests, IOC and market orders expire it, FOK fills completely or
not at all, POST_ONLY (LIMIT_MAKER / GTX) is REJECTED if it would take. Self-trade
prevention compares ``owner`` (account or STP group) with Binance's modes, the taker's
deciding (EXPIRE_TAKER by default). No fees, balances or triggers: the venue adds them.
"""

from oms._core import MatchFill, MatchingEngine, MatchResult, RestingOrder

__all__ = ["MatchFill", "MatchResult", "MatchingEngine", "RestingOrder"]
