//! `OrderPath`: the engine's order path, one call per step. Accepting an order
//! (its shape, its instrument's filters, the risk check and reservation, a client
//! id, the order and its event), a venue's report about it, and a fill (the order,
//! the reservation, the position, three events) each cross from Python once; the
//! rules they apply live in the core (`oms_core::orders`, `risk`, `instruments`,
//! `positions`).
//!
//! The path owns the engine's order maps: every order by id (which is the client
//! order id it was sent under), by any other client order id it took since (a
//! cancel-replace), and by (venue, venue order id); an open order carries its risk
//! reservation (`Order.reservation`). Of the orders that ended, the newest
//! `keep_closed` stay in the maps (`closed_orders.rs`); older ones are forgotten and
//! the engine told (`Engine._forgotten`). The maps are Python dicts, so `oms.engine`'s rarer paths (amends, conditional orders,
//! recovery) read and change the same state. What needs Python is asked of the
//! engine: an instrument not seen before (`Engine._market`), an order the core's
//! filters cannot pass (`Engine._check_exact`, which words the refusal), a request
//! outside the plain shape (`OrderRequest.validate`), and the rare outcomes of a
//! fill (`OrderTracker.stray_fill`, `overfilled`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::client_ids::ClientOrderIds;
use crate::closed_orders::ClosedOrders;
use crate::decimal_layout;
use crate::errors::{oms_error_class, reject_to_py, IntoPyResult};
use crate::events::{EventLog, FillUpdateRecord, PositionUpdateRecord};
use crate::fixed::{decimal_class, optional, quantity, to_decimal};
use crate::instruments::core_filters;
use crate::orders::{FillFields, Order};
use crate::positions::PositionBook;
use crate::risk::{context, RiskEngine, RiskOrder};
use crate::struct_fields::{optional_text, text, StructFields};
use oms_core::clock::now_ns;
use oms_core::events::FillUpdate;
use oms_core::fixed::{canonical_from_parts, is_canonical_positive, parse_scaled, SCALE_DIGITS};
use oms_core::instruments::{InstrumentFilters as CoreFilters, OrderTerms as FilterTerms};
use oms_core::orders::{FillTerms, OrderStatus};
use oms_core::risk::keys::intern;
use oms_core::risk::OrderTicket;
use oms_core::{Amount, Error, Price, Quantity, Side};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

/// `report`'s answer, as bits: the order moved; the venue counts fills we have not
/// seen (fetch them); the order is now TRIGGERED.
const CHANGED: u8 = 1;
const CATCH_UP: u8 = 2;
const TRIGGERED: u8 = 4;
/// The labels' length limit (`oms.model.orders.MAX_LABEL`).
const MAX_LABEL: usize = 64;

/// A (venue, symbol) the engine has taken orders for.
struct Market {
    exchange: Py<PyAny>,
    instrument: Py<PyAny>,
    /// The symbol as a Python str, made once (the instruments are looked up by it).
    symbol: Py<PyString>,
    /// None: a value finer than 10^-8, checked the exact way only.
    filters: Option<CoreFilters>,
    /// None: the exchange makes its ids its own way (asked in Python).
    client_ids: Option<Py<ClientOrderIds>>,
}

/// A request's terms, read and checked (its texts borrowed from the request).
struct RequestTerms<'a> {
    venue: &'a str,
    symbol: &'a str,
    account: &'a str,
    side: Side,
    order_type: &'a str,
    qty: Quantity,
    price: Option<Price>,
    stop_price: Option<Price>,
    /// No limit price: it trades at the market when it can.
    market: bool,
    reduce_only: bool,
    client_order_id: Option<&'a str>,
}

/// An `OrderRequest`'s fields, in `REQUEST_FIELDS`' order.
type RequestFields<'py> = [Bound<'py, PyAny>; 17];

#[pyclass(module = "oms._core")]
pub struct OrderPath {
    engine: Py<PyAny>,
    hub: Py<PyAny>,
    log: Py<EventLog>,
    risk: Py<RiskEngine>,
    book: Py<PositionBook>,
    orders: Py<PyDict>,
    client_id_aliases: Py<PyDict>,
    /// Per venue, its orders by venue order id.
    by_venue_id: HashMap<String, Py<PyDict>>,
    markets: HashMap<String, HashMap<String, Market>>,
    prices: HashMap<String, HashMap<String, Price>>,
    closed: ClosedOrders,
}

#[pymethods]
impl OrderPath {
    /// `engine`: the `oms.engine.Engine` whose slow paths are asked; `hub`, `log`:
    /// its `EventHub` and that hub's `EventLog`; `keep_closed`: how many of the
    /// orders that ended stay in the maps (the newest).
    #[new]
    fn new(
        py: Python<'_>,
        engine: Py<PyAny>,
        hub: Py<PyAny>,
        log: Py<EventLog>,
        risk: Py<RiskEngine>,
        book: Py<PositionBook>,
        keep_closed: usize,
    ) -> Self {
        OrderPath {
            engine,
            hub,
            log,
            risk,
            book,
            orders: PyDict::new(py).unbind(),
            client_id_aliases: PyDict::new(py).unbind(),
            by_venue_id: HashMap::new(),
            markets: HashMap::new(),
            prices: HashMap::new(),
            closed: ClosedOrders::new(keep_closed),
        }
    }

    /// How many orders that ended are in the maps now.
    #[getter]
    fn closed_count(&self) -> usize {
        self.closed.len()
    }

    /// Every order, by id.
    #[getter]
    fn orders(&self, py: Python<'_>) -> Py<PyDict> {
        self.orders.clone_ref(py)
    }

    /// Orders by the client order ids they took after their first (a venue's
    /// cancel-replace names a new one); the first is the order's id.
    #[getter]
    fn client_id_aliases(&self, py: Python<'_>) -> Py<PyDict> {
        self.client_id_aliases.clone_ref(py)
    }

    /// The order the venue knows by `venue_order_id`, if it is ours.
    fn by_venue_id<'py>(
        &self,
        py: Python<'py>,
        venue: &str,
        venue_order_id: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, Order>>> {
        let Some(orders) = self.by_venue_id.get(venue) else {
            return Ok(None);
        };
        orders
            .bind(py)
            .get_item(venue_order_id)?
            .map(|o| o.cast_into::<Order>().map_err(PyErr::from))
            .transpose()
    }

    /// Index `order` under the venue order id it has now (a venue named it outside
    /// the order path: an amend, recovery).
    fn index_venue_id(&mut self, order: &Bound<'_, Order>) -> PyResult<()> {
        let py = order.py();
        let (venue, id) = {
            let o = order.borrow();
            let record = o.record();
            match &record.venue_order_id {
                Some(id) if !id.is_empty() => (record.terms.venue().to_owned(), PyString::new(py, id)),
                _ => return Ok(()),
            }
        };
        self.venue_orders(py, &venue).bind(py).set_item(id, order)
    }

    /// A reference price (the filters' bands and market orders' notional; marks
    /// the positions a fill opens).
    fn set_price(&mut self, venue: &str, symbol: &str, price: &Bound<'_, PyAny>) -> PyResult<()> {
        let price = crate::fixed::price(price, "price")?;
        let by_symbol = self.prices.entry(venue.to_owned()).or_default();
        by_symbol.insert(symbol.to_owned(), price);
        Ok(())
    }

    /// Everything before the venue, for a new order: its shape, the instrument's
    /// rules, the risk check (which reserves its worst case), a client order id, the
    /// order (PENDING_NEW) in the maps, and its event. Raises, keeping nothing, on a
    /// refusal (`RiskRejected` is the engine's to report).
    fn accept<'py>(&mut self, request: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Order>> {
        let py = request.py();
        let as_given = REQUEST_FIELDS.read(request)?;
        let validated;
        let terms = match RequestTerms::plain(&as_given)? {
            Some(terms) => terms,
            None => {
                request.call_method0(intern!(py, "validate"))?;
                validated = REQUEST_FIELDS.read(request)?;
                RequestTerms::validated(&validated)?
            }
        };
        self.ensure_market(py, terms.venue, terms.symbol)?;
        let market = &self.markets[terms.venue][terms.symbol];
        let reference = self.reference(terms.venue, terms.symbol);
        let passes = market.filters.as_ref().is_some_and(|f| {
            f.passes(&FilterTerms {
                side: terms.side,
                market: terms.market,
                qty: terms.qty,
                price: terms.price,
                stop_price: terms.stop_price,
                reference_price: reference,
            })
        });
        if !passes {
            let instrument = market.instrument.bind(py);
            self.engine
                .call_method1(py, intern!(py, "_check_exact"), (instrument, request))?;
        }
        let ticket = OrderTicket::new(
            terms.account,
            terms.venue,
            terms.symbol,
            terms.side,
            terms.qty,
            terms.price,
            terms.reduce_only,
        )
        .py()?;
        self.risk
            .get()
            .core()
            .check(&ticket)
            .map_err(|r| reject_to_py(py, &r, &context(&ticket)))?;
        let client_id: Arc<str> = match terms.client_order_id {
            Some(id) => id.into(),
            None => next_client_id(py, market)?,
        };
        let mut order = Order::from_ticket(client_id, request, &ticket, terms.order_type, now_ns());
        order.reservation = Some(Py::new(py, RiskOrder::from_ticket(ticket))?);
        let order = Bound::new(py, order)?;
        let id = order.borrow().id(py);
        self.orders.bind(py).set_item(&id, &order)?;
        self.emit_order(py, &order)?;
        self.attend(py)?;
        Ok(order)
    }

    /// `accept` for each request, in order: the order, or the `OmsError` that refused
    /// it (a risk refusal included; the engine reports those). Anything else raises.
    fn accept_many<'py>(&mut self, requests: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = requests.py();
        let refusal = oms_error_class(py)?;
        let out = PyList::empty(py);
        for request in requests.try_iter()? {
            match self.accept(&request?) {
                Ok(order) => out.append(order)?,
                Err(err) if err.is_instance(py, &refusal) => out.append(err.into_value(py))?,
                Err(err) => return Err(err),
            }
        }
        Ok(out)
    }

    /// A venue's report about `order` (an `oms.model.OrderEvent`), applied by the
    /// core's rules (`OrderRecord::apply_report`); an order it ends frees its
    /// reservation. Returns bits: 1 the order moved (an event was made), 2 the venue
    /// counts fills not seen yet, 4 the order is now TRIGGERED.
    fn report(&mut self, order: &Bound<'_, Order>, event: &Bound<'_, PyAny>) -> PyResult<u8> {
        let py = order.py();
        let [status, venue_order_id, filled_qty, reason, ts_ns] = REPORT_FIELDS.read(event)?;
        if !venue_order_id.is_none() {
            self.note_venue_id(order, &venue_order_id)?;
        }
        let status = OrderStatus::parse(text(&status)?).py()?;
        let reported_fills = optional(Some(&filled_qty), "filled_qty", quantity)?;
        let reason = optional_text(&reason)?;
        let ts_ns = match ts_ns.extract::<i64>()? {
            0 => now_ns(),
            ts => ts,
        };
        let (changed, now) = {
            let mut o = order.borrow_mut();
            let record = o.record_mut();
            let changed = record.apply_report(status, reason, ts_ns).py()?;
            (changed, record.status)
        };
        let mut bits = 0;
        let fill_report = matches!(status, OrderStatus::PartiallyFilled | OrderStatus::Filled);
        if fill_report && reported_fills.is_some_and(|f| f > order.borrow().record().filled_qty) {
            bits |= CATCH_UP;
        }
        if changed {
            bits |= CHANGED;
            if now == OrderStatus::Triggered {
                bits |= TRIGGERED;
            }
            self.settle(order)?;
            self.emit_order(py, order)?;
            self.attend(py)?;
        }
        Ok(bits)
    }

    /// A fill from a venue (an `oms.model.Fill`): applied once per trade id to its
    /// order, moved from the order's reservation into the position, booked in the
    /// position book (the fee in the quote currency, see `FillTerms::fee_in_quote`)
    /// and marked at the reference price; then the position, fill and order events.
    /// Returns the order, or None when nothing was applied (a trade id already seen,
    /// or not our order: `OrderTracker.stray_fill` is told). A fill the order refuses
    /// raises, as `Order.apply_fill` does.
    fn fill<'py>(&mut self, fill: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, Order>>> {
        let py = fill.py();
        let fields = FillFields::read(fill)?;
        let Some(order) = self.find(&fields)? else {
            let tracker = self.engine.bind(py).getattr(intern!(py, "tracker"))?;
            tracker.call_method1(intern!(py, "stray_fill"), (fill,))?;
            return Ok(None);
        };
        let terms = fields.terms()?;
        let (excess, position) = {
            let mut o = order.borrow_mut();
            let excess = match o.record_mut().apply_fill(&terms) {
                Err(Error::DuplicateFill { .. }) => return Ok(None),
                other => other.py()?,
            };
            if let Some(reservation) = &o.reservation {
                let ticket = reservation.get().ticket();
                self.risk.get().core().on_fill(ticket, terms.qty, terms.price).py()?;
            }
            let record = o.record();
            let t = &*record.terms;
            let fee = terms.fee_in_quote(t.symbol()).py()?.unwrap_or(Amount::ZERO);
            let key = (t.account(), t.venue(), t.symbol());
            let mut book = self.book.borrow_mut(py);
            let mut position = book.apply_parsed_fill(key, &terms, fee)?;
            if let Some(price) = self.reference(t.venue(), t.symbol()) {
                book.mark_parsed(t.venue(), t.symbol(), price)?; // a new position is valued at once
                position = book.get_parsed(key)?.unwrap_or(position);
            }
            (excess, position)
        };
        self.settle(&order)?;
        {
            let mut log = self.log.borrow_mut(py);
            let (position_seq, fill_seq) = (log.next(), log.next());
            if log.wanted() {
                let record = PositionUpdateRecord::new(position_seq, Py::new(py, position)?);
                log.record(Py::new(py, record)?.into_any());
                let update = fill_update(fill_seq, &order.borrow(), &terms, &fields)?;
                log.record(Py::new(py, FillUpdateRecord::new(update, fill.clone().unbind()))?.into_any());
            }
        }
        self.emit_order(py, &order)?;
        self.attend(py)?;
        if let Some(excess) = excess {
            let excess = to_decimal(py, excess.raw().into(), SCALE_DIGITS)?;
            let tracker = self.engine.bind(py).getattr(intern!(py, "tracker"))?;
            tracker.call_method1(intern!(py, "overfilled"), (&order, excess))?;
        }
        Ok(Some(order))
    }

    /// `fill` for each fill, in order, one result per fill: its order, None (nothing
    /// applied: a trade id seen before, or not our order), or the exception that
    /// refused it (the fills after it are applied all the same).
    fn fill_many<'py>(&mut self, fills: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = fills.py();
        let out = PyList::empty(py);
        for fill in fills.try_iter()? {
            match self.fill(&fill?) {
                Ok(Some(order)) => out.append(order)?,
                Ok(None) => out.append(py.None())?,
                Err(err) => out.append(err.into_value(py))?,
            }
        }
        Ok(out)
    }

    /// An order that ended frees what is left of its reservation and is counted
    /// among the closed orders (once); past `keep_closed` of those, the oldest are
    /// forgotten.
    fn settle(&mut self, order: &Bound<'_, Order>) -> PyResult<()> {
        let mut o = order.borrow_mut();
        if o.counted_closed || !o.record().status.is_terminal() {
            return Ok(());
        }
        o.counted_closed = true;
        if let Some(reservation) = o.reservation.take() {
            self.risk.get().core().release(reservation.get().ticket());
        }
        drop(o);
        if self.closed.push(order.clone().unbind()) {
            self.forget_oldest(order.py())?;
        }
        Ok(())
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.engine)?;
        visit.call(&self.hub)?;
        visit.call(&self.orders)?;
        visit.call(&self.client_id_aliases)?;
        for orders in self.by_venue_id.values() {
            visit.call(orders)?;
        }
        for order in self.closed.iter() {
            visit.call(order)?;
        }
        for market in self.markets.values().flat_map(HashMap::values) {
            visit.call(&market.exchange)?;
            visit.call(&market.instrument)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.markets.clear();
        self.by_venue_id.clear();
        self.closed.clear();
    }
}

impl OrderPath {
    /// Take the closed orders past `keep_closed` out of the maps (one still open
    /// again, as a replayed journal can make it, is skipped) and hand them to
    /// `Engine._forgotten`, which drops what else names them.
    fn forget_oldest(&mut self, py: Python<'_>) -> PyResult<()> {
        let forgotten = PyList::empty(py);
        for order in self.closed.take_oldest() {
            let order = order.into_bound(py);
            let mut o = order.borrow_mut();
            o.counted_closed = false;
            if !o.record().status.is_terminal() {
                continue;
            }
            let record = o.record();
            let id = o.id(py);
            remove_if_is(self.orders.bind(py), id.as_any(), &order)?;
            if record.client_order_id != record.id {
                let alias = PyString::new(py, &record.client_order_id);
                remove_if_is(self.client_id_aliases.bind(py), alias.as_any(), &order)?;
            }
            let by_venue_id = self.by_venue_id.get(record.terms.venue());
            if let (Some(venue_id), Some(orders)) = (&record.venue_order_id, by_venue_id) {
                remove_if_is(orders.bind(py), PyString::new(py, venue_id).as_any(), &order)?;
            }
            drop(o);
            forgotten.append(order)?;
        }
        if !forgotten.is_empty() {
            self.engine.call_method1(py, intern!(py, "_forgotten"), (forgotten,))?;
        }
        Ok(())
    }

    /// Index `order` under its venue order id (after a venue named it).
    fn note_venue_id(&mut self, order: &Bound<'_, Order>, venue_order_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = order.py();
        let id = text(venue_order_id)?;
        if id.is_empty() {
            return Ok(()); // a venue that names none
        }
        let o = order.borrow();
        let record = o.record();
        if record.venue_order_id.as_deref() == Some(id) {
            return Ok(());
        }
        let orders = self.venue_orders(py, record.terms.venue()).clone_ref(py);
        drop(o);
        order.borrow_mut().record_mut().venue_order_id = Some(Arc::from(id));
        orders.bind(py).set_item(venue_order_id, order)
    }

    /// The venue's map of orders by venue order id (made on first use).
    fn venue_orders(&mut self, py: Python<'_>, venue: &str) -> &Py<PyDict> {
        if !self.by_venue_id.contains_key(venue) {
            self.by_venue_id.insert(venue.to_owned(), PyDict::new(py).unbind());
        }
        &self.by_venue_id[venue]
    }

    /// The (venue, symbol)'s exchange, instrument and filters: cached, and asked of
    /// the engine again when the exchange's instruments were reloaded. Raises
    /// UnknownVenue / UnknownSymbol (from the engine).
    fn ensure_market(&mut self, py: Python<'_>, venue: &str, symbol: &str) -> PyResult<()> {
        let current = match self.markets.get(venue).and_then(|m| m.get(symbol)) {
            Some(market) => {
                let instruments = market.exchange.bind(py).getattr(intern!(py, "instruments"))?;
                let now = instruments.get_item(market.symbol.bind(py)).ok();
                now.is_some_and(|i| i.is(&market.instrument))
            }
            None => false,
        };
        if !current {
            let found = self.engine.call_method1(py, intern!(py, "_market"), (venue, symbol))?;
            let (exchange, instrument): (Bound<'_, PyAny>, Bound<'_, PyAny>) = found.extract(py)?;
            let client_ids = exchange
                .getattr(intern!(py, "client_ids"))
                .ok()
                .and_then(|ids| ids.cast_into::<ClientOrderIds>().ok())
                .map(Bound::unbind);
            let market = Market {
                filters: core_filters(&instrument).ok(),
                exchange: exchange.unbind(),
                instrument: instrument.unbind(),
                symbol: PyString::new(py, symbol).unbind(),
                client_ids,
            };
            let by_symbol = self.markets.entry(venue.to_owned()).or_default();
            by_symbol.insert(symbol.to_owned(), market);
        }
        Ok(())
    }

    fn reference(&self, venue: &str, symbol: &str) -> Option<Price> {
        self.prices.get(venue).and_then(|m| m.get(symbol)).copied()
    }

    /// The order the fill is for: by client order id (its id, or an alias), else by
    /// venue order id.
    fn find<'py>(&self, fill: &FillFields<'py>) -> PyResult<Option<Bound<'py, Order>>> {
        let py = fill.venue.py();
        let client_id = &fill.client_order_id;
        if !client_id.is_none() {
            for map in [&self.orders, &self.client_id_aliases] {
                if let Some(order) = map.bind(py).get_item(client_id)? {
                    return Ok(Some(order.cast_into::<Order>()?));
                }
            }
        }
        if fill.venue_order_id.is_none() {
            return Ok(None);
        }
        self.by_venue_id(py, text(&fill.venue)?, &fill.venue_order_id)
    }

    fn emit_order(&self, py: Python<'_>, order: &Bound<'_, Order>) -> PyResult<()> {
        let mut log = self.log.borrow_mut(py);
        let seq = log.next();
        if log.wanted() {
            let record = Py::new(py, order.borrow().update(seq))?;
            log.record(record.into_any());
        }
        Ok(())
    }

    /// The hub takes what the log kept for it, when it needs to (once per step).
    fn attend(&self, py: Python<'_>) -> PyResult<()> {
        if self.log.borrow(py).attention(py)? {
            self.hub.call_method0(py, intern!(py, "_attend"))?;
        }
        Ok(())
    }
}

/// Delete `map[key]` if it is `order` (a key can name a newer order by then).
fn remove_if_is(map: &Bound<'_, PyDict>, key: &Bound<'_, PyAny>, order: &Bound<'_, Order>) -> PyResult<()> {
    if map.get_item(key)?.is_some_and(|found| found.is(order)) {
        map.del_item(key)?;
    }
    Ok(())
}

/// The fill's event in the core's form, sharing the order's texts.
fn fill_update(seq: u64, order: &Order, terms: &FillTerms<'_>, fields: &FillFields<'_>) -> PyResult<FillUpdate> {
    let record = order.record();
    let t = &*record.terms;
    let (venue, symbol) = (text(&fields.venue)?, text(&fields.symbol)?);
    let key = if venue == t.venue() && symbol == t.symbol() {
        Arc::clone(&t.key)
    } else {
        intern(t.account(), venue, symbol).1 // a fill naming its market otherwise: as it came
    };
    let client_order_id =
        optional_text(&fields.client_order_id)?.map(|id| share(id, [&record.client_order_id, &record.id]));
    let venue_order_id = terms.venue_order_id.map(|id| share(id, &record.venue_order_id));
    let liquidity = optional_text(&fields.liquidity)?.map(|name| match name {
        "MAKER" => Cow::Borrowed("MAKER"),
        "TAKER" => Cow::Borrowed("TAKER"),
        other => Cow::Owned(other.to_owned()),
    });
    Ok(FillUpdate {
        seq,
        order_id: Arc::clone(&record.id),
        key,
        trade_id: share(terms.trade_id, record.trade_ids.get(terms.trade_id)),
        side: terms.side,
        qty: terms.qty,
        price: terms.price,
        fee: terms.fee,
        fee_asset: fields.fee_asset()?.map(str::to_owned),
        liquidity,
        client_order_id,
        venue_order_id,
        ts_ns: terms.ts_ns,
    })
}

/// One of the order's own copies of `text`, or a new one.
fn share<'a>(text: &str, known: impl IntoIterator<Item = &'a Arc<str>>) -> Arc<str> {
    known
        .into_iter()
        .find(|k| ***k == *text)
        .map_or_else(|| Arc::from(text), Arc::clone)
}

/// The market's next client order id (made in the core when the exchange's ids are).
fn next_client_id(py: Python<'_>, market: &Market) -> PyResult<Arc<str>> {
    match &market.client_ids {
        Some(ids) => ids.get().next_id(),
        None => {
            let id = market.exchange.call_method0(py, intern!(py, "new_client_order_id"))?;
            Ok(Arc::from(text(id.bind(py))?))
        }
    }
}

impl<'a> RequestTerms<'a> {
    /// The request's terms, read directly when its shape is the plain one (LIMIT,
    /// LIMIT_MAKER or MARKET, GTC, no trigger, canonical numbers, labels within the
    /// rules: `validate` would pass it unchanged); None sends it through `validate()`
    /// (which raises naming the field, or makes the numbers canonical) and then
    /// `validated`.
    fn plain(fields: &'a RequestFields<'_>) -> PyResult<Option<Self>> {
        let [venue, symbol, side, order_type, qty, price, stop_price, time_in_force, client_order_id, idempotency_key, tag, account, reduce_only, close_position, expire_at_ns, trailing_bps, activation_price] =
            fields;
        let order_type = text(order_type)?;
        let market = match order_type {
            "MARKET" => true,
            "LIMIT" | "LIMIT_MAKER" => false,
            _ => return Ok(None),
        };
        if !(stop_price.is_none() && trailing_bps.is_none() && activation_price.is_none()) {
            return Ok(None);
        }
        let gtc = text(time_in_force)? == "GTC";
        if !gtc || !expire_at_ns.is_none() {
            return Ok(None);
        }
        let Some(qty) = canonical(qty)? else {
            return Ok(None);
        };
        let price = match (market, price.is_none()) {
            (true, true) => None,
            (false, false) => match canonical(price)? {
                Some(p) => Some(p),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let client_order_id = if client_order_id.is_none() {
            None
        } else {
            let id = text(client_order_id)?;
            if !legal_client_id(id) {
                return Ok(None);
            }
            Some(id)
        };
        for label in [idempotency_key, tag] {
            if !label.is_none() && !legal_label(text(label)?) {
                return Ok(None);
            }
        }
        let account = text(account)?;
        let reduce_only = reduce_only.is_truthy()?;
        if !legal_label(account) || (reduce_only && close_position.is_truthy()?) {
            return Ok(None);
        }
        Ok(Some(RequestTerms {
            venue: text(venue)?,
            symbol: text(symbol)?,
            account,
            side: Side::parse(text(side)?).py()?,
            order_type,
            qty: Quantity::from_raw(qty),
            price: price.map(Price::from_raw),
            stop_price: None,
            market,
            reduce_only,
            client_order_id,
        }))
    }

    /// The fields of any request `validate()` passed.
    fn validated(fields: &'a RequestFields<'_>) -> PyResult<Self> {
        let [venue, symbol, side, order_type, qty, price, stop_price, _, client_order_id, _, _, account, reduce_only, close_position, ..] =
            fields;
        let py = venue.py();
        let decimal = |value| optional(Some(value), "price", crate::fixed::price);
        Ok(RequestTerms {
            venue: text(venue)?,
            symbol: text(symbol)?,
            account: text(account)?,
            side: Side::parse(text(side)?).py()?,
            market: !order_type.getattr(intern!(py, "has_limit_price"))?.is_truthy()?,
            order_type: text(order_type)?,
            qty: quantity(qty, "qty")?,
            price: decimal(price)?,
            stop_price: decimal(stop_price)?,
            reduce_only: reduce_only.is_truthy()? || close_position.is_truthy()?,
            client_order_id: if client_order_id.is_none() {
                None
            } else {
                Some(text(client_order_id)?)
            },
        })
    }
}

/// What a venue's report (`oms.model.OrderEvent`) tells the order path.
static REPORT_FIELDS: StructFields<5> = StructFields::new(
    "oms.model",
    "OrderEvent",
    ["status", "venue_order_id", "filled_qty", "reason", "ts_ns"],
);

/// What the order path reads of an `oms.model.OrderRequest`.
static REQUEST_FIELDS: StructFields<17> = StructFields::new(
    "oms.model",
    "OrderRequest",
    [
        "venue",
        "symbol",
        "side",
        "type",
        "qty",
        "price",
        "stop_price",
        "time_in_force",
        "client_order_id",
        "idempotency_key",
        "tag",
        "account",
        "reduce_only",
        "close_position",
        "expire_at_ns",
        "trailing_bps",
        "activation_price",
    ],
);

/// A positive `decimal.Decimal` in canonical form on the 10^-8 grid, as raw units;
/// None for anything else (`validate` then decides).
fn canonical(value: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if !value.get_type().is(decimal_class(value.py())?) {
        return Ok(None);
    }
    if let Some((negative, coefficient, exponent)) = decimal_layout::parts(value) {
        return Ok(canonical_from_parts(negative, coefficient, exponent, SCALE_DIGITS));
    }
    let text = value.str()?;
    let text = text.to_str()?;
    if !is_canonical_positive(text, SCALE_DIGITS) {
        return Ok(None);
    }
    Ok(parse_scaled(text, SCALE_DIGITS, "value")
        .ok()
        .and_then(|raw| i64::try_from(raw).ok())
        .filter(|&raw| raw > 0))
}

/// `oms.model.orders.CLIENT_ORDER_ID`: 1 to 36 of A-Z a-z 0-9 . _ : / -
fn legal_client_id(id: &str) -> bool {
    (1..=36).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:/-".contains(&b))
}

fn legal_label(label: &str) -> bool {
    !label.is_empty() && label.chars().count() <= MAX_LABEL
}
