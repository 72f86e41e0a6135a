//! `PositionBook`: position records in fixed-size slots of a `/dev/shm` file.
//!
//! One writer (the engine) holds the writer role (an OFD lock on byte 0); any
//! number of readers in other processes map the file read-only. Each slot is
//! guarded by a seqlock: the writer makes the slot's sequence odd, stores the
//! record as 64-bit words, and makes it even again; a reader copies the words and
//! retries if the sequence was odd or changed meanwhile. Readers never block the
//! writer and never see a torn record. All shared words are atomics, so the
//! protocol is data-race free in the Rust memory model, not just on x86.
//!
//! Slots are claimed in order and never move or change key, so `len` (published
//! after a slot is initialised) is all a reader needs to find new positions.

use super::accounting::{self, Carried, FillEffect};
use super::record::{PositionRecord, ACCOUNT_LEN, RECORD_SIZE, RECORD_WORDS, SYMBOL_LEN, VENUE_LEN};
use crate::clock::now_ns;
use crate::error::{Error, Result};
use crate::fixed::{Amount, Price, Quantity};
use crate::shm;
use crate::side::Side;
use bytemuck::Zeroable;
use hashbrown::HashMap;
use memmap2::{Mmap, MmapMut};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MAGIC: [u8; 8] = *b"OMSPOS01";
/// 2: `funding` appended to the record.
const VERSION: u32 = 2;
/// Bytes before the first slot (one page).
pub const HEADER_SIZE: usize = 4096;
const WRITER_LOCK: i64 = 0;

#[repr(C, align(64))]
struct Line<T>(T);

#[repr(C)]
struct Header {
    magic: [u8; 8],
    version: u32,
    record_size: u32,
    slot_size: u64,
    capacity: u64,
    /// Slots in use; a slot below `len` is initialised and keyed.
    len: Line<AtomicU64>,
    /// Book-wide update counter (also stamped into each updated record).
    seq: Line<AtomicU64>,
    /// Write-ahead copy of the slot being written, so a writer killed mid-write is
    /// repaired on reopen by replaying it (never by trusting a half-written slot).
    journal: Line<Journal>,
}

#[repr(C)]
struct Journal {
    /// Slot index + 1 while a write is in progress; 0 when none is.
    slot: AtomicU64,
    words: [AtomicU64; RECORD_WORDS],
}

/// One slot: a seqlock word, then the record as atomic words.
#[repr(C, align(64))]
pub struct Slot {
    seq: AtomicU64,
    _pad: u64,
    words: [AtomicU64; RECORD_WORDS],
}

/// Bytes per slot (a whole number of cache lines).
pub const SLOT_SIZE: usize = std::mem::size_of::<Slot>();
const _: () = assert!(SLOT_SIZE % 64 == 0 && std::mem::size_of::<Header>() <= HEADER_SIZE);

/// Identity of a position: (account, venue, unified symbol), as fixed byte fields.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct PositionKey {
    account: [u8; ACCOUNT_LEN],
    venue: [u8; VENUE_LEN],
    symbol: [u8; SYMBOL_LEN],
}

fn pack<const N: usize>(field: &'static str, text: &str) -> Result<[u8; N]> {
    if text.is_empty() || text.len() > N || text.as_bytes().contains(&0) {
        return Err(Error::invalid(field, format!("{text:?} must be 1-{N} bytes of text")));
    }
    let mut out = [0u8; N];
    out[..text.len()].copy_from_slice(text.as_bytes());
    Ok(out)
}

impl PositionKey {
    pub fn new(account: &str, venue: &str, symbol: &str) -> Result<Self> {
        Ok(PositionKey {
            account: pack("account", account)?,
            venue: pack("venue", venue)?,
            symbol: pack("symbol", symbol)?,
        })
    }

    fn of(rec: &PositionRecord) -> Self {
        PositionKey {
            account: rec.account,
            venue: rec.venue,
            symbol: rec.symbol,
        }
    }

    fn market(&self) -> ([u8; VENUE_LEN], [u8; SYMBOL_LEN]) {
        (self.venue, self.symbol)
    }
}

/// Net position per (base asset, quote currency) across venues: the unified position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregatePosition {
    pub base: String,
    pub quote: String,
    pub net_qty: Quantity,
    pub long_qty: Quantity,
    pub short_qty: Quantity,
    pub cost_basis: Amount,
    pub realized_pnl: Amount,
    pub fees_paid: Amount,
    pub unrealized_pnl: Amount,
    pub funding: Amount,
    /// Number of (account, venue, symbol) positions summed.
    pub positions: u32,
}

/// `BTC/USDT:USDT` -> (`BTC`, `USDT`); a symbol without `/` is its own base.
pub fn base_and_quote(symbol: &str) -> (&str, &str) {
    match symbol.split_once('/') {
        Some((base, rest)) => (base, rest.split(':').next().unwrap_or("")),
        None => (symbol, ""),
    }
}

enum Mapping {
    Writer(MmapMut),
    Reader(Mmap),
}

pub struct PositionBook {
    _file: File,
    map: Mapping,
    path: PathBuf,
    capacity: usize,
    index: HashMap<PositionKey, usize>,
    /// Slots already indexed (readers index lazily).
    indexed: usize,
    /// Writer only: slot indexes per (venue, symbol), for marking every account.
    markets: HashMap<([u8; VENUE_LEN], [u8; SYMBOL_LEN]), Vec<usize>>,
}

impl PositionBook {
    /// Create the book file with `capacity` slots and become its writer. With
    /// `reopen`, an existing book is adopted instead (positions survive an engine
    /// restart); it must not have a live writer.
    pub fn create(name: &str, capacity: usize, reopen: bool) -> Result<PositionBook> {
        Self::create_at(shm::shm_path(name, "positions")?, capacity, reopen)
    }

    pub fn create_at(path: PathBuf, capacity: usize, reopen: bool) -> Result<PositionBook> {
        if capacity == 0 || capacity > 1 << 24 {
            return Err(Error::invalid(
                "capacity",
                format!("{capacity} must be between 1 and 16777216 slots"),
            ));
        }
        if reopen && path.exists() {
            return Self::open_writer(path);
        }
        let size = (HEADER_SIZE + capacity * SLOT_SIZE) as u64;
        let (file, map) = shm::publish_new(&path, size, WRITER_LOCK, "writer", |map| {
            // SAFETY: fresh zeroed mapping of at least HEADER_SIZE bytes, not yet shared.
            let header = unsafe { &mut *(map.as_mut_ptr() as *mut Header) };
            header.magic = MAGIC;
            header.version = VERSION;
            header.record_size = RECORD_SIZE as u32;
            header.slot_size = SLOT_SIZE as u64;
            header.capacity = capacity as u64;
        })?;
        Ok(Self::new(file, Mapping::Writer(map), path, capacity))
    }

    fn open_writer(path: PathBuf) -> Result<PositionBook> {
        let file = shm::open_file(&path, true)?;
        shm::claim_role(&file, &path, WRITER_LOCK, "writer")?;
        let capacity = validate(&file, &path)?;
        let map = shm::map_mut(&file, &path)?;
        let mut book = Self::new(file, Mapping::Writer(map), path, capacity);
        book.repair_interrupted_writes();
        book.index_new_slots()?;
        Ok(book)
    }

    /// Attach read-only (any number of readers, in any process).
    pub fn attach(name: &str) -> Result<PositionBook> {
        Self::attach_at(shm::shm_path(name, "positions")?)
    }

    pub fn attach_at(path: PathBuf) -> Result<PositionBook> {
        let file = shm::open_file(&path, false)?;
        let capacity = validate(&file, &path)?;
        let map = shm::map_read(&file, &path)?;
        Ok(Self::new(file, Mapping::Reader(map), path, capacity))
    }

    fn new(file: File, map: Mapping, path: PathBuf, capacity: usize) -> PositionBook {
        PositionBook {
            _file: file,
            map,
            path,
            capacity,
            index: HashMap::new(),
            indexed: 0,
            markets: HashMap::new(),
        }
    }

    fn base_ptr(&self) -> *const u8 {
        match &self.map {
            Mapping::Writer(m) => m.as_ptr(),
            Mapping::Reader(m) => m.as_ptr(),
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: validated mapping of at least HEADER_SIZE bytes; mutable fields atomic.
        unsafe { &*(self.base_ptr() as *const Header) }
    }

    fn slot(&self, index: usize) -> &Slot {
        debug_assert!(index < self.capacity);
        // SAFETY: index < capacity and the file holds `capacity` slots after the header.
        unsafe { &*(self.base_ptr().add(HEADER_SIZE + index * SLOT_SIZE) as *const Slot) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn is_writer(&self) -> bool {
        matches!(self.map, Mapping::Writer(_))
    }

    /// Number of positions (slots in use).
    pub fn len(&self) -> usize {
        self.header().len.0.load(Ordering::Acquire) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Book-wide update sequence: changes whenever any position changes.
    pub fn seq(&self) -> u64 {
        self.header().seq.0.load(Ordering::Acquire)
    }

    fn require_writer(&self) -> Result<()> {
        if self.is_writer() {
            Ok(())
        } else {
            Err(Error::ReadOnly { what: "position book" })
        }
    }

    /// Read slot `index` consistently (seqlock read side).
    pub fn read_slot(&self, index: usize) -> Result<PositionRecord> {
        let slot = self.slot(index);
        let started = Instant::now();
        let mut spins = 0u32;
        loop {
            let before = slot.seq.load(Ordering::Acquire);
            if before & 1 == 0 {
                let mut words = [0u64; RECORD_WORDS];
                for (out, word) in words.iter_mut().zip(slot.words.iter()) {
                    *out = word.load(Ordering::Relaxed);
                }
                fence(Ordering::Acquire);
                if slot.seq.load(Ordering::Relaxed) == before {
                    return Ok(bytemuck::cast(words));
                }
            }
            spins += 1;
            if spins < 1_000 {
                std::hint::spin_loop();
            } else if started.elapsed() < Duration::from_secs(1) {
                std::thread::yield_now();
            } else {
                return Err(Error::io(
                    format!("reading slot {index} of {}", self.path.display()),
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "slot stayed mid-update for 1 s (writer died mid-write?); reopening the writer repairs it",
                    ),
                ));
            }
        }
    }

    /// Publish `rec` into slot `index` (seqlock write side; writer only). The record
    /// goes to the journal first, so a crash at any point leaves either the old slot
    /// (journal not yet armed) or a journal that reopening replays.
    fn write_slot(&self, index: usize, rec: &PositionRecord) {
        let words: [u64; RECORD_WORDS] = bytemuck::cast(*rec);
        let journal = &self.header().journal.0;
        for (word, value) in journal.words.iter().zip(words) {
            word.store(value, Ordering::Relaxed);
        }
        journal.slot.store(index as u64 + 1, Ordering::Release);
        self.store_words(index, &words);
        journal.slot.store(0, Ordering::Release);
    }

    fn store_words(&self, index: usize, words: &[u64; RECORD_WORDS]) {
        let slot = self.slot(index);
        // `| 1` makes the sequence odd even if a crash left it odd already.
        let odd = slot.seq.load(Ordering::Relaxed) | 1;
        slot.seq.store(odd, Ordering::Relaxed);
        fence(Ordering::Release);
        for (word, value) in slot.words.iter().zip(words) {
            word.store(*value, Ordering::Relaxed);
        }
        slot.seq.store(odd.wrapping_add(1), Ordering::Release);
    }

    /// After a writer died: replay the journal (finishing the interrupted write), then
    /// even out any slot sequence still left odd.
    fn repair_interrupted_writes(&mut self) {
        let journal = &self.header().journal.0;
        let pending = journal.slot.load(Ordering::Acquire);
        if pending != 0 && (pending as usize) <= self.capacity {
            let words: [u64; RECORD_WORDS] = std::array::from_fn(|i| journal.words[i].load(Ordering::Relaxed));
            self.store_words(pending as usize - 1, &words);
            journal.slot.store(0, Ordering::Release);
        }
        for index in 0..self.capacity {
            let slot = self.slot(index);
            let seq = slot.seq.load(Ordering::Acquire);
            if seq & 1 == 1 {
                slot.seq.store(seq.wrapping_add(1), Ordering::Release);
            }
        }
    }

    /// Index slots published since the last look (readers call this on a miss).
    fn index_new_slots(&mut self) -> Result<()> {
        let len = self.len().min(self.capacity);
        while self.indexed < len {
            let rec = self.read_slot(self.indexed)?;
            let key = PositionKey::of(&rec);
            self.index.insert(key, self.indexed);
            if self.is_writer() {
                self.markets.entry(key.market()).or_default().push(self.indexed);
            }
            self.indexed += 1;
        }
        Ok(())
    }

    fn find(&mut self, key: &PositionKey) -> Result<Option<usize>> {
        if let Some(&index) = self.index.get(key) {
            return Ok(Some(index));
        }
        self.index_new_slots()?;
        Ok(self.index.get(key).copied())
    }

    /// Slot of `key`, claiming a new one if needed (writer only).
    fn slot_for(&mut self, key: &PositionKey) -> Result<usize> {
        if let Some(&index) = self.index.get(key) {
            return Ok(index);
        }
        let index = self.len();
        if index >= self.capacity {
            return Err(Error::BookFull {
                capacity: self.capacity,
            });
        }
        let mut rec = PositionRecord::zeroed();
        rec.account = key.account;
        rec.venue = key.venue;
        rec.symbol = key.symbol;
        self.write_slot(index, &rec);
        self.header().len.0.store(index as u64 + 1, Ordering::Release);
        self.index.insert(*key, index);
        self.markets.entry(key.market()).or_default().push(index);
        self.indexed = index + 1;
        Ok(index)
    }

    fn next_seq(&self) -> u64 {
        self.header().seq.0.load(Ordering::Relaxed) + 1
    }

    /// Publish the book sequence only after the record carrying it is written, so a
    /// reader that sees `seq` change always finds the new record.
    fn publish_seq(&self, seq: u64) {
        self.header().seq.0.store(seq, Ordering::Release);
    }

    /// Read-modify-publish one slot (writer only).
    fn update<R>(
        &mut self,
        index: usize,
        ts_ns: Option<i64>,
        change: impl FnOnce(&mut PositionRecord) -> Result<R>,
    ) -> Result<(R, PositionRecord)> {
        let mut rec = self.read_slot(index)?;
        let out = change(&mut rec)?;
        rec.update_seq = self.next_seq();
        rec.updated_ns = ts_ns.unwrap_or_else(now_ns);
        self.write_slot(index, &rec);
        self.publish_seq(rec.update_seq);
        Ok((out, rec))
    }

    /// Apply a fill to the (account, venue, symbol) position.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_fill(
        &mut self,
        key: &PositionKey,
        side: Side,
        qty: Quantity,
        price: Price,
        fee: Amount,
        ts_ns: Option<i64>,
    ) -> Result<(FillEffect, PositionRecord)> {
        self.require_writer()?;
        let index = self.slot_for(key)?;
        self.update(index, ts_ns, |rec| accounting::apply_fill(rec, side, qty, price, fee))
    }

    /// Book a funding payment (+ received, - paid) on the (account, venue, symbol)
    /// position, creating the slot if needed (a payment can outlive the position).
    pub fn apply_funding(&mut self, key: &PositionKey, amount: Amount, ts_ns: Option<i64>) -> Result<PositionRecord> {
        self.require_writer()?;
        let index = self.slot_for(key)?;
        let ((), rec) = self.update(index, ts_ns, |rec| accounting::apply_funding(rec, amount))?;
        Ok(rec)
    }

    /// Set the (account, venue, symbol) position to what a snapshot carried
    /// (recovery), creating the slot if needed.
    pub fn restore(&mut self, key: &PositionKey, carried: &Carried, ts_ns: Option<i64>) -> Result<PositionRecord> {
        self.require_writer()?;
        let index = self.slot_for(key)?;
        let ((), rec) = self.update(index, ts_ns, |rec| accounting::restore(rec, carried))?;
        Ok(rec)
    }

    /// Mark every account's position in (venue, symbol); returns how many changed.
    pub fn mark(&mut self, venue: &str, symbol: &str, price: Price, ts_ns: Option<i64>) -> Result<usize> {
        self.require_writer()?;
        let market = (
            pack::<VENUE_LEN>("venue", venue)?,
            pack::<SYMBOL_LEN>("symbol", symbol)?,
        );
        if price.raw() <= 0 {
            return Err(Error::invalid("price", format!("mark price {price} must be positive")));
        }
        let indexes = self.markets.get(&market).cloned().unwrap_or_default();
        for &index in &indexes {
            self.update(index, ts_ns, |rec| accounting::mark(rec, price))?;
        }
        Ok(indexes.len())
    }

    /// Record the leverage setting of a position (creating the slot if needed).
    pub fn set_leverage(
        &mut self,
        key: &PositionKey,
        leverage: Quantity,
        ts_ns: Option<i64>,
    ) -> Result<PositionRecord> {
        self.require_writer()?;
        if leverage.raw() <= 0 {
            return Err(Error::invalid("leverage", format!("{leverage} must be positive")));
        }
        let index = self.slot_for(key)?;
        let ((), rec) = self.update(index, ts_ns, |rec| {
            rec.leverage = leverage.raw();
            Ok(())
        })?;
        Ok(rec)
    }

    pub fn get(&mut self, key: &PositionKey) -> Result<Option<PositionRecord>> {
        match self.find(key)? {
            Some(index) => self.read_slot(index).map(Some),
            None => Ok(None),
        }
    }

    /// Every position, in slot order.
    pub fn all(&self) -> Result<Vec<PositionRecord>> {
        (0..self.len().min(self.capacity)).map(|i| self.read_slot(i)).collect()
    }

    /// Net positions per (base, quote) across venues, optionally for one account.
    pub fn aggregate(&self, account: Option<&str>) -> Result<Vec<AggregatePosition>> {
        aggregate(&self.all()?, account)
    }

    /// Remove the file (the mapping stays valid for handles already open).
    pub fn unlink(&self) -> Result<()> {
        shm::unlink(&self.path)
    }
}

/// Sum records per (base, quote) of their unified symbols.
pub fn aggregate(records: &[PositionRecord], account: Option<&str>) -> Result<Vec<AggregatePosition>> {
    let mut groups: Vec<AggregatePosition> = Vec::new();
    for rec in records.iter().filter(|r| account.is_none_or(|a| r.account_str() == a)) {
        let (base, quote) = base_and_quote(rec.symbol_str());
        let at = match groups.iter().position(|g| g.base == base && g.quote == quote) {
            Some(at) => at,
            None => {
                groups.push(AggregatePosition {
                    base: base.to_owned(),
                    quote: quote.to_owned(),
                    net_qty: Quantity::ZERO,
                    long_qty: Quantity::ZERO,
                    short_qty: Quantity::ZERO,
                    cost_basis: Amount::ZERO,
                    realized_pnl: Amount::ZERO,
                    fees_paid: Amount::ZERO,
                    unrealized_pnl: Amount::ZERO,
                    funding: Amount::ZERO,
                    positions: 0,
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[at];
        let qty = Quantity::from_raw(rec.qty);
        g.net_qty = g.net_qty.checked_add(qty)?;
        if rec.qty > 0 {
            g.long_qty = g.long_qty.checked_add(qty)?;
        } else {
            g.short_qty = g.short_qty.checked_sub(qty)?;
        }
        g.cost_basis = g.cost_basis.checked_add(Amount::from_raw(rec.cost_basis))?;
        g.realized_pnl = g.realized_pnl.checked_add(Amount::from_raw(rec.realized_pnl))?;
        g.fees_paid = g.fees_paid.checked_add(Amount::from_raw(rec.fees_paid))?;
        g.unrealized_pnl = g.unrealized_pnl.checked_add(Amount::from_raw(rec.unrealized_pnl))?;
        g.funding = g.funding.checked_add(Amount::from_raw(rec.funding))?;
        g.positions += 1;
    }
    Ok(groups)
}

/// Check a book file's header; returns its capacity.
fn validate(file: &File, path: &Path) -> Result<usize> {
    let len = shm::file_len(file, path)?;
    let layout = |reason: String| Error::ShmLayout {
        path: path.to_owned(),
        reason,
    };
    if len < HEADER_SIZE as u64 {
        return Err(layout(format!("{len} bytes is too small for a position book")));
    }
    let map = shm::map_read(file, path)?;
    // SAFETY: at least HEADER_SIZE bytes; we only read immutable header fields.
    let header = unsafe { &*(map.as_ptr() as *const Header) };
    if header.magic != MAGIC {
        return Err(layout("not an oms position book (bad magic)".into()));
    }
    if header.version != VERSION || header.record_size as usize != RECORD_SIZE || header.slot_size as usize != SLOT_SIZE
    {
        return Err(layout(format!(
            "book version {} with {}-byte records in {}-byte slots; this build uses version {VERSION}, {RECORD_SIZE} and {SLOT_SIZE}",
            header.version, header.record_size, header.slot_size
        )));
    }
    let capacity = header.capacity as usize;
    if len != (HEADER_SIZE + capacity * SLOT_SIZE) as u64 {
        return Err(layout(format!("capacity {capacity} does not match file size {len}")));
    }
    Ok(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(account: &str, venue: &str, symbol: &str) -> PositionKey {
        PositionKey::new(account, venue, symbol).unwrap()
    }
    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }
    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    #[test]
    fn slot_layout_is_whole_cache_lines() {
        assert_eq!(SLOT_SIZE, 256);
        assert_eq!(std::mem::align_of::<Slot>(), 64);
    }

    #[test]
    fn writer_and_reader_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.positions");
        let mut w = PositionBook::create_at(path.clone(), 8, false).unwrap();
        let k = key("main", "binance:usdm", "BTC/USDT:USDT");
        w.apply_fill(&k, Side::Buy, q("2"), p("100"), Amount::ZERO, Some(5))
            .unwrap();
        assert_eq!(w.mark("binance:usdm", "BTC/USDT:USDT", p("110"), Some(6)).unwrap(), 1);
        let mut r = PositionBook::attach_at(path.clone()).unwrap();
        let rec = r.get(&k).unwrap().unwrap();
        assert_eq!((rec.qty, rec.updated_ns, rec.update_seq), (q("2").raw(), 6, 2));
        assert_eq!(Amount::from_raw(rec.unrealized_pnl).to_string(), "20");
        assert_eq!(r.get(&key("other", "binance:usdm", "BTC/USDT:USDT")).unwrap(), None);
        let err = r
            .apply_fill(&k, Side::Buy, q("1"), p("1"), Amount::ZERO, None)
            .unwrap_err();
        assert_eq!(err.code(), "READ_ONLY");
        assert_eq!(PositionBook::create_at(path, 8, true).err().unwrap().code(), "SHM_BUSY");
    }

    #[test]
    fn funding_is_booked_per_position_and_summed_per_asset() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = PositionBook::create_at(dir.path().join("fund.positions"), 4, false).unwrap();
        let (a, b) = (
            key("a", "binance:usdm", "BTC/USDT:USDT"),
            key("a", "okx:swap", "BTC/USDT:USDT"),
        );
        w.apply_fill(&a, Side::Buy, q("2"), p("100"), Amount::ZERO, None)
            .unwrap();
        let paid = Amount::parse("-0.02").unwrap();
        let rec = w.apply_funding(&a, paid, Some(9)).unwrap();
        assert_eq!((rec.funding, rec.qty, rec.updated_ns), (paid.raw(), q("2").raw(), 9));
        // A payment for a position closed meanwhile still lands (a new, flat slot).
        w.apply_funding(&b, Amount::parse("0.005").unwrap(), None).unwrap();
        w.apply_funding(&a, paid, None).unwrap();
        assert_eq!(
            Amount::from_raw(w.get(&a).unwrap().unwrap().funding).to_string(),
            "-0.04"
        );
        let total = w.aggregate(Some("a")).unwrap();
        assert_eq!(total[0].funding.to_string(), "-0.035");
        assert_eq!(total[0].positions, 2);
    }

    #[test]
    fn a_restored_position_carries_on_as_if_its_fills_had_been_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let mut live = PositionBook::create_at(dir.path().join("live.positions"), 4, false).unwrap();
        let mut again = PositionBook::create_at(dir.path().join("again.positions"), 4, false).unwrap();
        let k = key("a", "binance:spot", "BTC/USDT");
        let fee = Amount::parse("0.01").unwrap();
        live.apply_fill(&k, Side::Buy, q("3"), p("100.1"), fee, None).unwrap();
        live.apply_fill(&k, Side::Sell, q("1"), p("101.7"), fee, None).unwrap();
        live.apply_funding(&k, Amount::parse("-0.003").unwrap(), None).unwrap();
        let before = live.get(&k).unwrap().unwrap();
        let carried = Carried {
            qty: Quantity::from_raw(before.qty),
            cost_basis: Amount::from_raw(before.cost_basis),
            realized_pnl: Amount::from_raw(before.realized_pnl),
            fees_paid: Amount::from_raw(before.fees_paid),
            funding: Amount::from_raw(before.funding),
            fill_count: before.fill_count,
        };
        again.restore(&k, &carried, Some(1)).unwrap();
        // The next fill (a third of the rest closed) lands the same to the last digit.
        for book in [&mut live, &mut again] {
            book.apply_fill(&k, Side::Sell, q("0.7"), p("99.3"), fee, None).unwrap();
        }
        let (a, b) = (live.get(&k).unwrap().unwrap(), again.get(&k).unwrap().unwrap());
        let accounting = |r: &PositionRecord| {
            (
                r.qty,
                r.cost_basis,
                r.realized_pnl,
                r.fees_paid,
                r.funding,
                r.fill_count,
            )
        };
        assert_eq!(accounting(&a), accounting(&b));
        assert_eq!(a.avg_entry_price, b.avg_entry_price);
        let flat_with_cost = Carried {
            qty: Quantity::ZERO,
            ..carried
        };
        assert_eq!(
            again.restore(&k, &flat_with_cost, None).unwrap_err().code(),
            "INVALID_ARGUMENT"
        );
        let short_with_long_cost = Carried {
            qty: q("-1"),
            ..carried
        };
        assert!(again.restore(&k, &short_with_long_cost, None).is_err());
        assert_eq!(
            accounting(&again.get(&k).unwrap().unwrap()),
            accounting(&b),
            "unchanged after a refusal"
        );
    }

    #[test]
    fn reopening_keeps_positions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.positions");
        let k = key("a", "binance:spot", "ETH/USDT");
        {
            let mut w = PositionBook::create_at(path.clone(), 4, false).unwrap();
            w.apply_fill(&k, Side::Sell, q("1"), p("3000"), Amount::ZERO, None)
                .unwrap();
        }
        assert_eq!(
            PositionBook::create_at(path.clone(), 4, false).err().unwrap().code(),
            "SHM_EXISTS"
        );
        let mut w = PositionBook::create_at(path, 4, true).unwrap();
        w.apply_fill(&k, Side::Sell, q("1"), p("3100"), Amount::ZERO, None)
            .unwrap();
        let rec = w.get(&k).unwrap().unwrap();
        assert_eq!((rec.qty, rec.fill_count), (q("-2").raw(), 2));
        assert_eq!(w.mark("binance:spot", "ETH/USDT", p("3000"), None).unwrap(), 1);
    }

    #[test]
    fn a_writer_killed_mid_write_is_repaired_from_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.positions");
        let k = key("a", "v", "X/Y");
        let mut w = PositionBook::create_at(path.clone(), 4, false).unwrap();
        w.apply_fill(&k, Side::Buy, q("1"), p("10"), Amount::ZERO, None)
            .unwrap();
        // Simulate a crash half-way through the next write: journal armed with the new
        // record, slot left odd with only the first words (cost_basis) written.
        let mut next = w.get(&k).unwrap().unwrap();
        accounting::apply_fill(&mut next, Side::Buy, q("1"), p("20"), Amount::ZERO).unwrap();
        let words: [u64; RECORD_WORDS] = bytemuck::cast(next);
        let journal = &w.header().journal.0;
        for (word, value) in journal.words.iter().zip(words) {
            word.store(value, Ordering::Relaxed);
        }
        journal.slot.store(1, Ordering::Release);
        let slot = w.slot(0);
        slot.seq.store(slot.seq.load(Ordering::Relaxed) | 1, Ordering::Relaxed);
        slot.words[0].store(words[0], Ordering::Relaxed);
        slot.words[1].store(words[1], Ordering::Relaxed);
        // A new slot claimed right before the crash is also left odd.
        w.slot(1).seq.store(1, Ordering::Relaxed);
        drop(w);
        let mut reopened = PositionBook::create_at(path, 4, true).unwrap();
        let rec = reopened.get(&k).unwrap().unwrap();
        assert_eq!(
            (rec.qty, rec.cost_basis, rec.fill_count),
            (q("2").raw(), next.cost_basis, 2)
        );
        reopened
            .apply_fill(&key("a", "v", "Z/Y"), Side::Sell, q("1"), p("5"), Amount::ZERO, None)
            .unwrap();
        assert_eq!(reopened.all().unwrap().len(), 2);
    }

    #[test]
    fn seq_is_published_after_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = PositionBook::create_at(dir.path().join("s.positions"), 4, false).unwrap();
        let k = key("a", "v", "X/Y");
        w.apply_fill(&k, Side::Buy, q("1"), p("10"), Amount::ZERO, None)
            .unwrap();
        assert_eq!(w.seq(), w.get(&k).unwrap().unwrap().update_seq);
        assert_eq!(w.mark("v", "Q/R", p("0"), None).unwrap_err().code(), "INVALID_ARGUMENT");
    }

    #[test]
    fn full_book_and_bad_keys_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = PositionBook::create_at(dir.path().join("f.positions"), 1, false).unwrap();
        w.apply_fill(&key("a", "v", "X/Y"), Side::Buy, q("1"), p("1"), Amount::ZERO, None)
            .unwrap();
        let err = w
            .apply_fill(&key("a", "v", "Z/Y"), Side::Buy, q("1"), p("1"), Amount::ZERO, None)
            .unwrap_err();
        assert_eq!(err.code(), "BOOK_FULL");
        assert_eq!(PositionKey::new("", "v", "s").unwrap_err().code(), "INVALID_ARGUMENT");
        assert_eq!(
            PositionKey::new("a", "venue-name-too-long", "s").unwrap_err().code(),
            "INVALID_ARGUMENT"
        );
    }

    #[test]
    fn aggregate_nets_across_venues_per_base_and_quote() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = PositionBook::create_at(dir.path().join("g.positions"), 8, false).unwrap();
        w.apply_fill(
            &key("a", "binance:spot", "BTC/USDT"),
            Side::Buy,
            q("1.5"),
            p("100"),
            Amount::ZERO,
            None,
        )
        .unwrap();
        w.apply_fill(
            &key("a", "binance:usdm", "BTC/USDT:USDT"),
            Side::Sell,
            q("1"),
            p("101"),
            Amount::ZERO,
            None,
        )
        .unwrap();
        w.apply_fill(
            &key("b", "bybit:linear", "BTC/USDT:USDT"),
            Side::Sell,
            q("0.25"),
            p("102"),
            Amount::ZERO,
            None,
        )
        .unwrap();
        w.apply_fill(
            &key("a", "upbit:spot", "BTC/KRW"),
            Side::Buy,
            q("0.1"),
            p("90000000"),
            Amount::ZERO,
            None,
        )
        .unwrap();
        let all = w.aggregate(None).unwrap();
        assert_eq!(all.len(), 2);
        let usdt = &all[0];
        assert_eq!((usdt.base.as_str(), usdt.quote.as_str()), ("BTC", "USDT"));
        assert_eq!(
            (usdt.net_qty, usdt.long_qty, usdt.short_qty),
            (q("0.25"), q("1.5"), q("1.25"))
        );
        assert_eq!(usdt.positions, 3);
        let only_a = w.aggregate(Some("a")).unwrap();
        assert_eq!(only_a[0].net_qty, q("0.5"));
        assert_eq!(base_and_quote("ETH/USDT:USDT-251226"), ("ETH", "USDT"));
    }

    #[test]
    fn reader_never_sees_a_torn_record_under_concurrent_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.positions");
        let mut w = PositionBook::create_at(path.clone(), 2, false).unwrap();
        let k = key("a", "v", "X/Y");
        w.apply_fill(&k, Side::Buy, q("1"), p("1"), Amount::ZERO, None).unwrap();
        let writer = std::thread::spawn(move || {
            // Buying 1 at price n for n = 2..N keeps cost == qty*(qty+1)/2 (in units).
            for n in 2..20_000i64 {
                w.apply_fill(
                    &k,
                    Side::Buy,
                    Quantity::from_raw(crate::fixed::SCALE),
                    Price::from_units(n).unwrap(),
                    Amount::ZERO,
                    None,
                )
                .unwrap();
            }
        });
        let mut r = PositionBook::attach_at(path).unwrap();
        let mut reads = 0;
        while !writer.is_finished() || reads == 0 {
            let rec = r.get(&k).unwrap().unwrap();
            let n = i128::from(rec.qty / crate::fixed::SCALE);
            assert_eq!(rec.cost_basis, n * (n + 1) / 2 * 10i128.pow(16), "torn read at n={n}");
            assert_eq!(rec.fill_count as i128, n);
            reads += 1;
        }
        writer.join().unwrap();
    }
}
