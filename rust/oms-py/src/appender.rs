//! `oms.storage.appender.FileAppender`: chunks of lines appended to files by a core
//! thread that never takes the GIL (see `oms_core::appender` for why).

use crate::errors::to_py;
use crate::gil::{detached, timeout_arg, wait_in_slices};
use oms_core::appender::FileAppender as CoreAppender;
use oms_core::Error;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::Duration;

#[pyclass(frozen, module = "oms._core")]
pub struct FileAppender {
    inner: CoreAppender,
}

#[pymethods]
impl FileAppender {
    #[new]
    fn new(capacity: usize) -> PyResult<Self> {
        CoreAppender::new(capacity)
            .map(|inner| FileAppender { inner })
            .map_err(to_py)
    }

    fn start(&self) -> PyResult<()> {
        self.inner.start().map_err(to_py)
    }

    /// Hand over `data` (`lines` lines) for `path`; waits up to `timeout` seconds
    /// (None: forever) for room, then raises QueueFull; ChannelClosed once stopped.
    #[pyo3(signature = (path, data, lines, timeout = None))]
    fn append(&self, py: Python<'_>, path: PathBuf, data: &[u8], lines: u64, timeout: Option<f64>) -> PyResult<()> {
        let timeout = timeout_arg(timeout)?;
        match self.inner.append(path.clone(), data.to_vec(), lines, Duration::ZERO) {
            Err(Error::Full { .. }) => {}
            done => return done.map_err(to_py),
        }
        let inner = &self.inner;
        let data = data.to_vec(); // the slow path: a copy per attempt, each attempt one slice
        let outcome = wait_in_slices(py, timeout, |slice| {
            match inner.append(path.clone(), data.clone(), lines, slice) {
                Err(Error::Full { .. }) => None,
                done => Some(done),
            }
        })?;
        outcome
            .unwrap_or(Err(Error::Full {
                what: "appender",
                capacity: 0,
            }))
            .map_err(to_py)
    }

    /// Close `path` after what is handed over for it; `compress`: then gzip it.
    #[pyo3(signature = (path, compress = false))]
    fn close_file(&self, py: Python<'_>, path: PathBuf, compress: bool) -> PyResult<()> {
        let inner = &self.inner;
        detached(py, || inner.close_file(path, compress, Duration::MAX)).map_err(to_py)
    }

    /// Wait up to `timeout` seconds (None: forever) until everything handed over is
    /// written; False on timeout.
    #[pyo3(signature = (timeout = None))]
    fn sync(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let timeout = timeout_arg(timeout)?.unwrap_or(Duration::MAX);
        let inner = &self.inner;
        detached(py, || inner.sync(timeout)).map_err(to_py)
    }

    /// Write everything handed over, close the files, end the thread.
    fn stop(&self, py: Python<'_>) {
        let inner = &self.inner;
        detached(py, || inner.stop());
    }

    #[getter]
    fn written(&self) -> u64 {
        self.inner.written()
    }

    #[getter]
    fn failed(&self) -> u64 {
        self.inner.failed()
    }

    #[getter]
    fn last_error(&self) -> Option<String> {
        self.inner.last_error()
    }
}
