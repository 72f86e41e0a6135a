"""The engine's event hub: numbered events to callbacks as they happen, and to batch
sinks (the journal, the publishers) in order once the event loop is free, at most
``BATCH_EVERY`` events apart when it never is, at once without a loop."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import msgspec

from oms.engine.events import BATCH_EVERY, EngineEvent, EventHub, OrderUpdate, RiskDecision
from oms.model import Order, OrderRequest, OrderType, Side


def refusal(hub: EventHub) -> RiskDecision:
    return RiskDecision(
        seq=hub.next_seq(),
        venue="binance:spot",
        symbol="BTC/USDT",
        account="default",
        side=Side.BUY,
        qty=Decimal("0.1"),
        code="MAX_ORDER_QTY",
        message="too big",
        ts_ns=1,
    )


def test_batch_sinks_get_the_events_once_the_loop_is_free_or_every_batch_every() -> None:
    hub = EventHub(start=1)
    batches: list[list[int]] = []
    seen: list[int] = []
    hub.on_batch(lambda events: batches.append([e.seq for e in events]))  # type: ignore[union-attr]
    hub.on(lambda event: seen.append(event.seq))  # type: ignore[union-attr]

    async def main() -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
        hub.emit(refusal(hub))
        before_a_turn = list(batches)  # the emitter's caller answers first
        await asyncio.sleep(0)
        after_a_turn = list(batches)
        for _ in range(BATCH_EVERY):  # a loop that is never free
            hub.emit(refusal(hub))
        busy = list(batches)
        await asyncio.sleep(0)
        return before_a_turn, after_a_turn, busy

    before_a_turn, after_a_turn, busy = asyncio.run(main())
    assert before_a_turn == [] and after_a_turn == [[1]]
    assert busy == [[1], list(range(2, 2 + BATCH_EVERY))]  # handed over at the bound
    assert batches == busy  # nothing kept beyond it
    assert seen == list(range(1, 2 + BATCH_EVERY))  # callbacks: each event at once
    hub.emit(refusal(hub))  # no event loop at all: at once
    assert batches[-1] == [2 + BATCH_EVERY]


def test_a_removed_sink_gets_what_was_kept_and_a_failing_sink_costs_no_other() -> None:
    hub = EventHub(start=1)
    got: list[EngineEvent] = []

    def broken(events: list[EngineEvent]) -> None:
        raise RuntimeError("disk on fire")

    hub.on_batch(broken)
    remove = hub.on_batch(got.extend)

    async def main() -> None:
        hub.emit(refusal(hub))
        hub.emit(refusal(hub))
        remove()  # before the loop had a turn: handed over now
        hub.emit(refusal(hub))
        await asyncio.sleep(0)

    asyncio.run(main())
    assert [e.seq for e in got] == [1, 2]


def test_a_loop_that_closed_with_a_drain_due_does_not_hold_the_next_loops_events() -> None:
    hub = EventHub(start=1)
    batches: list[list[int]] = []
    hub.on_batch(lambda events: batches.append([e.seq for e in events]))  # type: ignore[union-attr]
    loop = asyncio.new_event_loop()

    async def emit_as_the_loop_stops() -> None:
        loop.stop()  # this turn is its last: the drain it schedules never runs
        hub.emit(refusal(hub))

    async def emit_and_turn() -> None:
        hub.emit(refusal(hub))
        await asyncio.sleep(0)

    task = loop.create_task(emit_as_the_loop_stops())
    loop.run_forever()
    loop.close()
    assert task.done() and batches == []
    asyncio.run(emit_and_turn())
    assert batches == [[1, 2]]


def test_a_records_sink_gets_the_cores_records_and_the_others_the_same_events_as_structs() -> None:
    request = OrderRequest(
        venue="binance:spot",
        symbol="BTC/USDT",
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=Decimal("0.25"),
        price=Decimal("50000.01"),
        account="desk-1",
    ).validate()
    order = Order(id="o1", request=request, client_order_id='c"1', created_ns=7, updated_ns=7)
    order.transition("NEW", reason="placed", ts_ns=8)
    hub = EventHub(start=1)
    records: list[object] = []
    structs: list[EngineEvent] = []
    hub.on_batch(records.extend, records=True)
    hub.on_batch(structs.extend)
    hub.emit_order(order)  # no loop: handed over at once
    [record], [event] = records, structs
    assert type(event) is OrderUpdate and event == record.event()  # type: ignore[attr-defined]
    assert (event.seq, event.side, event.type, event.status, event.reason) == (
        1,
        Side.SELL,
        "LIMIT",
        "NEW",
        "placed",
    )
    assert (event.qty, event.price, event.filled_qty, event.avg_price) == (
        Decimal("0.25"),
        Decimal("50000.01"),
        0,
        None,
    )
    # the core's journal line says what msgspec would say of the Struct
    line = record.json()  # type: ignore[attr-defined]
    assert line.endswith(b"\n")
    assert msgspec.json.decode(line) == msgspec.json.decode(msgspec.json.encode(event))
