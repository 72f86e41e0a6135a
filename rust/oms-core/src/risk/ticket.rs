//! `OrderTicket`: one order as the risk engine sees it, plus the reservation it
//! holds once accepted. The caller keeps the ticket for the order's life and hands
//! it back on every fill and on the final cancel/reject/expiry, so releases never
//! need a lookup and can never happen twice.

use super::state::InstrumentState;
use crate::error::{Error, Result};
use crate::fixed::{Price, Quantity};
use crate::side::Side;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

const NEW: u8 = 0;
const OPEN: u8 = 1;
const DONE: u8 = 2;
/// A check is running on this ticket (makes a second concurrent check a duplicate).
const CHECKING: u8 = 3;

#[derive(Debug)]
pub struct OrderTicket {
    pub account: String,
    pub venue: String,
    pub symbol: String,
    pub side: Side,
    pub qty: Quantity,
    /// Limit price; `None` for market orders (valued at the reference price).
    pub price: Option<Price>,
    pub reduce_only: bool,
    state: AtomicU8,
    /// Quantity still reserved (not yet filled or released).
    pub(super) remaining: AtomicI64,
    /// Exposure still reserved, exposure units.
    pub(super) reserved_exposure: AtomicI64,
    /// Price the reservation was valued at (10^-8 units).
    pub(super) reserved_price: AtomicI64,
    pub(super) instrument: OnceLock<Arc<InstrumentState>>,
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
        Ok(OrderTicket {
            account: account.to_owned(),
            venue: venue.to_owned(),
            symbol: symbol.to_owned(),
            side,
            qty,
            price,
            reduce_only,
            state: AtomicU8::new(NEW),
            remaining: AtomicI64::new(0),
            reserved_exposure: AtomicI64::new(0),
            reserved_price: AtomicI64::new(0),
            instrument: OnceLock::new(),
        })
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

    pub(super) fn open(&self, instrument: &Arc<InstrumentState>, exposure: i64, price: i64) {
        self.remaining.store(self.qty.raw(), Ordering::Release);
        self.reserved_exposure.store(exposure, Ordering::Release);
        self.reserved_price.store(price, Ordering::Release);
        let _ = self.instrument.set(instrument.clone());
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
