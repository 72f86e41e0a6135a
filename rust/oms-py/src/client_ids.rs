//! `oms.exchanges.client_ids.ClientOrderIds`: the core's client order ids
//! (`oms_core::client_ids` says their shape and why), made here for every order the
//! engine accepts without a call into Python.

use std::sync::Arc;

use oms_core::client_ids::ClientIds;
use oms_core::clock::now_ns;
use oms_core::Error;
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// Thread-safe source of client order ids for one connector instance.
#[pyclass(frozen, module = "oms._core")]
pub struct ClientOrderIds {
    ids: ClientIds,
}

impl ClientOrderIds {
    /// The next id (OverflowError once the session's ids are used up).
    pub(crate) fn next_id(&self) -> PyResult<Arc<str>> {
        self.ids.next_id().map_err(|e| PyOverflowError::new_err(e.to_string()))
    }
}

#[pymethods]
impl ClientOrderIds {
    /// `prefix`: 1-8 letters or digits (ValueError otherwise); `now_ms` stamps the
    /// session (now by default), two random digits from `secrets` finish it.
    #[new]
    #[pyo3(signature = (prefix, now_ms = None))]
    fn new(py: Python<'_>, prefix: &str, now_ms: Option<u64>) -> PyResult<Self> {
        let now_ms = now_ms.unwrap_or_else(|| u64::try_from(now_ns() / 1_000_000).unwrap_or(0));
        let pair: u16 = py.import("secrets")?.call_method1("randbelow", (36 * 36,))?.extract()?;
        let random = [(pair / 36) as u8, (pair % 36) as u8];
        let ids = ClientIds::new(prefix, now_ms, random).map_err(|e: Error| PyValueError::new_err(e.to_string()))?;
        Ok(ClientOrderIds { ids })
    }

    #[getter]
    fn prefix(&self) -> &str {
        self.ids.prefix()
    }

    #[getter]
    fn session(&self) -> &str {
        self.ids.session()
    }

    fn next<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        Ok(PyString::new(py, &self.next_id()?))
    }

    /// Made with this prefix (by any session, this one or an earlier process).
    fn is_ours(&self, client_order_id: &str) -> bool {
        self.ids.is_ours(client_order_id)
    }

    fn is_this_session(&self, client_order_id: &str) -> bool {
        self.ids.is_this_session(client_order_id)
    }
}
