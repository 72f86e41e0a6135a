//! `LockedBuffer`: bytes kept in RAM (mlock: never swapped), excluded from core
//! dumps, and zeroed before they are released. For API secrets while in use.

use crate::error::{Error, Result};
use zeroize::Zeroize;

pub struct LockedBuffer {
    ptr: *mut u8,
    len: usize,
    mapped: usize,
}

// SAFETY: the buffer is exclusively owned; access goes through &self / &mut self.
unsafe impl Send for LockedBuffer {}
unsafe impl Sync for LockedBuffer {}

fn memlock_limit() -> String {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0 {
        return "unknown".into();
    }
    if lim.rlim_cur == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        format!("{} bytes", lim.rlim_cur)
    }
}

impl LockedBuffer {
    /// A zero-filled buffer of `len` bytes, locked in RAM.
    pub fn new(len: usize) -> Result<LockedBuffer> {
        if len == 0 {
            return Err(Error::invalid("size", "must be at least 1 byte"));
        }
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let mapped = len.div_ceil(page) * page;
        // SAFETY: anonymous private mapping; checked for MAP_FAILED below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::MemoryLock {
                size: len,
                reason: format!("mmap failed: {}", std::io::Error::last_os_error()),
            });
        }
        // SAFETY: ptr/mapped describe the mapping just made.
        if unsafe { libc::mlock(ptr, mapped) } != 0 {
            let err = std::io::Error::last_os_error();
            unsafe { libc::munmap(ptr, mapped) };
            return Err(Error::MemoryLock {
                size: len,
                reason: format!(
                    "{err}; the locked-memory limit (RLIMIT_MEMLOCK) is {}: raise it with `ulimit -l` or LimitMEMLOCK= in the systemd unit",
                    memlock_limit()
                ),
            });
        }
        // Best effort: keep secrets out of core dumps.
        unsafe { libc::madvise(ptr, mapped, libc::MADV_DONTDUMP) };
        Ok(LockedBuffer {
            ptr: ptr as *mut u8,
            len,
            mapped,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr is valid for len bytes while self lives.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as above, and &mut self gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// Raw pointer, for bindings that expose the buffer protocol.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// Overwrite with zeros (volatile writes the compiler cannot elide).
    pub fn zero(&mut self) {
        self.as_mut_slice().zeroize();
    }
}

impl Drop for LockedBuffer {
    fn drop(&mut self) {
        // SAFETY: the whole mapping is ours; zero it before unlocking and unmapping.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr, self.mapped).zeroize();
            libc::munlock(self.ptr as *const libc::c_void, self.mapped);
            libc::munmap(self.ptr as *mut libc::c_void, self.mapped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_bytes_and_zeroes_them() {
        let mut buf = LockedBuffer::new(100).unwrap();
        assert_eq!(buf.len(), 100);
        assert!(buf.as_slice().iter().all(|&b| b == 0));
        buf.as_mut_slice()[..6].copy_from_slice(b"secret");
        assert_eq!(&buf.as_slice()[..6], b"secret");
        buf.zero();
        assert!(buf.as_slice().iter().all(|&b| b == 0));
    }

    #[test]
    fn refusals_are_clear() {
        assert_eq!(LockedBuffer::new(0).err().unwrap().code(), "INVALID_ARGUMENT");
        // Far beyond any memlock limit a test machine grants.
        let err = LockedBuffer::new(1 << 40).err().unwrap();
        assert_eq!(err.code(), "MLOCK_FAILED");
    }
}
