"""The orders a simulated venue keeps for queries, indexed the two ways Binance looks
them up: by (symbol, orderId), and by (account, symbol, clientOrderId) for the latest
order that used the client id (ids may be reused once an order is done).

Bounded: past `limit` entries the oldest *finished* orders are forgotten as new ones
arrive (live orders are never dropped), so a long paper run stays small and each
addition costs O(1) amortised rather than a pass over the whole history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Listed(Protocol):
    @property
    def symbol(self) -> str: ...


class KeptOrder(Protocol):
    """What the history needs of an order (spot and futures orders both have it)."""

    order_id: int
    client_order_id: str

    @property
    def account(self) -> _Named: ...

    @property
    def symbol(self) -> _Listed: ...

    @property
    def is_open(self) -> bool: ...


OrderT = TypeVar("OrderT", bound=KeptOrder)


class OrderHistory(Generic[OrderT]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._by_id: dict[tuple[str, int], OrderT] = {}
        self._by_client: dict[tuple[str, str, str], OrderT] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def values(self) -> Iterator[OrderT]:
        """Oldest first."""
        return iter(self._by_id.values())

    def get(self, symbol: str, order_id: int) -> OrderT | None:
        return self._by_id.get((symbol, order_id))

    def by_client_id(self, account: str, symbol: str, client_id: str) -> OrderT | None:
        return self._by_client.get((account, symbol, client_id))

    def remember(self, order: OrderT) -> None:
        """Keep (or re-index, after a client id change) the order; forget the oldest
        finished ones past the limit."""
        self._by_id[(order.symbol.symbol, order.order_id)] = order
        self._by_client[(order.account.name, order.symbol.symbol, order.client_order_id)] = order
        if len(self._by_id) > self.limit:
            self._forget_oldest_finished(len(self._by_id) - self.limit)

    def _forget_oldest_finished(self, count: int) -> None:
        gone = []
        for key, old in self._by_id.items():  # oldest first; stops as soon as enough are found
            if not old.is_open:
                gone.append((key, old))
                if len(gone) == count:
                    break
        for key, old in gone:
            del self._by_id[key]
            client_key = (old.account.name, old.symbol.symbol, old.client_order_id)
            if self._by_client.get(client_key) is old:
                del self._by_client[client_key]
