//! Append-only files written by one background thread.
//!
//! The producer hands over whole chunks (many lines each) and goes on; the thread
//! appends them in order, per file, and closes (optionally gzips) a file when told.
//! In the Python binding this thread never touches the interpreter, which matters:
//! a Python writer thread has to win the GIL back after every blocking call, and a
//! busy event loop that releases it briefly (each poll) keeps winning it first, so
//! such a writer was starved for most of a second under load (measured: the
//! journal's lines reached the disk in two batches over a 1.7 s run).
//!
//! Counts are of *lines* (the producer says how many a chunk holds): `written`
//! once appended, `failed` when a write failed (the last error is kept).
//! A chunk handed over with one timestamp per line gets each line stamped with its
//! `time` on this thread (see [`crate::jsonl`]); records handed over as they are
//! ([`FileAppender::append_lines`]) are encoded on this thread too.

use crate::error::{Error, Result};
use crate::jsonl::{count_lines, encode_stamped, Lines, Scratch, Stamper};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, SendTimeoutError, Sender};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

enum Message {
    Append {
        path: PathBuf,
        data: Vec<u8>,
        lines: u64,
        stamps: Vec<i64>, // one per line, or none
    },
    Lines {
        path: PathBuf,
        lines: Lines,
    },
    Close {
        path: PathBuf,
        compress: bool,
    },
    Sync(Sender<()>),
}

#[derive(Default)]
struct Counters {
    written: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Counters {
    fn fail(&self, lines: u64, error: String) {
        self.failed.fetch_add(lines, Ordering::Relaxed);
        *locked(&self.last_error) = Some(error);
    }
}

/// The producer's handle, shared by threads (every method takes `&self`). Dropping
/// it (or [`FileAppender::stop`]) writes what was handed over, closes the files and
/// ends the thread.
pub struct FileAppender {
    sender: Mutex<Option<Sender<Message>>>,     // None once stopped
    receiver: Mutex<Option<Receiver<Message>>>, // until `start`
    thread: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl FileAppender {
    /// At most `capacity` chunks wait for the thread; handing over more waits for room.
    pub fn new(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::invalid("capacity", "must be at least 1"));
        }
        let (sender, receiver) = bounded(capacity);
        Ok(FileAppender {
            sender: Mutex::new(Some(sender)),
            receiver: Mutex::new(Some(receiver)),
            thread: Mutex::new(None),
            counters: Arc::default(),
        })
    }

    /// Start the writing thread (chunks handed over before wait for it).
    pub fn start(&self) -> Result<()> {
        let Some(receiver) = locked(&self.receiver).take() else {
            return Err(Error::invalid("start", "the appender was already started"));
        };
        let counters = Arc::clone(&self.counters);
        let thread = std::thread::Builder::new()
            .name("oms-appender".into())
            .spawn(move || {
                let _ = crate::affinity::run_as_background(); // best effort: Linux only
                run(&receiver, &counters)
            })
            .map_err(|e| Error::io("start the appender thread", e))?;
        *locked(&self.thread) = Some(thread);
        Ok(())
    }

    /// Hand over `data` (holding `lines` lines) to be appended to `path`; waits up to
    /// `timeout` for room (then `Full`); `Closed` once stopped.
    pub fn append(&self, path: PathBuf, data: Vec<u8>, lines: u64, timeout: Duration) -> Result<()> {
        self.send_chunk(path, data, lines, Vec::new(), timeout)
    }

    /// Like [`FileAppender::append`] for newline-terminated JSON objects, line `i`
    /// stamped with `stamps[i]` (ns since the epoch) as it is written. One stamp per
    /// whole line, or `InvalidArgument` (nothing handed over).
    pub fn append_stamped(&self, path: PathBuf, data: Vec<u8>, stamps: Vec<i64>, timeout: Duration) -> Result<()> {
        let lines = count_lines(&data);
        if lines != stamps.len() || !(data.is_empty() || data.ends_with(b"\n")) {
            let got = format!("{lines} whole line(s) for {} stamp(s)", stamps.len());
            return Err(Error::invalid("stamps", format!("one stamp per whole line: {got}")));
        }
        self.send_chunk(path, data, lines as u64, stamps, timeout)
    }

    /// Hand over records to be encoded, stamped and appended to `path` on the
    /// appender's thread, in order; waits up to `timeout` for room (then `Full`).
    pub fn append_lines(&self, path: PathBuf, lines: Lines, timeout: Duration) -> Result<()> {
        self.send(Message::Lines { path, lines }, timeout)
    }

    fn send_chunk(&self, path: PathBuf, data: Vec<u8>, lines: u64, stamps: Vec<i64>, timeout: Duration) -> Result<()> {
        let chunk = Message::Append {
            path,
            data,
            lines,
            stamps,
        };
        self.send(chunk, timeout)
    }

    /// Close `path` once everything before is written; with `compress`, replace it by
    /// `path.gz` (the plain file removed only once the copy is complete).
    pub fn close_file(&self, path: PathBuf, compress: bool, timeout: Duration) -> Result<()> {
        self.send(Message::Close { path, compress }, timeout)
    }

    /// Wait until everything handed over before is written (false on timeout).
    pub fn sync(&self, timeout: Duration) -> Result<bool> {
        let (done, wait) = bounded(1);
        self.send(Message::Sync(done), timeout)?;
        match wait.recv_timeout(timeout) {
            Ok(()) => Ok(true),
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => Err(Error::Closed { what: "appender" }),
        }
    }

    /// Write what is handed over, close every file and end the thread.
    pub fn stop(&self) {
        locked(&self.sender).take();
        locked(&self.receiver).take();
        let thread = locked(&self.thread).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    pub fn written(&self) -> u64 {
        self.counters.written.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }

    pub fn last_error(&self) -> Option<String> {
        locked(&self.counters.last_error).clone()
    }

    fn send(&self, message: Message, timeout: Duration) -> Result<()> {
        let sender = locked(&self.sender).clone().ok_or(Error::Closed { what: "appender" })?;
        match sender.send_timeout(message, timeout) {
            Ok(()) => Ok(()),
            Err(SendTimeoutError::Timeout(_)) => Err(Error::Full {
                what: "appender",
                capacity: sender.capacity().unwrap_or(0),
            }),
            Err(SendTimeoutError::Disconnected(_)) => Err(Error::Closed { what: "appender" }),
        }
    }
}

impl Drop for FileAppender {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(receiver: &Receiver<Message>, counters: &Counters) {
    let mut files: HashMap<PathBuf, File> = HashMap::new();
    let (mut stamper, mut stamped, mut scratch) = (Stamper::default(), Vec::new(), Scratch::default());
    for message in receiver {
        match message {
            Message::Append {
                path,
                data,
                lines,
                stamps,
            } => match append(&mut files, &path, stamp(&data, &stamps, &mut stamper, &mut stamped)) {
                Ok(()) => {
                    counters.written.fetch_add(lines, Ordering::Relaxed);
                }
                Err(e) => counters.fail(lines, format!("append to {}: {e}", path.display())),
            },
            Message::Lines { path, lines } => {
                stamped.clear();
                encode_stamped(&lines, &mut stamper, &mut scratch, &mut stamped);
                let count = lines.len() as u64;
                match append(&mut files, &path, &stamped) {
                    Ok(()) => {
                        counters.written.fetch_add(count, Ordering::Relaxed);
                    }
                    Err(e) => counters.fail(count, format!("append to {}: {e}", path.display())),
                }
            }
            Message::Close { path, compress } => {
                files.remove(&path); // dropped: closed
                if compress {
                    if let Err(e) = gzip(&path) {
                        counters.fail(0, format!("compress {}: {e}", path.display()));
                    }
                }
            }
            Message::Sync(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// `data` as it is written: stamped into `buffer` when it has stamps.
fn stamp<'a>(data: &'a [u8], stamps: &[i64], stamper: &mut Stamper, buffer: &'a mut Vec<u8>) -> &'a [u8] {
    if stamps.is_empty() {
        return data;
    }
    buffer.clear();
    stamper.stamp(data, stamps, buffer);
    buffer
}

fn append(files: &mut HashMap<PathBuf, File>, path: &Path, data: &[u8]) -> io::Result<()> {
    if let Some(file) = files.get_mut(path) {
        return file.write_all(data);
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(data)?;
    files.insert(path.to_path_buf(), file);
    Ok(())
}

/// `x` -> `x.gz`, then `x` removed (a crash midway leaves `x` whole).
pub fn gzip(path: &Path) -> io::Result<PathBuf> {
    let mut target = path.as_os_str().to_owned();
    target.push(".gz");
    let target = PathBuf::from(target);
    let mut source = File::open(path)?;
    let mut encoder = GzEncoder::new(File::create(&target)?, Compression::default());
    io::copy(&mut source, &mut encoder)?;
    encoder.finish()?.sync_all()?;
    fs::remove_file(path)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const WAIT: Duration = Duration::from_secs(5);

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("oms-appender-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn chunks_land_in_order_per_file_and_are_counted_by_line() {
        let dir = temp_dir("order");
        let appender = FileAppender::new(4).unwrap();
        appender.start().unwrap();
        let (a, b) = (dir.join("d/a.jsonl"), dir.join("d/b.jsonl"));
        for i in 0..100 {
            let path = if i % 2 == 0 { &a } else { &b };
            appender
                .append(path.clone(), format!("{i}\n{i}\n").into_bytes(), 2, WAIT)
                .unwrap();
        }
        assert!(appender.sync(WAIT).unwrap());
        assert_eq!(appender.written(), 200);
        let evens: Vec<String> = (0..100).step_by(2).map(|i| format!("{i}\n{i}\n")).collect();
        assert_eq!(fs::read_to_string(&a).unwrap(), evens.concat());
        appender.stop();
        assert_eq!(appender.failed(), 0);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn handed_over_before_start_is_written_after_and_stop_drains() {
        let dir = temp_dir("drain");
        let appender = FileAppender::new(8).unwrap();
        let path = dir.join("x.jsonl");
        appender.append(path.clone(), b"1\n".to_vec(), 1, WAIT).unwrap();
        assert_eq!(appender.written(), 0);
        appender.start().unwrap();
        appender.append(path.clone(), b"2\n".to_vec(), 1, WAIT).unwrap();
        appender.stop();
        assert_eq!(fs::read_to_string(&path).unwrap(), "1\n2\n");
        assert!(matches!(
            appender.append(path, vec![], 0, WAIT),
            Err(Error::Closed { .. })
        ));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_full_appender_that_is_not_running_times_out_with_full() {
        let appender = FileAppender::new(1).unwrap();
        let path = temp_dir("full").join("x");
        appender.append(path.clone(), vec![], 0, WAIT).unwrap();
        let err = appender.append(path, vec![], 0, Duration::from_millis(10)).unwrap_err();
        assert_eq!(err.code(), "FULL");
    }

    #[test]
    fn a_closed_file_is_compressed_and_the_plain_one_removed() {
        let dir = temp_dir("gzip");
        let appender = FileAppender::new(4).unwrap();
        appender.start().unwrap();
        let path = dir.join("orders.jsonl");
        appender
            .append(path.clone(), b"{\"seq\":1}\n".to_vec(), 1, WAIT)
            .unwrap();
        appender.close_file(path.clone(), true, WAIT).unwrap();
        assert!(appender.sync(WAIT).unwrap());
        assert!(!path.exists());
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(dir.join("orders.jsonl.gz")).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"seq\":1}\n");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn stamped_chunks_get_a_time_per_line_and_a_count_mismatch_is_refused() {
        let dir = temp_dir("stamped");
        let appender = FileAppender::new(4).unwrap();
        appender.start().unwrap();
        let path = dir.join("orders.jsonl");
        let data = b"{\"seq\":1}\n{\"seq\":2}\n".to_vec();
        let err = appender
            .append_stamped(path.clone(), data.clone(), vec![0], WAIT)
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        let cut_short = b"{\"seq\":1}\n{\"seq\":2}".to_vec();
        assert!(appender
            .append_stamped(path.clone(), cut_short, vec![0, 1], WAIT)
            .is_err());
        appender
            .append_stamped(path.clone(), data, vec![0, 86_400_000_000_001], WAIT)
            .unwrap();
        appender.stop();
        assert_eq!(appender.written(), 2);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "{\"seq\":1,\"time\":\"1970-01-01T00:00:00.000000000Z\"}\n\
             {\"seq\":2,\"time\":\"1970-01-02T00:00:00.000000001Z\"}\n"
        );
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn records_are_encoded_stamped_and_counted_on_the_thread_in_order_with_chunks() {
        let dir = temp_dir("records");
        let appender = FileAppender::new(4).unwrap();
        appender.start().unwrap();
        let path = dir.join("orders.jsonl");
        let line = |seq: u64, ts_ns: i64| -> Arc<dyn crate::jsonl::JsonLine> {
            Arc::new(crate::jsonl::EncodedLine {
                json: format!("{{\"seq\":{seq}}}").into_bytes(),
                ts_ns,
            })
        };
        appender
            .append_lines(path.clone(), vec![line(1, 0), line(2, 1)], WAIT)
            .unwrap();
        appender
            .append_stamped(path.clone(), b"{\"seq\":3}\n".to_vec(), vec![2], WAIT)
            .unwrap();
        appender.append_lines(path.clone(), vec![line(4, 3)], WAIT).unwrap();
        appender.stop();
        assert_eq!(appender.written(), 4);
        let text = fs::read_to_string(&path).unwrap();
        let seqs: Vec<&str> = text.lines().map(|l| &l[7..8]).collect();
        assert_eq!(seqs, ["1", "2", "3", "4"]);
        assert!(text
            .lines()
            .nth(3)
            .unwrap()
            .ends_with(",\"time\":\"1970-01-01T00:00:00.000000003Z\"}"));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_failed_write_counts_its_lines_and_keeps_the_error() {
        let dir = temp_dir("fail");
        fs::create_dir_all(&dir).unwrap();
        let blocker = dir.join("not-a-dir");
        fs::write(&blocker, b"").unwrap();
        let appender = FileAppender::new(4).unwrap();
        appender.start().unwrap();
        appender
            .append(blocker.join("x.jsonl"), b"1\n2\n".to_vec(), 2, WAIT)
            .unwrap();
        assert!(appender.sync(WAIT).unwrap());
        assert_eq!((appender.written(), appender.failed()), (0, 2));
        assert!(appender.last_error().unwrap().contains("not-a-dir"));
        let _ = fs::remove_dir_all(dir);
    }
}
