//! Instrument keys, interned once per process.
//!
//! An order names its instrument by (account, venue, unified symbol). Hashing and
//! comparing three strings on every check costs more than the rules themselves, and
//! the strings of a just-built order are often cold in cache. So the key is interned
//! when the order is built: the order carries a small dense [`InstrumentId`], and an
//! engine finds the instrument's route by indexing a vector.
//!
//! The table only grows (one entry per distinct instrument the process ever names,
//! a few hundred bytes each); ids are never reused, so an id means the same
//! instrument in every engine.

use hashbrown::{Equivalent, HashMap};
use std::sync::{Arc, LazyLock, RwLock};

/// Owned key of an instrument: (account, venue, unified symbol).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct InstrumentKey {
    pub account: Box<str>,
    pub venue: Box<str>,
    pub symbol: Box<str>,
}

/// Borrowed form for lookups without allocating (hashes exactly like the owned key).
#[derive(Hash)]
struct KeyRef<'a> {
    account: &'a str,
    venue: &'a str,
    symbol: &'a str,
}

impl Equivalent<InstrumentKey> for KeyRef<'_> {
    fn equivalent(&self, key: &InstrumentKey) -> bool {
        *key.account == *self.account && *key.venue == *self.venue && *key.symbol == *self.symbol
    }
}

/// Dense process-wide number of an instrument key.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct InstrumentId(u32);

impl InstrumentId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Default)]
struct Interner {
    ids: HashMap<InstrumentKey, InstrumentId>,
    keys: Vec<Arc<InstrumentKey>>,
}

static INTERNER: LazyLock<RwLock<Interner>> = LazyLock::new(Default::default);

/// The id and shared key of (account, venue, symbol), assigning an id on first use.
pub fn intern(account: &str, venue: &str, symbol: &str) -> (InstrumentId, Arc<InstrumentKey>) {
    if let Some(found) = find(account, venue, symbol) {
        return found;
    }
    let mut table = INTERNER.write().unwrap_or_else(|e| e.into_inner());
    let probe = KeyRef { account, venue, symbol };
    if let Some(&id) = table.ids.get(&probe) {
        return (id, table.keys[id.index()].clone());
    }
    let id = InstrumentId(u32::try_from(table.keys.len()).expect("fewer than 2^32 instruments"));
    let key = InstrumentKey {
        account: account.into(),
        venue: venue.into(),
        symbol: symbol.into(),
    };
    table.keys.push(Arc::new(key.clone()));
    table.ids.insert(key, id);
    (id, table.keys[id.index()].clone())
}

/// The id of a key already interned, without adding one (read-only views).
pub fn find(account: &str, venue: &str, symbol: &str) -> Option<(InstrumentId, Arc<InstrumentKey>)> {
    let table = INTERNER.read().unwrap_or_else(|e| e.into_inner());
    let id = *table.ids.get(&KeyRef { account, venue, symbol })?;
    Some((id, table.keys[id.index()].clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_per_key_and_distinct_keys_get_distinct_ids() {
        let (a, key) = intern("k-acct", "k-venue", "BTC/USDT");
        assert_eq!(intern("k-acct", "k-venue", "BTC/USDT").0, a);
        assert_eq!(&*key.symbol, "BTC/USDT");
        let (b, _) = intern("k-acct", "k-venue", "ETH/USDT");
        assert_ne!(a, b);
        // Field boundaries matter: ("ab", "c") is not ("a", "bc").
        let (c, _) = intern("k-acctX", "k-venue", "ETH/USDT");
        assert_ne!(b, c);
        assert_eq!(find("k-acct", "k-venue", "ETH/USDT").map(|f| f.0), Some(b));
        assert!(find("k-acct", "k-venue", "never-named").is_none());
    }
}
