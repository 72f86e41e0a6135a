//! Live risk state kept in atomics, so checks from several threads never take a lock.

use crate::fixed::{Amount, Price, Quantity};
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::Arc;

/// Exposure counters count 10^-4 quote units (rounded up: conservative), so an `i64`
/// holds ~9.2e14 quote units, enough for KRW books.
pub const EXPOSURE_DIGITS: u32 = 4;
/// Largest exposure one order or position may carry (~1.15e14 quote units), far below
/// `i64::MAX` so sums over many of them cannot wrap.
pub const MAX_EXPOSURE: i64 = i64::MAX / 8;

/// An amount in exposure units (rounded up, capped at MAX_EXPOSURE).
pub fn exposure_units(amount: Amount) -> i64 {
    amount.to_scaled_ceil(EXPOSURE_DIGITS).min(MAX_EXPOSURE)
}

/// `exposure_units(Amount::notional(|qty|, price))` without 128-bit division, which
/// is a library call costing more than the rest of a check. qty and price are split
/// at 10^6 so every partial product and quotient fits a `u64` (constant divisors
/// compile to multiplications). Negative prices count as zero.
pub fn exposure_of(qty: Quantity, price: Price) -> i64 {
    const M: u64 = 1_000_000;
    const M2: u64 = M * M; // 10^(16 - EXPOSURE_DIGITS)
    let q = qty.raw().unsigned_abs();
    let p = price.raw().max(0).unsigned_abs();
    let (q1, q0, p1, p0) = (q / M, q % M, p / M, p % M);
    let (a, b) = (q1 * p0, q0 * p1); // each < 9.3e12 * 10^6
                                     // q*p = (q1*p1 + a/M + b/M) * M2 + low
    let low = (a % M + b % M) * M + q0 * p0;
    let whole = q1
        .checked_mul(p1)
        .and_then(|w| w.checked_add(a / M + b / M + low / M2))
        .map_or(u64::MAX, |w| w.saturating_add(u64::from(low % M2 != 0)));
    whole.min(MAX_EXPOSURE.unsigned_abs()) as i64
}

pub fn exposure_amount(units: i64) -> Amount {
    Amount::from_scaled(units, EXPOSURE_DIGITS)
}

/// Counters of one level: open orders, gross exposure (exposure units), order rate.
#[derive(Default, Debug)]
pub struct Counters {
    pub open_orders: AtomicI64,
    pub exposure: AtomicI64,
    pub rate: Gcra,
}

/// Generic cell rate algorithm: one atomic "theoretical arrival time" per limit.
/// Lock-free, O(1), and exact about bursts.
#[derive(Default, Debug)]
pub struct Gcra {
    tat_ns: AtomicI64,
}

impl Gcra {
    /// Take one slot at `now_ns` if the rate allows it.
    pub fn try_acquire(&self, now_ns: i64, interval_ns: i64, tolerance_ns: i64) -> bool {
        let mut tat = self.tat_ns.load(Ordering::Relaxed);
        loop {
            let start = tat.max(now_ns);
            if start - now_ns > tolerance_ns {
                return false;
            }
            match self
                .tat_ns
                .compare_exchange_weak(tat, start + interval_ns, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(current) => tat = current,
            }
        }
    }

    /// Give back a slot taken by `try_acquire` (the order was rejected later).
    pub fn give_back(&self, interval_ns: i64) {
        self.tat_ns.fetch_sub(interval_ns, Ordering::AcqRel);
    }
}

/// Per (venue, symbol): the reference price every account's order is checked against.
#[derive(Default, Debug)]
pub struct MarketState {
    /// 0 when unknown.
    pub reference_price: AtomicI64,
}

/// Per (account, venue, symbol) instrument. `repr(C)` with what every check reads
/// first, so those fields share the first cache line.
#[derive(Debug)]
#[repr(C)]
pub struct InstrumentState {
    pub position: AtomicI64,
    pub open_buy: AtomicI64,
    pub open_sell: AtomicI64,
    /// Leverage setting, 10^-8 units; 0 when not set.
    pub leverage: AtomicI64,
    pub market: Arc<MarketState>,
    /// Counters shared with other instruments: its venue, its account, global.
    shared: [Arc<Counters>; 3],
    /// This instrument's own counters (the first of the four levels), kept inline
    /// so a check touches fewer cache lines.
    own: Counters,
    /// Last fill price: values the position when no reference price is known.
    pub last_price: AtomicI64,
    /// |position| x price as last added to every level's exposure (exposure units).
    pub position_exposure: AtomicI64,
}

impl InstrumentState {
    pub fn new(market: Arc<MarketState>, venue: Arc<Counters>, account: Arc<Counters>, global: Arc<Counters>) -> Self {
        InstrumentState {
            position: AtomicI64::new(0),
            open_buy: AtomicI64::new(0),
            open_sell: AtomicI64::new(0),
            leverage: AtomicI64::new(0),
            last_price: AtomicI64::new(0),
            position_exposure: AtomicI64::new(0),
            market,
            own: Counters::default(),
            shared: [venue, account, global],
        }
    }

    /// Counters of the four levels: this instrument, its venue, its account, global.
    pub fn levels(&self) -> [&Counters; 4] {
        [&self.own, &self.shared[0], &self.shared[1], &self.shared[2]]
    }

    pub fn open_on(&self, buy: bool) -> &AtomicI64 {
        if buy {
            &self.open_buy
        } else {
            &self.open_sell
        }
    }

    /// Price that values the position: the reference price, else the last fill.
    pub fn valuation_price(&self) -> i64 {
        match self.market.reference_price.load(Ordering::Acquire) {
            0 => self.last_price.load(Ordering::Acquire),
            p => p,
        }
    }

    /// Re-value |position| and move every level's exposure by the difference.
    /// A compare-and-swap loop: a racing re-valuation that read an older position
    /// fails its swap and recomputes, so no update is lost.
    pub fn refresh_position_exposure(&self) {
        loop {
            let before = self.position_exposure.load(Ordering::Acquire);
            let qty = Quantity::from_raw(self.position.load(Ordering::Acquire));
            let value = exposure_of(qty, Price::from_raw(self.valuation_price()));
            if self
                .position_exposure
                .compare_exchange(before, value, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                self.add_exposure(value - before);
                return;
            }
        }
    }

    pub fn add_exposure(&self, delta: i64) {
        if delta != 0 {
            for level in self.levels() {
                level.exposure.fetch_add(delta, Ordering::AcqRel);
            }
        }
    }
}

/// Trading state of the whole book.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TradingState {
    Active = 0,
    /// Only risk-reducing orders.
    Reducing = 1,
    /// Kill switch: nothing new.
    Halted = 2,
}

impl TradingState {
    pub fn as_str(self) -> &'static str {
        match self {
            TradingState::Active => "ACTIVE",
            TradingState::Reducing => "REDUCING",
            TradingState::Halted => "HALTED",
        }
    }

    pub fn parse(text: &str) -> Option<TradingState> {
        match text {
            "ACTIVE" => Some(TradingState::Active),
            "REDUCING" => Some(TradingState::Reducing),
            "HALTED" => Some(TradingState::Halted),
            _ => None,
        }
    }

    fn from_u8(v: u8) -> TradingState {
        match v {
            1 => TradingState::Reducing,
            2 => TradingState::Halted,
            _ => TradingState::Active,
        }
    }
}

/// Why the state is what it is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum StateCause {
    None = 0,
    Manual = 1,
    DailyLoss = 2,
}

/// The state and its cause in one atomic byte (so they can never disagree), plus
/// the state last set by hand: the floor a new trading day returns to.
#[derive(Debug, Default)]
pub struct StateCell {
    packed: AtomicU8,
    manual: AtomicU8,
}

fn pack(state: TradingState, cause: StateCause) -> u8 {
    state as u8 | (cause as u8) << 4
}

fn unpack(v: u8) -> (TradingState, StateCause) {
    let cause = match v >> 4 {
        1 => StateCause::Manual,
        2 => StateCause::DailyLoss,
        _ => StateCause::None,
    };
    (TradingState::from_u8(v & 0x0f), cause)
}

impl StateCell {
    pub fn get(&self) -> (TradingState, StateCause) {
        unpack(self.packed.load(Ordering::Acquire))
    }

    /// Set by hand: also becomes the floor `reset` returns to.
    pub fn set_manual(&self, state: TradingState) {
        self.manual.store(state as u8, Ordering::Release);
        let cause = if state == TradingState::Active {
            StateCause::None
        } else {
            StateCause::Manual
        };
        self.packed.store(pack(state, cause), Ordering::Release);
    }

    /// Move to `state` only if that is an escalation (ACTIVE < REDUCING < HALTED).
    pub fn escalate(&self, state: TradingState, cause: StateCause) -> bool {
        let mut current = self.packed.load(Ordering::Acquire);
        while (current & 0x0f) < state as u8 {
            match self
                .packed
                .compare_exchange(current, pack(state, cause), Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(now) => current = now,
            }
        }
        false
    }

    /// A new day: back to the state last set by hand (ACTIVE if none).
    pub fn reset(&self) {
        self.set_manual(TradingState::from_u8(self.manual.load(Ordering::Acquire)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn exposure_of_equals_the_exact_128_bit_division(q in any::<i64>(), p in 0i64..=i64::MAX) {
            let exact = exposure_units(Amount::notional(Quantity::from_raw(q.saturating_abs()), Price::from_raw(p)));
            prop_assert_eq!(exposure_of(Quantity::from_raw(q), Price::from_raw(p)), exact);
        }

        #[test]
        fn exposure_of_small_values(q in 0i64..10_000_000_000, p in 0i64..10_000_000_000_000) {
            let exact = exposure_units(Amount::notional(Quantity::from_raw(q), Price::from_raw(p)));
            prop_assert_eq!(exposure_of(Quantity::from_raw(q), Price::from_raw(p)), exact);
        }
    }

    #[test]
    fn exposure_of_edges() {
        for (q, p) in [
            (0, 0),
            (1, 1),
            (i64::MAX, i64::MAX),
            (i64::MIN, 5),
            (999_999, 999_999),
            (1_000_000, 1_000_000),
        ] {
            let exact = exposure_units(Amount::notional(
                Quantity::from_raw(q.saturating_abs()),
                Price::from_raw(p),
            ));
            assert_eq!(
                exposure_of(Quantity::from_raw(q), Price::from_raw(p)),
                exact,
                "{q} x {p}"
            );
        }
    }

    #[test]
    fn gcra_allows_the_burst_then_the_rate() {
        let g = Gcra::default();
        let (interval, tolerance) = (100, 200); // 3 at once, then one per 100 ns
        let now = 1_000;
        assert!(g.try_acquire(now, interval, tolerance));
        assert!(g.try_acquire(now, interval, tolerance));
        assert!(g.try_acquire(now, interval, tolerance));
        assert!(!g.try_acquire(now, interval, tolerance));
        assert!(g.try_acquire(now + 100, interval, tolerance));
        assert!(!g.try_acquire(now + 100, interval, tolerance));
        g.give_back(interval);
        assert!(g.try_acquire(now + 100, interval, tolerance));
    }

    #[test]
    fn state_only_escalates_automatically() {
        let cell = StateCell::default();
        assert!(cell.escalate(TradingState::Reducing, StateCause::DailyLoss));
        assert!(!cell.escalate(TradingState::Active, StateCause::DailyLoss));
        assert!(cell.escalate(TradingState::Halted, StateCause::DailyLoss));
        assert_eq!(cell.get(), (TradingState::Halted, StateCause::DailyLoss));
        cell.set_manual(TradingState::Active);
        assert_eq!(cell.get().0, TradingState::Active);
        // A manual REDUCING survives a loss-caused HALT and the next day's reset.
        cell.set_manual(TradingState::Reducing);
        assert!(cell.escalate(TradingState::Halted, StateCause::DailyLoss));
        cell.reset();
        assert_eq!(cell.get(), (TradingState::Reducing, StateCause::Manual));
    }
}
