//! `oms.locked_memory.LockedBuffer`: mlock'ed bytes, zeroed on release, exposed
//! through the buffer protocol so secrets are written and read in place (no copy
//! into ordinary Python memory unless the caller makes one).

use crate::errors::{to_py, IntoPyResult};
use oms_core::locked_memory::LockedBuffer as CoreBuffer;
use oms_core::Error;
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use std::os::raw::c_int;

#[pyclass(module = "oms._core")]
pub struct LockedBuffer {
    buffer: Option<CoreBuffer>,
    exports: usize,
}

impl LockedBuffer {
    fn open(&mut self) -> PyResult<&mut CoreBuffer> {
        self.buffer
            .as_mut()
            .ok_or_else(|| to_py(Error::Closed { what: "locked buffer" }))
    }
}

#[pymethods]
impl LockedBuffer {
    #[new]
    fn new(size: usize) -> PyResult<Self> {
        Ok(LockedBuffer {
            buffer: Some(CoreBuffer::new(size).py()?),
            exports: 0,
        })
    }

    fn __len__(&self) -> usize {
        self.buffer.as_ref().map_or(0, CoreBuffer::len)
    }

    #[getter]
    fn closed(&self) -> bool {
        self.buffer.is_none()
    }

    /// Copy `data` into the buffer at `offset`.
    #[pyo3(signature = (data, offset = 0))]
    fn write(&mut self, data: &[u8], offset: usize) -> PyResult<()> {
        let buf = self.open()?;
        let end = offset
            .checked_add(data.len())
            .filter(|&e| e <= buf.len())
            .ok_or_else(|| {
                to_py(Error::InvalidArgument {
                    field: "data",
                    reason: format!(
                        "{} bytes at offset {offset} do not fit in {} bytes",
                        data.len(),
                        buf.len()
                    ),
                })
            })?;
        buf.as_mut_slice()[offset..end].copy_from_slice(data);
        Ok(())
    }

    /// Overwrite every byte with zero.
    fn zero(&mut self) -> PyResult<()> {
        self.open()?.zero();
        Ok(())
    }

    /// Zero, unlock and free the memory now (also done when garbage-collected).
    fn close(&mut self) -> PyResult<()> {
        if self.exports > 0 {
            return Err(PyBufferError::new_err(
                "a memoryview of this buffer is still alive; release it first",
            ));
        }
        self.buffer = None;
        Ok(())
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

    /// Buffer protocol: a writable view of the locked bytes.
    unsafe fn __getbuffer__(mut slf: PyRefMut<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        let (ptr, len) = {
            let buf = slf.open()?;
            (buf.as_ptr(), buf.len())
        };
        let owner = slf.as_ptr();
        // SAFETY: ptr/len describe memory owned by `slf`, which the view keeps alive
        // (PyBuffer_FillInfo takes a reference to `owner`); close() refuses while exported.
        let rc = unsafe { ffi::PyBuffer_FillInfo(view, owner, ptr.cast(), len as ffi::Py_ssize_t, 0, flags) };
        if rc != 0 {
            return Err(PyErr::fetch(slf.py()));
        }
        slf.exports += 1;
        Ok(())
    }

    unsafe fn __releasebuffer__(mut slf: PyRefMut<'_, Self>, _view: *mut ffi::Py_buffer) {
        slf.exports = slf.exports.saturating_sub(1);
    }
}
