//! Members of `oms.model.enums` by value, for the values the core hands to Python
//! (a status, a side, an order type): one import, then a dict lookup.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

/// The enums of `oms.model.enums` the binding hands out.
#[derive(Copy, Clone)]
pub enum Enum {
    Side,
    OrderType,
    OrderStatus,
}

static BY_VALUE: PyOnceLock<[Py<PyDict>; 3]> = PyOnceLock::new();

/// The member of `which` whose value is `value`.
pub fn member<'py>(py: Python<'py>, which: Enum, value: &str) -> PyResult<Bound<'py, PyAny>> {
    let maps = BY_VALUE.get_or_try_init(py, || {
        let enums = py.import("oms.model.enums")?;
        let by_value = |name: &str| -> PyResult<Py<PyDict>> {
            Ok(enums
                .getattr(name)?
                .getattr("_value2member_map_")?
                .cast_into::<PyDict>()?
                .unbind())
        };
        Ok::<_, PyErr>([by_value("Side")?, by_value("OrderType")?, by_value("OrderStatus")?])
    })?;
    maps[which as usize].bind(py).as_any().get_item(value)
}
