//! `oms.positions.PositionBook` and its read-only views.

use crate::errors::IntoPyResult;
use crate::events::PositionUpdateRecord;
use crate::fixed::{amount, quantity, to_decimal};
use oms_core::fixed::{AMOUNT_SCALE_DIGITS, SCALE_DIGITS};
use oms_core::orders::FillTerms;
use oms_core::positions::{
    AggregatePosition as CoreAggregate, Carried, PositionBook as CoreBook, PositionKey, PositionRecord,
};
use oms_core::{Amount, Side};
use pyo3::prelude::*;

#[pyclass(module = "oms._core")]
pub struct PositionBook {
    book: CoreBook,
}

/// One position as read (a consistent snapshot of its slot).
#[pyclass(frozen, module = "oms._core")]
pub struct Position {
    rec: PositionRecord,
}

/// Net position per (base, quote) across venues.
#[pyclass(frozen, module = "oms._core")]
pub struct AggregatePosition {
    agg: CoreAggregate,
}

impl PositionBook {
    /// Apply a fill already parsed (the order path's `Order.apply_fill_to`).
    pub(crate) fn apply_parsed_fill(
        &mut self,
        key: (&str, &str, &str),
        fill: &FillTerms<'_>,
        fee: Amount,
    ) -> PyResult<Position> {
        let key = self::key(key.0, key.1, key.2)?;
        let ts_ns = (fill.ts_ns != 0).then_some(fill.ts_ns);
        let (_, rec) = self
            .book
            .apply_fill(&key, fill.side, fill.qty, fill.price, fee, ts_ns)
            .py()?;
        Ok(Position { rec })
    }

    /// Mark every position in (venue, symbol) at a parsed price.
    pub(crate) fn mark_parsed(&mut self, venue: &str, symbol: &str, price: oms_core::Price) -> PyResult<()> {
        self.book.mark(venue, symbol, price, None).py().map(|_| ())
    }

    /// One position, as `get` reads it.
    pub(crate) fn get_parsed(&mut self, key: (&str, &str, &str)) -> PyResult<Option<Position>> {
        let found = self.book.get(&self::key(key.0, key.1, key.2)?).py()?;
        Ok(found.map(|rec| Position { rec }))
    }
}

fn key(account: &str, venue: &str, symbol: &str) -> PyResult<PositionKey> {
    PositionKey::new(account, venue, symbol).py()
}

#[pymethods]
impl PositionBook {
    /// Create `/dev/shm/oms.<name>.positions` with `capacity` slots and become its
    /// one writer; with `reopen`, adopt an existing book (after a restart).
    #[staticmethod]
    #[pyo3(signature = (name, capacity = 4096, reopen = false))]
    fn create(name: &str, capacity: usize, reopen: bool) -> PyResult<Self> {
        CoreBook::create(name, capacity, reopen)
            .map(|book| PositionBook { book })
            .py()
    }

    /// Attach read-only, from any process.
    #[staticmethod]
    fn attach(name: &str) -> PyResult<Self> {
        CoreBook::attach(name).map(|book| PositionBook { book }).py()
    }

    #[getter]
    fn path(&self) -> String {
        self.book.path().display().to_string()
    }

    #[getter]
    fn capacity(&self) -> usize {
        self.book.capacity()
    }

    #[getter]
    fn writable(&self) -> bool {
        self.book.is_writer()
    }

    /// Changes whenever any position changes (poll it to notice updates).
    #[getter]
    fn seq(&self) -> u64 {
        self.book.seq()
    }

    fn __len__(&self) -> usize {
        self.book.len()
    }

    /// Apply a fill: `side` "BUY"/"SELL", exact `qty`, `price` and `fee` (quote currency).
    /// Returns the position after it (the engine's event, without a second lookup).
    #[pyo3(signature = (account, venue, symbol, side, qty, price, fee = None, ts_ns = None))]
    #[allow(clippy::too_many_arguments)]
    fn apply_fill(
        &mut self,
        account: &str,
        venue: &str,
        symbol: &str,
        side: &str,
        qty: &Bound<'_, PyAny>,
        price: &Bound<'_, PyAny>,
        fee: Option<&Bound<'_, PyAny>>,
        ts_ns: Option<i64>,
    ) -> PyResult<Position> {
        let side = Side::parse(side).py()?;
        let (qty, px) = (quantity(qty, "qty")?, crate::fixed::price(price, "price")?);
        let fee = crate::fixed::optional(fee, "fee", amount)?.unwrap_or(Amount::ZERO);
        let key = key(account, venue, symbol)?;
        let (_, rec) = self.book.apply_fill(&key, side, qty, px, fee, ts_ns).py()?;
        Ok(Position { rec })
    }

    /// Book a funding payment (+ received, - paid, quote currency) on a position;
    /// returns the position after it.
    #[pyo3(signature = (account, venue, symbol, amount, ts_ns = None))]
    fn apply_funding(
        &mut self,
        account: &str,
        venue: &str,
        symbol: &str,
        amount: &Bound<'_, PyAny>,
        ts_ns: Option<i64>,
    ) -> PyResult<Position> {
        let amount = crate::fixed::amount(amount, "amount")?;
        let key = key(account, venue, symbol)?;
        let rec = self.book.apply_funding(&key, amount, ts_ns).py()?;
        Ok(Position { rec })
    }

    /// Set a position to what a snapshot carried (recovery): exact, no fills replayed.
    #[pyo3(signature = (account, venue, symbol, *, qty, cost_basis, realized_pnl, fees_paid, funding, fill_count, ts_ns = None))]
    #[allow(clippy::too_many_arguments)]
    fn restore(
        &mut self,
        account: &str,
        venue: &str,
        symbol: &str,
        qty: &Bound<'_, PyAny>,
        cost_basis: &Bound<'_, PyAny>,
        realized_pnl: &Bound<'_, PyAny>,
        fees_paid: &Bound<'_, PyAny>,
        funding: &Bound<'_, PyAny>,
        fill_count: u64,
        ts_ns: Option<i64>,
    ) -> PyResult<()> {
        let carried = Carried {
            qty: quantity(qty, "qty")?,
            cost_basis: amount(cost_basis, "cost_basis")?,
            realized_pnl: amount(realized_pnl, "realized_pnl")?,
            fees_paid: amount(fees_paid, "fees_paid")?,
            funding: amount(funding, "funding")?,
            fill_count,
        };
        let key = key(account, venue, symbol)?;
        self.book.restore(&key, &carried, ts_ns).py().map(|_| ())
    }

    /// Mark every account's position in (venue, symbol); returns how many changed.
    #[pyo3(signature = (venue, symbol, price, ts_ns = None))]
    fn mark(&mut self, venue: &str, symbol: &str, price: &Bound<'_, PyAny>, ts_ns: Option<i64>) -> PyResult<usize> {
        let px = crate::fixed::price(price, "price")?;
        self.book.mark(venue, symbol, px, ts_ns).py()
    }

    #[pyo3(signature = (account, venue, symbol, leverage, ts_ns = None))]
    fn set_leverage(
        &mut self,
        account: &str,
        venue: &str,
        symbol: &str,
        leverage: &Bound<'_, PyAny>,
        ts_ns: Option<i64>,
    ) -> PyResult<()> {
        let leverage = quantity(leverage, "leverage")?;
        self.book
            .set_leverage(&key(account, venue, symbol)?, leverage, ts_ns)
            .py()
            .map(|_| ())
    }

    fn get(&mut self, account: &str, venue: &str, symbol: &str) -> PyResult<Option<Position>> {
        let found = self.book.get(&key(account, venue, symbol)?).py()?;
        Ok(found.map(|rec| Position { rec }))
    }

    /// Every position (optionally one account's), in the order they first appeared.
    #[pyo3(signature = (account = None))]
    fn positions(&self, account: Option<&str>) -> PyResult<Vec<Position>> {
        let all = self.book.all().py()?;
        Ok(all
            .into_iter()
            .filter(|r| account.is_none_or(|a| r.account_str() == a))
            .map(|rec| Position { rec })
            .collect())
    }

    /// Net positions per (base asset, quote currency) across venues.
    #[pyo3(signature = (account = None))]
    fn aggregate(&self, account: Option<&str>) -> PyResult<Vec<AggregatePosition>> {
        let groups = self.book.aggregate(account).py()?;
        Ok(groups.into_iter().map(|agg| AggregatePosition { agg }).collect())
    }

    /// Remove the file (open handles keep working; new attaches fail).
    fn unlink(&self) -> PyResult<()> {
        self.book.unlink().py()
    }
}

fn dec<'py>(py: Python<'py>, raw: i128, digits: u32) -> PyResult<Bound<'py, PyAny>> {
    to_decimal(py, raw, digits)
}

fn optional_dec(py: Python<'_>, raw: i64) -> PyResult<Option<Bound<'_, PyAny>>> {
    if raw == 0 {
        Ok(None)
    } else {
        dec(py, raw.into(), SCALE_DIGITS).map(Some)
    }
}

impl Position {
    /// The record as the book holds it (`oms_core::positions`).
    pub(crate) fn record(&self) -> &PositionRecord {
        &self.rec
    }
}

#[pymethods]
impl Position {
    #[getter]
    fn account(&self) -> &str {
        self.rec.account_str()
    }
    #[getter]
    fn venue(&self) -> &str {
        self.rec.venue_str()
    }
    #[getter]
    fn symbol(&self) -> &str {
        self.rec.symbol_str()
    }
    #[getter]
    fn qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.rec.qty.into(), SCALE_DIGITS)
    }
    #[getter]
    fn avg_entry_price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_dec(py, self.rec.avg_entry_price)
    }
    #[getter]
    fn cost_basis<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.rec.cost_basis, AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn realized_pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.rec.realized_pnl, AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn fees_paid<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.rec.fees_paid, AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn unrealized_pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.rec.unrealized_pnl, AMOUNT_SCALE_DIGITS)
    }
    /// Futures funding received (+) or paid (-).
    #[getter]
    fn funding<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.rec.funding, AMOUNT_SCALE_DIGITS)
    }
    /// realized - fees + funding + unrealized.
    #[getter]
    fn net_pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let net = self
            .rec
            .net_pnl()
            .ok_or(oms_core::Error::Overflow { op: "net P&L" })
            .py()?;
        dec(py, net, AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn mark_price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_dec(py, self.rec.mark_price)
    }
    #[getter]
    fn leverage<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        optional_dec(py, self.rec.leverage)
    }
    #[getter]
    pub(crate) fn updated_ns(&self) -> i64 {
        self.rec.updated_ns
    }
    #[getter]
    fn update_seq(&self) -> u64 {
        self.rec.update_seq
    }
    #[getter]
    fn fill_count(&self) -> u64 {
        self.rec.fill_count
    }

    /// The fields of the engine's `PositionUpdate` after its `seq`, in its order:
    /// account, venue, symbol, qty, avg_entry_price, realized_pnl, unrealized_pnl,
    /// fees_paid, update_seq (its version), updated_ns, funding. One call for the
    /// event built per fill (eleven getter calls cost twice as much).
    #[allow(clippy::type_complexity)]
    pub(crate) fn event_fields<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        &str,
        &str,
        &str,
        Bound<'py, PyAny>,
        Option<Bound<'py, PyAny>>,
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
        u64,
        i64,
        Bound<'py, PyAny>,
    )> {
        let rec = &self.rec;
        Ok((
            rec.account_str(),
            rec.venue_str(),
            rec.symbol_str(),
            dec(py, rec.qty.into(), SCALE_DIGITS)?,
            optional_dec(py, rec.avg_entry_price)?,
            dec(py, rec.realized_pnl, AMOUNT_SCALE_DIGITS)?,
            dec(py, rec.unrealized_pnl, AMOUNT_SCALE_DIGITS)?,
            dec(py, rec.fees_paid, AMOUNT_SCALE_DIGITS)?,
            rec.update_seq,
            rec.updated_ns,
            dec(py, rec.funding, AMOUNT_SCALE_DIGITS)?,
        ))
    }

    /// The position as event `seq` (a `PositionUpdate` in the core's form).
    fn update(slf: Py<Self>, seq: u64) -> PositionUpdateRecord {
        PositionUpdateRecord::new(seq, slf)
    }

    fn __repr__(&self) -> String {
        format!(
            "Position({} {} {} qty={} avg={} realized={} unrealized={})",
            self.rec.account_str(),
            self.rec.venue_str(),
            self.rec.symbol_str(),
            oms_core::Quantity::from_raw(self.rec.qty),
            oms_core::Price::from_raw(self.rec.avg_entry_price),
            Amount::from_raw(self.rec.realized_pnl),
            Amount::from_raw(self.rec.unrealized_pnl),
        )
    }
}

#[pymethods]
impl AggregatePosition {
    #[getter]
    fn base(&self) -> &str {
        &self.agg.base
    }
    #[getter]
    fn quote(&self) -> &str {
        &self.agg.quote
    }
    #[getter]
    fn net_qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.agg.net_qty.raw().into(), SCALE_DIGITS)
    }
    #[getter]
    fn long_qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.agg.long_qty.raw().into(), SCALE_DIGITS)
    }
    #[getter]
    fn short_qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.agg.short_qty.raw().into(), SCALE_DIGITS)
    }
    #[getter]
    fn cost_basis<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.agg.cost_basis.raw(), AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn realized_pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.agg.realized_pnl.raw(), AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn fees_paid<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.agg.fees_paid.raw(), AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn unrealized_pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.agg.unrealized_pnl.raw(), AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn funding<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dec(py, self.agg.funding.raw(), AMOUNT_SCALE_DIGITS)
    }
    #[getter]
    fn positions(&self) -> u32 {
        self.agg.positions
    }

    fn __repr__(&self) -> String {
        format!(
            "AggregatePosition({}/{} net={} long={} short={} positions={})",
            self.agg.base, self.agg.quote, self.agg.net_qty, self.agg.long_qty, self.agg.short_qty, self.agg.positions
        )
    }
}
