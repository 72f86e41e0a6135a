"""Every order the engine owns, findable by our id, by client order id and by
idempotency key.

A client order id is never reused, so it names one order forever. An order replaced on
the venue under a new client id (spot cancel-replace) keeps its engine id; the old
client id is *retired*: fills reported under it still belong to the order, but its
CANCELED (the venue ending the old incarnation) does not end ours.

Orders that ended are kept only while they are among the newest ``keep_closed`` (the
order path forgets older ones, see ``Engine._forgotten``); so is an idempotency key's
answer. The journal and JetStream keep them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from oms._core import OrderPath
from oms.model import Order


class OrderRegistry:
    """A view of the order maps the core's order path owns (``OrderPath``: it adds
    every order it accepts), for the engine's other paths."""

    def __init__(self, path: OrderPath) -> None:
        self._by_id: dict[str, Order] = path.orders
        # Client order ids other than the order's id (which is its first one).
        self._aliases: dict[str, Order] = path.client_id_aliases
        self._retired: set[str] = set()
        self._retired_of: dict[str, list[str]] = {}  # order id -> the client ids it retired
        self._by_key: dict[str, asyncio.Future[Order]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Order]:
        return iter(self._by_id.values())

    def add(self, order: Order) -> None:
        self._by_id[order.id] = order
        if order.client_order_id != order.id:
            self._aliases[order.client_order_id] = order

    def get(self, order_id: str) -> Order | None:
        return self._by_id.get(order_id)

    def by_client_id(self, client_order_id: str | None) -> Order | None:
        key = client_order_id or ""
        return self._by_id.get(key) or self._aliases.get(key)

    def is_retired(self, client_order_id: str | None) -> bool:
        return (client_order_id or "") in self._retired

    def rename(self, order: Order, new_client_order_id: str) -> None:
        """The venue now knows ``order`` by a new client id (cancel-replace)."""
        self._retired.add(order.client_order_id)
        self._retired_of.setdefault(order.id, []).append(order.client_order_id)
        order.client_order_id = new_client_order_id
        self._aliases[new_client_order_id] = order

    def forget(self, orders: list[Order]) -> None:
        """Drop what still names ``orders`` (the order path has taken them out of its
        maps): their idempotency keys and retired client ids."""
        for order in orders:
            for client_id in self._retired_of.pop(order.id, ()):
                self._retired.discard(client_id)
            key = order.request.idempotency_key
            if key is not None:
                future = self._by_key.get(key)
                if future is not None and _answered_with(future, order):
                    del self._by_key[key]

    # ---- idempotency ----

    def claim(self, key: str) -> asyncio.Future[Order] | None:
        """The pending or finished submission of ``key``, or None after reserving it
        for the caller (who must ``settle`` it)."""
        existing = self._by_key.get(key)
        if existing is not None:
            return existing
        self._by_key[key] = asyncio.get_running_loop().create_future()
        return None

    def settle(self, key: str, order: Order | None, error: BaseException | None = None) -> None:
        """Finish a claimed submission: later callers get ``order`` (or the key is freed
        again when the submission failed before any order existed)."""
        future = self._by_key[key]
        if order is not None:
            future.set_result(order)
            return
        del self._by_key[key]
        future.set_exception(error or RuntimeError("submission failed"))
        future.exception()  # retrieved: waiters re-raise it themselves


def _answered_with(future: asyncio.Future[Order], order: Order) -> bool:
    return (
        future.done() and not future.cancelled() and future.exception() is None and future.result() is order
    )
