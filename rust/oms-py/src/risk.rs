//! `oms.risk`: RiskEngine, RiskLimits, RiskOrder. `check` is the hot path: the
//! order arrives already parsed (a frozen RiskOrder), so the call does no parsing
//! and no allocation on accept.

use crate::errors::{reject_to_py, to_py, IntoPyResult};
use crate::fixed::{amount, optional, quantity, to_decimal};
use oms_core::fixed::{AMOUNT_SCALE_DIGITS, SCALE_DIGITS};
use oms_core::risk::{
    OrderTicket, RiskEngine as CoreEngine, RiskLimits as CoreLimits, Scope, TicketState, TradingState,
};
use oms_core::{Error, Side};
use pyo3::prelude::*;

/// An order as the risk engine sees it; keep it for the order's life and pass it
/// back to `on_fill` and `release`.
#[pyclass(frozen, module = "oms._core")]
pub struct RiskOrder {
    ticket: OrderTicket,
}

impl RiskOrder {
    /// The parsed order (other parts of the binding read its raw values).
    pub(crate) fn ticket(&self) -> &OrderTicket {
        &self.ticket
    }

    pub(crate) fn from_ticket(ticket: OrderTicket) -> Self {
        RiskOrder { ticket }
    }
}

#[pymethods]
impl RiskOrder {
    #[new]
    #[pyo3(signature = (account, venue, symbol, side, qty, price = None, reduce_only = false))]
    fn new(
        account: &str,
        venue: &str,
        symbol: &str,
        side: &str,
        qty: &Bound<'_, PyAny>,
        price: Option<&Bound<'_, PyAny>>,
        reduce_only: bool,
    ) -> PyResult<Self> {
        let side = Side::parse(side).py()?;
        let qty = quantity(qty, "qty")?;
        let price = optional(price, "price", crate::fixed::price)?;
        let ticket = OrderTicket::new(account, venue, symbol, side, qty, price, reduce_only).py()?;
        Ok(RiskOrder { ticket })
    }

    #[getter]
    fn account(&self) -> &str {
        self.ticket.account()
    }
    #[getter]
    fn venue(&self) -> &str {
        self.ticket.venue()
    }
    #[getter]
    fn symbol(&self) -> &str {
        self.ticket.symbol()
    }
    #[getter]
    fn side(&self) -> &'static str {
        self.ticket.side.as_str()
    }
    #[getter]
    fn qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.ticket.qty.raw().into(), SCALE_DIGITS)
    }
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.ticket
            .price()
            .map(|p| to_decimal(py, p.raw().into(), SCALE_DIGITS))
            .transpose()
    }
    #[getter]
    fn reduce_only(&self) -> bool {
        self.ticket.reduce_only
    }
    /// Quantity still reserved against limits.
    #[getter]
    fn remaining<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.ticket.remaining().raw().into(), SCALE_DIGITS)
    }
    /// "NEW" (not checked), "OPEN" (accepted, holds a reservation) or "DONE".
    #[getter]
    fn state(&self) -> &'static str {
        match self.ticket.state() {
            TicketState::New => "NEW",
            TicketState::Open => "OPEN",
            TicketState::Done => "DONE",
        }
    }

    fn __repr__(&self) -> String {
        let t = &self.ticket;
        let price = t.price().map_or("MARKET".to_string(), |p| p.to_string());
        format!(
            "RiskOrder({} {} {} {} {} @ {}{})",
            t.account(),
            t.venue(),
            t.symbol(),
            t.side.as_str(),
            t.qty,
            price,
            if t.reduce_only { " reduce-only" } else { "" }
        )
    }
}

/// Limits for one scope. Every field is optional (None = no limit at this scope).
#[pyclass(frozen, eq, module = "oms._core")]
#[derive(PartialEq)]
pub struct RiskLimits {
    pub(crate) limits: CoreLimits,
}

#[pymethods]
impl RiskLimits {
    #[new]
    #[pyo3(signature = (
        *,
        max_order_qty = None,
        max_order_notional = None,
        max_position_qty = None,
        max_gross_exposure = None,
        max_leverage = None,
        price_band_bps = None,
        max_orders_per_second = None,
        order_burst = None,
        max_open_orders = None,
        daily_loss_limit = None,
        daily_loss_reducing = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        max_order_qty: Option<&Bound<'_, PyAny>>,
        max_order_notional: Option<&Bound<'_, PyAny>>,
        max_position_qty: Option<&Bound<'_, PyAny>>,
        max_gross_exposure: Option<&Bound<'_, PyAny>>,
        max_leverage: Option<&Bound<'_, PyAny>>,
        price_band_bps: Option<u32>,
        max_orders_per_second: Option<u32>,
        order_burst: Option<u32>,
        max_open_orders: Option<u32>,
        daily_loss_limit: Option<&Bound<'_, PyAny>>,
        daily_loss_reducing: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(RiskLimits {
            limits: CoreLimits {
                max_order_qty: optional(max_order_qty, "max_order_qty", quantity)?,
                max_order_notional: optional(max_order_notional, "max_order_notional", amount)?,
                max_position_qty: optional(max_position_qty, "max_position_qty", quantity)?,
                max_gross_exposure: optional(max_gross_exposure, "max_gross_exposure", amount)?,
                max_leverage: optional(max_leverage, "max_leverage", quantity)?,
                price_band_bps,
                max_orders_per_second,
                order_burst,
                max_open_orders,
                daily_loss_limit: optional(daily_loss_limit, "daily_loss_limit", amount)?,
                daily_loss_reducing: optional(daily_loss_reducing, "daily_loss_reducing", amount)?,
            },
        })
    }

    #[getter]
    fn max_order_qty<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.limits
            .max_order_qty
            .map(|v| to_decimal(py, v.raw().into(), SCALE_DIGITS))
            .transpose()
    }
    #[getter]
    fn max_order_notional<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.limits
            .max_order_notional
            .map(|v| to_decimal(py, v.raw(), AMOUNT_SCALE_DIGITS))
            .transpose()
    }
    #[getter]
    fn max_position_qty<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.limits
            .max_position_qty
            .map(|v| to_decimal(py, v.raw().into(), SCALE_DIGITS))
            .transpose()
    }
    #[getter]
    fn max_gross_exposure<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.limits
            .max_gross_exposure
            .map(|v| to_decimal(py, v.raw(), AMOUNT_SCALE_DIGITS))
            .transpose()
    }
    #[getter]
    fn max_leverage<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.limits
            .max_leverage
            .map(|v| to_decimal(py, v.raw().into(), SCALE_DIGITS))
            .transpose()
    }
    #[getter]
    fn price_band_bps(&self) -> Option<u32> {
        self.limits.price_band_bps
    }
    #[getter]
    fn max_orders_per_second(&self) -> Option<u32> {
        self.limits.max_orders_per_second
    }
    #[getter]
    fn order_burst(&self) -> Option<u32> {
        self.limits.order_burst
    }
    #[getter]
    fn max_open_orders(&self) -> Option<u32> {
        self.limits.max_open_orders
    }
    #[getter]
    fn daily_loss_limit<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.limits
            .daily_loss_limit
            .map(|v| to_decimal(py, v.raw(), AMOUNT_SCALE_DIGITS))
            .transpose()
    }
    #[getter]
    fn daily_loss_reducing<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.limits
            .daily_loss_reducing
            .map(|v| to_decimal(py, v.raw(), AMOUNT_SCALE_DIGITS))
            .transpose()
    }

    fn __repr__(&self) -> String {
        let l = &self.limits;
        let mut parts: Vec<String> = Vec::new();
        let mut add = |name: &str, v: Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{name}={v}"));
            }
        };
        add("max_order_qty", l.max_order_qty.map(|v| v.to_string()));
        add("max_order_notional", l.max_order_notional.map(|v| v.to_string()));
        add("max_position_qty", l.max_position_qty.map(|v| v.to_string()));
        add("max_gross_exposure", l.max_gross_exposure.map(|v| v.to_string()));
        add("max_leverage", l.max_leverage.map(|v| v.to_string()));
        add("price_band_bps", l.price_band_bps.map(|v| v.to_string()));
        add("max_orders_per_second", l.max_orders_per_second.map(|v| v.to_string()));
        add("order_burst", l.order_burst.map(|v| v.to_string()));
        add("max_open_orders", l.max_open_orders.map(|v| v.to_string()));
        add("daily_loss_limit", l.daily_loss_limit.map(|v| v.to_string()));
        add("daily_loss_reducing", l.daily_loss_reducing.map(|v| v.to_string()));
        format!("RiskLimits({})", parts.join(", "))
    }
}

fn scope(account: Option<String>, venue: Option<String>, symbol: Option<String>) -> PyResult<Scope> {
    match (account, venue, symbol) {
        (None, None, None) => Ok(Scope::Global),
        (Some(a), None, None) => Ok(Scope::Account(a)),
        (None, Some(v), None) => Ok(Scope::Venue(v)),
        (None, venue, Some(symbol)) => Ok(Scope::Symbol { venue, symbol }),
        _ => Err(to_py(Error::InvalidArgument {
            field: "scope",
            reason: "give one of: nothing (global), account=, venue=, symbol= (optionally with venue=)".into(),
        })),
    }
}

pub(crate) fn context(t: &OrderTicket) -> String {
    format!(
        "{} {} {} on {} for {}",
        t.side.as_str(),
        t.qty,
        t.symbol(),
        t.venue(),
        t.account()
    )
}

#[pyclass(frozen, module = "oms._core")]
pub struct RiskEngine {
    engine: CoreEngine,
}

impl RiskEngine {
    /// The core engine (other parts of the binding feed it fills).
    pub(crate) fn core(&self) -> &CoreEngine {
        &self.engine
    }
}

#[pymethods]
impl RiskEngine {
    #[new]
    fn new() -> Self {
        RiskEngine {
            engine: CoreEngine::new(),
        }
    }

    /// Set the limits of one scope: global (no keyword), `account=`, `venue=`, or
    /// `symbol=` (all venues, or one with `venue=`).
    #[pyo3(signature = (limits, *, account = None, venue = None, symbol = None))]
    fn set_limits(
        &self,
        limits: &RiskLimits,
        account: Option<String>,
        venue: Option<String>,
        symbol: Option<String>,
    ) -> PyResult<()> {
        self.engine
            .set_limits(scope(account, venue, symbol)?, limits.limits.clone())
            .py()
    }

    /// The limits set at exactly that scope, or None.
    #[pyo3(signature = (*, account = None, venue = None, symbol = None))]
    fn limits(
        &self,
        account: Option<String>,
        venue: Option<String>,
        symbol: Option<String>,
    ) -> PyResult<Option<RiskLimits>> {
        let found = self.engine.limits(&scope(account, venue, symbol)?);
        Ok(found.map(|limits| RiskLimits { limits }))
    }

    /// Whether a global daily loss limit is set (the engine then follows the day's
    /// P&L after every fill; asked per fill, so it makes no objects).
    #[getter]
    fn has_daily_loss_limit(&self) -> bool {
        self.engine
            .limits(&Scope::Global)
            .is_some_and(|l| l.daily_loss_limit.is_some())
    }

    /// Run every pre-trade rule; on accept reserve the order's worst case.
    /// Raises `oms.errors.RiskRejected` (with the rule's code) on reject.
    fn check(&self, py: Python<'_>, order: &Bound<'_, RiskOrder>) -> PyResult<()> {
        let ticket = &order.get().ticket;
        self.engine
            .check(ticket)
            .map_err(|r| reject_to_py(py, &r, &context(ticket)))
    }

    /// Does nothing with the same argument as `check`: the floor benchmarks compare against.
    fn noop(&self, order: &Bound<'_, RiskOrder>) {
        let _ = order;
    }

    /// A fill of the order: moves reserved quantity into the position.
    fn on_fill(&self, order: &Bound<'_, RiskOrder>, qty: &Bound<'_, PyAny>, price: &Bound<'_, PyAny>) -> PyResult<()> {
        let (qty, px) = (quantity(qty, "qty")?, crate::fixed::price(price, "price")?);
        self.engine.on_fill(&order.get().ticket, qty, px).py()
    }

    /// The order ended (canceled, rejected, expired): free its reservation.
    /// Returns False when there was nothing left to free.
    fn release(&self, order: &Bound<'_, RiskOrder>) -> bool {
        self.engine.release(&order.get().ticket)
    }

    fn set_reference_price(&self, venue: &str, symbol: &str, price: &Bound<'_, PyAny>) -> PyResult<()> {
        let px = crate::fixed::price(price, "price")?;
        self.engine.set_reference_price(venue, symbol, px).py()
    }

    fn set_position(&self, account: &str, venue: &str, symbol: &str, qty: &Bound<'_, PyAny>) -> PyResult<()> {
        self.engine.set_position(account, venue, symbol, quantity(qty, "qty")?);
        Ok(())
    }

    /// Record a leverage setting; raises RiskRejected(MAX_LEVERAGE) above the cap.
    fn set_leverage(
        &self,
        py: Python<'_>,
        account: &str,
        venue: &str,
        symbol: &str,
        leverage: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let leverage = quantity(leverage, "leverage")?;
        let context = format!("leverage {leverage} for {symbol} on {venue} for {account}");
        self.engine
            .set_leverage(account, venue, symbol, leverage)
            .map_err(|r| reject_to_py(py, &r, &context))
    }

    /// "ACTIVE", "REDUCING" or "HALTED".
    #[getter]
    fn trading_state(&self) -> &'static str {
        self.engine.trading_state().0.as_str()
    }

    /// Why: "NONE", "MANUAL" or "DAILY_LOSS".
    #[getter]
    fn trading_state_cause(&self) -> &'static str {
        match self.engine.trading_state().1 {
            oms_core::risk::StateCause::None => "NONE",
            oms_core::risk::StateCause::Manual => "MANUAL",
            oms_core::risk::StateCause::DailyLoss => "DAILY_LOSS",
        }
    }

    /// Set the state by hand: "HALTED" is the kill switch, "ACTIVE" resumes.
    fn set_trading_state(&self, state: &str) -> PyResult<()> {
        let parsed = TradingState::parse(state).ok_or_else(|| {
            to_py(Error::InvalidArgument {
                field: "state",
                reason: format!("{state:?} must be ACTIVE, REDUCING or HALTED"),
            })
        })?;
        self.engine.set_trading_state(parsed);
        Ok(())
    }

    /// Report the day's P&L (negative = loss); returns the trading state after it.
    fn update_daily_pnl(&self, pnl: &Bound<'_, PyAny>) -> PyResult<&'static str> {
        Ok(self.engine.update_daily_pnl(amount(pnl, "pnl")?).as_str())
    }

    #[getter]
    fn daily_pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.engine.daily_pnl().raw(), AMOUNT_SCALE_DIGITS)
    }

    /// New trading day: P&L to zero, a loss-caused state lifted (a manual one stays).
    fn reset_daily(&self) {
        self.engine.reset_daily();
    }

    fn position<'py>(&self, py: Python<'py>, account: &str, venue: &str, symbol: &str) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(
            py,
            self.engine.position(account, venue, symbol).raw().into(),
            SCALE_DIGITS,
        )
    }

    /// Open orders: global, or of one venue / one account.
    #[pyo3(signature = (*, venue = None, account = None))]
    fn open_orders(&self, venue: Option<&str>, account: Option<&str>) -> i64 {
        self.engine.usage(venue, account).0
    }

    /// Gross exposure (positions at reference price + open orders): global, or of
    /// one venue / one account.
    #[pyo3(signature = (*, venue = None, account = None))]
    fn gross_exposure<'py>(
        &self,
        py: Python<'py>,
        venue: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        to_decimal(py, self.engine.usage(venue, account).1.raw(), AMOUNT_SCALE_DIGITS)
    }
}
