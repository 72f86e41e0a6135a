"""What the JetStream publisher queues from a batch of engine events (no server needed:
the queue is filled before anything is sent): subjects, ids and JSON payloads in
order, and an event that cannot be encoded costing only itself."""

from __future__ import annotations

import msgspec

from oms.bus.publisher import JetStreamPublisher, Outgoing
from oms.model import OrderStatus
from tests.unit.sample_events import fill, update


def test_a_batch_is_queued_in_order_and_a_bad_event_costs_only_itself() -> None:
    publisher = JetStreamPublisher("nats://127.0.0.1:1", lambda venue, symbol: symbol.replace("/", ""))
    bad = msgspec.structs.replace(update(2), reason=object())
    publisher.on_events([update(1), bad, fill(3), update(4, status=OrderStatus.FILLED)])
    queued: list[Outgoing] = publisher.queue.get_many(10)
    assert [(m.subject, m.msg_id) for m in queued] == [
        ("orders.binance.spot.BTCUSDT", "order:o1:NEW:0"),
        ("trades.binance.spot.BTCUSDT", "fill:binance:spot:3"),
        ("orders.binance.spot.BTCUSDT", "order:o1:FILLED:0"),
    ]
    assert [msgspec.json.decode(m.payload)["seq"] for m in queued] == [1, 3, 4]
    assert publisher.dropped == 1
    publisher.on_events([update(5, status=OrderStatus.CANCELED)])  # a good batch: one call, all of it
    assert [m.msg_id for m in publisher.queue.get_many(10)] == ["order:o1:CANCELED:0"]
