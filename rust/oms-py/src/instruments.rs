//! `oms.instruments.InstrumentFilters`: an instrument's filters in fixed point, asked
//! on the order path whether an order passes (`oms_core::instruments` says why this
//! only decides and `oms.instruments` words a refusal).

use crate::fixed::price;
use crate::risk::RiskOrder;
use oms_core::fixed::SCALE;
use oms_core::instruments::{Band, InstrumentFilters as CoreFilters, Lot, OrderTerms};
use oms_core::Error;
use pyo3::prelude::*;

#[pyclass(frozen, module = "oms._core")]
pub struct InstrumentFilters {
    inner: CoreFilters,
}

/// The attribute `name` of the instrument in units of 10^-8, or None where it has none.
fn optional_raw(inst: &Bound<'_, PyAny>, name: &'static str) -> PyResult<Option<i64>> {
    let value = inst.getattr(name)?;
    if value.is_none() {
        return Ok(None);
    }
    Ok(Some(price(&value, name)?.raw()))
}

/// The same with 0 for "no such rule" (as the core stores it).
fn raw(inst: &Bound<'_, PyAny>, name: &'static str) -> PyResult<i64> {
    Ok(optional_raw(inst, name)?.unwrap_or(0))
}

/// A band multiplier: Python reads a zero one as a band that refuses everything; so
/// unusual a case is left to it (InvalidInput here: no fast filters).
fn multiplier(inst: &Bound<'_, PyAny>, name: &'static str) -> PyResult<i64> {
    match optional_raw(inst, name)? {
        Some(0) => {
            let reason = "a zero multiplier: left to the exact check".to_string();
            Err(crate::errors::to_py(Error::InvalidArgument { field: name, reason }))
        }
        raw => Ok(raw.unwrap_or(0)),
    }
}

fn lot(inst: &Bound<'_, PyAny>, min: &'static str, max: &'static str, step: &'static str) -> PyResult<Lot> {
    Ok(Lot {
        min: raw(inst, min)?,
        max: raw(inst, max)?,
        step: raw(inst, step)?,
    })
}

fn band(inst: &Bound<'_, PyAny>, up: &'static str, down: &'static str) -> PyResult<Band> {
    Ok(Band {
        up: multiplier(inst, up)?,
        down: multiplier(inst, down)?,
    })
}

/// An `oms.model.Instrument`'s filters in the core's fixed point (InvalidInput when
/// one of its values is finer than 10^-8 or out of range).
pub(crate) fn core_filters(inst: &Bound<'_, PyAny>) -> PyResult<CoreFilters> {
    let contract_size = optional_raw(inst, "contract_size")?.unwrap_or(SCALE);
    Ok(CoreFilters {
        trading: inst.getattr("trading")?.is_truthy()?,
        price: lot(inst, "min_price", "max_price", "tick_size")?,
        lot: lot(inst, "min_qty", "max_qty", "step_size")?,
        market_lot: lot(inst, "market_min_qty", "market_max_qty", "market_step_size")?,
        min_notional: raw(inst, "min_notional")?,
        max_notional: raw(inst, "max_notional")?,
        min_notional_applies_to_market: inst.getattr("min_notional_applies_to_market")?.is_truthy()?,
        contract_size,
        steps_from_minimum: inst.getattr("steps_from_minimum")?.is_truthy()?,
        band: band(inst, "price_up_multiplier", "price_down_multiplier")?,
        bid_band: band(inst, "bid_up_multiplier", "bid_down_multiplier")?,
        ask_band: band(inst, "ask_up_multiplier", "ask_down_multiplier")?,
    })
}

#[pymethods]
impl InstrumentFilters {
    /// From an `oms.model.Instrument`; InvalidInput when one of its values is finer
    /// than 10^-8 or out of range (such an instrument is checked the exact way only).
    #[staticmethod]
    fn of(inst: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(InstrumentFilters {
            inner: core_filters(inst)?,
        })
    }

    /// True when `order` (its side, qty and limit price) passes every filter; False
    /// when one refuses it or this cannot tell: then ask `check_exact_order`.
    /// `market`: the order has no limit price (it trades at the market when it can).
    #[pyo3(signature = (order, market, stop_price = None, reference_price = None))]
    fn passes(
        &self,
        order: &RiskOrder,
        market: bool,
        stop_price: Option<&Bound<'_, PyAny>>,
        reference_price: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let ticket = order.ticket();
        let terms = OrderTerms {
            side: ticket.side,
            market,
            qty: ticket.qty,
            price: ticket.price(),
            stop_price: crate::fixed::optional(stop_price, "stop_price", price)?,
            reference_price: crate::fixed::optional(reference_price, "reference_price", price)?,
        };
        Ok(self.inner.passes(&terms))
    }
}
