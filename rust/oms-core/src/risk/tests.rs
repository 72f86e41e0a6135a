//! Engine-level tests: every reject code reachable, reservations released exactly
//! once, concurrent checks never over-commit a limit.

use super::*;
use crate::side::Side;
use std::sync::Arc;

const V: &str = "binance:usdm";
const S: &str = "BTC/USDT:USDT";

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}
fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn ticket(side: Side, qty: &str, price: Option<&str>) -> OrderTicket {
    OrderTicket::new("main", V, S, side, q(qty), price.map(p), false).unwrap()
}
fn engine(limits: RiskLimits) -> RiskEngine {
    let e = RiskEngine::new();
    e.set_limits(Scope::Global, limits).unwrap();
    e.set_reference_price(V, S, p("100")).unwrap();
    e
}
fn code(e: &RiskEngine, t: &OrderTicket) -> &'static str {
    e.check(t).map_or_else(|r| r.code.as_str(), |()| "OK")
}

#[test]
fn order_size_notional_band_and_reference() {
    let e = engine(RiskLimits {
        max_order_qty: Some(q("5")),
        max_order_notional: Some(Amount::from_units(300)),
        price_band_bps: Some(100),
        ..Default::default()
    });
    assert_eq!(code(&e, &ticket(Side::Buy, "6", Some("100"))), "MAX_ORDER_QTY");
    assert_eq!(code(&e, &ticket(Side::Buy, "4", Some("100"))), "MAX_ORDER_NOTIONAL");
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("101.5"))), "PRICE_BAND");
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("101"))), "OK");
    assert_eq!(
        code(&e, &ticket(Side::Sell, "3", None)),
        "OK",
        "market order valued at the reference"
    );
    let unknown = OrderTicket::new("main", V, "ETH/USDT:USDT", Side::Buy, q("1"), Some(p("1")), false).unwrap();
    assert_eq!(code(&e, &unknown), "NO_REFERENCE_PRICE");
}

#[test]
fn worst_case_position_counts_open_orders_and_fills_release_them() {
    let e = engine(RiskLimits {
        max_position_qty: Some(q("2")),
        ..Default::default()
    });
    let a = ticket(Side::Buy, "1.5", Some("100"));
    assert_eq!(code(&e, &a), "OK");
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("100"))), "MAX_POSITION");
    e.on_fill(&a, q("1.5"), p("100")).unwrap();
    assert_eq!(e.position("main", V, S), q("1.5"));
    assert_eq!(a.state(), TicketState::Done);
    assert_eq!(code(&e, &ticket(Side::Buy, "0.5", Some("100"))), "OK");
    // Selling is limited on its own side: from +1.5, selling 3.5 reaches -2.
    assert_eq!(code(&e, &ticket(Side::Sell, "3.6", Some("100"))), "MAX_POSITION");
}

#[test]
fn open_order_caps_per_level_and_release_is_idempotent() {
    let e = engine(RiskLimits::default());
    e.set_limits(
        Scope::Venue(V.into()),
        RiskLimits {
            max_open_orders: Some(2),
            ..Default::default()
        },
    )
    .unwrap();
    let (a, b) = (ticket(Side::Buy, "1", Some("99")), ticket(Side::Buy, "1", Some("99")));
    assert_eq!((code(&e, &a), code(&e, &b)), ("OK", "OK"));
    let c = ticket(Side::Buy, "1", Some("99"));
    let reject = e.check(&c).unwrap_err();
    assert_eq!((reject.code, reject.level), (RejectCode::MaxOpenOrders, Level::Venue));
    assert!(e.release(&a));
    assert!(!e.release(&a), "a second release frees nothing");
    assert_eq!(code(&e, &c), "OK");
    assert_eq!(e.usage(Some(V), None).0, 2);
    assert_eq!(code(&e, &c), "DUPLICATE_ORDER");
}

#[test]
fn gross_exposure_per_venue_and_global() {
    let e = engine(RiskLimits {
        max_gross_exposure: Some(Amount::from_units(1_000)),
        ..Default::default()
    });
    let a = ticket(Side::Buy, "6", Some("100"));
    assert_eq!(code(&e, &a), "OK");
    assert_eq!(e.usage(None, None).1, Amount::from_units(600));
    assert_eq!(code(&e, &ticket(Side::Sell, "5", Some("100"))), "MAX_GROSS_EXPOSURE");
    e.on_fill(&a, q("6"), p("100")).unwrap();
    assert_eq!(
        e.usage(None, None).1,
        Amount::from_units(600),
        "open notional became position exposure"
    );
    e.set_reference_price(V, S, p("150")).unwrap();
    assert_eq!(
        e.usage(Some(V), None).1,
        Amount::from_units(900),
        "re-valued at the new reference"
    );
    // A reducing order is never blocked by exposure.
    assert_eq!(code(&e, &ticket(Side::Sell, "6", Some("150"))), "OK");
}

#[test]
fn leverage_cap_on_orders_and_on_changes() {
    let e = engine(RiskLimits {
        max_leverage: Some(q("20")),
        ..Default::default()
    });
    assert_eq!(
        e.set_leverage("main", V, S, q("25")).unwrap_err().code,
        RejectCode::MaxLeverage
    );
    e.set_leverage("main", V, S, q("10")).unwrap();
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("100"))), "OK");
    e.set_limits(
        Scope::Symbol {
            venue: None,
            symbol: S.into(),
        },
        RiskLimits {
            max_leverage: Some(q("5")),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("100"))), "MAX_LEVERAGE");
}

#[test]
fn order_rate_uses_a_burst_then_the_rate() {
    let e = engine(RiskLimits {
        max_orders_per_second: Some(10),
        order_burst: Some(2),
        ..Default::default()
    });
    let now = 1_000_000_000;
    let check = |at| {
        e.check_at(&ticket(Side::Buy, "0.01", Some("100")), at)
            .map_err(|r| r.code)
    };
    assert_eq!(check(now), Ok(()));
    assert_eq!(check(now), Ok(()));
    assert_eq!(check(now), Err(RejectCode::OrderRate));
    assert_eq!(check(now + 100_000_000), Ok(()));
    assert_eq!(e.usage(None, None).0, 3, "the rejected order reserved nothing");
}

#[test]
fn daily_loss_moves_active_reducing_halted() {
    let e = engine(RiskLimits {
        daily_loss_limit: Some(Amount::from_units(1_000)),
        ..Default::default()
    });
    e.set_position("main", V, S, q("2"));
    assert_eq!(e.update_daily_pnl(Amount::from_units(-500)), TradingState::Active);
    assert_eq!(e.update_daily_pnl(Amount::from_units(-800)), TradingState::Reducing);
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("100"))), "REDUCE_ONLY");
    assert_eq!(code(&e, &ticket(Side::Sell, "1", Some("100"))), "OK");
    assert_eq!(
        e.update_daily_pnl(Amount::from_units(-100)),
        TradingState::Reducing,
        "no automatic way back"
    );
    assert_eq!(e.update_daily_pnl(Amount::from_units(-1_000)), TradingState::Halted);
    let reject = e.check(&ticket(Side::Sell, "0.5", Some("100"))).unwrap_err();
    assert_eq!(
        (reject.code, reject.value_str(), reject.limit_str()),
        (RejectCode::DailyLoss, "1000".into(), "1000".into())
    );
    e.reset_daily();
    assert_eq!(e.trading_state().0, TradingState::Active);
}

#[test]
fn kill_switch_by_hand_survives_the_daily_reset() {
    let e = engine(RiskLimits::default());
    e.set_trading_state(TradingState::Halted);
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("100"))), "TRADING_HALTED");
    e.reset_daily();
    assert_eq!(e.trading_state(), (TradingState::Halted, StateCause::Manual));
    e.set_trading_state(TradingState::Active);
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("100"))), "OK");
}

#[test]
fn reduce_only_orders_must_reduce() {
    let e = engine(RiskLimits::default());
    let ro = |side, qty| OrderTicket::new("main", V, S, side, q(qty), Some(p("100")), true).unwrap();
    assert_eq!(code(&e, &ro(Side::Sell, "1")), "REDUCE_ONLY");
    e.set_position("main", V, S, q("1"));
    assert_eq!(code(&e, &ro(Side::Sell, "0.6")), "OK");
    assert_eq!(
        code(&e, &ro(Side::Sell, "0.6")),
        "REDUCE_ONLY",
        "with the open 0.6 it could flip"
    );
}

#[test]
fn every_reject_code_is_covered_above() {
    // Keeps this file honest when a code is added: extend the tests, then this list.
    let covered = [
        "MAX_ORDER_QTY",
        "MAX_ORDER_NOTIONAL",
        "MAX_POSITION",
        "MAX_GROSS_EXPOSURE",
        "MAX_LEVERAGE",
        "PRICE_BAND",
        "NO_REFERENCE_PRICE",
        "ORDER_RATE",
        "MAX_OPEN_ORDERS",
        "DAILY_LOSS",
        "TRADING_HALTED",
        "REDUCE_ONLY",
        "DUPLICATE_ORDER",
    ];
    let all: Vec<&str> = RejectCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(all, covered);
}

#[test]
fn concurrent_checks_never_over_commit_the_position_limit() {
    let e = Arc::new(engine(RiskLimits {
        max_position_qty: Some(q("100")),
        ..Default::default()
    }));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let e = e.clone();
            std::thread::spawn(move || {
                let mut accepted = Vec::new();
                for _ in 0..500 {
                    let t = ticket(Side::Buy, "1", Some("100"));
                    if e.check(&t).is_ok() {
                        accepted.push(t);
                    }
                }
                accepted
            })
        })
        .collect();
    let accepted: Vec<OrderTicket> = threads.into_iter().flat_map(|h| h.join().unwrap()).collect();
    assert_eq!(accepted.len(), 100, "exactly the limit, no more");
    for t in &accepted {
        assert!(e.release(t));
    }
    assert_eq!(e.usage(None, None), (0, Amount::ZERO));
}

#[test]
fn partial_fills_then_release_return_every_counter_to_zero() {
    let e = engine(RiskLimits {
        max_gross_exposure: Some(Amount::from_units(1_000_000)),
        ..Default::default()
    });
    let t = ticket(Side::Buy, "3", Some("99.99999999"));
    e.check(&t).unwrap();
    e.on_fill(&t, q("1"), p("99.5")).unwrap();
    e.on_fill(&t, q("0.3"), p("99.7")).unwrap();
    assert_eq!(t.remaining(), q("1.7"));
    assert!(e.release(&t));
    assert_eq!(e.usage(None, None).0, 0);
    // What remains is exactly the position (1.3 at reference 100).
    assert_eq!(e.usage(None, None).1, Amount::from_units(130));
    // A late fill after the release still moves the position, and frees nothing twice.
    e.on_fill(&t, q("0.7"), p("100")).unwrap();
    assert_eq!(e.position("main", V, S), q("2"));
    assert_eq!(e.usage(None, None), (0, Amount::from_units(200)));
}

#[test]
fn a_position_without_any_price_blocks_exposure_limited_orders() {
    let e = RiskEngine::new();
    e.set_limits(
        Scope::Global,
        RiskLimits {
            max_gross_exposure: Some(Amount::from_units(1_000)),
            ..Default::default()
        },
    )
    .unwrap();
    e.set_position("main", V, S, q("100"));
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("900"))), "NO_REFERENCE_PRICE");
    e.set_reference_price(V, S, p("1")).unwrap();
    assert_eq!(e.usage(None, None).1, Amount::from_units(100));
    assert_eq!(code(&e, &ticket(Side::Buy, "1", Some("1"))), "OK");
}

#[test]
fn one_ticket_checked_from_many_threads_is_accepted_once() {
    let e = Arc::new(engine(RiskLimits::default()));
    for _ in 0..200 {
        let t = Arc::new(ticket(Side::Buy, "1", Some("100")));
        let accepted: usize = (0..2)
            .map(|_| {
                let (e, t) = (e.clone(), t.clone());
                std::thread::spawn(move || usize::from(e.check(&t).is_ok()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(accepted, 1);
        assert!(e.release(&t));
    }
    assert_eq!(e.usage(None, None).0, 0, "nothing leaked");
}

#[test]
fn concurrent_reduce_only_orders_cannot_flip_the_position() {
    for _ in 0..50 {
        let e = Arc::new(engine(RiskLimits::default()));
        e.set_position("main", V, S, q("10"));
        let accepted: usize = (0..4)
            .map(|_| {
                let e = e.clone();
                std::thread::spawn(move || {
                    let t = OrderTicket::new("main", V, S, Side::Sell, q("10"), Some(p("100")), true).unwrap();
                    usize::from(e.check(&t).is_ok())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(accepted, 1);
    }
}

#[test]
fn notional_beyond_what_the_counters_hold_is_refused() {
    let e = engine(RiskLimits::default());
    let huge = OrderTicket::new("main", V, S, Side::Buy, Quantity::MAX, Some(Price::MAX), false).unwrap();
    assert_eq!(code(&e, &huge), "MAX_ORDER_NOTIONAL");
    // A KRW-sized book still fits: 1,000 BTC at 90,000,000 KRW.
    let krw = OrderTicket::new(
        "main",
        "upbit:spot",
        "BTC/KRW",
        Side::Buy,
        q("1000"),
        Some(p("90000000")),
        false,
    )
    .unwrap();
    assert_eq!(code(&e, &krw), "OK");
    assert_eq!(e.usage(Some("upbit:spot"), None).1, Amount::from_units(90_000_000_000));
}

#[test]
fn only_the_accepting_engine_can_fill_or_release_an_order() {
    let (a, b) = (engine(RiskLimits::default()), engine(RiskLimits::default()));
    let t = ticket(Side::Buy, "1", Some("100"));
    assert_eq!(code(&a, &t), "OK");
    assert!(b.on_fill(&t, q("1"), p("100")).is_err(), "another engine's fill");
    assert!(!b.release(&t), "another engine's release");
    assert_eq!(a.usage(None, None).0, 1, "the reservation is still held by its engine");
    assert!(a.release(&t));
    assert_eq!(a.usage(None, None).0, 0);
}

#[test]
fn a_check_overlapping_a_limits_change_sees_one_version_or_the_other() {
    // Version A refuses qty 10 by size, version B by notional; only a check that
    // mixed A's notional with B's size could accept it.
    let a = RiskLimits {
        max_order_qty: Some(q("1")),
        max_order_notional: Some(Amount::from_units(1_000_000)),
        ..Default::default()
    };
    let b = RiskLimits {
        max_order_qty: Some(q("1000")),
        max_order_notional: Some(Amount::from_units(10)),
        ..Default::default()
    };
    let e = Arc::new(engine(RiskLimits::default()));
    e.set_limits(
        Scope::Symbol {
            venue: None,
            symbol: S.into(),
        },
        a.clone(),
    )
    .unwrap();
    let writer = {
        let e = e.clone();
        std::thread::spawn(move || {
            for i in 0..20_000 {
                let next = if i % 2 == 0 { b.clone() } else { a.clone() };
                e.set_limits(
                    Scope::Symbol {
                        venue: None,
                        symbol: S.into(),
                    },
                    next,
                )
                .unwrap();
            }
        })
    };
    let mut codes = std::collections::BTreeSet::new();
    while !writer.is_finished() {
        let t = ticket(Side::Buy, "10", Some("100"));
        codes.insert(code(&e, &t));
    }
    writer.join().unwrap();
    assert!(!codes.contains("OK"), "accepted under a mix of two versions: {codes:?}");
    assert_eq!(
        e.usage(None, None),
        (0, Amount::ZERO),
        "a retried check left counters behind"
    );
}
