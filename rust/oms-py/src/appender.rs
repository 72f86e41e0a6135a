//! `oms.storage.appender.FileAppender`: chunks of lines appended to files by a core
//! thread that never takes the GIL (see `oms_core::appender` for why).

use crate::errors::to_py;
use crate::gil::{detached, timeout_arg, wait_in_slices};
use crate::journal::JournalLines;
use oms_core::appender::FileAppender as CoreAppender;
use oms_core::Error;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::Duration;

/// One attempt without waiting (the common case: room in the queue), then attempts
/// a slice of `timeout` each, detached, until one is not `Full` (each attempt builds
/// its own message: a copy of the data per attempt, on the slow path only).
fn hand_over(
    py: Python<'_>,
    timeout: Option<f64>,
    attempt: impl Fn(Duration) -> oms_core::Result<()> + Sync,
) -> PyResult<()> {
    let timeout = timeout_arg(timeout)?;
    match attempt(Duration::ZERO) {
        Err(Error::Full { .. }) => {}
        done => return done.map_err(to_py),
    }
    let outcome = wait_in_slices(py, timeout, |slice| match attempt(slice) {
        Err(Error::Full { .. }) => None,
        done => Some(done),
    })?;
    outcome
        .unwrap_or(Err(Error::Full {
            what: "appender",
            capacity: 0,
        }))
        .map_err(to_py)
}

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
        let inner = &self.inner;
        hand_over(py, timeout, |wait| {
            inner.append(path.clone(), data.to_vec(), lines, wait)
        })
    }

    /// Like `append` for newline-terminated JSON objects: line `i` gets a `time`
    /// field from `stamps[i]` (ns since the epoch) as it is written, off this thread.
    /// One stamp per whole line, or InvalidInput (nothing handed over).
    #[pyo3(signature = (path, data, stamps, timeout = None))]
    fn append_stamped(
        &self,
        py: Python<'_>,
        path: PathBuf,
        data: &[u8],
        stamps: Vec<i64>,
        timeout: Option<f64>,
    ) -> PyResult<()> {
        let inner = &self.inner;
        hand_over(py, timeout, |wait| {
            inner.append_stamped(path.clone(), data.to_vec(), stamps.clone(), wait)
        })
    }

    /// Hand over `lines` (`oms._core.journal_lines`) for `path`: encoded, stamped
    /// and appended on the appender's thread. Waits like `append`.
    #[pyo3(signature = (path, lines, timeout = None))]
    fn append_lines(&self, py: Python<'_>, path: PathBuf, lines: &JournalLines, timeout: Option<f64>) -> PyResult<()> {
        let inner = &self.inner;
        hand_over(py, timeout, |wait| {
            inner.append_lines(path.clone(), lines.lines.clone(), wait)
        })
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
