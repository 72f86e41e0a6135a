//! Pin threads and processes to CPU cores (production pins the engine to cores
//! 2-3 and each connector to its own core, see DESIGN.md §1.12).

use crate::error::{Error, Result};

fn online_cores() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    if n > 0 {
        n as usize
    } else {
        1
    }
}

fn to_set(cores: &[usize]) -> Result<libc::cpu_set_t> {
    let fail = |reason: String| Error::Affinity {
        cores: cores.to_vec(),
        reason,
    };
    if cores.is_empty() {
        return Err(fail("no cores given".into()));
    }
    let available = online_cores();
    let available = available.min(libc::CPU_SETSIZE as usize);
    if let Some(bad) = cores.iter().find(|&&c| c >= available) {
        return Err(fail(format!(
            "core {bad} does not exist (this machine has cores 0-{})",
            available - 1
        )));
    }
    // SAFETY: cpu_set_t is plain data; CPU_SET writes within it for c < CPU_SETSIZE.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &core in cores {
        unsafe { libc::CPU_SET(core, &mut set) };
    }
    Ok(set)
}

fn from_set(set: &libc::cpu_set_t) -> Vec<usize> {
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: index within CPU_SETSIZE.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, set) })
        .collect()
}

fn set_affinity(tid: libc::pid_t, cores: &[usize]) -> Result<()> {
    let set = to_set(cores)?;
    // SAFETY: valid set pointer and size.
    let rc = unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        let reason = match err.raw_os_error() {
            Some(libc::EINVAL) => "none of these cores is allowed for this process (cgroup/cpuset)".to_string(),
            Some(libc::EPERM) => "permission denied (pinning another user's process needs CAP_SYS_NICE)".to_string(),
            Some(libc::ESRCH) => format!("no thread or process with id {tid}"),
            _ => err.to_string(),
        };
        return Err(Error::Affinity {
            cores: cores.to_vec(),
            reason,
        });
    }
    Ok(())
}

/// Pin the calling thread to `cores`.
pub fn pin_current_thread(cores: &[usize]) -> Result<()> {
    set_affinity(0, cores)
}

/// Pin every thread of process `pid` (this process when `None`) to `cores`.
pub fn pin_process(pid: Option<i32>, cores: &[usize]) -> Result<()> {
    let pid = pid.unwrap_or_else(|| std::process::id() as i32);
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).map_err(|e| Error::Affinity {
        cores: cores.to_vec(),
        reason: format!("cannot list threads of process {pid}: {e}"),
    })?;
    for task in tasks.flatten() {
        if let Some(tid) = task.file_name().to_str().and_then(|t| t.parse::<libc::pid_t>().ok()) {
            match set_affinity(tid, cores) {
                // A thread that exited since we listed it is not an error.
                Err(Error::Affinity { reason, .. }) if reason.starts_with("no thread") => {}
                other => other?,
            }
        }
    }
    Ok(())
}

/// Run the calling thread as background work (Linux `SCHED_BATCH`): it keeps its fair
/// share of the CPU, but waking up it no longer preempts the thread running on its core.
/// For writer threads the event loop wakes: woken on the loop's core, such a thread
/// would take it from the loop for its burst rather than wait for the other core
/// (a safeguard: on the 2-core benchmark machine it made no measurable difference).
pub fn run_as_background() -> Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: 0 is the calling thread; `param` is valid for SCHED_BATCH (priority 0).
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    if rc != 0 {
        return Err(Error::io("sched_setscheduler", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Cores the calling thread may run on.
pub fn current_thread_affinity() -> Result<Vec<usize>> {
    // SAFETY: valid out-pointer and size.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Err(Error::io("sched_getaffinity", std::io::Error::last_os_error()));
    }
    Ok(from_set(&set))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_a_thread_and_read_it_back() {
        let allowed = current_thread_affinity().unwrap();
        let first = allowed[0];
        std::thread::spawn(move || {
            pin_current_thread(&[first]).unwrap();
            assert_eq!(current_thread_affinity().unwrap(), vec![first]);
        })
        .join()
        .unwrap();
        assert_eq!(
            current_thread_affinity().unwrap(),
            allowed,
            "other threads are untouched"
        );
    }

    #[test]
    fn a_background_thread_is_batch_scheduled_and_the_others_are_not() {
        std::thread::spawn(|| {
            run_as_background().unwrap();
            assert_eq!(unsafe { libc::sched_getscheduler(0) }, libc::SCHED_BATCH);
        })
        .join()
        .unwrap();
        assert_eq!(unsafe { libc::sched_getscheduler(0) }, libc::SCHED_OTHER);
    }

    #[test]
    fn impossible_requests_are_clear_errors() {
        let err = pin_current_thread(&[100_000]).unwrap_err();
        assert_eq!(err.code(), "AFFINITY_FAILED");
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(pin_current_thread(&[]).is_err());
    }
}
