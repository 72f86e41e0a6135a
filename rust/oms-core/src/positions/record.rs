//! The fixed `#[repr(C)]` record of one position, as it lies in shared memory.
//!
//! The layout is part of the cross-process contract: readers in other processes
//! (and other languages) find every field through [`FIELDS`], so nobody retypes it.
//! Amounts are `i128` at 10^-16, prices and quantities `i64` at 10^-8.

use bytemuck::{Pod, Zeroable};
use std::mem::{offset_of, size_of};

/// Bytes reserved per text key field (UTF-8, NUL-padded).
pub const ACCOUNT_LEN: usize = 32;
pub const VENUE_LEN: usize = 16;
pub const SYMBOL_LEN: usize = 32;

#[repr(C)]
#[derive(Copy, Clone, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct PositionRecord {
    /// Signed cost of the open position: sum of signed qty x entry price (10^-16).
    pub cost_basis: i128,
    /// Realized trading P&L, before fees (10^-16).
    pub realized_pnl: i128,
    /// Fees paid in quote currency, positive = paid (10^-16).
    pub fees_paid: i128,
    /// qty x mark - cost_basis; 0 until the first mark (10^-16).
    pub unrealized_pnl: i128,
    /// Signed quantity: positive long, negative short (10^-8).
    pub qty: i64,
    /// cost_basis / qty rounded half-even; 0 when flat (10^-8). Display only.
    pub avg_entry_price: i64,
    /// Last mark price; 0 when never marked (10^-8).
    pub mark_price: i64,
    /// Leverage setting; 0 when not set (10^-8).
    pub leverage: i64,
    /// Wall-clock time of the last update, ns since the Unix epoch.
    pub updated_ns: i64,
    /// Book-wide sequence number of the last update to this slot.
    pub update_seq: u64,
    /// Number of fills applied.
    pub fill_count: u64,
    pub account: [u8; ACCOUNT_LEN],
    pub venue: [u8; VENUE_LEN],
    pub symbol: [u8; SYMBOL_LEN],
    pub _reserved: [u8; 8],
    /// Futures funding received (+) or paid (-) in quote currency (10^-16). Last, so
    /// the offsets of the version-1 fields did not move when it was added.
    pub funding: i128,
}

/// Size of a record in bytes (asserted by tests and exported to Python).
pub const RECORD_SIZE: usize = size_of::<PositionRecord>();
/// Number of 64-bit words a record is copied as under the seqlock.
pub const RECORD_WORDS: usize = RECORD_SIZE / 8;
const _: () = assert!(RECORD_SIZE % 16 == 0);

/// One field of the record: name, byte offset, byte size, kind, decimal scale.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: &'static str,
    pub offset: usize,
    pub size: usize,
    /// `"i128"`, `"i64"`, `"u64"` or `"utf8"` (NUL-padded).
    pub kind: &'static str,
    /// Decimal places of the fixed-point value (0 for integers and text).
    pub scale: u32,
}

macro_rules! field {
    ($name:ident, $kind:literal, $size:expr, $scale:expr) => {
        FieldInfo {
            name: stringify!($name),
            offset: offset_of!(PositionRecord, $name),
            size: $size,
            kind: $kind,
            scale: $scale,
        }
    };
}

/// Every public field, in layout order.
pub const FIELDS: &[FieldInfo] = &[
    field!(cost_basis, "i128", 16, 16),
    field!(realized_pnl, "i128", 16, 16),
    field!(fees_paid, "i128", 16, 16),
    field!(unrealized_pnl, "i128", 16, 16),
    field!(qty, "i64", 8, 8),
    field!(avg_entry_price, "i64", 8, 8),
    field!(mark_price, "i64", 8, 8),
    field!(leverage, "i64", 8, 8),
    field!(updated_ns, "i64", 8, 0),
    field!(update_seq, "u64", 8, 0),
    field!(fill_count, "u64", 8, 0),
    field!(account, "utf8", ACCOUNT_LEN, 0),
    field!(venue, "utf8", VENUE_LEN, 0),
    field!(symbol, "utf8", SYMBOL_LEN, 0),
    field!(funding, "i128", 16, 16),
];

/// The text of a NUL-padded key field.
pub fn key_str(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    std::str::from_utf8(&bytes[..end]).unwrap_or("")
}

impl PositionRecord {
    pub fn account_str(&self) -> &str {
        key_str(&self.account)
    }

    pub fn venue_str(&self) -> &str {
        key_str(&self.venue)
    }

    pub fn symbol_str(&self) -> &str {
        key_str(&self.symbol)
    }

    /// realized - fees + funding + unrealized (10^-16); None on overflow.
    pub fn net_pnl(&self) -> Option<i128> {
        self.realized_pnl
            .checked_sub(self.fees_paid)?
            .checked_add(self.funding)?
            .checked_add(self.unrealized_pnl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        assert_eq!(RECORD_SIZE, 224);
        assert_eq!(std::mem::align_of::<PositionRecord>(), 16);
        let offsets: Vec<(&str, usize, usize)> = FIELDS.iter().map(|f| (f.name, f.offset, f.size)).collect();
        assert_eq!(
            offsets,
            vec![
                ("cost_basis", 0, 16),
                ("realized_pnl", 16, 16),
                ("fees_paid", 32, 16),
                ("unrealized_pnl", 48, 16),
                ("qty", 64, 8),
                ("avg_entry_price", 72, 8),
                ("mark_price", 80, 8),
                ("leverage", 88, 8),
                ("updated_ns", 96, 8),
                ("update_seq", 104, 8),
                ("fill_count", 112, 8),
                ("account", 120, 32),
                ("venue", 152, 16),
                ("symbol", 168, 32),
                ("funding", 208, 16),
            ]
        );
    }
}
