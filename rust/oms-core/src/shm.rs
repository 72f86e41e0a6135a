//! Shared-memory files: naming, creation, mapping, exclusive roles.
//!
//! Both [`crate::shm_ring::ShmRing`] and [`crate::positions::PositionBook`] live in a
//! file under `/dev/shm` (tmpfs: memory, never disk), mapped `MAP_SHARED` by every
//! process that uses it. Exclusive roles (the ring's one producer and one consumer,
//! the book's one writer) are held with open-file-description locks (`F_OFD_SETLK`)
//! on one byte each: the kernel drops them when the holder closes the file or dies,
//! so a crashed process never leaves a role stuck.

use crate::error::{Error, Result};
use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Directory for shared-memory files: `$OMS_SHM_DIR`, else `/dev/shm`.
pub fn shm_dir() -> PathBuf {
    std::env::var_os("OMS_SHM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/shm"))
}

/// `<dir>/oms.<name>.<kind>`, after checking the name is one safe path component.
pub fn shm_path(name: &str, kind: &str) -> Result<PathBuf> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.');
    if !ok {
        return Err(Error::invalid(
            "name",
            format!("{name:?} must be 1-200 characters of letters, digits, '-', '_' or '.', not starting with '.'"),
        ));
    }
    Ok(shm_dir().join(format!("oms.{name}.{kind}")))
}

/// Create a new file of `size` bytes (zero-filled); fails with `ShmExists` if present.
pub fn create_file(path: &Path, size: u64) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::ShmExists { path: path.to_owned() },
            _ => Error::io(format!("creating {}", path.display()), e),
        })?;
    file.set_len(size)
        .map_err(|e| Error::io(format!("sizing {}", path.display()), e))?;
    Ok(file)
}

/// Open an existing file, read-write or read-only.
pub fn open_file(path: &Path, writable: bool) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(writable)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::ShmNotFound { path: path.to_owned() },
            _ => Error::io(format!("opening {}", path.display()), e),
        })
}

pub fn map_mut(file: &File, path: &Path) -> Result<MmapMut> {
    // SAFETY: the file is ours (mode 0600) and stays mapped for the map's lifetime;
    // concurrent access from other processes goes only through atomics and the
    // publication protocol of the structure that owns the mapping.
    unsafe { MmapOptions::new().map_mut(file) }.map_err(|e| Error::io(format!("mapping {}", path.display()), e))
}

pub fn map_read(file: &File, path: &Path) -> Result<Mmap> {
    // SAFETY: as in `map_mut`; a read-only mapping is only ever read.
    unsafe { MmapOptions::new().map(file) }.map_err(|e| Error::io(format!("mapping {}", path.display()), e))
}

pub fn file_len(file: &File, path: &Path) -> Result<u64> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| Error::io(format!("reading size of {}", path.display()), e))
}

/// Take the exclusive lock on byte `slot` of the file (a role), without waiting.
/// `Ok(false)` when another open file description holds it.
pub fn try_lock_role(file: &File, slot: i64) -> std::io::Result<bool> {
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock.l_start = slot;
    lock.l_len = 1;
    // SAFETY: plain fcntl on an fd we own, with a fully initialised `flock`.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &lock) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
        _ => Err(err),
    }
}

/// Take role `slot` or fail with `ShmBusy`.
pub fn claim_role(file: &File, path: &Path, slot: i64, role: &'static str) -> Result<()> {
    match try_lock_role(file, slot) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::ShmBusy {
            path: path.to_owned(),
            role,
        }),
        Err(e) => Err(Error::io(format!("locking {} role on {}", role, path.display()), e)),
    }
}

/// Remove the file; a missing file is not an error (someone cleaned up already).
pub fn unlink(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("removing {}", path.display()), e)),
    }
}

/// Remove a stale file left by a dead process: refuses while any role is held. The
/// roles are taken (not just tested) before unlinking, so nobody can claim one in between.
pub fn remove_stale(path: &Path, roles: &[(i64, &'static str)]) -> Result<()> {
    let file = match open_file(path, true) {
        Ok(f) => f,
        Err(Error::ShmNotFound { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    for &(slot, role) in roles {
        claim_role(&file, path, slot, role)?;
    }
    unlink(path) // our locks go with `file`, after the name is gone
}

/// Create `path` with `size` bytes, initialised by `init` and owned by role `slot`
/// before anyone can see it: built under a unique private name, the role claimed on
/// that inode, then hard-linked into place (never overwriting an existing file).
pub fn publish_new(
    path: &Path,
    size: u64,
    slot: i64,
    role: &'static str,
    init: impl FnOnce(&mut MmapMut),
) -> Result<(File, MmapMut)> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".init-{}-{n}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let file = create_file(&tmp, size)?;
    let built = (|| {
        let mut map = map_mut(&file, &tmp)?;
        init(&mut map);
        claim_role(&file, path, slot, role)?;
        std::fs::hard_link(&tmp, path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::ShmExists { path: path.to_owned() },
            _ => Error::io(format!("publishing {}", path.display()), e),
        })?;
        Ok(map)
    })();
    unlink(&tmp)?;
    built.map(|map| (file, map))
}

/// Wait on a 32-bit word in shared memory until it changes from `expected` or the
/// timeout passes. Works across processes (no FUTEX_PRIVATE_FLAG).
pub fn futex_wait(word: &std::sync::atomic::AtomicU32, expected: u32, timeout: std::time::Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; the
    // kernel only reads it. Spurious returns (EINTR, EAGAIN) are fine: callers loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
        );
    }
}

/// Wake every waiter on `word` (in any process).
pub fn futex_wake_all(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: as in `futex_wait`.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, i32::MAX);
    }
}
