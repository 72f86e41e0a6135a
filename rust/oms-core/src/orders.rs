//! The order record and its state machine: one transition table, the rules for
//! fills, and the exact fill totals (quantity at 10^-8, quote at 10^-16).
//!
//! `OrderStatus::can_become` is the table; everything off it is an
//! [`Error::IllegalTransition`]. Reporting the status an order already has is a no-op
//! (venues and recovery repeat themselves). Rules that are not plain edges:
//!
//! * **UNKNOWN** is entered when a request's outcome is not known; it leaves only for
//!   what the venue reports (REJECTED included), never by resending.
//! * **PENDING_CANCEL / PENDING_REPLACE** remember the status they came from;
//!   [`OrderRecord::revert_pending`] goes back to it when the venue refuses.
//! * **Fills** are facts, applied once per trade id. They move NEW, TRIGGERED,
//!   PENDING_NEW and UNKNOWN to PARTIALLY_FILLED or FILLED; while a cancel or replace
//!   is pending a partial fill keeps the pending status (a full one ends in FILLED); a
//!   fill after CANCELED/EXPIRED is recorded and the status stays; a fill on a
//!   REJECTED or FILLED order contradicts the venue and is refused.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fixed::{Amount, Price, Quantity, AMOUNT_SCALE_DIGITS, SCALE};
use crate::risk::keys::intern;
use crate::risk::InstrumentKey;
use crate::side::Side;
use crate::trade_ids::TradeIds;

/// Where an order is in its life (the spelling of `oms.model.OrderStatus`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderStatus {
    PendingNew,
    New,
    PartiallyFilled,
    Filled,
    PendingCancel,
    Canceled,
    PendingReplace,
    Rejected,
    Expired,
    Triggered,
    Unknown,
}

use OrderStatus as S;

impl OrderStatus {
    /// Every status, in the order of `oms.model.OrderStatus` (an index into this is
    /// how the binding hands out the Python members).
    pub const ALL: [OrderStatus; 11] = [
        S::PendingNew,
        S::New,
        S::PartiallyFilled,
        S::Filled,
        S::PendingCancel,
        S::Canceled,
        S::PendingReplace,
        S::Rejected,
        S::Expired,
        S::Triggered,
        S::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            S::PendingNew => "PENDING_NEW",
            S::New => "NEW",
            S::PartiallyFilled => "PARTIALLY_FILLED",
            S::Filled => "FILLED",
            S::PendingCancel => "PENDING_CANCEL",
            S::Canceled => "CANCELED",
            S::PendingReplace => "PENDING_REPLACE",
            S::Rejected => "REJECTED",
            S::Expired => "EXPIRED",
            S::Triggered => "TRIGGERED",
            S::Unknown => "UNKNOWN",
        }
    }

    pub fn parse(text: &str) -> Result<OrderStatus> {
        S::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| Error::invalid("status", format!("{text:?} is not an order status")))
    }

    /// The statuses this one may move to (the transition table).
    pub fn next(self) -> &'static [OrderStatus] {
        match self {
            S::PendingNew => &[
                S::New,
                S::PartiallyFilled,
                S::Filled,
                S::PendingCancel,
                S::Canceled,
                S::Rejected,
                S::Expired,
                S::Triggered,
                S::Unknown,
            ],
            S::New => &[
                S::PartiallyFilled,
                S::Filled,
                S::PendingCancel,
                S::Canceled,
                S::PendingReplace,
                S::Expired,
                S::Triggered,
            ],
            S::Triggered => &[
                S::PartiallyFilled,
                S::Filled,
                S::PendingCancel,
                S::Canceled,
                S::PendingReplace,
                S::Expired,
                S::Rejected,
            ],
            S::PartiallyFilled => &[S::Filled, S::PendingCancel, S::Canceled, S::PendingReplace, S::Expired],
            S::PendingCancel => &[
                S::Canceled,
                S::Filled,
                S::Expired,
                S::New,
                S::PartiallyFilled,
                S::Triggered,
                S::Unknown,
            ],
            S::PendingReplace => &[
                S::New,
                S::PartiallyFilled,
                S::Filled,
                S::PendingCancel,
                S::Canceled,
                S::Expired,
                S::Triggered,
                S::Unknown,
            ],
            S::Unknown => &[
                S::New,
                S::PartiallyFilled,
                S::Filled,
                S::Canceled,
                S::Rejected,
                S::Expired,
                S::Triggered,
            ],
            S::Filled | S::Canceled | S::Rejected | S::Expired => &[],
        }
    }

    /// A move along the table (staying put is not a move).
    pub fn can_become(self, next: OrderStatus) -> bool {
        self.next().contains(&next)
    }

    /// Never left again.
    pub fn is_terminal(self) -> bool {
        self.next().is_empty()
    }

    /// A cancel or amend is with the venue.
    pub fn is_pending(self) -> bool {
        matches!(self, S::PendingCancel | S::PendingReplace)
    }

    /// A fill may arrive and move the status.
    pub fn is_fillable(self) -> bool {
        !self.is_terminal()
    }

    /// Ended, yet a late fill (out-of-order delivery) is still recorded.
    pub fn takes_late_fill(self) -> bool {
        matches!(self, S::Canceled | S::Expired)
    }

    /// The status after a fill (see the module rules).
    pub fn after_fill(self, filled_all: bool) -> OrderStatus {
        if self.takes_late_fill() {
            self
        } else if filled_all {
            S::Filled
        } else if self.is_pending() {
            self
        } else {
            S::PartiallyFilled
        }
    }
}

/// One execution as the order sees it.
#[derive(Clone, Copy, Debug)]
pub struct FillTerms<'a> {
    pub trade_id: &'a str,
    pub side: Side,
    pub qty: Quantity,
    pub price: Price,
    pub fee: Amount,
    pub fee_asset: &'a str,
    pub venue_order_id: Option<&'a str>,
    pub ts_ns: i64,
}

impl FillTerms<'_> {
    /// The fee in `symbol`'s quote currency, which is what positions book: as it is
    /// when paid in the quote, valued at the fill price when paid in the base (exact
    /// only for a base fee on the 10^-8 grid, as any quantity is), `None` when paid in
    /// a third asset (BNB): that one stays on the order.
    pub fn fee_in_quote(&self, symbol: &str) -> Result<Option<Amount>> {
        let (base, quote) = assets(symbol);
        if self.fee == Amount::ZERO || (self.fee_asset != quote && self.fee_asset != base) {
            return Ok(None);
        }
        if self.fee_asset == quote {
            return Ok(Some(self.fee));
        }
        let scaled = (self.fee.raw())
            .checked_mul(i128::from(self.price.raw()))
            .ok_or(Error::Overflow { op: "fee in quote" })?;
        let per_unit = i128::from(SCALE); // fee (10^-16) x price (10^-8), back to 10^-16
        if scaled % per_unit != 0 {
            return Err(Error::PrecisionExceeded {
                what: "fee",
                input: format!("{} x {}", self.fee, self.price),
                digits: AMOUNT_SCALE_DIGITS,
            });
        }
        Ok(Some(Amount::from_raw(scaled / per_unit)))
    }
}

/// `BTC/USDT` or `BTC/USDT:USDT` -> (`BTC`, `USDT`).
pub fn assets(symbol: &str) -> (&str, &str) {
    let (base, rest) = symbol.split_once('/').unwrap_or((symbol, ""));
    (base, rest.split_once(':').map_or(rest, |(quote, _)| quote))
}

/// What was asked for: fixed for the order's life, but for an amend (which makes new
/// terms). Shared with the events made of the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderTerms {
    /// (account, venue, symbol), interned: every order and event of an instrument
    /// shares the one copy.
    pub key: Arc<InstrumentKey>,
    pub side: Side,
    /// `LIMIT`, `MARKET`, ... (the spelling of `oms.model.OrderType`; see
    /// [`order_type_name`]).
    pub order_type: Cow<'static, str>,
    pub qty: Quantity,
    pub price: Option<Price>,
}

impl OrderTerms {
    /// Terms naming (account, venue, symbol), interned (see `risk::keys`).
    pub fn new(
        account: &str,
        venue: &str,
        symbol: &str,
        side: Side,
        order_type: &str,
        qty: Quantity,
        price: Option<Price>,
    ) -> Self {
        OrderTerms {
            key: intern(account, venue, symbol).1,
            side,
            order_type: order_type_name(order_type),
            qty,
            price,
        }
    }

    pub fn account(&self) -> &str {
        &self.key.account
    }

    pub fn venue(&self) -> &str {
        &self.key.venue
    }

    pub fn symbol(&self) -> &str {
        &self.key.symbol
    }
}

/// The order types `oms.model.OrderType` names: kept as static text, so an order's
/// terms do not carry a copy.
const ORDER_TYPES: [&str; 8] = [
    "MARKET",
    "LIMIT",
    "LIMIT_MAKER",
    "STOP_MARKET",
    "STOP_LIMIT",
    "TAKE_PROFIT_MARKET",
    "TAKE_PROFIT_LIMIT",
    "TRAILING_STOP",
];

/// `name` as an order type's static text (any other name is kept as given).
pub fn order_type_name(name: &str) -> Cow<'static, str> {
    ORDER_TYPES
        .iter()
        .find(|known| **known == name)
        .map_or_else(|| Cow::Owned(name.to_owned()), |known| Cow::Borrowed(*known))
}

/// An order the OMS owns: its identity, its terms, its state, and its exact fill
/// totals. The texts are shared (`Arc<str>`) with the events made of the order.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderRecord {
    pub id: Arc<str>,
    pub client_order_id: Arc<str>,
    pub venue_order_id: Option<Arc<str>>,
    pub terms: Arc<OrderTerms>,
    pub status: OrderStatus,
    pub status_before_pending: Option<OrderStatus>,
    pub filled_qty: Quantity,
    pub filled_quote: Amount,
    /// Fees by asset ("" when the venue named none), in the order first seen.
    pub fees: Vec<(String, Amount)>,
    /// Shared with the fill events.
    pub trade_ids: TradeIds,
    pub overfill_qty: Quantity,
    pub reason: Option<String>,
    pub created_ns: i64,
    pub updated_ns: i64,
}

impl OrderRecord {
    /// A new order: PENDING_NEW, nothing filled.
    pub fn new(id: Arc<str>, client_order_id: Arc<str>, terms: Arc<OrderTerms>, now_ns: i64) -> Self {
        OrderRecord {
            id,
            client_order_id,
            venue_order_id: None,
            terms,
            status: S::PendingNew,
            status_before_pending: None,
            filled_qty: Quantity::ZERO,
            filled_quote: Amount::ZERO,
            fees: Vec::new(),
            trade_ids: TradeIds::default(),
            overfill_qty: Quantity::ZERO,
            reason: None,
            created_ns: now_ns,
            updated_ns: now_ns,
        }
    }

    /// What is left to fill (never below zero).
    pub fn remaining_qty(&self) -> Quantity {
        Quantity::from_raw((self.terms.qty.raw() - self.filled_qty.raw()).max(0))
    }

    /// Move to `new`; `Ok(false)` if already there.
    pub fn transition(&mut self, new: OrderStatus, reason: Option<&str>, ts_ns: i64) -> Result<bool> {
        let current = self.status;
        if new == current {
            return Ok(false);
        }
        if !current.can_become(new) {
            return Err(self.illegal(
                format!(
                    "status {} cannot become {}; allowed from {}: {}",
                    current.as_str(),
                    new.as_str(),
                    current.as_str(),
                    allowed(current)
                ),
                Some(new),
                None,
            ));
        }
        if new.is_pending() {
            self.status_before_pending = Some(current);
        }
        self.status = new;
        if let Some(reason) = reason {
            self.reason = Some(reason.to_owned());
        }
        self.touch(ts_ns);
        Ok(true)
    }

    /// The venue refused our cancel or amend: back to the working status (one with
    /// fills is PARTIALLY_FILLED), `reason` saying why.
    pub fn revert_pending(&mut self, reason: Option<&str>, ts_ns: i64) -> Result<()> {
        if !self.status.is_pending() {
            let message = format!("nothing to revert, status is {}", self.status.as_str());
            return Err(self.illegal(message, None, None));
        }
        let mut back = self.status_before_pending.unwrap_or(S::New);
        if !self.filled_qty.is_zero() && matches!(back, S::New | S::Triggered) {
            back = S::PartiallyFilled;
        }
        self.status = back;
        self.status_before_pending = None;
        self.reason = reason.map(str::to_owned);
        self.touch(ts_ns);
        Ok(())
    }

    /// Record a fill. `Ok(Some(excess))` when the fills now total more than the order
    /// (recorded all the same: it happened at the venue). Refused, nothing changes:
    /// a trade id already applied, a status no fill may reach, the other side.
    pub fn apply_fill(&mut self, fill: &FillTerms<'_>) -> Result<Option<Quantity>> {
        if self.trade_ids.contains(fill.trade_id) {
            return Err(Error::DuplicateFill {
                order: self.id.to_string(),
                trade_id: fill.trade_id.to_owned(),
            });
        }
        let status = self.status;
        if !status.is_fillable() && !status.takes_late_fill() {
            let message = format!("a fill cannot arrive in status {}", status.as_str());
            return Err(self.illegal(message, None, Some(fill.trade_id)));
        }
        let (side, qty) = (self.terms.side, self.terms.qty);
        if fill.side != side {
            return Err(Error::FillMismatch {
                order: self.id.to_string(),
                trade_id: fill.trade_id.to_owned(),
                fill_side: fill.side.as_str(),
                order_side: side.as_str(),
            });
        }
        let filled = self.filled_qty.checked_add(fill.qty)?;
        let quote = self.filled_quote.checked_add(Amount::notional(fill.qty, fill.price))?;
        self.add_fee(fill.fee_asset, fill.fee)?;
        self.trade_ids.insert(fill.trade_id.into());
        self.filled_qty = filled;
        self.filled_quote = quote;
        self.status = status.after_fill(filled >= qty);
        self.touch(fill.ts_ns);
        if self.venue_order_id.is_none() {
            self.venue_order_id = fill.venue_order_id.map(Arc::from);
        }
        if filled > qty {
            self.overfill_qty = filled.checked_sub(qty)?;
            return Ok(Some(self.overfill_qty));
        }
        Ok(None)
    }

    /// A venue's report of the order's status (its fills come as fills): `true` if
    /// the order moved. PARTIALLY_FILLED or FILLED only say the order is working (the
    /// fills move the fill statuses); a report the table does not allow is stale (the
    /// order is further on) and ignored; a refused cancel or amend (NEW while pending)
    /// on an order with fills goes back to PARTIALLY_FILLED.
    pub fn apply_report(&mut self, reported: OrderStatus, reason: Option<&str>, ts_ns: i64) -> Result<bool> {
        let mut target = match reported {
            S::PartiallyFilled | S::Filled => S::New,
            other => other,
        };
        let current = self.status;
        if current == target || !current.can_become(target) {
            return Ok(false);
        }
        if current.is_pending() && target == S::New && !self.filled_qty.is_zero() {
            target = S::PartiallyFilled;
        }
        self.transition(target, reason, ts_ns)
    }

    /// The error that reports an overfill `apply_fill` recorded (trade `trade_id`).
    pub fn overfill(&self, trade_id: &str) -> Error {
        Error::Overfill {
            order: self.id.to_string(),
            filled: self.filled_qty,
            qty: self.terms.qty,
            excess: self.overfill_qty,
            trade_id: trade_id.to_owned(),
        }
    }

    fn add_fee(&mut self, asset: &str, fee: Amount) -> Result<()> {
        if fee == Amount::ZERO {
            return Ok(());
        }
        match self.fees.iter_mut().find(|(a, _)| a == asset) {
            Some((_, total)) => *total = total.checked_add(fee)?,
            None => self.fees.push((asset.to_owned(), fee)),
        }
        Ok(())
    }

    fn touch(&mut self, ts_ns: i64) {
        if ts_ns != 0 {
            self.updated_ns = ts_ns;
        }
    }

    fn illegal(&self, what: String, new: Option<OrderStatus>, trade_id: Option<&str>) -> Error {
        Error::IllegalTransition {
            message: format!("order {}: {what}", self.id),
            current: self.status.as_str(),
            new: new.map(OrderStatus::as_str),
            trade_id: trade_id.map(str::to_owned),
        }
    }
}

/// "A, B, C" (sorted), or "nothing (terminal)".
fn allowed(status: OrderStatus) -> String {
    let mut names: Vec<&str> = status.next().iter().map(|s| s.as_str()).collect();
    if names.is_empty() {
        return "nothing (terminal)".into();
    }
    names.sort_unstable();
    names.join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap()
    }

    pub(crate) fn terms(qty: &str) -> Arc<OrderTerms> {
        Arc::new(OrderTerms::new(
            "default",
            "binance:spot",
            "BTC/USDT",
            Side::Buy,
            "LIMIT",
            q(qty),
            Some(Price::parse("100").unwrap()),
        ))
    }

    fn order(qty: &str) -> OrderRecord {
        OrderRecord::new("o1".into(), "c1".into(), terms(qty), 1)
    }

    fn fill<'a>(trade_id: &'a str, qty: &str, price: &str) -> FillTerms<'a> {
        FillTerms {
            trade_id,
            side: Side::Buy,
            qty: q(qty),
            price: Price::parse(price).unwrap(),
            fee: Amount::parse("0.01").unwrap(),
            fee_asset: "USDT",
            venue_order_id: Some("V1"),
            ts_ns: 5,
        }
    }

    #[test]
    fn every_status_round_trips_and_terminals_are_the_four_ends() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()).unwrap(), status);
        }
        let ends: Vec<_> = OrderStatus::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(ends, [S::Filled, S::Canceled, S::Rejected, S::Expired]);
        assert_eq!(OrderStatus::parse("DONE").unwrap_err().code(), "INVALID_ARGUMENT");
    }

    #[test]
    fn transitions_follow_the_table_and_repeats_are_no_ops() {
        let mut o = order("1");
        assert!(o.transition(S::New, None, 2).unwrap());
        assert!(!o.transition(S::New, None, 3).unwrap());
        assert_eq!(o.updated_ns, 2);
        let err = o.transition(S::PendingNew, None, 4).unwrap_err();
        assert_eq!(err.code(), "ILLEGAL_TRANSITION");
        assert!(err
            .to_string()
            .contains("order o1: status NEW cannot become PENDING_NEW"));
        o.transition(S::Canceled, Some("user"), 5).unwrap();
        let err = o.transition(S::New, None, 6).unwrap_err().to_string();
        assert!(err.ends_with("allowed from CANCELED: nothing (terminal)"), "{err}");
        assert_eq!(o.reason.as_deref(), Some("user"));
    }

    #[test]
    fn a_refused_cancel_goes_back_and_counts_fills_made_meanwhile() {
        let mut o = order("1");
        o.transition(S::New, None, 2).unwrap();
        o.transition(S::PendingCancel, None, 3).unwrap();
        assert_eq!(o.apply_fill(&fill("t1", "0.4", "100")).unwrap(), None);
        assert_eq!(o.status, S::PendingCancel, "a partial fill keeps the pending status");
        o.revert_pending(Some("too late"), 6).unwrap();
        assert_eq!(o.status, S::PartiallyFilled);
        assert_eq!(o.reason.as_deref(), Some("too late"));
        assert_eq!(o.revert_pending(None, 7).unwrap_err().code(), "ILLEGAL_TRANSITION");
    }

    #[test]
    fn fills_total_exactly_and_a_duplicate_changes_nothing() {
        let mut o = order("0.3");
        o.apply_fill(&fill("t1", "0.1", "50000.01")).unwrap();
        o.apply_fill(&fill("t2", "0.2", "49999.99")).unwrap();
        assert_eq!(o.status, S::Filled);
        assert_eq!(o.filled_qty, q("0.3"));
        assert_eq!(o.filled_quote, Amount::parse("14999.999").unwrap());
        assert_eq!(o.fees, vec![("USDT".to_owned(), Amount::parse("0.02").unwrap())]);
        assert_eq!(o.venue_order_id.as_deref(), Some("V1"));
        let before = o.clone();
        assert_eq!(
            o.apply_fill(&fill("t2", "0.2", "1")).unwrap_err().code(),
            "DUPLICATE_FILL"
        );
        assert_eq!(o, before);
    }

    #[test]
    fn an_overfill_is_recorded_and_reported() {
        let mut o = order("0.1");
        o.transition(S::New, None, 2).unwrap();
        let excess = o.apply_fill(&fill("t1", "0.15", "10")).unwrap();
        assert_eq!(excess, Some(q("0.05")));
        assert_eq!(
            (o.status, o.filled_qty, o.overfill_qty),
            (S::Filled, q("0.15"), q("0.05"))
        );
        assert_eq!(o.remaining_qty(), Quantity::ZERO);
    }

    #[test]
    fn late_fills_are_recorded_wrong_side_and_rejected_orders_refuse() {
        let mut o = order("1");
        o.transition(S::Canceled, None, 2).unwrap();
        o.apply_fill(&fill("t1", "0.5", "10")).unwrap();
        assert_eq!((o.status, o.filled_qty), (S::Canceled, q("0.5")));
        let mut sell = fill("t2", "0.1", "10");
        sell.side = Side::Sell;
        let before = o.clone();
        assert_eq!(o.apply_fill(&sell).unwrap_err().code(), "FILL_MISMATCH");
        assert_eq!(o, before);
        let mut rejected = order("1");
        rejected.transition(S::Rejected, None, 2).unwrap();
        let err = rejected.apply_fill(&fill("t3", "1", "10")).unwrap_err();
        assert!(
            err.to_string().contains("a fill cannot arrive in status REJECTED"),
            "{err}"
        );
    }

    #[test]
    fn reports_move_the_working_status_and_stale_ones_are_ignored() {
        let mut o = order("1");
        assert!(o.apply_report(S::New, None, 5).unwrap());
        assert_eq!((o.status, o.updated_ns), (S::New, 5));
        assert!(!o.apply_report(S::PendingNew, None, 6).unwrap(), "stale");
        assert!(!o.apply_report(S::Filled, None, 6).unwrap(), "fills move fill statuses");
        assert_eq!(o.status, S::New);
        o.apply_fill(&fill("t1", "0.4", "10")).unwrap();
        o.transition(S::PendingCancel, None, 7).unwrap();
        assert!(o.apply_report(S::New, Some("cancel refused"), 8).unwrap());
        assert_eq!(
            (o.status, o.reason.as_deref()),
            (S::PartiallyFilled, Some("cancel refused"))
        );
        assert!(o.apply_report(S::Canceled, None, 9).unwrap());
        assert!(!o.apply_report(S::New, None, 10).unwrap(), "terminal");
        assert_eq!(o.status, S::Canceled);
    }

    #[test]
    fn fees_reach_the_quote_currency_or_stay_on_the_order() {
        let mut f = fill("t1", "0.5", "20000");
        assert_eq!(assets("BTC/USDT:USDT"), ("BTC", "USDT"));
        assert_eq!(
            f.fee_in_quote("BTC/USDT").unwrap(),
            Some(Amount::parse("0.01").unwrap())
        );
        f.fee_asset = "BTC";
        f.fee = Amount::parse("0.0005").unwrap();
        assert_eq!(f.fee_in_quote("BTC/USDT").unwrap(), Some(Amount::parse("10").unwrap()));
        f.fee_asset = "BNB";
        assert_eq!(f.fee_in_quote("BTC/USDT").unwrap(), None);
        f.fee_asset = "BTC";
        f.fee = Amount::parse("0.000000001").unwrap();
        assert_eq!(
            f.fee_in_quote("BTC/USDT").unwrap(),
            Some(Amount::parse("0.00002").unwrap())
        );
        f.price = Price::parse("0.00000001").unwrap();
        f.fee = Amount::parse("0.0000000000000001").unwrap();
        assert_eq!(f.fee_in_quote("BTC/USDT").unwrap_err().code(), "PRECISION_EXCEEDED");
    }
}
