//! `oms.matching.MatchingEngine`: the core's price-time priority book for one symbol.

use crate::errors::IntoPyResult;
use crate::fixed::{optional, quantity, to_decimal};
use oms_core::fixed::SCALE_DIGITS;
use oms_core::matching::{
    Fill, MatchingEngine as CoreEngine, NewOrder, RestingOrder as CoreResting, Status, StpMode, TimeInForce,
};
use oms_core::{Price, Quantity, Side};
use pyo3::prelude::*;

fn dec(py: Python<'_>, raw: i64) -> PyResult<Bound<'_, PyAny>> {
    to_decimal(py, raw.into(), SCALE_DIGITS)
}

fn level<'py>(py: Python<'py>, (p, q): (Price, Quantity)) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    Ok((dec(py, p.raw())?, dec(py, q.raw())?))
}

/// One execution, at the maker's price.
#[pyclass(frozen, module = "oms._core")]
pub struct MatchFill {
    fill: Fill,
}

#[pymethods]
impl MatchFill {
    #[getter]
    fn trade_id(&self) -> u64 {
        self.fill.trade_id
    }
    #[getter]
    fn maker_id(&self) -> u64 {
        self.fill.maker_id
    }
    #[getter]
    fn maker_owner(&self) -> u64 {
        self.fill.maker_owner
    }
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.fill.price.raw())
    }
    #[getter]
    fn qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.fill.qty.raw())
    }
    #[getter]
    fn maker_remaining<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.fill.maker_remaining.raw())
    }
    fn __repr__(&self) -> String {
        let f = &self.fill;
        format!(
            "MatchFill(trade {} maker {} {} @ {})",
            f.trade_id, f.maker_id, f.qty, f.price
        )
    }
}

/// A resting order.
#[pyclass(frozen, module = "oms._core")]
pub struct RestingOrder {
    order: CoreResting,
}

#[pymethods]
impl RestingOrder {
    #[getter]
    fn id(&self) -> u64 {
        self.order.id
    }
    #[getter]
    fn owner(&self) -> u64 {
        self.order.owner
    }
    #[getter]
    fn side(&self) -> &'static str {
        self.order.side.as_str()
    }
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.order.price.raw())
    }
    #[getter]
    fn qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.order.qty.raw())
    }
}

/// What happened to an incoming order.
#[pyclass(frozen, module = "oms._core")]
pub struct MatchResult {
    #[pyo3(get)]
    status: &'static str,
    #[pyo3(get)]
    fills: Vec<Py<MatchFill>>,
    remaining: Quantity,
    expired: Vec<(u64, Quantity)>,
}

#[pymethods]
impl MatchResult {
    /// Quantity not filled (resting, expired or rejected).
    #[getter]
    fn remaining<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.remaining.raw())
    }
    /// Makers removed by self-trade prevention: (id, expired quantity).
    #[getter]
    fn expired_makers<'py>(&self, py: Python<'py>) -> PyResult<Vec<(u64, Bound<'py, PyAny>)>> {
        self.expired
            .iter()
            .map(|(id, q)| Ok((*id, dec(py, q.raw())?)))
            .collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "MatchResult({} fills={} remaining={})",
            self.status,
            self.fills.len(),
            self.remaining
        )
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::New => "NEW",
        Status::PartiallyFilled => "PARTIALLY_FILLED",
        Status::Filled => "FILLED",
        Status::Expired => "EXPIRED",
        Status::ExpiredInMatch => "EXPIRED_IN_MATCH",
        Status::RejectedWouldTake => "REJECTED",
    }
}

#[pyclass(module = "oms._core")]
pub struct MatchingEngine {
    engine: CoreEngine,
}

#[pymethods]
impl MatchingEngine {
    #[new]
    #[pyo3(signature = (first_trade_id = 1))]
    fn new(first_trade_id: u64) -> Self {
        MatchingEngine {
            engine: CoreEngine::with_first_trade_id(first_trade_id),
        }
    }

    /// Match an order (`price=None`: market); rest the remainder if its time in force says so.
    #[pyo3(signature = (id, owner, side, qty, price = None, time_in_force = "GTC", stp = "EXPIRE_TAKER"))]
    #[allow(clippy::too_many_arguments)]
    fn submit(
        &mut self,
        py: Python<'_>,
        id: u64,
        owner: u64,
        side: &str,
        qty: &Bound<'_, PyAny>,
        price: Option<&Bound<'_, PyAny>>,
        time_in_force: &str,
        stp: &str,
    ) -> PyResult<MatchResult> {
        let order = NewOrder {
            id,
            owner,
            side: Side::parse(side).py()?,
            price: optional(price, "price", crate::fixed::price)?,
            qty: quantity(qty, "qty")?,
            tif: TimeInForce::parse(time_in_force).py()?,
            stp: StpMode::parse(stp).py()?,
        };
        let result = self.engine.submit(order).py()?;
        let fills = result
            .fills
            .into_iter()
            .map(|fill| Py::new(py, MatchFill { fill }))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(MatchResult {
            status: status_name(result.status),
            fills,
            remaining: result.remaining,
            expired: result.expired_makers,
        })
    }

    /// Remove a resting order; returns it, or None if it was not resting.
    fn cancel(&mut self, id: u64) -> Option<RestingOrder> {
        self.engine.cancel(id).map(|order| RestingOrder { order })
    }

    /// Lower a resting order's quantity, keeping its place in the queue.
    fn reduce(&mut self, id: u64, qty: &Bound<'_, PyAny>) -> PyResult<RestingOrder> {
        let qty = quantity(qty, "qty")?;
        self.engine.reduce(id, qty).py().map(|order| RestingOrder { order })
    }

    fn order(&self, id: u64) -> Option<RestingOrder> {
        self.engine.order(id).map(|order| RestingOrder { order })
    }

    fn best_bid<'py>(&self, py: Python<'py>) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
        self.engine.best_bid().map(|l| level(py, l)).transpose()
    }

    fn best_ask<'py>(&self, py: Python<'py>) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
        self.engine.best_ask().map(|l| level(py, l)).transpose()
    }

    /// Total resting quantity at `price` on `side` (0 when empty).
    fn level_qty<'py>(&self, py: Python<'py>, side: &str, price: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let side = Side::parse(side).py()?;
        let price = crate::fixed::price(price, "price")?;
        dec(py, self.engine.level_qty(side, price).raw())
    }

    /// (bids, asks), each up to `levels` aggregated (price, qty), best first.
    #[pyo3(signature = (levels = 20))]
    #[allow(clippy::type_complexity)]
    fn depth<'py>(
        &self,
        py: Python<'py>,
        levels: usize,
    ) -> PyResult<(
        Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
        Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    )> {
        let (bids, asks) = self.engine.depth(levels);
        let convert =
            |side: Vec<(Price, Quantity)>| side.into_iter().map(|l| level(py, l)).collect::<PyResult<Vec<_>>>();
        Ok((convert(bids)?, convert(asks)?))
    }

    fn __len__(&self) -> usize {
        self.engine.len()
    }
}
