//! `oms.triggers.TriggerBook`: the core's stop / take-profit / trailing-stop triggers.

use crate::errors::IntoPyResult;
use crate::fixed::{optional, price, to_decimal};
use oms_core::fixed::SCALE_DIGITS;
use oms_core::triggers::{Trigger, TriggerBook as CoreBook};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The waiting conditional orders of one price source (last trade, mark price...).
#[pyclass(module = "oms._core")]
pub struct TriggerBook {
    book: CoreBook,
}

#[pymethods]
impl TriggerBook {
    #[new]
    fn new() -> Self {
        TriggerBook { book: CoreBook::new() }
    }

    /// Wait for the price to be at or above (`"AT_OR_ABOVE"`) or at or below
    /// (`"AT_OR_BELOW"`) `level`. Raises InvalidInput (code WOULD_TRIGGER) when the
    /// last price already meets it.
    fn add_level(&mut self, id: u64, direction: &str, level: &Bound<'_, PyAny>) -> PyResult<()> {
        let level = price(level, "level")?;
        let trigger = match direction {
            "AT_OR_ABOVE" => Trigger::AtOrAbove(level),
            "AT_OR_BELOW" => Trigger::AtOrBelow(level),
            other => {
                return Err(PyValueError::new_err(format!(
                    "direction must be AT_OR_ABOVE or AT_OR_BELOW, not {other:?}"
                )))
            }
        };
        self.book.add(id, trigger).py()
    }

    /// A trailing stop for an order on `side` ("SELL" follows the high, "BUY" the
    /// low), firing `callback_bps` away from it; active from the last price, or once
    /// the price reaches `activation`.
    #[pyo3(signature = (id, side, callback_bps, activation = None))]
    fn add_trailing(
        &mut self,
        id: u64,
        side: &str,
        callback_bps: u32,
        activation: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let activation = optional(activation, "activation", price)?;
        let trigger = match side {
            "SELL" => Trigger::TrailingSell {
                callback_bps,
                activation,
            },
            "BUY" => Trigger::TrailingBuy {
                callback_bps,
                activation,
            },
            other => {
                return Err(PyValueError::new_err(format!(
                    "side must be BUY or SELL, not {other:?}"
                )))
            }
        };
        self.book.add(id, trigger).py()
    }

    /// Take a waiting order out; False if it was not waiting.
    fn remove(&mut self, id: u64) -> bool {
        self.book.remove(id)
    }

    /// A new price: the ids it fires (removed from the book), oldest first.
    fn on_price(&mut self, price_now: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        Ok(self.book.on_price(price(price_now, "price")?))
    }

    #[getter]
    fn last_price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.book
            .last_price()
            .map(|p| to_decimal(py, p.raw().into(), SCALE_DIGITS))
            .transpose()
    }

    fn __contains__(&self, id: u64) -> bool {
        self.book.contains(id)
    }

    fn __len__(&self) -> usize {
        self.book.len()
    }
}
