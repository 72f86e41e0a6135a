//! The engine's events in the core's form (`oms_core::events`), kept as they are
//! until someone needs them: the journal encodes them here (`encode_lines`), other
//! subscribers get the `oms.engine.events` Structs from `event()`.

use crate::enums::{member, Enum};
use crate::fixed::to_decimal;
use crate::orders::status_member;
use crate::positions::Position;
use oms_core::events::OrderUpdate;
use oms_core::fixed::{AMOUNT_SCALE_DIGITS, SCALE_DIGITS};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyTuple};

static EVENT_CLASSES: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
/// `oms.engine.events.OrderUpdate` and `PositionUpdate`.
fn event_classes(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>)> {
    EVENT_CLASSES.get_or_try_init(py, || {
        let module = py.import("oms.engine.events")?;
        Ok::<_, PyErr>((
            module.getattr("OrderUpdate")?.unbind(),
            module.getattr("PositionUpdate")?.unbind(),
        ))
    })
}

/// An `OrderUpdate` as the core made it.
#[pyclass(frozen, module = "oms._core")]
pub struct OrderUpdateRecord {
    update: OrderUpdate,
}

impl OrderUpdateRecord {
    pub(crate) fn new(update: OrderUpdate) -> Self {
        OrderUpdateRecord { update }
    }
}

#[pymethods]
impl OrderUpdateRecord {
    #[getter]
    fn seq(&self) -> u64 {
        self.update.seq
    }

    #[getter]
    fn ts_ns(&self) -> i64 {
        self.update.ts_ns
    }

    /// The `oms.engine.events.OrderUpdate` it stands for.
    fn event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let u = &self.update;
        let t = &*u.terms;
        let decimal = |raw: i64| to_decimal(py, raw.into(), SCALE_DIGITS);
        let fields = PyTuple::new(
            py,
            [
                u.seq.into_pyobject(py)?.into_any(),
                u.order_id.as_str().into_pyobject(py)?.into_any(),
                u.client_order_id.as_str().into_pyobject(py)?.into_any(),
                t.venue.as_str().into_pyobject(py)?.into_any(),
                t.symbol.as_str().into_pyobject(py)?.into_any(),
                member(py, Enum::Side, t.side.as_str())?,
                member(py, Enum::OrderType, &t.order_type)?,
                decimal(t.qty.raw())?,
                t.price.map(|p| decimal(p.raw())).transpose()?.into_pyobject(py)?,
                status_member(py, u.status)?,
                decimal(u.filled_qty.raw())?,
                u.avg_price()
                    .map(|p| to_decimal(py, p, AMOUNT_SCALE_DIGITS))
                    .transpose()?
                    .into_pyobject(py)?,
                u.venue_order_id.as_deref().into_pyobject(py)?,
                u.reason.as_deref().into_pyobject(py)?,
                t.account.as_str().into_pyobject(py)?.into_any(),
                u.ts_ns.into_pyobject(py)?.into_any(),
            ],
        )?;
        event_classes(py)?.0.bind(py).call1(fields)
    }

    /// The journal's line for it (JSON, with its newline).
    fn json<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let mut line = Vec::with_capacity(320);
        self.update.encode_json(&mut line);
        PyBytes::new(py, &line)
    }
}

/// A `PositionUpdate`: the position a fill or a funding payment left, numbered.
#[pyclass(frozen, module = "oms._core")]
pub struct PositionUpdateRecord {
    seq: u64,
    position: Py<Position>,
}

impl PositionUpdateRecord {
    pub(crate) fn new(seq: u64, position: Py<Position>) -> Self {
        PositionUpdateRecord { seq, position }
    }
}

#[pymethods]
impl PositionUpdateRecord {
    #[getter]
    fn seq(&self) -> u64 {
        self.seq
    }

    #[getter]
    fn ts_ns(&self) -> i64 {
        self.position.get().updated_ns()
    }

    /// The `oms.engine.events.PositionUpdate` it stands for.
    fn event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let fields = self.position.get().event_fields(py)?;
        let (account, venue, symbol, qty, avg, realized, unrealized, fees, version, ts_ns, funding) = fields;
        let args = (
            self.seq, account, venue, symbol, qty, avg, realized, unrealized, fees, version, ts_ns, funding,
        );
        event_classes(py)?.1.bind(py).call1(args)
    }
}

/// One JSON line per event, in order: `OrderUpdateRecord`s encoded here, anything
/// else by `encoder` (a `msgspec.json.Encoder`).
#[pyfunction]
pub fn encode_lines<'py>(
    py: Python<'py>,
    events: &Bound<'py, PyList>,
    encoder: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut out = Vec::with_capacity(events.len() * 320);
    for event in events.iter() {
        if let Ok(record) = event.cast::<OrderUpdateRecord>() {
            record.get().update.encode_json(&mut out);
        } else {
            let line = encoder.call_method1("encode", (event,))?;
            out.extend_from_slice(line.cast::<PyBytes>()?.as_bytes());
            out.push(b'\n');
        }
    }
    Ok(PyBytes::new(py, &out))
}
