//! Criterion benches of the core's hot paths, from Rust (no Python in the loop).
//! Run with `make bench` (or `cargo bench -p oms-core`).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use oms_core::fixed::{Amount, Price, Quantity};
use oms_core::positions::{PositionBook, PositionKey};
use oms_core::queue::Queue;
use oms_core::risk::{OrderTicket, RiskEngine, RiskLimits, Scope};
use oms_core::Side;
use std::hint::black_box;

fn positions(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut book = PositionBook::create_at(dir.path().join("bench.positions"), 64, false).unwrap();
    let key = PositionKey::new("main", "binance:usdm", "BTC/USDT:USDT").unwrap();
    let qty = Quantity::parse("0.01").unwrap();
    let (bid, ask) = (Price::parse("50000").unwrap(), Price::parse("50001.5").unwrap());
    let fee = Amount::parse("0.05").unwrap();
    let mut buy = true;
    c.bench_function("positions/apply_fill (shm, seqlock publish)", |b| {
        b.iter(|| {
            let (side, price) = if buy { (Side::Buy, bid) } else { (Side::Sell, ask) };
            buy = !buy;
            black_box(book.apply_fill(&key, side, qty, price, fee, Some(1)).unwrap());
        })
    });
    c.bench_function("positions/read (seqlock)", |b| {
        b.iter(|| black_box(book.get(&key).unwrap()))
    });
}

fn risk(c: &mut Criterion) {
    let engine = RiskEngine::new();
    engine
        .set_limits(
            Scope::Global,
            RiskLimits {
                max_order_qty: Some(Quantity::from_units(10).unwrap()),
                max_order_notional: Some(Amount::from_units(1_000_000)),
                max_position_qty: Some(Quantity::from_units(1_000_000).unwrap()),
                max_gross_exposure: Some(Amount::from_units(1_000_000_000_000)),
                price_band_bps: Some(500),
                max_open_orders: Some(10_000_000),
                ..Default::default()
            },
        )
        .unwrap();
    engine
        .set_reference_price("binance:spot", "BTC/USDT", Price::parse("50000").unwrap())
        .unwrap();
    let make = || {
        OrderTicket::new(
            "main",
            "binance:spot",
            "BTC/USDT",
            Side::Buy,
            Quantity::parse("0.01").unwrap(),
            Some(Price::parse("50010").unwrap()),
            false,
        )
        .unwrap()
    };
    c.bench_function("risk/check+release (all rules on)", |b| {
        b.iter_batched_ref(
            make,
            |ticket| {
                engine.check(ticket).unwrap();
                engine.release(ticket);
            },
            BatchSize::SmallInput,
        )
    });
    // The parts, so the check's cost can be read off: release is the reservation's
    // atomics plus the route lookup by id; lookup is a read-only position view (intern
    // table probe, route table index).
    c.bench_function("risk/release (atomics of one reservation)", |b| {
        b.iter_batched_ref(
            || {
                let ticket = make();
                engine.check(&ticket).unwrap();
                ticket
            },
            |ticket| black_box(engine.release(ticket)),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("risk/lookup (position view by name)", |b| {
        b.iter(|| black_box(engine.position("main", "binance:spot", "BTC/USDT")))
    });
}

fn queue(c: &mut Criterion) {
    let q = Queue::new(1024).unwrap();
    c.bench_function("queue/put+get (one thread)", |b| {
        b.iter(|| {
            q.try_put(black_box(1u64)).unwrap();
            black_box(q.try_get().unwrap());
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = positions, risk, queue
}
criterion_main!(benches);
