//! `oms.queues.ShmRing`: the core's SPSC shared-memory ring of byte messages.

use crate::errors::{to_py, IntoPyResult};
use crate::gil::{timeout_arg, wait_in_slices};
use oms_core::shm_ring::{Role, ShmRing as CoreRing};
use oms_core::Error;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use std::time::{Duration, Instant};

#[pyclass(module = "oms._core")]
pub struct ShmRing {
    ring: CoreRing,
}

/// Spinning longer than this would just burn a core.
const MAX_SPIN: Duration = Duration::from_secs(1);

/// Deadline of a timeout; None (forever) when there is none or it cannot be represented.
fn deadline_of(timeout: Option<f64>) -> PyResult<Option<Instant>> {
    Ok(timeout_arg(timeout)?.and_then(|t| Instant::now().checked_add(t)))
}

fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

#[pymethods]
impl ShmRing {
    /// Create `/dev/shm/oms.<name>.ring` with `capacity` data bytes (a power of two)
    /// and take `role`. The creating handle removes the file when closed.
    #[staticmethod]
    #[pyo3(signature = (name, capacity = 1048576, role = "producer", replace = false))]
    fn create(name: &str, capacity: usize, role: &str, replace: bool) -> PyResult<Self> {
        let role = Role::parse(role).py()?;
        CoreRing::create(name, capacity, role, replace)
            .map(|ring| ShmRing { ring })
            .py()
    }

    /// Attach to an existing ring and take `role`.
    #[staticmethod]
    #[pyo3(signature = (name, role = "consumer"))]
    fn attach(name: &str, role: &str) -> PyResult<Self> {
        let role = Role::parse(role).py()?;
        CoreRing::attach(name, role).map(|ring| ShmRing { ring }).py()
    }

    #[getter]
    fn path(&self) -> String {
        self.ring.path().display().to_string()
    }

    #[getter]
    fn role(&self) -> &'static str {
        self.ring.role().name()
    }

    #[getter]
    fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    #[getter]
    fn max_message(&self) -> usize {
        self.ring.max_message()
    }

    #[getter]
    fn used_bytes(&self) -> usize {
        self.ring.used_bytes()
    }

    #[getter]
    fn closed(&self) -> bool {
        self.ring.is_closed()
    }

    /// Spin this long (seconds) before sleeping while waiting; default 50 us.
    fn set_spin(&mut self, seconds: f64) -> PyResult<()> {
        let spin = timeout_arg(Some(seconds))?.unwrap_or(MAX_SPIN).min(MAX_SPIN);
        self.ring.set_spin(spin);
        Ok(())
    }

    /// Send one message; with `block`, wait up to `timeout` seconds (None: forever) for room.
    #[pyo3(signature = (data, block = true, timeout = None))]
    fn put(&mut self, py: Python<'_>, data: &[u8], block: bool, timeout: Option<f64>) -> PyResult<()> {
        let deadline = deadline_of(timeout)?;
        loop {
            match self.ring.try_put(data) {
                Ok(()) => return Ok(()),
                Err(Error::Full { .. }) if block && remaining(deadline) != Some(Duration::ZERO) => {
                    let ring = &mut self.ring;
                    let len = data.len();
                    wait_in_slices(py, remaining(deadline), |slice| {
                        ring.wait_for_space(len, slice).then_some(())
                    })?;
                }
                Err(e) => return Err(to_py(e)),
            }
        }
    }

    fn put_nowait(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        self.put(py, data, false, None)
    }

    /// Receive one message; with `block`, wait up to `timeout` seconds (None: forever).
    #[pyo3(signature = (block = true, timeout = None))]
    fn get(&mut self, py: Python<'_>, block: bool, timeout: Option<f64>) -> PyResult<Py<PyBytes>> {
        let deadline = deadline_of(timeout)?;
        loop {
            match self.ring.try_get(|bytes| PyBytes::new(py, bytes).unbind()) {
                Ok(message) => return Ok(message),
                Err(Error::Empty { .. }) if block && remaining(deadline) != Some(Duration::ZERO) => {
                    let ring = &mut self.ring;
                    wait_in_slices(py, remaining(deadline), |slice| ring.wait_for_data(slice).then_some(()))?;
                }
                Err(e) => return Err(to_py(e)),
            }
        }
    }

    fn get_nowait(&mut self, py: Python<'_>) -> PyResult<Py<PyBytes>> {
        self.get(py, false, None)
    }

    /// Send as many messages as fit now, in order; returns how many were sent.
    fn put_many(&mut self, messages: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut sent = 0;
        for message in messages.try_iter()? {
            let message = message?;
            let bytes: &[u8] = message.extract()?;
            match self.ring.try_put(bytes) {
                Ok(()) => sent += 1,
                Err(Error::Full { .. }) => break,
                Err(e) => return Err(to_py(e)),
            }
        }
        Ok(sent)
    }

    /// Wait up to `timeout` seconds (None: forever, 0: not at all) for one message,
    /// then take up to `max_items` that are there. Returns a list, empty on timeout.
    #[pyo3(signature = (max_items, timeout = 0.0))]
    fn get_many<'py>(
        &mut self,
        py: Python<'py>,
        max_items: usize,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut out: Vec<Py<PyBytes>> = Vec::new();
        if max_items > 0 && timeout != Some(0.0) {
            let deadline = deadline_of(timeout)?;
            let ring = &mut self.ring;
            wait_in_slices(py, remaining(deadline), |slice| ring.wait_for_data(slice).then_some(()))?;
        }
        while out.len() < max_items {
            match self.ring.try_get(|bytes| PyBytes::new(py, bytes).unbind()) {
                Ok(message) => out.push(message),
                Err(Error::Empty { .. }) => break,
                Err(Error::Closed { .. }) if !out.is_empty() => break,
                Err(e) => return Err(to_py(e)),
            }
        }
        PyList::new(py, out)
    }

    /// End the stream (the other side sees ChannelClosed once drained); the
    /// creating handle also removes the file.
    fn close(&mut self) -> PyResult<()> {
        self.ring.close().py()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &mut self,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        self.close()?;
        Ok(false)
    }
}
