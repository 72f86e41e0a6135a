//! `oms.model.Order`: the core's order record (`oms_core::orders`) under the
//! `OrderRequest` it was made from. Numbers are kept in fixed point and handed out
//! as `Decimal`; statuses as `oms.model.OrderStatus` members.

use std::collections::HashSet;
use std::sync::Arc;

use crate::enums::{member, Enum};
use crate::errors::{to_py, IntoPyResult};
use crate::events::OrderUpdateRecord;
use crate::fixed::{amount, optional, quantity, to_decimal};
use crate::risk::RiskOrder;
use crate::struct_fields::{optional_text, text, StructFields};
use oms_core::events::{average_price, OrderUpdate};
use oms_core::fixed::{AMOUNT_SCALE_DIGITS, SCALE_DIGITS};
use oms_core::orders::{order_type_name, FillTerms, OrderRecord, OrderStatus, OrderTerms};
use oms_core::risk::OrderTicket;
use oms_core::{Amount, Quantity, Side};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PySet, PyString};

/// The `oms.model.OrderStatus` member of a core status.
pub(crate) fn status_member(py: Python<'_>, status: OrderStatus) -> PyResult<Bound<'_, PyAny>> {
    member(py, Enum::OrderStatus, status.as_str())
}

/// An `OrderStatus` member or its name (both are `str`).
fn parse_status(value: &Bound<'_, PyAny>) -> PyResult<OrderStatus> {
    OrderStatus::parse(&value.extract::<String>()?).py()
}

fn qty_decimal(py: Python<'_>, value: Quantity) -> PyResult<Bound<'_, PyAny>> {
    to_decimal(py, value.raw().into(), SCALE_DIGITS)
}

fn amount_decimal(py: Python<'_>, value: Amount) -> PyResult<Bound<'_, PyAny>> {
    to_decimal(py, value.raw(), AMOUNT_SCALE_DIGITS)
}

/// What the record keeps of an `OrderRequest`.
fn terms(request: &Bound<'_, PyAny>) -> PyResult<Arc<OrderTerms>> {
    let text = |name: &str| request.getattr(name)?.extract::<String>();
    Ok(Arc::new(OrderTerms::new(
        &text("account")?,
        &text("venue")?,
        &text("symbol")?,
        Side::parse(&text("side")?).py()?,
        &text("type")?,
        quantity(&request.getattr("qty")?, "qty")?,
        optional(Some(&request.getattr("price")?), "price", crate::fixed::price)?,
    )))
}

/// An order the OMS owns, from submission to a final state. Change it only through
/// `transition`, `apply_fill` and `revert_pending`: they enforce the state machine
/// and keep the fill totals exact.
#[pyclass(module = "oms._core")]
pub struct Order {
    record: OrderRecord,
    request: Py<PyAny>,
    /// The id as a Python str, made once: it is read for every lookup by id.
    py_id: PyOnceLock<Py<PyString>>,
    /// What the risk engine holds for the order while it is open (`OrderPath`
    /// takes it when the order ends; amends swap it).
    pub(crate) reservation: Option<Py<RiskOrder>>,
    /// Counted among the closed orders (`OrderPath` keeps the newest of those).
    pub(crate) counted_closed: bool,
}

impl Order {
    /// A new order (PENDING_NEW) whose id is also its client order id, its terms those
    /// the risk engine parsed into `ticket`.
    pub(crate) fn from_ticket(
        id: Arc<str>,
        request: &Bound<'_, PyAny>,
        ticket: &OrderTicket,
        order_type: &str,
        now_ns: i64,
    ) -> Self {
        let terms = Arc::new(OrderTerms {
            key: Arc::clone(ticket.key()),
            side: ticket.side,
            order_type: order_type_name(order_type),
            qty: ticket.qty,
            price: ticket.price(),
        });
        Order {
            record: OrderRecord::new(Arc::clone(&id), id, terms, now_ns),
            request: request.clone().unbind(),
            py_id: PyOnceLock::new(),
            reservation: None,
            counted_closed: false,
        }
    }

    pub(crate) fn record(&self) -> &OrderRecord {
        &self.record
    }

    pub(crate) fn record_mut(&mut self) -> &mut OrderRecord {
        &mut self.record
    }
}

#[pymethods]
impl Order {
    #[new]
    #[pyo3(signature = (
        *, id, request, client_order_id, venue_order_id = None, status = None,
        filled_qty = None, filled_quote = None, fees = None, trade_ids = None,
        overfill_qty = None, reason = None, status_before_pending = None,
        created_ns = 0, updated_ns = 0,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        id: String,
        request: &Bound<'_, PyAny>,
        client_order_id: String,
        venue_order_id: Option<String>,
        status: Option<&Bound<'_, PyAny>>,
        filled_qty: Option<&Bound<'_, PyAny>>,
        filled_quote: Option<&Bound<'_, PyAny>>,
        fees: Option<&Bound<'_, PyDict>>,
        trade_ids: Option<HashSet<String>>,
        overfill_qty: Option<&Bound<'_, PyAny>>,
        reason: Option<String>,
        status_before_pending: Option<&Bound<'_, PyAny>>,
        created_ns: i64,
        updated_ns: i64,
    ) -> PyResult<Self> {
        let mut record = OrderRecord::new(id.into(), client_order_id.into(), terms(request)?, created_ns);
        record.updated_ns = updated_ns;
        record.venue_order_id = venue_order_id.map(Arc::from);
        record.reason = reason;
        record.trade_ids = trade_ids.into_iter().flatten().map(Arc::from).collect();
        if let Some(status) = status {
            record.status = parse_status(status)?;
        }
        record.status_before_pending = status_before_pending.map(parse_status).transpose()?;
        let zero_or = |v: Option<&Bound<'_, PyAny>>, what| v.map_or(Ok(Quantity::ZERO), |v| quantity(v, what));
        record.filled_qty = zero_or(filled_qty, "filled_qty")?;
        record.overfill_qty = zero_or(overfill_qty, "overfill_qty")?;
        record.filled_quote = filled_quote.map_or(Ok(Amount::ZERO), |v| amount(v, "filled_quote"))?;
        for (asset, fee) in fees.into_iter().flat_map(|f| f.iter()) {
            record.fees.push((asset.extract()?, amount(&fee, "fees")?));
        }
        Ok(Order {
            record,
            request: request.clone().unbind(),
            py_id: PyOnceLock::new(),
            reservation: None,
            counted_closed: false,
        })
    }

    #[getter]
    pub(crate) fn id<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        self.py_id
            .get_or_init(py, || PyString::new(py, &self.record.id).unbind())
            .bind(py)
            .clone()
    }

    /// What the client asked for (replace it whole to amend: its terms are read
    /// again).
    #[getter]
    fn request(&self, py: Python<'_>) -> Py<PyAny> {
        self.request.clone_ref(py)
    }

    #[setter]
    fn set_request(&mut self, request: &Bound<'_, PyAny>) -> PyResult<()> {
        self.record.terms = terms(request)?;
        self.request = request.clone().unbind();
        Ok(())
    }

    /// The id's own str while the two are the same (the usual case), so lookups
    /// by client order id find the key's hash already made.
    #[getter]
    fn client_order_id<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        if self.record.client_order_id == self.record.id {
            self.id(py)
        } else {
            PyString::new(py, &self.record.client_order_id)
        }
    }

    #[setter]
    fn set_client_order_id(&mut self, value: &str) {
        self.record.client_order_id = value.into();
    }

    /// The risk engine's reservation for the order while it is open (None once it
    /// ended, or for an order the engine does not reserve).
    #[getter]
    fn reservation(&self, py: Python<'_>) -> Option<Py<RiskOrder>> {
        self.reservation.as_ref().map(|r| r.clone_ref(py))
    }

    #[setter]
    fn set_reservation(&mut self, value: Option<Py<RiskOrder>>) {
        self.reservation = value;
    }

    #[getter]
    fn venue_order_id(&self) -> Option<&str> {
        self.record.venue_order_id.as_deref()
    }

    #[setter]
    fn set_venue_order_id(&mut self, value: Option<&str>) {
        self.record.venue_order_id = value.map(Arc::from);
    }

    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        status_member(py, self.record.status)
    }

    /// Set as recorded (replaying a journal): no transition is checked.
    #[setter]
    fn set_status(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.record.status = parse_status(value)?;
        Ok(())
    }

    #[getter]
    fn status_before_pending<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.record
            .status_before_pending
            .map(|s| status_member(py, s))
            .transpose()
    }

    #[getter]
    fn filled_qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qty_decimal(py, self.record.filled_qty)
    }

    /// Sum of qty x price over the fills, exact.
    #[getter]
    fn filled_quote<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        amount_decimal(py, self.record.filled_quote)
    }

    #[getter]
    fn overfill_qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qty_decimal(py, self.record.overfill_qty)
    }

    /// Fees by asset ("" where the venue named none).
    #[getter]
    fn fees<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let fees = PyDict::new(py);
        for (asset, total) in &self.record.fees {
            fees.set_item(asset, amount_decimal(py, *total)?)?;
        }
        Ok(fees)
    }

    /// The trade ids applied (a copy).
    #[getter]
    fn trade_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PySet>> {
        PySet::new(py, self.record.trade_ids.iter())
    }

    /// Why it was rejected / canceled / expired, as the venue said.
    #[getter]
    fn reason(&self) -> Option<&str> {
        self.record.reason.as_deref()
    }

    #[setter]
    fn set_reason(&mut self, value: Option<String>) {
        self.record.reason = value;
    }

    #[getter]
    fn created_ns(&self) -> i64 {
        self.record.created_ns
    }

    #[getter]
    fn updated_ns(&self) -> i64 {
        self.record.updated_ns
    }

    #[setter]
    fn set_updated_ns(&mut self, value: i64) {
        self.record.updated_ns = value;
    }

    #[getter]
    fn qty(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.request.bind(py).getattr("qty")?.unbind())
    }

    #[getter]
    fn remaining_qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qty_decimal(py, self.record.remaining_qty())
    }

    /// filled_quote / filled_qty, rounded half-even at 10^-16 (None before any fill).
    #[getter]
    fn avg_price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        average_price(self.record.filled_quote, self.record.filled_qty)
            .map(|raw| to_decimal(py, raw, AMOUNT_SCALE_DIGITS))
            .transpose()
    }

    /// The order as it is now, as event `seq` (an `OrderUpdate` in the core's form).
    pub(crate) fn update(&self, seq: u64) -> OrderUpdateRecord {
        OrderUpdateRecord::new(OrderUpdate::of(&self.record, seq))
    }

    /// Move to `new`; False if already there. Raises IllegalTransition.
    #[pyo3(signature = (new, *, reason = None, ts_ns = 0))]
    fn transition(&mut self, new: &Bound<'_, PyAny>, reason: Option<&str>, ts_ns: i64) -> PyResult<bool> {
        self.record.transition(parse_status(new)?, reason, ts_ns).py()
    }

    /// The venue refused our cancel/amend: go back to the working status.
    #[pyo3(signature = (*, reason = None, ts_ns = 0))]
    fn revert_pending(&mut self, reason: Option<&str>, ts_ns: i64) -> PyResult<()> {
        self.record.revert_pending(reason, ts_ns).py()
    }

    /// Record a fill (an `oms.model.Fill`). Raises DuplicateFill or
    /// IllegalTransition (nothing changed), or Overfill (recorded).
    fn apply_fill(&mut self, fill: &Bound<'_, PyAny>) -> PyResult<()> {
        let fields = FillFields::read(fill)?;
        let terms = fields.terms()?;
        match self.record.apply_fill(&terms).py()? {
            None => Ok(()),
            Some(_) => Err(to_py(self.record.overfill(terms.trade_id))),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(other) = other.cast::<Order>() else {
            return Ok(false);
        };
        let py = other.py();
        let other = other.borrow();
        Ok(self.record == other.record && self.request.bind(py).eq(other.request.bind(py))?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let r = &self.record;
        Ok(format!(
            "Order(id={:?}, client_order_id={:?}, status={}, filled_qty={}, request={})",
            r.id,
            r.client_order_id,
            r.status.as_str(),
            r.filled_qty,
            self.request.bind(py).repr()?
        ))
    }
}

/// The fields of an `oms.model.Fill` (in its order).
static FILL_FIELDS: StructFields<12> = StructFields::new(
    "oms.model",
    "Fill",
    [
        "venue",
        "symbol",
        "trade_id",
        "side",
        "qty",
        "price",
        "fee",
        "fee_asset",
        "liquidity",
        "client_order_id",
        "venue_order_id",
        "ts_ns",
    ],
);

/// An `oms.model.Fill` as the order path reads it: its fields (texts are borrowed
/// from them while the fill is applied).
pub(crate) struct FillFields<'py> {
    pub(crate) venue: Bound<'py, PyAny>,
    pub(crate) symbol: Bound<'py, PyAny>,
    trade_id: Bound<'py, PyAny>,
    side: Bound<'py, PyAny>,
    qty: Bound<'py, PyAny>,
    price: Bound<'py, PyAny>,
    fee: Bound<'py, PyAny>,
    fee_asset: Bound<'py, PyAny>,
    pub(crate) liquidity: Bound<'py, PyAny>,
    pub(crate) client_order_id: Bound<'py, PyAny>,
    pub(crate) venue_order_id: Bound<'py, PyAny>,
    ts_ns: Bound<'py, PyAny>,
}

impl<'py> FillFields<'py> {
    pub(crate) fn read(fill: &Bound<'py, PyAny>) -> PyResult<Self> {
        let [venue, symbol, trade_id, side, qty, price, fee, fee_asset, liquidity, client_order_id, venue_order_id, ts_ns] =
            FILL_FIELDS.read(fill)?;
        Ok(FillFields {
            venue,
            symbol,
            trade_id,
            side,
            qty,
            price,
            fee,
            fee_asset,
            liquidity,
            client_order_id,
            venue_order_id,
            ts_ns,
        })
    }

    /// The fee's asset as the venue named it (None: not named).
    pub(crate) fn fee_asset(&self) -> PyResult<Option<&str>> {
        optional_text(&self.fee_asset)
    }

    pub(crate) fn terms(&self) -> PyResult<FillTerms<'_>> {
        Ok(FillTerms {
            trade_id: text(&self.trade_id)?,
            side: Side::parse(text(&self.side)?).py()?,
            qty: quantity(&self.qty, "qty")?,
            price: crate::fixed::price(&self.price, "price")?,
            fee: amount(&self.fee, "fee")?,
            fee_asset: self.fee_asset()?.unwrap_or(""),
            venue_order_id: optional_text(&self.venue_order_id)?,
            ts_ns: self.ts_ns.extract()?,
        })
    }
}

/// The transition table, for `oms.model.state`: (status, the statuses it may become).
#[pyfunction]
pub fn order_transitions() -> Vec<(&'static str, Vec<&'static str>)> {
    OrderStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.next().iter().map(|n| n.as_str()).collect()))
        .collect()
}
