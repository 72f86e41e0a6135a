//! `oms.affinity`: pin threads/processes to cores.

use crate::errors::IntoPyResult;
use oms_core::affinity;
use pyo3::prelude::*;

/// Pin the calling thread to `cores`.
#[pyfunction]
pub fn pin_current_thread(cores: Vec<usize>) -> PyResult<()> {
    affinity::pin_current_thread(&cores).py()
}

/// Pin every thread of process `pid` (this process when None) to `cores`.
#[pyfunction]
#[pyo3(signature = (cores, pid = None))]
pub fn pin_process(cores: Vec<usize>, pid: Option<i32>) -> PyResult<()> {
    affinity::pin_process(pid, &cores).py()
}

/// Cores the calling thread may run on.
#[pyfunction]
pub fn current_thread_affinity() -> PyResult<Vec<usize>> {
    affinity::current_thread_affinity().py()
}
