//! Pre-trade risk engine.
//!
//! `check` runs every rule against an [`OrderTicket`] and, on accept, reserves the
//! order's worst case (side quantity, open-order counts, exposure, rate slots) so
//! that concurrent checks see each other. Fills move reserved quantity into the
//! position; `release` (cancel, reject, expiry) frees what is left.
//!
//! Concurrency: each known instrument has a `Route` (live counters and resolved
//! limits) in an append-only table, found by the order's interned id; limits are
//! rewritten in place under a seqlock on the rare change (a check that overlaps a
//! change runs again). The configuration as set (limits per scope, counters per
//! venue and account) is an immutable snapshot behind an `ArcSwap`, replaced whole
//! under a mutex and never read by the check. Live figures are atomics. The check
//! path takes no lock and allocates nothing once an instrument has been seen; the
//! first order for a new (account, venue, symbol) builds its route on a slow path.

pub mod keys;
pub mod limits;
pub mod live_limits;
pub mod reject;
mod route_table;
pub mod rules;
pub mod state;
mod tables;
#[cfg(test)]
mod tests;
pub mod ticket;

pub use keys::{InstrumentId, InstrumentKey};
pub use limits::{LevelLimits, RateParams, RiskLimits, Scope};
pub use reject::{Level, Reject, RejectCode};
pub use state::{StateCause, TradingState};
pub use ticket::{OrderTicket, TicketState};

use crate::error::Result;
use crate::fixed::{Amount, Price, Quantity};
use arc_swap::ArcSwap;
use live_limits::LimitsRead;
use route_table::RouteTable;
use state::{exposure_amount, exposure_of, InstrumentState, StateCell, MAX_EXPOSURE};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tables::{Route, Snapshot};

/// Source of engine ids: an accepted ticket records its engine's id, so a fill or
/// release handed to another engine is refused instead of moving the wrong counters.
static NEXT_ENGINE_ID: AtomicU64 = AtomicU64::new(1);

pub struct RiskEngine {
    id: u64,
    /// Configuration as set; read on slow paths only.
    snapshot: ArcSwap<Snapshot>,
    routes: RouteTable,
    /// Serialises configuration changes (never taken by `check`).
    config: Mutex<()>,
    state: StateCell,
    /// Daily P&L as last reported, 10^-8 units (negative = loss).
    daily_pnl: AtomicI64,
    /// Global daily loss limit, 10^-8 units (0 = none); copied here for the reject message.
    daily_loss_limit: AtomicI64,
}

impl Default for RiskEngine {
    fn default() -> Self {
        Self::new()
    }
}

/// Monotonic clock in ns (the order-rate limits' time base).
pub fn monotonic_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid out-pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

impl RiskEngine {
    pub fn new() -> Self {
        RiskEngine {
            id: NEXT_ENGINE_ID.fetch_add(1, Ordering::Relaxed),
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            routes: RouteTable::default(),
            config: Mutex::new(()),
            state: StateCell::default(),
            daily_pnl: AtomicI64::new(0),
            daily_loss_limit: AtomicI64::new(0),
        }
    }

    // ---- configuration (slow path) ----

    /// Set (replace) the limits of one scope.
    pub fn set_limits(&self, scope: Scope, limits: RiskLimits) -> Result<()> {
        limits.validate(&scope)?;
        let _guard = self.config.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = (**self.snapshot.load()).clone();
        next.limits.set(scope, limits);
        for route in self.routes.iter() {
            route.limits.store(&next.limits.resolve(&route.key));
        }
        let loss_limit = next.limits.global().daily_loss_limit.map_or(0, Amount::to_raw8_ceil);
        self.daily_loss_limit.store(loss_limit, Ordering::Release);
        self.snapshot.store(Arc::new(next));
        Ok(())
    }

    /// Limits configured at exactly this scope (not merged).
    pub fn limits(&self, scope: &Scope) -> Option<RiskLimits> {
        self.snapshot.load().limits.get(scope).cloned()
    }

    /// Route for an instrument, building its state on first use.
    fn route(&self, account: &str, venue: &str, symbol: &str) -> &Route {
        let (id, key) = keys::intern(account, venue, symbol);
        self.route_of(id, key)
    }

    fn route_of(&self, id: InstrumentId, key: Arc<InstrumentKey>) -> &Route {
        if let Some(route) = self.routes.get(id) {
            return route;
        }
        // Under the mutex, so the route is built from the latest limits and no
        // limits change can miss it.
        let _guard = self.config.lock().unwrap_or_else(|e| e.into_inner());
        self.routes.get_or_insert(id, || {
            let mut next = (**self.snapshot.load()).clone();
            let route = next.new_route(key);
            self.snapshot.store(Arc::new(next));
            route
        })
    }

    /// Run `f` on the instrument state of an order this engine accepted (None if
    /// it did not).
    fn with_accepted<R>(&self, ticket: &OrderTicket, f: impl FnOnce(&InstrumentState) -> R) -> Option<R> {
        if ticket.engine() != self.id {
            return None;
        }
        self.routes.get(ticket.id).map(|r| f(&r.instrument))
    }

    fn instrument(&self, account: &str, venue: &str, symbol: &str) -> &InstrumentState {
        &self.route(account, venue, symbol).instrument
    }

    /// Reference price of (venue, symbol) for price bands, market-order notional
    /// and valuing positions; re-values every account's position there.
    pub fn set_reference_price(&self, venue: &str, symbol: &str, price: Price) -> Result<()> {
        if price.raw() <= 0 {
            return Err(crate::error::Error::invalid(
                "price",
                format!("reference price {price} must be positive"),
            ));
        }
        let market = {
            let snapshot = self.snapshot.load();
            match snapshot.markets.get(&tables::MarketRef { venue, symbol }) {
                Some(m) => m.clone(),
                None => {
                    drop(snapshot);
                    let _guard = self.config.lock().unwrap_or_else(|e| e.into_inner());
                    let mut next = (**self.snapshot.load()).clone();
                    let m = next.market(venue, symbol);
                    self.snapshot.store(Arc::new(next));
                    m
                }
            }
        };
        market.reference_price.store(price.raw(), Ordering::Release);
        for route in self.routes.iter() {
            if Arc::ptr_eq(&route.instrument.market, &market) {
                route.instrument.refresh_position_exposure();
            }
        }
        Ok(())
    }

    /// Overwrite the position (recovery, reconciliation with the venue).
    pub fn set_position(&self, account: &str, venue: &str, symbol: &str, qty: Quantity) {
        let inst = self.instrument(account, venue, symbol);
        inst.position.store(qty.raw(), Ordering::Release);
        inst.refresh_position_exposure();
    }

    /// Record a leverage change, refusing one above the applicable cap.
    pub fn set_leverage(
        &self,
        account: &str,
        venue: &str,
        symbol: &str,
        leverage: Quantity,
    ) -> std::result::Result<(), Reject> {
        let route = self.route(account, venue, symbol);
        route
            .limits
            .consistent(|limits| rules::max_leverage(leverage.raw(), limits.max_leverage()))?;
        route.instrument.leverage.store(leverage.raw(), Ordering::Release);
        Ok(())
    }

    // ---- trading state ----

    pub fn trading_state(&self) -> (TradingState, StateCause) {
        self.state.get()
    }

    /// Set the state by hand (kill switch, resume).
    pub fn set_trading_state(&self, state: TradingState) {
        self.state.set_manual(state);
    }

    /// Report the day's P&L (realized + unrealized, negative = loss); escalates
    /// ACTIVE -> REDUCING -> HALTED at the configured thresholds. Never de-escalates:
    /// a person resumes, or `reset_daily` starts a new day.
    pub fn update_daily_pnl(&self, pnl: Amount) -> TradingState {
        self.daily_pnl.store(pnl.to_raw8_ceil(), Ordering::Release);
        let snapshot = self.snapshot.load();
        let limits = snapshot.limits.global();
        let loss = pnl.raw().saturating_neg();
        if let Some(limit) = limits.daily_loss_limit {
            if loss >= limit.raw() {
                self.state.escalate(TradingState::Halted, StateCause::DailyLoss);
            }
        }
        if let Some(reducing) = limits.reducing_threshold() {
            if loss >= reducing.raw() {
                self.state.escalate(TradingState::Reducing, StateCause::DailyLoss);
            }
        }
        self.state.get().0
    }

    pub fn daily_pnl(&self) -> Amount {
        Amount::from_raw8(self.daily_pnl.load(Ordering::Acquire))
    }

    /// New trading day: P&L back to zero and a loss-caused state lifted; the state
    /// last set by hand (ACTIVE if none) is restored, so a manual halt stays.
    pub fn reset_daily(&self) {
        self.daily_pnl.store(0, Ordering::Release);
        self.state.reset();
    }

    // ---- the check (hot path) ----

    pub fn check(&self, ticket: &OrderTicket) -> std::result::Result<(), Reject> {
        self.check_with_clock(ticket, monotonic_ns)
    }

    /// `check` with an explicit monotonic time (for deterministic tests of rates).
    pub fn check_at(&self, ticket: &OrderTicket, now_ns: i64) -> std::result::Result<(), Reject> {
        self.check_with_clock(ticket, || now_ns)
    }

    /// The clock is read only when some level of the instrument has a rate limit.
    fn check_with_clock(&self, ticket: &OrderTicket, clock: impl Fn() -> i64) -> std::result::Result<(), Reject> {
        if !ticket.begin_check() {
            return Err(Reject::bare(RejectCode::DuplicateOrder));
        }
        let route = match self.routes.get(ticket.id) {
            Some(route) => route,
            // First order of this instrument on this engine: build its route.
            None => self.route(ticket.account(), ticket.venue(), ticket.symbol()),
        };
        let result = loop {
            let limits = route.limits.read();
            match self.check_route(ticket, route, &limits, &clock) {
                Ok(Attempt::Accepted) => break Ok(()),
                Err(reject) if limits.unchanged() => break Err(reject),
                // The limits changed while the check ran; it left no trace: run it again.
                _ => continue,
            }
        };
        if result.is_err() {
            ticket.abort_check();
        }
        result
    }

    fn check_route(
        &self,
        ticket: &OrderTicket,
        route: &Route,
        limits: &LimitsRead<'_>,
        clock: impl Fn() -> i64,
    ) -> std::result::Result<Attempt, Reject> {
        let inst = &route.instrument;
        let buy = ticket.is_buy();
        let qty = ticket.qty.raw();
        let position = inst.position.load(Ordering::Acquire);
        let reduces = rules::reduces_position(buy, qty, position, inst.open_on(buy).load(Ordering::Acquire));

        let (state, cause) = self.state.get();
        let loss = -i128::from(self.daily_pnl.load(Ordering::Acquire));
        rules::trading_state(
            state,
            cause,
            reduces,
            loss,
            self.daily_loss_limit.load(Ordering::Acquire).into(),
        )?;
        rules::reduce_only(ticket.reduce_only, reduces)?;
        rules::max_order_qty(ticket.qty, limits.max_order_qty())?;
        let reference = inst.market.reference_price.load(Ordering::Acquire);
        rules::price_band(ticket.price(), reference, limits.price_band_bps())?;
        let valuation = ticket.price().map_or(reference, Price::raw);
        let max_notional = limits.max_order_notional();
        let has_exposure_limit = limits.has_exposure_limit();
        if valuation <= 0 && (max_notional.is_some() || has_exposure_limit) {
            return Err(Reject::bare(RejectCode::NoReferencePrice));
        }
        if has_exposure_limit && position != 0 && inst.valuation_price() <= 0 {
            // The position cannot be valued, so gross exposure cannot be bounded.
            return Err(Reject::bare(RejectCode::NoReferencePrice));
        }
        let notional = Amount::notional(ticket.qty, Price::from_raw(valuation.max(0)));
        rules::max_order_notional(notional, max_notional)?;
        rules::max_order_notional(notional, Some((exposure_amount(MAX_EXPOSURE), Level::Global)))?;
        if !reduces {
            rules::max_leverage(inst.leverage.load(Ordering::Acquire), limits.max_leverage())?;
        }
        let now_ns = if limits.has_rate_limit() { clock() } else { 0 };
        let exposure = exposure_of(ticket.qty, Price::from_raw(valuation.max(0)));
        let must_reduce = ticket.reduce_only || state == TradingState::Reducing;
        Reservation::new(route, limits, buy, qty, exposure, reduces, now_ns).commit(
            self.id,
            ticket,
            valuation,
            must_reduce,
        )
    }

    /// A fill of `qty` at `price`: moves reserved quantity into the position. Fills
    /// beyond the order quantity (or after release) still move the position — the
    /// venue's truth wins — but release nothing twice.
    pub fn on_fill(&self, ticket: &OrderTicket, qty: Quantity, price: Price) -> Result<()> {
        if qty.raw() <= 0 || price.raw() <= 0 {
            return Err(crate::error::Error::invalid(
                "fill",
                format!("quantity {qty} and price {price} must be positive"),
            ));
        }
        self.with_accepted(ticket, |inst| Self::fill(inst, ticket, qty, price))
            .ok_or_else(|| {
                crate::error::Error::invalid("ticket", "this order was never accepted by this engine's check()")
            })
    }

    fn fill(inst: &InstrumentState, ticket: &OrderTicket, qty: Quantity, price: Price) {
        let buy = ticket.is_buy();
        let signed = if buy { qty.raw() } else { -qty.raw() };
        inst.position.fetch_add(signed, Ordering::AcqRel);
        inst.last_price.store(price.raw(), Ordering::Release);
        let taken = ticket.take_remaining(qty.raw());
        inst.open_on(buy).fetch_sub(taken, Ordering::AcqRel);
        let done = ticket.remaining.load(Ordering::Acquire) == 0;
        let part = exposure_of(
            Quantity::from_raw(taken),
            Price::from_raw(ticket.reserved_price.load(Ordering::Acquire)),
        );
        let freed = ticket.take_exposure(if done { None } else { Some(part) });
        inst.add_exposure(-freed);
        inst.refresh_position_exposure();
        if done && ticket.finish() {
            for level in inst.levels() {
                level.open_orders.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// The order ended without (fully) filling: free what it still reserves.
    /// Returns false when there was nothing to free (already done, or never open).
    pub fn release(&self, ticket: &OrderTicket) -> bool {
        self.with_accepted(ticket, |inst| Self::free(inst, ticket))
            .unwrap_or(false)
    }

    fn free(inst: &InstrumentState, ticket: &OrderTicket) -> bool {
        if !ticket.finish() {
            return false;
        }
        let taken = ticket.take_remaining(i64::MAX);
        inst.open_on(ticket.is_buy()).fetch_sub(taken, Ordering::AcqRel);
        inst.add_exposure(-ticket.take_exposure(None));
        for level in inst.levels() {
            level.open_orders.fetch_sub(1, Ordering::AcqRel);
        }
        true
    }

    // ---- read-only views ----

    pub fn position(&self, account: &str, venue: &str, symbol: &str) -> Quantity {
        let Some((id, _)) = keys::find(account, venue, symbol) else {
            return Quantity::ZERO;
        };
        self.routes.get(id).map_or(Quantity::ZERO, |r| {
            Quantity::from_raw(r.instrument.position.load(Ordering::Acquire))
        })
    }

    /// Open orders and gross exposure at a level: global with no arguments, or one
    /// venue, or one account.
    pub fn usage(&self, venue: Option<&str>, account: Option<&str>) -> (i64, Amount) {
        let snapshot = self.snapshot.load();
        let counters = match (venue, account) {
            (Some(v), _) => snapshot.venues.get(v).cloned(),
            (None, Some(a)) => snapshot.accounts.get(a).cloned(),
            (None, None) => Some(snapshot.global.clone()),
        };
        counters.map_or((0, Amount::ZERO), |c| {
            (
                c.open_orders.load(Ordering::Acquire),
                exposure_amount(c.exposure.load(Ordering::Acquire)),
            )
        })
    }
}

/// How a check that passed every rule ended.
enum Attempt {
    Accepted,
    /// The limits changed under the check: nothing was reserved; run it again.
    Stale,
}

/// The reserving part of a check. Every step taken is undone on drop unless the
/// reservation is committed, so a reject half-way leaves no trace.
struct Reservation<'a> {
    route: &'a Route,
    limits: &'a LimitsRead<'a>,
    buy: bool,
    qty: i64,
    exposure: i64,
    reduces: bool,
    now_ns: i64,
    side_reserved: bool,
    open_levels: usize,
    exposure_levels: usize,
    /// Per level, the emission interval of a rate slot taken (0: none).
    rate_taken: [i64; 4],
    committed: bool,
}

impl<'a> Reservation<'a> {
    fn new(
        route: &'a Route,
        limits: &'a LimitsRead<'a>,
        buy: bool,
        qty: i64,
        exposure: i64,
        reduces: bool,
        now_ns: i64,
    ) -> Self {
        Reservation {
            route,
            limits,
            buy,
            qty,
            exposure,
            reduces,
            now_ns,
            side_reserved: false,
            open_levels: 0,
            exposure_levels: 0,
            rate_taken: [0; 4],
            committed: false,
        }
    }

    fn commit(
        mut self,
        engine: u64,
        ticket: &OrderTicket,
        valuation: i64,
        must_reduce: bool,
    ) -> std::result::Result<Attempt, Reject> {
        self.reserve_side(must_reduce)?;
        self.reserve_open_orders()?;
        self.reserve_exposure()?;
        self.take_rate_slots()?;
        if !self.limits.unchanged() {
            return Ok(Attempt::Stale); // dropped uncommitted: every step is undone
        }
        self.committed = true;
        ticket.open(engine, self.exposure, valuation);
        Ok(Attempt::Accepted)
    }

    /// Reserve the side's quantity, then decide again whether the order reduces,
    /// from what was open *at the reservation*: two concurrent "reducing" orders
    /// cannot both pass on the same stale view.
    fn reserve_side(&mut self, must_reduce: bool) -> std::result::Result<(), Reject> {
        let inst = &self.route.instrument;
        let before = inst.open_on(self.buy).fetch_add(self.qty, Ordering::AcqRel);
        self.side_reserved = true;
        let position = inst.position.load(Ordering::Acquire);
        if self.reduces && !rules::reduces_position(self.buy, self.qty, position, before) {
            if must_reduce {
                return Err(Reject::bare(RejectCode::ReduceOnly));
            }
            self.reduces = false;
            rules::max_leverage(inst.leverage.load(Ordering::Acquire), self.limits.max_leverage())?;
        }
        rules::max_position(self.buy, position, before + self.qty, self.limits.max_position_qty())
    }

    fn reserve_open_orders(&mut self) -> std::result::Result<(), Reject> {
        for (i, level) in Level::ALL.iter().enumerate() {
            let open = self.route.instrument.levels()[i]
                .open_orders
                .fetch_add(1, Ordering::AcqRel)
                + 1;
            self.open_levels = i + 1;
            rules::max_open_orders(*level, open, self.limits.level(i).max_open_orders)?;
        }
        Ok(())
    }

    fn reserve_exposure(&mut self) -> std::result::Result<(), Reject> {
        for (i, level) in Level::ALL.iter().enumerate() {
            let total = self.route.instrument.levels()[i]
                .exposure
                .fetch_add(self.exposure, Ordering::AcqRel)
                + self.exposure;
            self.exposure_levels = i + 1;
            if !self.reduces {
                rules::max_gross_exposure(*level, total, self.limits.level(i).max_gross_exposure)?;
            }
        }
        Ok(())
    }

    fn take_rate_slots(&mut self) -> std::result::Result<(), Reject> {
        for (i, level) in Level::ALL.iter().enumerate() {
            let limits = self.limits.level(i);
            if let Some(rate) = limits.rate {
                let allowed = self.route.instrument.levels()[i].rate.try_acquire(
                    self.now_ns,
                    rate.interval_ns,
                    rate.tolerance_ns,
                );
                if allowed {
                    self.rate_taken[i] = rate.interval_ns;
                }
                rules::order_rate(*level, allowed, limits.orders_per_second)?;
            }
        }
        Ok(())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let inst = &self.route.instrument;
        if self.side_reserved {
            inst.open_on(self.buy).fetch_sub(self.qty, Ordering::AcqRel);
        }
        for level in &inst.levels()[..self.open_levels] {
            level.open_orders.fetch_sub(1, Ordering::AcqRel);
        }
        for level in &inst.levels()[..self.exposure_levels] {
            level.exposure.fetch_sub(self.exposure, Ordering::AcqRel);
        }
        for (level, &interval_ns) in inst.levels().iter().zip(&self.rate_taken) {
            if interval_ns > 0 {
                level.rate.give_back(interval_ns);
            }
        }
    }
}
