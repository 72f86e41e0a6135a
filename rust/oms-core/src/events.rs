//! The engine's order events in the core's form: a snapshot of an order after a
//! change, kept in fixed point and encoded straight to the JSON line the journal
//! carries (the field names and order of `oms.engine.events.OrderUpdate`, decimals as
//! strings), so the order path never builds a Python object for an event only files
//! and streams read.

use std::borrow::Cow;
use std::sync::Arc;

use crate::clock::now_ns;
use crate::fixed::{div_round_half_even, AMOUNT_SCALE_DIGITS, SCALE_DIGITS};
use crate::jsonl::JsonLine;
use crate::orders::{OrderRecord, OrderStatus, OrderTerms};
use crate::positions::PositionRecord;
use crate::risk::InstrumentKey;
use crate::{Amount, Price, Quantity, Side};

/// An order as it is after a state change, a fill or a venue report.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderUpdate {
    pub seq: u64,
    pub order_id: Arc<str>,
    pub client_order_id: Arc<str>,
    pub terms: Arc<OrderTerms>,
    pub status: OrderStatus,
    pub filled_qty: Quantity,
    pub filled_quote: Amount,
    pub venue_order_id: Option<Arc<str>>,
    pub reason: Option<String>,
    pub ts_ns: i64,
}

impl OrderUpdate {
    /// `record` as it is now, numbered `seq`; stamped with its last change, or now
    /// if it has none.
    pub fn of(record: &OrderRecord, seq: u64) -> Self {
        OrderUpdate {
            seq,
            order_id: record.id.clone(),
            client_order_id: record.client_order_id.clone(),
            terms: Arc::clone(&record.terms),
            status: record.status,
            filled_qty: record.filled_qty,
            filled_quote: record.filled_quote,
            venue_order_id: record.venue_order_id.clone(),
            reason: record.reason.clone(),
            ts_ns: if record.updated_ns != 0 {
                record.updated_ns
            } else {
                now_ns()
            },
        }
    }

    /// The average fill price in raw units of 10^-16 (see [`average_price`]).
    pub fn avg_price(&self) -> Option<i128> {
        average_price(self.filled_quote, self.filled_qty)
    }

    /// Append the event as one line of JSON (with its newline).
    pub fn encode_json(&self, out: &mut Vec<u8>) {
        let t = &*self.terms;
        out.extend_from_slice(b"{\"event\":\"order\",\"seq\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        field_str(out, "order_id", &self.order_id);
        field_str(out, "client_order_id", &self.client_order_id);
        field_str(out, "venue", t.venue());
        field_str(out, "symbol", t.symbol());
        field_str(out, "side", t.side.as_str());
        field_str(out, "type", &t.order_type);
        field_number(out, "qty", Some((t.qty.raw().into(), SCALE_DIGITS)));
        field_number(out, "price", t.price.map(|p| (p.raw().into(), SCALE_DIGITS)));
        field_str(out, "status", self.status.as_str());
        field_number(out, "filled_qty", Some((self.filled_qty.raw().into(), SCALE_DIGITS)));
        field_number(out, "avg_price", self.avg_price().map(|p| (p, AMOUNT_SCALE_DIGITS)));
        field_optional_str(out, "venue_order_id", self.venue_order_id.as_deref());
        field_optional_str(out, "reason", self.reason.as_deref());
        field_str(out, "account", t.account());
        key(out, "ts_ns");
        out.extend_from_slice(itoa::Buffer::new().format(self.ts_ns).as_bytes());
        out.extend_from_slice(b"}\n");
    }
}

/// A fill applied to one of our orders (each trade id once), with the fill as the
/// venue reported it: the field names and order of `oms.engine.events.FillUpdate`
/// and of the `oms.model.Fill` inside it. The texts are shared with the order.
#[derive(Clone, Debug, PartialEq)]
pub struct FillUpdate {
    pub seq: u64,
    pub order_id: Arc<str>,
    /// The order's account, and the venue and symbol the fill names (interned).
    pub key: Arc<InstrumentKey>,
    pub trade_id: Arc<str>,
    pub side: Side,
    pub qty: Quantity,
    pub price: Price,
    pub fee: Amount,
    pub fee_asset: Option<String>,
    /// `MAKER` / `TAKER` (the spelling of `oms.model.Liquidity`), where the venue says.
    pub liquidity: Option<Cow<'static, str>>,
    pub client_order_id: Option<Arc<str>>,
    pub venue_order_id: Option<Arc<str>>,
    pub ts_ns: i64,
}

impl FillUpdate {
    /// Append the event as one line of JSON (with its newline).
    pub fn encode_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"event\":\"fill\",\"seq\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        field_str(out, "order_id", &self.order_id);
        field_str(out, "account", &self.key.account);
        out.extend_from_slice(b",\"fill\":{\"venue\":");
        string(out, &self.key.venue);
        field_str(out, "symbol", &self.key.symbol);
        field_str(out, "trade_id", &self.trade_id);
        field_str(out, "side", self.side.as_str());
        field_number(out, "qty", Some((self.qty.raw().into(), SCALE_DIGITS)));
        field_number(out, "price", Some((self.price.raw().into(), SCALE_DIGITS)));
        field_number(out, "fee", Some((self.fee.raw(), AMOUNT_SCALE_DIGITS)));
        field_optional_str(out, "fee_asset", self.fee_asset.as_deref());
        field_optional_str(out, "liquidity", self.liquidity.as_deref());
        field_optional_str(out, "client_order_id", self.client_order_id.as_deref());
        field_optional_str(out, "venue_order_id", self.venue_order_id.as_deref());
        key(out, "ts_ns");
        out.extend_from_slice(itoa::Buffer::new().format(self.ts_ns).as_bytes());
        out.extend_from_slice(b"}}\n");
    }
}

/// A position after a fill or a funding payment moved it, numbered: the field names
/// and order of `oms.engine.events.PositionUpdate` (positions go to the event bus, not
/// to the journal's files).
#[derive(Clone, Copy, Debug)]
pub struct PositionUpdate<'a> {
    pub seq: u64,
    pub position: &'a PositionRecord,
}

impl PositionUpdate<'_> {
    /// Append the event as one line of JSON (with its newline).
    pub fn encode_json(&self, out: &mut Vec<u8>) {
        let p = self.position;
        out.extend_from_slice(b"{\"event\":\"position\",\"seq\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        field_str(out, "account", p.account_str());
        field_str(out, "venue", p.venue_str());
        field_str(out, "symbol", p.symbol_str());
        field_number(out, "qty", Some((p.qty.into(), SCALE_DIGITS)));
        let average = (p.avg_entry_price != 0).then_some((p.avg_entry_price.into(), SCALE_DIGITS));
        field_number(out, "avg_entry_price", average);
        field_number(out, "realized_pnl", Some((p.realized_pnl, AMOUNT_SCALE_DIGITS)));
        field_number(out, "unrealized_pnl", Some((p.unrealized_pnl, AMOUNT_SCALE_DIGITS)));
        field_number(out, "fees_paid", Some((p.fees_paid, AMOUNT_SCALE_DIGITS)));
        key(out, "version");
        out.extend_from_slice(itoa::Buffer::new().format(p.update_seq).as_bytes());
        key(out, "ts_ns");
        out.extend_from_slice(itoa::Buffer::new().format(p.updated_ns).as_bytes());
        field_number(out, "funding", Some((p.funding, AMOUNT_SCALE_DIGITS)));
        out.extend_from_slice(b"}\n");
    }
}

impl JsonLine for OrderUpdate {
    fn ts_ns(&self) -> i64 {
        self.ts_ns
    }

    fn encode_json(&self, out: &mut Vec<u8>) {
        OrderUpdate::encode_json(self, out);
    }
}

/// A fill's line is stamped with the time the venue says it happened.
impl JsonLine for FillUpdate {
    fn ts_ns(&self) -> i64 {
        self.ts_ns
    }

    fn encode_json(&self, out: &mut Vec<u8>) {
        FillUpdate::encode_json(self, out);
    }
}

/// `quote / qty` rounded half-even to 10^-16 (raw units), None before any fill.
pub fn average_price(quote: Amount, qty: Quantity) -> Option<i128> {
    if qty.is_zero() {
        return None;
    }
    let scale = 10i128.pow(SCALE_DIGITS);
    // quote is in 10^-16 and qty in 10^-8: quote * 10^8 / qty is the price in 10^-16.
    Some(match quote.raw().checked_mul(scale) {
        Some(wide) => div_round_half_even(wide, qty.raw().into()),
        None => div_round_half_even(quote.raw(), qty.raw().into()) * scale, // beyond 10^30 of quote
    })
}

fn key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

fn field_str(out: &mut Vec<u8>, name: &str, value: &str) {
    key(out, name);
    string(out, value);
}

fn string(out: &mut Vec<u8>, value: &str) {
    if value.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"'); // nothing to escape: ids, venues and symbols
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, value); // quotes, backslashes, control characters
    }
}

fn field_optional_str(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    match value {
        Some(value) => field_str(out, name, value),
        None => {
            key(out, name);
            out.extend_from_slice(b"null");
        }
    }
}

/// A decimal as a JSON string (as msgspec writes a `Decimal`), or null.
fn field_number(out: &mut Vec<u8>, name: &str, value: Option<(i128, u32)>) {
    key(out, name);
    match value {
        Some((raw, digits)) => {
            out.push(b'"');
            write_scaled(out, raw, digits);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// `format_scaled` without its `String`: the shortest exact decimal of `raw` units
/// of 10^-`digits`.
pub(crate) fn write_scaled(out: &mut Vec<u8>, raw: i128, digits: u32) {
    if raw < 0 {
        out.push(b'-');
    }
    let magnitude = raw.unsigned_abs();
    let scale = 10u128.pow(digits);
    let (int_part, frac_part) = match u64::try_from(magnitude) {
        Ok(small) if digits <= 19 => {
            let scale = 10u64.pow(digits);
            (u128::from(small / scale), small % scale)
        }
        _ => (magnitude / scale, (magnitude % scale) as u64), // digits <= 16: fits
    };
    out.extend_from_slice(itoa::Buffer::new().format(int_part).as_bytes());
    if frac_part != 0 {
        let mut text = itoa::Buffer::new();
        let frac = text.format(frac_part).as_bytes();
        out.push(b'.');
        out.extend(std::iter::repeat_n(b'0', digits as usize - frac.len()));
        let trailing = frac.iter().rev().take_while(|&&b| b == b'0').count();
        out.extend_from_slice(&frac[..frac.len() - trailing]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::{tests::terms, FillTerms};
    use crate::risk::keys::intern;

    #[test]
    fn an_update_encodes_as_the_journal_line_of_oms_engine_events() {
        let mut record = OrderRecord::new("o1".into(), "c\"1".into(), terms("0.3"), 7);
        record.transition(OrderStatus::New, None, 8).unwrap();
        for (id, qty, price) in [
            ("t1", "0.1", "50000.01"),
            ("t2", "0.1", "49999.99"),
            ("t3", "0.05", "1"),
        ] {
            let fill = FillTerms {
                trade_id: id,
                side: Side::Buy,
                qty: Quantity::parse(qty).unwrap(),
                price: Price::parse(price).unwrap(),
                fee: Amount::ZERO,
                fee_asset: "",
                venue_order_id: Some("V9"),
                ts_ns: 9,
            };
            record.apply_fill(&fill).unwrap();
        }
        let mut line = Vec::new();
        OrderUpdate::of(&record, 42).encode_json(&mut line);
        let expected = concat!(
            r#"{"event":"order","seq":42,"order_id":"o1","client_order_id":"c\"1","venue":"binance:spot","#,
            r#""symbol":"BTC/USDT","side":"BUY","type":"LIMIT","qty":"0.3","price":"100","#,
            r#""status":"PARTIALLY_FILLED","filled_qty":"0.25","avg_price":"40000.2","#,
            r#""venue_order_id":"V9","reason":null,"account":"default","ts_ns":9}"#,
            "\n"
        );
        assert_eq!(String::from_utf8(line).unwrap(), expected);
    }

    #[test]
    fn numbers_are_written_as_format_scaled_writes_them() {
        for (raw, digits) in [
            (0i128, 8u32),
            (1, 8),
            (-150_000_000, 8),
            (123_456_789_012, 8),
            (5, 16),
            (i128::MAX / 7, 16),
        ] {
            let mut out = Vec::new();
            write_scaled(&mut out, raw, digits);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                crate::fixed::format_scaled(raw, digits)
            );
        }
    }

    #[test]
    fn the_average_rounds_half_even_at_the_sixteenth_place_and_is_none_unfilled() {
        let q = |t: &str| Quantity::parse(t).unwrap();
        let a = |t: &str| Amount::parse(t).unwrap();
        assert_eq!(average_price(a("10"), q("3")), Some(33_333_333_333_333_333)); // 3.3333333333333333
        assert_eq!(average_price(a("20"), q("3")), Some(66_666_666_666_666_667));
        assert_eq!(average_price(a("0"), q("0")), None);
        let unfilled = OrderRecord::new("o".into(), "c".into(), terms("1"), 5);
        let mut line = Vec::new();
        OrderUpdate::of(&unfilled, 1).encode_json(&mut line);
        let text = String::from_utf8(line).unwrap();
        assert!(
            text.contains(r#""filled_qty":"0","avg_price":null,"venue_order_id":null"#),
            "{text}"
        );
        assert!(text.ends_with("\"ts_ns\":5}\n"), "{text}");
    }

    #[test]
    fn a_fill_encodes_as_the_journal_line_of_oms_engine_events() {
        let update = FillUpdate {
            seq: 7,
            order_id: "o1".into(),
            key: intern("default", "binance:spot", "BTC/USDT").1,
            trade_id: "T1".into(),
            side: Side::Sell,
            qty: Quantity::parse("0.25").unwrap(),
            price: Price::parse("50000.5").unwrap(),
            fee: Amount::parse("0.0000000000000125").unwrap(),
            fee_asset: Some("USDT".into()),
            liquidity: None,
            client_order_id: Some("c1".into()),
            venue_order_id: None,
            ts_ns: 9,
        };
        let mut line = Vec::new();
        update.encode_json(&mut line);
        let expected = concat!(
            r#"{"event":"fill","seq":7,"order_id":"o1","account":"default","fill":{"venue":"binance:spot","#,
            r#""symbol":"BTC/USDT","trade_id":"T1","side":"SELL","qty":"0.25","price":"50000.5","#,
            r#""fee":"0.0000000000000125","fee_asset":"USDT","liquidity":null,"client_order_id":"c1","#,
            r#""venue_order_id":null,"ts_ns":9}}"#,
            "\n"
        );
        assert_eq!(String::from_utf8(line).unwrap(), expected);
    }
}
