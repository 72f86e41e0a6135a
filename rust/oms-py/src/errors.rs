//! Every core error becomes an instance of the matching `oms.errors` class, here
//! and nowhere else. The classes live in Python (so they can subclass stdlib
//! exceptions and be pickled); we import them once and instantiate them.

use oms_core::fixed::SCALE_DIGITS;
use oms_core::risk::Reject;
use oms_core::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("oms.errors")?.unbind()))
        .map(|m| m.bind(py))
}

/// `oms.errors.OmsError`: what a refusal raises (batch calls list them, not raise).
pub(crate) fn oms_error_class(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    errors_module(py)?.getattr("OmsError")
}

/// The `oms.errors` class for a core error.
fn class_name(err: &Error) -> &'static str {
    match err {
        Error::InvalidNumber { .. }
        | Error::PrecisionExceeded { .. }
        | Error::OutOfRange { .. }
        | Error::InvalidArgument { .. }
        | Error::WouldTrigger { .. }
        | Error::FillMismatch { .. } => "InvalidInput",
        Error::IllegalTransition { .. } => "IllegalTransition",
        Error::DuplicateFill { .. } => "DuplicateFill",
        Error::Overfill { .. } => "Overfill",
        Error::Overflow { .. } => "ArithmeticOverflow",
        Error::Full { .. } => "QueueFull",
        Error::Empty { .. } => "QueueEmpty",
        Error::Closed { .. } => "ChannelClosed",
        Error::MessageTooLarge { .. } => "MessageTooLarge",
        Error::ShmExists { .. } => "ShmExists",
        Error::ShmNotFound { .. } => "ShmNotFound",
        Error::ShmLayout { .. } => "ShmLayoutError",
        Error::ShmBusy { .. } => "ShmBusy",
        Error::BookFull { .. } => "BookFull",
        Error::ReadOnly { .. } => "ReadOnlyError",
        Error::Affinity { .. } => "AffinityError",
        Error::MemoryLock { .. } => "MemoryLockError",
        Error::Io { .. } => "IoError",
    }
}

fn build(py: Python<'_>, class: &str, message: String, code: &str, details: Option<Bound<'_, PyDict>>) -> PyErr {
    let made = errors_module(py)
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call((message.clone(), code), details.as_ref()));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        // Only if oms.errors itself cannot be imported: still say what happened.
        Err(import_error) => pyo3::exceptions::PyRuntimeError::new_err(format!(
            "{message} [{code}] (and oms.errors failed: {import_error})"
        )),
    }
}

/// Convert a core error into the `oms.errors` exception.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| match details(py, &err) {
        Ok(details) => build(py, class_name(&err), err.to_string(), err.code(), details),
        Err(e) => e,
    })
}

/// The exception's attributes beyond message and code, for the errors that have them.
fn details<'py>(py: Python<'py>, err: &Error) -> PyResult<Option<Bound<'py, PyDict>>> {
    let details = PyDict::new(py);
    match err {
        Error::IllegalTransition {
            current, new, trade_id, ..
        } => {
            details.set_item("current", current)?;
            if let Some(new) = new {
                details.set_item("new", new)?;
            }
            if let Some(trade_id) = trade_id {
                details.set_item("trade_id", trade_id)?;
            }
        }
        Error::DuplicateFill { trade_id, .. } => details.set_item("trade_id", trade_id)?,
        Error::Overfill { excess, trade_id, .. } => {
            let excess = crate::fixed::to_decimal(py, excess.raw().into(), SCALE_DIGITS)?;
            details.set_item("excess", excess)?;
            details.set_item("trade_id", trade_id)?;
        }
        Error::FillMismatch { .. } => details.set_item("field", "side")?,
        _ => return Ok(None),
    }
    Ok(Some(details))
}

/// Convert a risk rejection, naming the order's instrument in the message.
pub fn reject_to_py(py: Python<'_>, reject: &Reject, context: &str) -> PyErr {
    let details = PyDict::new(py);
    let fill = || -> PyResult<()> {
        details.set_item("level", reject.level.as_str())?;
        if reject.scale > 0 || reject.limit != 0 {
            let decimal = crate::fixed::decimal_class(py)?;
            details.set_item("value", decimal.call1((reject.value_str(),))?)?;
            details.set_item("limit", decimal.call1((reject.limit_str(),))?)?;
        }
        Ok(())
    };
    if let Err(e) = fill() {
        return e;
    }
    let message = format!("{context}: {reject}");
    build(py, "RiskRejected", message, reject.code.as_str(), Some(details))
}

/// `?`-friendly conversion for core results.
pub trait IntoPyResult<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for oms_core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
