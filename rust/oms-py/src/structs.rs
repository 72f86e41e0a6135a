//! Reading msgspec Structs (`OrderRequest`, `Fill`) from Rust: every field in one C
//! call (`msgspec.structs.astuple`) instead of one attribute lookup each, which at
//! ~25 ns a field was most of the order path's cost of reading a request.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

static ASTUPLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Where `N` named fields sit in the tuple of one Struct class.
pub(crate) struct Layout<const N: usize> {
    class: Py<PyAny>,
    index: [usize; N],
}

impl<const N: usize> Layout<N> {
    /// The layout of `module.class` for `names` (an error names a field it lacks).
    pub(crate) fn of(py: Python<'_>, module: &str, class: &str, names: [&str; N]) -> PyResult<Self> {
        let class = py.import(module)?.getattr(class)?;
        let fields: Vec<String> = class.getattr("__struct_fields__")?.extract()?;
        let mut index = [0; N];
        for (slot, name) in index.iter_mut().zip(names) {
            *slot = fields
                .iter()
                .position(|f| f == name)
                .ok_or_else(|| pyo3::exceptions::PyAttributeError::new_err(format!("{class} has no field {name}")))?;
        }
        Ok(Layout {
            class: class.unbind(),
            index,
        })
    }

    /// The named fields of `value`, in the order of the names; None when `value` is
    /// not exactly of the class (a subclass may add fields: read it by name).
    pub(crate) fn read<'py>(&self, value: &Bound<'py, PyAny>) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
        let py = value.py();
        if !value.get_type().is(self.class.bind(py)) {
            return Ok(None);
        }
        let astuple = ASTUPLE.get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("msgspec.structs")?.getattr("astuple")?.unbind())
        })?;
        let all = astuple.bind(py).call1((value,))?.cast_into::<PyTuple>()?;
        self.index
            .iter()
            .map(|&i| all.get_item(i))
            .collect::<PyResult<_>>()
            .map(Some)
    }
}
