//! The engine's events in the core's form (`oms_core::events`), kept as they are
//! until someone needs them: the journal's thread encodes them (`journal.rs`), other
//! subscribers get the `oms.engine.events` Structs from `event()`.

use crate::enums::{member, Enum};
use crate::fixed::to_decimal;
use crate::orders::status_member;
use crate::positions::Position;
use oms_core::events::{FillUpdate, OrderUpdate, PositionUpdate};
use oms_core::fixed::{AMOUNT_SCALE_DIGITS, SCALE_DIGITS};
use oms_core::jsonl::JsonLine;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyTuple};
use std::sync::Arc;

static EVENT_CLASSES: PyOnceLock<(Py<PyAny>, Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
/// `oms.engine.events.OrderUpdate`, `PositionUpdate` and `FillUpdate`.
fn event_classes(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>, Py<PyAny>)> {
    EVENT_CLASSES.get_or_try_init(py, || {
        let module = py.import("oms.engine.events")?;
        Ok::<_, PyErr>((
            module.getattr("OrderUpdate")?.unbind(),
            module.getattr("PositionUpdate")?.unbind(),
            module.getattr("FillUpdate")?.unbind(),
        ))
    })
}

/// `oms.engine.events.FillUpdate` (the order path makes one per fill).
pub(crate) fn fill_update_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    Ok(event_classes(py)?.2.bind(py))
}

/// An `OrderUpdate` as the core made it (shared with the journal's writer thread,
/// which encodes it).
#[pyclass(frozen, module = "oms._core")]
pub struct OrderUpdateRecord {
    update: Arc<OrderUpdate>,
}

impl OrderUpdateRecord {
    pub(crate) fn new(update: OrderUpdate) -> Self {
        OrderUpdateRecord {
            update: Arc::new(update),
        }
    }

    /// The update as a journal line (the record is not copied).
    pub(crate) fn shared(&self) -> Arc<dyn JsonLine> {
        self.update.clone()
    }

    pub(crate) fn update(&self) -> &OrderUpdate {
        &self.update
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
                (&*u.order_id).into_pyobject(py)?.into_any(),
                (&*u.client_order_id).into_pyobject(py)?.into_any(),
                t.venue().into_pyobject(py)?.into_any(),
                t.symbol().into_pyobject(py)?.into_any(),
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
                t.account().into_pyobject(py)?.into_any(),
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

    /// The update in the core's form (borrowing the position).
    pub(crate) fn update(&self) -> PositionUpdate<'_> {
        PositionUpdate {
            seq: self.seq,
            position: self.position.get().record(),
        }
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

/// A `FillUpdate` as the core made it, with the `oms.model.Fill` it was made from.
#[pyclass(frozen, module = "oms._core")]
pub struct FillUpdateRecord {
    update: Arc<FillUpdate>,
    fill: Py<PyAny>,
}

impl FillUpdateRecord {
    pub(crate) fn new(update: FillUpdate, fill: Py<PyAny>) -> Self {
        FillUpdateRecord {
            update: Arc::new(update),
            fill,
        }
    }

    /// The update as a journal line (the record is not copied).
    pub(crate) fn shared(&self) -> Arc<dyn JsonLine> {
        self.update.clone()
    }

    pub(crate) fn update(&self) -> &FillUpdate {
        &self.update
    }
}

#[pymethods]
impl FillUpdateRecord {
    #[getter]
    fn seq(&self) -> u64 {
        self.update.seq
    }

    /// When the venue says the fill happened.
    #[getter]
    fn ts_ns(&self) -> i64 {
        self.update.ts_ns
    }

    #[getter]
    fn fill(&self, py: Python<'_>) -> Py<PyAny> {
        self.fill.clone_ref(py)
    }

    /// The `oms.engine.events.FillUpdate` it stands for.
    fn event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let u = &self.update;
        fill_update_class(py)?.call1((u.seq, &*u.order_id, &*u.key.account, &self.fill))
    }

    /// The journal's line for it (JSON, with its newline).
    fn json<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let mut line = Vec::with_capacity(400);
        self.update.encode_json(&mut line);
        PyBytes::new(py, &line)
    }
}

/// The engine's event numbers and the events kept for its batch sinks, in order.
/// `oms.engine.events.EventHub` owns the subscribers; this is the part the order
/// path writes to for every order (`OrderPath` and the hub's `emit_order`), so an
/// event costs no Python call. An emit returns True when the hub must attend to
/// what was kept (`EventHub._attend`): events for callbacks and iterators (made
/// into Structs there), or a batch to hand over or to schedule.
#[pyclass(module = "oms._core")]
pub struct EventLog {
    last_seq: u64,
    kept: Vec<Py<PyAny>>,
    listened_events: Vec<Py<PyAny>>,
    /// Callbacks or iterators listen: every record goes through the hub at once.
    listened: bool,
    /// Batch sinks listen: events are kept for them.
    sinks: bool,
    /// The event loop a hand-over of `kept` is scheduled on.
    drain_loop: Option<Py<PyAny>>,
    batch_every: usize,
}

/// Whether `event_loop` is closed: its `_closed` flag where it has one (asyncio's
/// loops: an attribute read), else `is_closed()`. Asked once per step of the order
/// path while a hand-over is due, so it must not cost a call into Python there
/// (`asyncio.get_running_loop` would: it asks the kernel for the pid on 3.11).
fn is_closed(event_loop: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = event_loop.py();
    match event_loop.getattr(pyo3::intern!(py, "_closed")) {
        Ok(flag) => flag.is_truthy(),
        Err(_) => event_loop.call_method0(pyo3::intern!(py, "is_closed"))?.is_truthy(),
    }
}

impl EventLog {
    pub(crate) fn next(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    /// Keep an event of the order path (numbered by `next`); ask `attention` after.
    pub(crate) fn record(&mut self, event: Py<PyAny>) {
        if self.listened {
            self.listened_events.push(event);
        } else if self.sinks {
            self.kept.push(event);
        }
    }

    /// Whether any event is wanted at all (none: the order path skips making them).
    pub(crate) fn wanted(&self) -> bool {
        self.listened || self.sinks
    }

    /// Whether the hub must attend: events owed to callbacks or iterators, a full
    /// batch, or kept events with no hand-over scheduled (none yet, or its loop
    /// closed before it ran).
    pub(crate) fn attention(&self, py: Python<'_>) -> PyResult<bool> {
        if !self.listened_events.is_empty() || self.kept.len() >= self.batch_every {
            return Ok(true);
        }
        if self.kept.is_empty() {
            return Ok(false);
        }
        match &self.drain_loop {
            None => Ok(true),
            Some(due) => is_closed(due.bind(py)),
        }
    }
}

#[pymethods]
impl EventLog {
    #[new]
    fn new(first_seq: u64, batch_every: usize) -> Self {
        EventLog {
            last_seq: first_seq.saturating_sub(1),
            kept: Vec::new(),
            listened_events: Vec::new(),
            listened: false,
            sinks: false,
            drain_loop: None,
            batch_every,
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.next()
    }

    /// The last number handed out.
    #[getter]
    fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Number on from after `seq` if an earlier life already went that far.
    fn continue_after(&mut self, seq: u64) {
        self.last_seq = self.last_seq.max(seq);
    }

    /// Who listens: callbacks or iterators (`listened`), batch sinks (`sinks`).
    fn set_listeners(&mut self, listened: bool, sinks: bool) {
        self.listened = listened;
        self.sinks = sinks;
    }

    /// Keep an event for the batch sinks; True when the hub must attend.
    fn keep(&mut self, py: Python<'_>, event: Py<PyAny>) -> PyResult<bool> {
        self.kept.push(event);
        self.attention(py)
    }

    /// An `OrderUpdate` of `order` as it is now; True when the hub must attend.
    fn emit_order(&mut self, order: &Bound<'_, crate::orders::Order>) -> PyResult<bool> {
        let seq = self.next();
        if !self.wanted() {
            return Ok(false);
        }
        let py = order.py();
        let record = Py::new(py, order.borrow().update(seq))?;
        self.record(record.into_any());
        self.attention(py)
    }

    /// A `PositionUpdate` of `position`; True when the hub must attend.
    fn emit_position(&mut self, py: Python<'_>, position: Py<Position>) -> PyResult<bool> {
        let seq = self.next();
        if !self.wanted() {
            return Ok(false);
        }
        let record = Py::new(py, PositionUpdateRecord::new(seq, position))?;
        self.record(record.into_any());
        self.attention(py)
    }

    /// The kept events, handed over (no hand-over is due after this).
    fn take<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.drain_loop = None;
        PyList::new(py, std::mem::take(&mut self.kept))
    }

    /// The records callbacks and iterators are owed, in order.
    fn take_listened<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, std::mem::take(&mut self.listened_events))
    }

    /// A hand-over of the kept events is scheduled on `event_loop`.
    fn drain_scheduled(&mut self, event_loop: Py<PyAny>) {
        self.drain_loop = Some(event_loop);
    }

    fn __len__(&self) -> usize {
        self.kept.len()
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        for event in self.kept.iter().chain(&self.listened_events).chain(&self.drain_loop) {
            visit.call(event)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.kept.clear();
        self.listened_events.clear();
        self.drain_loop = None;
    }
}
