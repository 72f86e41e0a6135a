//! `ClosedOrders`: the orders that ended, oldest first, so the order path keeps
//! only the newest `keep` of them in its maps. An engine that runs all day takes
//! millions of orders; without a bound its maps (and its memory) would grow by
//! every order it ever saw. What it forgets stays in the journal and on JetStream.

use std::collections::VecDeque;

use crate::orders::Order;
use pyo3::prelude::*;

/// How many orders past `keep` are forgotten at once (one call to the engine each).
const FORGET_BATCH: usize = 256;

pub(crate) struct ClosedOrders {
    keep: usize,
    oldest_first: VecDeque<Py<Order>>,
}

impl ClosedOrders {
    pub(crate) fn new(keep: usize) -> Self {
        ClosedOrders {
            keep,
            oldest_first: VecDeque::with_capacity(keep.saturating_add(FORGET_BATCH).min(1 << 16)),
        }
    }

    /// Note an order that just ended; true when enough are past `keep` to forget.
    pub(crate) fn push(&mut self, order: Py<Order>) -> bool {
        self.oldest_first.push_back(order);
        self.oldest_first.len() >= self.keep + FORGET_BATCH
    }

    /// The orders past `keep`, oldest first, no longer counted.
    pub(crate) fn take_oldest(&mut self) -> Vec<Py<Order>> {
        let past = self.oldest_first.len().saturating_sub(self.keep);
        self.oldest_first.drain(..past).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.oldest_first.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Py<Order>> {
        self.oldest_first.iter()
    }

    pub(crate) fn clear(&mut self) {
        self.oldest_first.clear();
    }
}
