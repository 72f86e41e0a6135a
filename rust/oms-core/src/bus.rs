//! The engine's events as the event bus carries them. Each has a message id
//! (JetStream's `Nats-Msg-Id`) that names the fact it records, so a resend after an
//! outage or a crash is recognised and JetStream drops the copy; and its JSON, the
//! same as its journal line. A publisher reads each off a ring as one message,
//! `subject \t msg-id \t json`, with no Python object made for it on the order path's
//! thread.

use crate::events::{write_scaled, FillUpdate, OrderUpdate, PositionUpdate};
use crate::fixed::SCALE_DIGITS;

/// An event the bus carries: its message id and its JSON.
pub trait BusEvent {
    /// Append the message id: the same for the same fact, whoever publishes it.
    fn message_id(&self, out: &mut Vec<u8>);
    /// Append the event's JSON and a newline (its journal line).
    fn encode_json(&self, out: &mut Vec<u8>);
}

/// `order:{client order id}:{status}:{filled qty}`: an order's state is a fact once.
impl BusEvent for OrderUpdate {
    fn message_id(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"order:");
        out.extend_from_slice(self.client_order_id.as_bytes());
        out.push(b':');
        out.extend_from_slice(self.status.as_str().as_bytes());
        out.push(b':');
        write_scaled(out, self.filled_qty.raw().into(), SCALE_DIGITS);
    }

    fn encode_json(&self, out: &mut Vec<u8>) {
        OrderUpdate::encode_json(self, out);
    }
}

/// `fill:{venue}:{trade id}`: a venue names each trade once.
impl BusEvent for FillUpdate {
    fn message_id(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"fill:");
        out.extend_from_slice(self.key.venue.as_bytes());
        out.push(b':');
        out.extend_from_slice(self.trade_id.as_bytes());
    }

    fn encode_json(&self, out: &mut Vec<u8>) {
        FillUpdate::encode_json(self, out);
    }
}

/// `position:{account}:{venue}:{symbol}:{version}`: each change has a new version.
impl BusEvent for PositionUpdate<'_> {
    fn message_id(&self, out: &mut Vec<u8>) {
        let p = self.position;
        for part in [
            b"position".as_slice(),
            p.account_str().as_bytes(),
            p.venue_str().as_bytes(),
        ] {
            out.extend_from_slice(part);
            out.push(b':');
        }
        out.extend_from_slice(p.symbol_str().as_bytes());
        out.push(b':');
        out.extend_from_slice(itoa::Buffer::new().format(p.update_seq).as_bytes());
    }

    fn encode_json(&self, out: &mut Vec<u8>) {
        PositionUpdate::encode_json(self, out);
    }
}

/// Append `subject \t msg-id \t json` (no newline): one message on the ring.
pub fn ring_message(subject: &str, event: &dyn BusEvent, out: &mut Vec<u8>) {
    out.extend_from_slice(subject.as_bytes());
    out.push(b'\t');
    event.message_id(out);
    out.push(b'\t');
    event.encode_json(out);
    if out.last() == Some(&b'\n') {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::tests::terms;
    use crate::orders::{OrderRecord, OrderStatus};
    use crate::positions::PositionRecord;

    fn message(event: &dyn BusEvent) -> String {
        let mut out = Vec::new();
        ring_message("orders.binance.spot.BTCUSDT", event, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn an_order_is_named_by_its_client_id_status_and_filled_qty() {
        let mut record = OrderRecord::new("o1".into(), "c1".into(), terms("0.3"), 7);
        record.transition(OrderStatus::New, None, 8).unwrap();
        let text = message(&OrderUpdate::of(&record, 42));
        let (subject, rest) = text.split_once('\t').unwrap();
        let (id, json) = rest.split_once('\t').unwrap();
        assert_eq!((subject, id), ("orders.binance.spot.BTCUSDT", "order:c1:NEW:0"));
        assert!(json.starts_with("{\"event\":\"order\",\"seq\":42,") && json.ends_with('}'));
        assert!(!json.contains('\n'));
    }

    #[test]
    fn a_position_encodes_as_oms_engine_events_position_update() {
        let mut position: PositionRecord = bytemuck::Zeroable::zeroed();
        position.account[..4].copy_from_slice(b"acct");
        position.venue[..12].copy_from_slice(b"binance:spot");
        position.symbol[..8].copy_from_slice(b"BTC/USDT");
        position.qty = 150_000_000; // 1.5
        position.avg_entry_price = 5_000_012_345_000; // 50000.12345
        position.realized_pnl = -25 * 10i128.pow(15); // -2.5
        position.fees_paid = 1; // 10^-16
        position.update_seq = 9;
        position.updated_ns = 123;
        let update = PositionUpdate {
            seq: 5,
            position: &position,
        };
        let mut id = Vec::new();
        update.message_id(&mut id);
        assert_eq!(id, b"position:acct:binance:spot:BTC/USDT:9");
        let mut json = Vec::new();
        update.encode_json(&mut json);
        assert_eq!(
            String::from_utf8(json).unwrap(),
            "{\"event\":\"position\",\"seq\":5,\"account\":\"acct\",\"venue\":\"binance:spot\",\
             \"symbol\":\"BTC/USDT\",\"qty\":\"1.5\",\"avg_entry_price\":\"50000.12345\",\
             \"realized_pnl\":\"-2.5\",\"unrealized_pnl\":\"0\",\"fees_paid\":\"0.0000000000000001\",\
             \"version\":9,\"ts_ns\":123,\"funding\":\"0\"}\n"
        );
    }
}
