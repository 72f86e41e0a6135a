//! `oms.queues.Queue`: the core's bounded MPMC queue holding Python objects.
//! Method names and blocking semantics follow the stdlib `queue.Queue`.

use crate::errors::to_py;
use crate::gil::{timeout_arg, wait_in_slices};
use oms_core::queue::Queue as CoreQueue;
use oms_core::Error;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::collections::VecDeque;

#[pyclass(frozen, module = "oms._core")]
pub struct Queue {
    inner: CoreQueue<Py<PyAny>>,
}

fn is_full(e: &Error) -> bool {
    matches!(e, Error::Full { .. })
}

#[pymethods]
impl Queue {
    #[new]
    fn new(capacity: usize) -> PyResult<Self> {
        CoreQueue::new(capacity).map(|inner| Queue { inner }).map_err(to_py)
    }

    #[getter]
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn qsize(&self) -> usize {
        self.inner.len()
    }

    fn empty(&self) -> bool {
        self.inner.is_empty()
    }

    fn full(&self) -> bool {
        self.inner.len() >= self.inner.capacity()
    }

    /// Put `item`; with `block`, wait up to `timeout` seconds (None: forever) for room.
    #[pyo3(signature = (item, block = true, timeout = None))]
    fn put(&self, py: Python<'_>, item: Py<PyAny>, block: bool, timeout: Option<f64>) -> PyResult<()> {
        let timeout = timeout_arg(timeout)?;
        let (item, err) = match self.inner.try_put(item) {
            Ok(()) => return Ok(()),
            Err(failed) => failed,
        };
        if !block || !is_full(&err) {
            return Err(to_py(err));
        }
        let mut pending = Some(item);
        let inner = &self.inner;
        let outcome = wait_in_slices(py, timeout, |slice| {
            let item = pending.take()?;
            match inner.put_timeout(item, slice) {
                Ok(()) => Some(Ok(())),
                Err((back, e)) => {
                    pending = Some(back);
                    (!is_full(&e)).then_some(Err(e))
                }
            }
        })?;
        match outcome {
            Some(result) => result.map_err(to_py),
            None => Err(to_py(Error::Full {
                what: "queue",
                capacity: self.inner.capacity(),
            })),
        }
    }

    fn put_nowait(&self, py: Python<'_>, item: Py<PyAny>) -> PyResult<()> {
        self.put(py, item, false, None)
    }

    /// Take an item; with `block`, wait up to `timeout` seconds (None: forever).
    #[pyo3(signature = (block = true, timeout = None))]
    fn get(&self, py: Python<'_>, block: bool, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let timeout = timeout_arg(timeout)?;
        match self.inner.try_get() {
            Ok(item) => return Ok(item),
            Err(e) if !block || !matches!(e, Error::Empty { .. }) => return Err(to_py(e)),
            Err(_) => {}
        }
        let inner = &self.inner;
        let outcome = wait_in_slices(py, timeout, |slice| match inner.get_timeout(slice) {
            Ok(item) => Some(Ok(item)),
            Err(Error::Empty { .. }) => None,
            Err(e) => Some(Err(e)),
        })?;
        outcome.unwrap_or(Err(Error::Empty { what: "queue" })).map_err(to_py)
    }

    fn get_nowait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.get(py, false, None)
    }

    /// Put as many of `items` as fit now, in order; returns how many went in.
    fn put_many(&self, items: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut batch: VecDeque<Py<PyAny>> = VecDeque::new();
        for item in items.try_iter()? {
            batch.push_back(item?.unbind());
        }
        if self.inner.is_closed() {
            return Err(to_py(Error::Closed { what: "queue" }));
        }
        Ok(self.inner.put_many(&mut batch))
    }

    /// Wait up to `timeout` seconds (None: forever, 0: not at all) for one item, then
    /// take up to `max_items` that are there. Returns a list, empty on timeout.
    #[pyo3(signature = (max_items, timeout = 0.0))]
    fn get_many<'py>(&self, py: Python<'py>, max_items: usize, timeout: Option<f64>) -> PyResult<Bound<'py, PyList>> {
        let mut out: Vec<Py<PyAny>> = Vec::with_capacity(max_items.min(4096));
        if max_items == 0 {
            return PyList::new(py, out);
        }
        self.inner.drain_into(&mut out, max_items);
        if out.is_empty() && timeout != Some(0.0) {
            let inner = &self.inner;
            // Errors from the wait itself (Ctrl-C in a signal handler) propagate.
            let first = wait_in_slices(py, timeout_arg(timeout)?, |slice| match inner.get_timeout(slice) {
                Ok(item) => Some(Ok(item)),
                Err(Error::Empty { .. }) => None,
                Err(e) => Some(Err(e)),
            })?;
            match first {
                Some(Ok(item)) => {
                    out.push(item);
                    self.inner.drain_into(&mut out, max_items);
                }
                Some(Err(e)) => return Err(to_py(e)),
                None => {}
            }
        }
        PyList::new(py, out)
    }

    /// Refuse further puts; gets drain what is left, then raise ChannelClosed.
    fn close(&self) {
        self.inner.close();
    }
}
