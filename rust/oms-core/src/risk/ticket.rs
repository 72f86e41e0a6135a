//! `OrderTicket`: one order as the risk engine sees it, plus the reservation it
//! holds once accepted. The caller keeps the ticket for the order's life and hands
//! it back on every fill and on the final cancel/reject/expiry, so releases never
//! need a lookup and can never happen twice.

use super::keys::{intern, InstrumentId, InstrumentKey};
use crate::error::{Error, Result};
use crate::fixed::{Price, Quantity};
use crate::side::Side;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

const NEW: u8 = 0;
const OPEN: u8 = 1;
const DONE: u8 = 2;
/// A check is running on this ticket (makes a second concurrent check a duplicate).
const CHECKING: u8 = 3;

#[derive(Debug)]
pub struct OrderTicket {
    state: AtomicU8,
    pub side: Side,
    pub reduce_only: bool,
    /// The interned (account, venue, symbol): the check indexes by `id`.
    pub(super) id: InstrumentId,
    pub qty: Quantity,
    /// Limit price in 10^-8 units; 0 for market orders (see `price()`).
    limit_price: i64,
    /// Quantity still reserved (not yet filled or released).
    pub(super) remaining: AtomicI64,
    /// Exposure still reserved, exposure units.
    pub(super) reserved_exposure: AtomicI64,
    /// Price the reservation was valued at (10^-8 units).
    pub(super) reserved_price: AtomicI64,
    /// Id of the engine holding the reservation (0 before the first accept).
    engine: AtomicU64,
    key: Arc<InstrumentKey>,
}

/// Lifecycle of a ticket's reservation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TicketState {
    /// Not yet checked.
    New,
    /// Accepted; holds a reservation.
    Open,
    /// Fully filled or released.
    Done,
}

impl OrderTicket {
    pub fn new(
        account: &str,
        venue: &str,
        symbol: &str,
        side: Side,
        qty: Quantity,
        price: Option<Price>,
        reduce_only: bool,
    ) -> Result<OrderTicket> {
        if qty.raw() <= 0 {
            return Err(Error::invalid("qty", format!("order quantity {qty} must be positive")));
        }
        if let Some(p) = price {
            if p.raw() <= 0 {
                return Err(Error::invalid("price", format!("order price {p} must be positive")));
            }
        }
        for (field, text) in [("account", account), ("venue", venue), ("symbol", symbol)] {
            if text.is_empty() {
                return Err(Error::invalid(field, "must not be empty"));
            }
        }
        let (id, key) = intern(account, venue, symbol);
        Ok(OrderTicket {
            id,
            key,
            side,
            qty,
            limit_price: price.map_or(0, Price::raw),
            reduce_only,
            state: AtomicU8::new(NEW),
            remaining: AtomicI64::new(0),
            reserved_exposure: AtomicI64::new(0),
            reserved_price: AtomicI64::new(0),
            engine: AtomicU64::new(0),
        })
    }

    /// Limit price; `None` for market orders (valued at the reference price).
    pub fn price(&self) -> Option<Price> {
        (self.limit_price != 0).then(|| Price::from_raw(self.limit_price))
    }

    /// The interned (account, venue, symbol), shared with the order's terms.
    pub fn key(&self) -> &Arc<InstrumentKey> {
        &self.key
    }

    pub fn account(&self) -> &str {
        &self.key.account
    }

    pub fn venue(&self) -> &str {
        &self.key.venue
    }

    pub fn symbol(&self) -> &str {
        &self.key.symbol
    }

    /// Id of the engine that accepted this order (0 if none did).
    pub(super) fn engine(&self) -> u64 {
        self.engine.load(Ordering::Acquire)
    }

    pub fn state(&self) -> TicketState {
        match self.state.load(Ordering::Acquire) {
            NEW | CHECKING => TicketState::New,
            OPEN => TicketState::Open,
            _ => TicketState::Done,
        }
    }

    /// Quantity still reserved against limits.
    pub fn remaining(&self) -> Quantity {
        Quantity::from_raw(self.remaining.load(Ordering::Acquire))
    }

    pub fn is_buy(&self) -> bool {
        self.side == Side::Buy
    }

    pub(super) fn open(&self, engine: u64, exposure: i64, price: i64) {
        self.remaining.store(self.qty.raw(), Ordering::Release);
        self.reserved_exposure.store(exposure, Ordering::Release);
        self.reserved_price.store(price, Ordering::Release);
        self.engine.store(engine, Ordering::Release);
        self.state.store(OPEN, Ordering::Release);
    }

    /// NEW -> CHECKING, exactly once: false if the ticket is being or was checked.
    pub(super) fn begin_check(&self) -> bool {
        self.state
            .compare_exchange(NEW, CHECKING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The check rejected: the ticket may be checked again.
    pub(super) fn abort_check(&self) {
        self.state.store(NEW, Ordering::Release);
    }

    /// OPEN -> DONE exactly once; true for the caller that made the move.
    pub(super) fn finish(&self) -> bool {
        self.state
            .compare_exchange(OPEN, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Take up to `qty` from the remaining reservation; returns what was taken.
    pub(super) fn take_remaining(&self, qty: i64) -> i64 {
        let mut current = self.remaining.load(Ordering::Acquire);
        loop {
            let take = qty.min(current).max(0);
            match self
                .remaining
                .compare_exchange_weak(current, current - take, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return take,
                Err(now) => current = now,
            }
        }
    }

    /// Take up to `amount` of the reserved exposure (all of it with `None`).
    pub(super) fn take_exposure(&self, amount: Option<i64>) -> i64 {
        let mut current = self.reserved_exposure.load(Ordering::Acquire);
        loop {
            let take = amount.map_or(current, |a| a.min(current)).max(0);
            match self.reserved_exposure.compare_exchange_weak(
                current,
                current - take,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return take,
                Err(now) => current = now,
            }
        }
    }
}
