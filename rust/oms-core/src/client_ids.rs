//! Client order ids: made by us, unique, never reused, legal on every venue, and
//! recognisable as ours after a restart.
//!
//! An id is `<prefix><session><counter>`: the configured prefix (1-8 letters or
//! digits), a 10-character session stamp (the start time in milliseconds, 8 base-36
//! digits, and two random ones) and a 6-digit base-36 counter (2.1 billion ids per
//! session). Alphanumeric and at most 24 characters, so the same id is legal on
//! Binance (spot and futures: <= 36 of `[A-Za-z0-9._:/-]`), Bybit (<= 36), OKX (<= 32
//! alphanumerics) and Upbit. A session starts with each process, so ids never repeat
//! across restarts (unless two processes with the same prefix start in the same
//! millisecond and draw the same random pair: 1 in 1,296), and recovery tells our
//! orders from others by the prefix and the shape alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

pub const SESSION_LEN: usize = 10;
pub const COUNTER_LEN: usize = 6;
const STAMP_LEN: usize = SESSION_LEN - 2;
const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// The ids of one connector instance (thread-safe: the counter is atomic).
#[derive(Debug)]
pub struct ClientIds {
    prefix: String,
    session: String,
    counter: AtomicU64,
}

impl ClientIds {
    /// `random`: two numbers below 36 (the session's random pair).
    pub fn new(prefix: &str, now_ms: u64, random: [u8; 2]) -> Result<Self> {
        let valid = (1..=8).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(Error::invalid(
                "prefix",
                format!("client order id prefix {prefix:?}: 1-8 letters or digits"),
            ));
        }
        let mut session = base36(now_ms, STAMP_LEN)
            .ok_or_else(|| Error::invalid("now_ms", format!("{now_ms} does not fit {STAMP_LEN} base-36 digits")))?;
        session.extend(random.iter().map(|&r| char::from(DIGITS[usize::from(r % 36)])));
        Ok(ClientIds {
            prefix: prefix.to_owned(),
            session,
            counter: AtomicU64::new(0),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    /// The next id (an error once the session's 2.1 billion are used up).
    pub fn next_id(&self) -> Result<Arc<str>> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= 36u64.pow(COUNTER_LEN as u32) {
            return Err(Error::Overflow {
                op: "client order id counter (start a new session)",
            });
        }
        // Written in place: one allocation per id, the one the order keeps.
        let mut id = [0u8; 8 + SESSION_LEN + COUNTER_LEN];
        let (head, counter) = id.split_at_mut(self.prefix.len() + SESSION_LEN);
        head[..self.prefix.len()].copy_from_slice(self.prefix.as_bytes());
        head[self.prefix.len()..].copy_from_slice(self.session.as_bytes());
        write_base36(n, &mut counter[..COUNTER_LEN]);
        let len = self.prefix.len() + SESSION_LEN + COUNTER_LEN;
        Ok(Arc::from(std::str::from_utf8(&id[..len]).expect("ASCII")))
    }

    pub fn is_ours(&self, id: &str) -> bool {
        id.strip_prefix(self.prefix.as_str()).is_some_and(|rest| {
            rest.len() == SESSION_LEN + COUNTER_LEN
                && rest.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
    }

    pub fn is_this_session(&self, id: &str) -> bool {
        self.is_ours(id) && id[self.prefix.len()..].starts_with(self.session.as_str())
    }
}

/// `value` in `width` base-36 digits (zero-padded), None if it does not fit.
fn base36(value: u64, width: usize) -> Option<String> {
    if width < 13 && value >= 36u64.pow(width as u32) {
        return None;
    }
    let mut out = vec![b'0'; width];
    write_base36(value, &mut out);
    String::from_utf8(out).ok()
}

/// `value`'s last `out.len()` base-36 digits, zero-padded, into `out`.
fn write_base36(mut value: u64, out: &mut [u8]) {
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(value % 36) as usize];
        value /= 36;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_shaped_and_recognised() {
        let ids = ClientIds::new("oms", 1_700_000_000_000, [1, 35]).unwrap();
        assert_eq!(ids.session(), "loyw3v281z");
        let (a, b) = (ids.next_id().unwrap(), ids.next_id().unwrap());
        assert_eq!(&*a, "omsloyw3v281z000001");
        assert_eq!(&*b, "omsloyw3v281z000002");
        assert!(ids.is_ours(&a) && ids.is_this_session(&a));
        assert!(!ids.is_ours("omsx") && !ids.is_ours(&format!("{a}x")) && !ids.is_ours("web_8Q1x2"));
        let later = ClientIds::new("oms", 1_700_000_000_001, [1, 35]).unwrap();
        assert!(later.is_ours(&a) && !later.is_this_session(&a));
    }

    #[test]
    fn bad_prefixes_and_an_exhausted_counter_are_errors() {
        for prefix in ["", "with-dash", "toolongprefix"] {
            assert!(ClientIds::new(prefix, 0, [0, 0]).is_err(), "{prefix}");
        }
        let ids = ClientIds::new("t", 0, [0, 0]).unwrap();
        ids.counter.store(36u64.pow(6) - 2, Ordering::Relaxed);
        assert!(ids.next_id().unwrap().ends_with("zzzzzz"));
        assert_eq!(ids.next_id().unwrap_err().code(), "ARITHMETIC_OVERFLOW");
    }
}
