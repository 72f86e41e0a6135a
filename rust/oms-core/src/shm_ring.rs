//! Single-producer single-consumer ring of variable-length byte messages in a
//! `/dev/shm` file, so two processes exchange messages without a syscall on the
//! fast path.
//!
//! Layout: one 4 KiB header page, then `capacity` data bytes (a power of two).
//! `head` and `tail` are monotonically increasing byte counters on their own cache
//! lines; the producer owns `head`, the consumer owns `tail`. A message is a `u32`
//! length, the bytes, padding to 8. A message never straddles the end: when it
//! would, the producer writes a wrap marker (`u32::MAX`) and starts at offset 0.
//!
//! Waiting: spin briefly (the common case on a busy path is that data arrives
//! within microseconds), then sleep on a futex in the shared page. The other side
//! only makes the wake-up syscall when a waiter has announced itself, so a busy
//! ring never pays for one. Every sleep is bounded, so even a lost wake-up costs at
//! most one slice, never a hang.

use crate::error::{Error, Result};
use crate::shm;
use memmap2::MmapMut;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MAGIC: [u8; 8] = *b"OMSRING1";
const VERSION: u32 = 1;
/// Bytes before the data area (one page).
pub const HEADER_SIZE: usize = 4096;
const WRAP_MARKER: u32 = u32::MAX;
/// Smallest data area, so that tests can exercise wrap-around with small rings.
pub const MIN_CAPACITY: usize = 64;
/// Largest data area: message lengths are `u32` and `u32::MAX` marks a wrap.
pub const MAX_CAPACITY: usize = 1 << 32;
/// How long a waiter spins before sleeping.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);
/// Longest single sleep; bounds the cost of any missed wake-up.
const SLEEP_SLICE: Duration = Duration::from_millis(50);

const PRODUCER_LOCK: i64 = 0;
const CONSUMER_LOCK: i64 = 1;

/// Which end of the ring a handle is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Producer,
    Consumer,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Consumer => "consumer",
        }
    }

    pub fn parse(text: &str) -> Result<Role> {
        match text {
            "producer" => Ok(Role::Producer),
            "consumer" => Ok(Role::Consumer),
            _ => Err(Error::invalid(
                "role",
                format!("{text:?} must be 'producer' or 'consumer'"),
            )),
        }
    }

    fn lock_slot(self) -> i64 {
        match self {
            Role::Producer => PRODUCER_LOCK,
            Role::Consumer => CONSUMER_LOCK,
        }
    }
}

#[repr(C, align(64))]
struct Line<T>(T);

/// A futex word plus a count of sleepers, so the other side knows when to wake.
#[repr(C)]
struct Signal {
    sleepers: AtomicU32,
    seq: AtomicU32,
}

#[repr(C)]
struct Header {
    magic: [u8; 8],
    version: u32,
    closed: AtomicU32,
    capacity: u64,
    head: Line<AtomicU64>,
    tail: Line<AtomicU64>,
    /// The producer signals here after publishing; the consumer sleeps on it.
    data: Line<Signal>,
    /// The consumer signals here after freeing room; the producer sleeps on it.
    space: Line<Signal>,
}

const _: () = assert!(std::mem::size_of::<Header>() <= HEADER_SIZE);

fn valid_capacity(capacity: u64) -> bool {
    capacity.is_power_of_two() && (MIN_CAPACITY as u64..=MAX_CAPACITY as u64).contains(&capacity)
}

fn align8(n: u64) -> u64 {
    (n + 7) & !7
}

pub struct ShmRing {
    _file: File,
    map: MmapMut,
    path: PathBuf,
    role: Role,
    owner: bool,
    capacity: u64,
    /// Local copy of the other side's counter, refreshed only when it looks full/empty.
    cached_other: u64,
    spin: Duration,
}

impl ShmRing {
    /// Create the ring file (fails if it exists unless `replace` and no role is held)
    /// and take `role`. The creating handle removes the file when closed or dropped.
    pub fn create(name: &str, capacity: usize, role: Role, replace: bool) -> Result<ShmRing> {
        let path = shm::shm_path(name, "ring")?;
        Self::create_at(path, capacity, role, replace)
    }

    pub fn create_at(path: PathBuf, capacity: usize, role: Role, replace: bool) -> Result<ShmRing> {
        if !valid_capacity(capacity as u64) {
            return Err(Error::invalid(
                "capacity",
                format!("{capacity} must be a power of two from {MIN_CAPACITY} to {MAX_CAPACITY} bytes"),
            ));
        }
        if replace {
            shm::remove_stale(&path, &[(PRODUCER_LOCK, "producer"), (CONSUMER_LOCK, "consumer")])?;
        }
        let size = (HEADER_SIZE + capacity) as u64;
        let (file, map) = shm::publish_new(&path, size, role.lock_slot(), role.name(), |map| {
            // SAFETY: fresh zeroed mapping of at least HEADER_SIZE bytes, not yet shared.
            let header = unsafe { &mut *(map.as_mut_ptr() as *mut Header) };
            header.magic = MAGIC;
            header.version = VERSION;
            header.capacity = capacity as u64;
        })?;
        Ok(Self::finish(file, map, path, role, true))
    }

    /// Attach to an existing ring and take `role`.
    pub fn attach(name: &str, role: Role) -> Result<ShmRing> {
        Self::attach_at(shm::shm_path(name, "ring")?, role)
    }

    pub fn attach_at(path: PathBuf, role: Role) -> Result<ShmRing> {
        let file = shm::open_file(&path, true)?;
        let len = shm::file_len(&file, &path)?;
        if len < (HEADER_SIZE + MIN_CAPACITY) as u64 {
            return Err(Error::ShmLayout {
                path,
                reason: format!("{len} bytes is too small for a ring"),
            });
        }
        let map = shm::map_mut(&file, &path)?;
        // SAFETY: mapping is at least HEADER_SIZE bytes; fields are read-only after publish.
        let header = unsafe { &*(map.as_ptr() as *const Header) };
        let reason = if header.magic != MAGIC {
            Some("not an oms ring (bad magic)".to_string())
        } else if header.version != VERSION {
            Some(format!("ring version {} (this build speaks {VERSION})", header.version))
        } else if !valid_capacity(header.capacity) || header.capacity.checked_add(HEADER_SIZE as u64) != Some(len) {
            Some(format!("capacity {} does not match file size {len}", header.capacity))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::ShmLayout { path, reason });
        }
        shm::claim_role(&file, &path, role.lock_slot(), role.name())?;
        Ok(Self::finish(file, map, path, role, false))
    }

    /// Build the handle once the role is held.
    fn finish(file: File, map: MmapMut, path: PathBuf, role: Role, owner: bool) -> ShmRing {
        // SAFETY: validated or freshly written header.
        let capacity = unsafe { &*(map.as_ptr() as *const Header) }.capacity;
        let mut ring = ShmRing {
            _file: file,
            map,
            path,
            role,
            owner,
            capacity,
            cached_other: 0,
            spin: DEFAULT_SPIN,
        };
        ring.cached_other = match role {
            Role::Producer => ring.header().tail.0.load(Ordering::Acquire),
            Role::Consumer => ring.header().head.0.load(Ordering::Acquire),
        };
        // We hold the role, so nobody else sleeps on our signal: a count left by a
        // previous holder that died asleep would cost the other side a syscall per message.
        match role {
            Role::Producer => ring.header().space.0.sleepers.store(0, Ordering::Release),
            Role::Consumer => ring.header().data.0.sleepers.store(0, Ordering::Release),
        }
        ring
    }

    fn header(&self) -> &Header {
        // SAFETY: the mapping outlives `self` and starts with a validated header;
        // every field written after publication is atomic.
        unsafe { &*(self.map.as_ptr() as *const Header) }
    }

    fn data_ptr(&self) -> *mut u8 {
        // SAFETY: HEADER_SIZE is within the mapping.
        unsafe { (self.map.as_ptr() as *mut u8).add(HEADER_SIZE) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn capacity(&self) -> usize {
        self.capacity as usize
    }

    /// Largest message the ring accepts: a message must fit in half the ring so
    /// that it always fits after at most one wrap.
    pub fn max_message(&self) -> usize {
        (self.capacity / 2) as usize - 4
    }

    /// Bytes in flight (messages, headers and padding).
    pub fn used_bytes(&self) -> usize {
        let h = self.header();
        let head = h.head.0.load(Ordering::Acquire);
        let tail = h.tail.0.load(Ordering::Acquire);
        head.saturating_sub(tail) as usize
    }

    pub fn is_closed(&self) -> bool {
        self.header().closed.load(Ordering::Acquire) != 0
    }

    /// How long a waiter spins before it sleeps on the futex.
    pub fn set_spin(&mut self, spin: Duration) {
        self.spin = spin;
    }

    fn require(&self, role: Role) -> Result<()> {
        if self.role == role {
            Ok(())
        } else {
            Err(Error::invalid(
                "role",
                format!(
                    "this handle is the {}; only the {} may do that",
                    self.role.name(),
                    role.name()
                ),
            ))
        }
    }

    /// Append one message without waiting; `Full` when there is no room now.
    pub fn try_put(&mut self, msg: &[u8]) -> Result<()> {
        self.require(Role::Producer)?;
        if msg.len() > self.max_message() {
            return Err(Error::MessageTooLarge {
                len: msg.len(),
                max: self.max_message(),
            });
        }
        if self.is_closed() {
            return Err(Error::Closed { what: "ring" });
        }
        let cap = self.capacity;
        let need = align8(4 + msg.len() as u64);
        let head = self.header().head.0.load(Ordering::Relaxed);
        let pos = head % cap;
        let contiguous = cap - pos;
        let total = if need > contiguous { contiguous + need } else { need };
        if head + total - self.cached_other > cap {
            self.cached_other = self.header().tail.0.load(Ordering::Acquire);
            if head + total - self.cached_other > cap {
                return Err(Error::Full {
                    what: "ring",
                    capacity: cap as usize,
                });
            }
        }
        let data = self.data_ptr();
        let mut at = head;
        // SAFETY: [at%cap, at%cap+need) lies in the data area and is free: the
        // consumer released it (tail acquire above) and will not read it until
        // `head` is published below with release ordering.
        unsafe {
            if need > contiguous {
                (data.add(pos as usize) as *mut u32).write(WRAP_MARKER);
                at += contiguous;
            }
            let off = (at % cap) as usize;
            (data.add(off) as *mut u32).write(msg.len() as u32);
            std::ptr::copy_nonoverlapping(msg.as_ptr(), data.add(off + 4), msg.len());
        }
        self.header().head.0.store(at + need, Ordering::Release);
        notify(&self.header().data.0);
        Ok(())
    }

    /// Take one message without waiting, handing its bytes to `read`.
    /// `Empty` when there is none; `Closed` when there is none and never will be.
    pub fn try_get<R>(&mut self, read: impl FnOnce(&[u8]) -> R) -> Result<R> {
        self.require(Role::Consumer)?;
        let cap = self.capacity;
        let mut tail = self.header().tail.0.load(Ordering::Relaxed);
        if tail == self.cached_other {
            self.cached_other = self.header().head.0.load(Ordering::Acquire);
            if tail == self.cached_other {
                if !self.is_closed() {
                    return Err(Error::Empty { what: "ring" });
                }
                // Closed: anything published before the close is still delivered.
                self.cached_other = self.header().head.0.load(Ordering::Acquire);
                if tail == self.cached_other {
                    return Err(Error::Closed { what: "ring" });
                }
            }
        }
        let data = self.data_ptr();
        // SAFETY: [tail, head) was published by the producer (acquire on head) and
        // is not touched by it until `tail` moves past it (release below).
        let result = unsafe {
            let mut off = (tail % cap) as usize;
            let mut len = (data.add(off) as *const u32).read();
            if len == WRAP_MARKER {
                tail += cap - off as u64;
                off = 0;
                len = (data as *const u32).read();
            }
            // The file is shared: never trust a length that would read past the ring.
            if len as usize > self.max_message() || off + 4 + len as usize > cap as usize {
                return Err(Error::ShmLayout {
                    path: self.path.clone(),
                    reason: format!("corrupt message length {len} at offset {off}"),
                });
            }
            let bytes = std::slice::from_raw_parts(data.add(off + 4), len as usize);
            let result = read(bytes);
            tail += align8(4 + u64::from(len));
            result
        };
        self.header().tail.0.store(tail, Ordering::Release);
        notify(&self.header().space.0);
        Ok(result)
    }

    /// Wait until `try_put` can succeed or `timeout` passes; false on timeout.
    pub fn wait_for_space(&mut self, len: usize, timeout: Duration) -> bool {
        let cap = self.capacity;
        let need = align8(4 + len as u64);
        let ready = |ring: &ShmRing| {
            let h = ring.header();
            let head = h.head.0.load(Ordering::Relaxed);
            let contiguous = cap - head % cap;
            let total = if need > contiguous { contiguous + need } else { need };
            head + total - h.tail.0.load(Ordering::Acquire) <= cap || ring.is_closed()
        };
        self.wait(&self.header().space.0, ready, timeout)
    }

    /// Wait until a message (or the close) is visible, or `timeout` passes.
    pub fn wait_for_data(&mut self, timeout: Duration) -> bool {
        let ready = |ring: &ShmRing| {
            let h = ring.header();
            h.head.0.load(Ordering::Acquire) != h.tail.0.load(Ordering::Relaxed) || ring.is_closed()
        };
        self.wait(&self.header().data.0, ready, timeout)
    }

    fn wait(&self, signal: &Signal, ready: impl Fn(&ShmRing) -> bool, timeout: Duration) -> bool {
        let start = Instant::now();
        let spin_for = self.spin.min(timeout);
        loop {
            if ready(self) {
                return true;
            }
            if start.elapsed() >= spin_for {
                break;
            }
            std::hint::spin_loop();
        }
        loop {
            let seq = signal.seq.load(Ordering::Acquire);
            signal.sleepers.fetch_add(1, Ordering::SeqCst);
            // Orders the re-check after the announcement on every architecture (pairs
            // with the notifier's SeqCst fence); slow path, so the fence is free.
            fence(Ordering::SeqCst);
            if ready(self) {
                signal.sleepers.fetch_sub(1, Ordering::SeqCst);
                return true;
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                signal.sleepers.fetch_sub(1, Ordering::SeqCst);
                return false;
            }
            shm::futex_wait(&signal.seq, seq, (timeout - elapsed).min(SLEEP_SLICE));
            signal.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Mark the stream ended (both sides see it) and wake any sleeper; for the
    /// creating handle, also remove the file. Idempotent.
    pub fn close(&mut self) -> Result<()> {
        let h = self.header();
        h.closed.store(1, Ordering::Release);
        notify(&h.data.0);
        notify(&h.space.0);
        if self.owner {
            self.owner = false;
            shm::unlink(&self.path)?;
        }
        Ok(())
    }
}

impl Drop for ShmRing {
    fn drop(&mut self) {
        if self.owner {
            let _ = shm::unlink(&self.path);
        }
    }
}

/// After publishing, wake the other side only if it announced it is sleeping.
fn notify(signal: &Signal) {
    // Pairs with the sleeper's `sleepers.fetch_add(SeqCst)` + re-check: either the
    // sleeper sees our publication, or we see the sleeper.
    fence(Ordering::SeqCst);
    if signal.sleepers.load(Ordering::Relaxed) != 0 {
        signal.seq.fetch_add(1, Ordering::Release);
        shm::futex_wake_all(&signal.seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &tempfile::TempDir, capacity: usize) -> (ShmRing, ShmRing) {
        let path = dir.path().join("t.ring");
        let producer = ShmRing::create_at(path.clone(), capacity, Role::Producer, false).unwrap();
        let consumer = ShmRing::attach_at(path, Role::Consumer).unwrap();
        (producer, consumer)
    }

    fn take(ring: &mut ShmRing) -> Result<Vec<u8>> {
        ring.try_get(|b| b.to_vec())
    }

    #[test]
    fn messages_arrive_in_order_across_wrap_around() {
        let dir = tempfile::tempdir().unwrap();
        let (mut p, mut c) = pair(&dir, 64);
        for i in 0..1000u32 {
            let msg = vec![i as u8; (i % 20) as usize];
            p.try_put(&msg).unwrap();
            assert_eq!(take(&mut c).unwrap(), msg);
        }
        assert_eq!(take(&mut c).unwrap_err().code(), "EMPTY");
    }

    #[test]
    fn full_and_empty_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (mut p, mut c) = pair(&dir, 64);
        assert_eq!(take(&mut c).unwrap_err().code(), "EMPTY");
        let mut n = 0;
        while p.try_put(b"12345678").is_ok() {
            n += 1;
        }
        assert_eq!(n, 64 / 16);
        assert_eq!(p.try_put(b"x").unwrap_err().code(), "FULL");
        assert_eq!(take(&mut c).unwrap(), b"12345678");
        p.try_put(b"x").unwrap();
        assert_eq!(p.try_put(&[0; 29]).unwrap_err().code(), "MESSAGE_TOO_LARGE");
    }

    #[test]
    fn roles_are_exclusive_and_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.ring");
        let mut p = ShmRing::create_at(path.clone(), 4096, Role::Producer, false).unwrap();
        let err = ShmRing::attach_at(path.clone(), Role::Producer).err().unwrap();
        assert_eq!(err.code(), "SHM_BUSY");
        assert_eq!(p.try_get(|_| ()).unwrap_err().code(), "INVALID_ARGUMENT");
        let again = ShmRing::create_at(path.clone(), 4096, Role::Consumer, false)
            .err()
            .unwrap();
        assert_eq!(again.code(), "SHM_EXISTS");
        let busy = ShmRing::create_at(path.clone(), 4096, Role::Consumer, true)
            .err()
            .unwrap();
        assert_eq!(busy.code(), "SHM_BUSY");
        drop(p);
        assert!(!path.exists(), "creator removes the file");
        assert_eq!(
            ShmRing::attach_at(path, Role::Consumer).err().unwrap().code(),
            "SHM_NOT_FOUND"
        );
    }

    #[test]
    fn close_delivers_the_rest_then_reports_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.ring");
        let mut c = ShmRing::create_at(path.clone(), 4096, Role::Consumer, false).unwrap();
        let mut p = ShmRing::attach_at(path, Role::Producer).unwrap();
        p.try_put(b"last").unwrap();
        p.close().unwrap();
        assert_eq!(p.try_put(b"more").unwrap_err().code(), "CLOSED");
        assert_eq!(take(&mut c).unwrap(), b"last");
        assert_eq!(take(&mut c).unwrap_err().code(), "CLOSED");
        assert!(c.wait_for_data(Duration::from_secs(5)));
    }

    #[test]
    fn rejects_bad_names_capacities_and_foreign_files() {
        assert_eq!(shm::shm_path("../x", "ring").unwrap_err().code(), "INVALID_ARGUMENT");
        let dir = tempfile::tempdir().unwrap();
        let err = ShmRing::create_at(dir.path().join("a"), 100, Role::Producer, false)
            .err()
            .unwrap();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        let junk = dir.path().join("junk.ring");
        std::fs::write(&junk, vec![1u8; HEADER_SIZE + 4096]).unwrap();
        assert_eq!(
            ShmRing::attach_at(junk, Role::Consumer).err().unwrap().code(),
            "SHM_LAYOUT"
        );
    }

    #[test]
    fn a_corrupt_length_in_the_shared_file_is_an_error_not_a_wild_read() {
        let dir = tempfile::tempdir().unwrap();
        let (mut p, mut c) = pair(&dir, 64);
        p.try_put(b"ok").unwrap();
        // Another process scribbles over the length word.
        unsafe { (p.data_ptr() as *mut u32).write(1000) };
        assert_eq!(take(&mut c).unwrap_err().code(), "SHM_LAYOUT");
    }

    #[test]
    fn a_sleeper_count_left_by_a_dead_holder_is_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ring");
        let p = ShmRing::create_at(path.clone(), 4096, Role::Producer, false).unwrap();
        p.header().data.0.sleepers.store(1, Ordering::SeqCst); // died while asleep
        let c = ShmRing::attach_at(path, Role::Consumer).unwrap();
        assert_eq!(c.header().data.0.sleepers.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_sleeping_consumer_is_woken_by_a_thread_producer() {
        let dir = tempfile::tempdir().unwrap();
        let (p, mut c) = pair(&dir, 1 << 16);
        c.set_spin(Duration::ZERO);
        let producer = std::thread::spawn(move || {
            let mut p = p;
            for i in 0..20_000u32 {
                let msg = i.to_le_bytes();
                loop {
                    match p.try_put(&msg) {
                        Ok(()) => break,
                        Err(e) if e.code() == "FULL" => {
                            p.wait_for_space(4, Duration::from_secs(1));
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            p
        });
        let mut expected = 0u32;
        while expected < 20_000 {
            match c.try_get(|b| u32::from_le_bytes(b.try_into().unwrap())) {
                Ok(v) => {
                    assert_eq!(v, expected);
                    expected += 1;
                }
                Err(e) if e.code() == "EMPTY" => {
                    c.wait_for_data(Duration::from_secs(1));
                }
                Err(e) => panic!("{e}"),
            }
        }
        drop(producer.join().unwrap());
    }
}
