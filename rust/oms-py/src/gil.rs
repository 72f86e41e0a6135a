//! The one place the binding lets go of the interpreter. Blocking waits run
//! detached so other Python threads keep going; long waits are cut into slices so
//! Ctrl-C (a pending signal) is noticed within one slice.

use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// Longest single detached wait between signal checks.
const SLICE: Duration = Duration::from_millis(100);

/// Run `f` without holding the interpreter.
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    py.detach(f)
}

/// Repeat `attempt` (which may wait up to the slice it is given, detached) until it
/// returns `Some`, the optional timeout passes, or a signal handler raises.
pub fn wait_in_slices<T: Send>(
    py: Python<'_>,
    timeout: Option<Duration>,
    mut attempt: impl FnMut(Duration) -> Option<T> + Send,
) -> PyResult<Option<T>> {
    // A timeout too large to represent is as good as forever.
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        let slice = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(SLICE),
            None => SLICE,
        };
        if let Some(done) = detached(py, || attempt(slice)) {
            return Ok(Some(done));
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
    }
}

/// Seconds from Python (None = forever) into a Duration, refusing nonsense; a value
/// too large for a Duration means forever.
pub fn timeout_arg(seconds: Option<f64>) -> PyResult<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Duration::try_from_secs_f64(s).ok()),
        Some(s) => Err(crate::errors::to_py(oms_core::Error::InvalidArgument {
            field: "timeout",
            reason: format!("{s} must be a non-negative number of seconds or None"),
        })),
    }
}
