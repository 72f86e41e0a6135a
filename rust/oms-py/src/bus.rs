//! `BusMessages`: the engine's kept events as the messages a JetStream publisher
//! sends, `subject \t msg-id \t json` (`oms_core::bus`). The order path's records are
//! encoded here without a Python object each (a Python encoding cost the engine's
//! loop ~5 us per event); anything else (risk decisions, funding, Structs the engine's
//! other paths emit) goes through the Python fallback, which words it the same way.

use std::collections::HashMap;

use crate::events::{FillUpdateRecord, OrderUpdateRecord, PositionUpdateRecord};
use oms_core::bus::{ring_message, BusEvent};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

/// The actions subjects start with, in `subjects`' order.
const ACTIONS: [&str; 3] = ["orders", "trades", "positions"];

#[pyclass(module = "oms._core")]
pub struct BusMessages {
    /// `(action, venue, unified symbol or None) -> subject`, asked once per market.
    subject_of: Py<PyAny>,
    /// `event -> bytes | None`: a Struct's message (None: not encodable, logged).
    fallback: Py<PyAny>,
    /// Per action, per venue, per symbol ("" for none): its subject.
    subjects: [HashMap<String, HashMap<String, String>>; 3],
    scratch: Vec<u8>,
}

#[pymethods]
impl BusMessages {
    #[new]
    fn new(subject_of: Py<PyAny>, fallback: Py<PyAny>) -> Self {
        BusMessages {
            subject_of,
            fallback,
            subjects: Default::default(),
            scratch: Vec::with_capacity(1024),
        }
    }

    /// The messages of `events`, in order; an event the fallback could not encode is
    /// left out (so the caller counts it from the difference).
    fn messages<'py>(&mut self, events: &Bound<'py, PyList>) -> PyResult<Bound<'py, PyList>> {
        let py = events.py();
        let out = PyList::empty(py);
        for event in events.iter() {
            if let Ok(record) = event.cast::<OrderUpdateRecord>() {
                let update = record.get().update();
                let terms = &*update.terms;
                out.append(self.message(py, 0, terms.venue(), terms.symbol(), update)?)?;
            } else if let Ok(record) = event.cast::<FillUpdateRecord>() {
                let update = record.get().update();
                out.append(self.message(py, 1, &update.key.venue, &update.key.symbol, update)?)?;
            } else if let Ok(record) = event.cast::<PositionUpdateRecord>() {
                let update = record.get().update();
                out.append(self.message(py, 2, update.position.venue_str(), "", &update)?)?;
            } else {
                let message = self.fallback.call1(py, (event,))?;
                if !message.is_none(py) {
                    out.append(message)?;
                }
            }
        }
        Ok(out)
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.subject_of)?;
        visit.call(&self.fallback)
    }
}

impl BusMessages {
    fn message<'py>(
        &mut self,
        py: Python<'py>,
        action: usize,
        venue: &str,
        symbol: &str,
        event: &dyn BusEvent,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let subject = subject(py, &self.subject_of, &mut self.subjects[action], action, venue, symbol)?;
        self.scratch.clear();
        ring_message(subject, event, &mut self.scratch);
        Ok(PyBytes::new(py, &self.scratch))
    }
}

/// The subject of (action, venue, symbol), asked of `subject_of` the first time.
fn subject<'a>(
    py: Python<'_>,
    subject_of: &Py<PyAny>,
    by_venue: &'a mut HashMap<String, HashMap<String, String>>,
    action: usize,
    venue: &str,
    symbol: &str,
) -> PyResult<&'a str> {
    if !by_venue.get(venue).is_some_and(|s| s.contains_key(symbol)) {
        let named = (!symbol.is_empty()).then_some(symbol);
        let subject: String = subject_of.call1(py, (ACTIONS[action], venue, named))?.extract(py)?;
        by_venue
            .entry(venue.to_owned())
            .or_default()
            .insert(symbol.to_owned(), subject);
    }
    Ok(&by_venue[venue][symbol])
}
