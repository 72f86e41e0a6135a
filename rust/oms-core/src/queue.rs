//! Bounded multi-producer multi-consumer queue.
//!
//! A thin wrapper over `crossbeam_channel::bounded`: its array flavour is lock-free
//! on the fast path (one CAS per `put`/`get`), and only a thread that actually has to
//! wait parks on a waker, so a producer that never fills the queue never pays a
//! wake-up. The wrapper adds what the OMS needs on top: batch operations, a
//! `close()` that both ends see, and errors that say which queue and why.

use crate::error::{Error, Result};
use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub struct Queue<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
    capacity: usize,
    closed: AtomicBool,
}

impl<T> Queue<T> {
    pub fn new(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::invalid("capacity", "must be at least 1"));
        }
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        Ok(Queue {
            tx,
            rx,
            capacity,
            closed: AtomicBool::new(false),
        })
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.rx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// After `close`, puts fail with `Closed`; gets drain what is left, then fail with `Closed`.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    fn full(&self) -> Error {
        Error::Full {
            what: "queue",
            capacity: self.capacity,
        }
    }

    fn closed_error() -> Error {
        Error::Closed { what: "queue" }
    }

    /// Put without waiting. On failure the item comes back with the error.
    pub fn try_put(&self, item: T) -> std::result::Result<(), (T, Error)> {
        if self.is_closed() {
            return Err((item, Self::closed_error()));
        }
        match self.tx.try_send(item) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(item)) => Err((item, self.full())),
            Err(TrySendError::Disconnected(item)) => Err((item, Self::closed_error())),
        }
    }

    /// Put, waiting up to `timeout` for room.
    pub fn put_timeout(&self, item: T, timeout: Duration) -> std::result::Result<(), (T, Error)> {
        if self.is_closed() {
            return Err((item, Self::closed_error()));
        }
        match self.tx.send_timeout(item, timeout) {
            Ok(()) => Ok(()),
            Err(SendTimeoutError::Timeout(item)) => Err((item, self.full())),
            Err(SendTimeoutError::Disconnected(item)) => Err((item, Self::closed_error())),
        }
    }

    /// Take without waiting.
    pub fn try_get(&self) -> Result<T> {
        match self.rx.try_recv() {
            Ok(item) => Ok(item),
            Err(TryRecvError::Empty) if self.is_closed() => Err(Self::closed_error()),
            Err(TryRecvError::Empty) => Err(Error::Empty { what: "queue" }),
            Err(TryRecvError::Disconnected) => Err(Self::closed_error()),
        }
    }

    /// Take, waiting up to `timeout` for an item.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T> {
        match self.rx.recv_timeout(timeout) {
            Ok(item) => Ok(item),
            Err(RecvTimeoutError::Timeout) if self.is_closed() => Err(Self::closed_error()),
            Err(RecvTimeoutError::Timeout) => Err(Error::Empty { what: "queue" }),
            Err(RecvTimeoutError::Disconnected) => Err(Self::closed_error()),
        }
    }

    /// Put as many items as fit without waiting, in order; returns how many went in.
    /// Items that did not fit are left in `items` (front first).
    pub fn put_many(&self, items: &mut std::collections::VecDeque<T>) -> usize {
        let mut count = 0;
        while let Some(item) = items.pop_front() {
            match self.try_put(item) {
                Ok(()) => count += 1,
                Err((item, _)) => {
                    items.push_front(item);
                    break;
                }
            }
        }
        count
    }

    /// Take up to `max` items that are already there, without waiting.
    pub fn drain_into(&self, out: &mut Vec<T>, max: usize) {
        while out.len() < max {
            match self.rx.try_recv() {
                Ok(item) => out.push(item),
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Arc;

    #[test]
    fn fifo_and_capacity() {
        let q = Queue::new(2).unwrap();
        q.try_put(1).unwrap();
        q.try_put(2).unwrap();
        let (back, err) = q.try_put(3).unwrap_err();
        assert_eq!((back, err.code()), (3, "FULL"));
        assert_eq!(q.try_get().unwrap(), 1);
        assert_eq!(q.try_get().unwrap(), 2);
        assert_eq!(q.try_get().unwrap_err().code(), "EMPTY");
        assert_eq!(Queue::<u8>::new(0).err().unwrap().code(), "INVALID_ARGUMENT");
    }

    #[test]
    fn batch_put_stops_when_full_and_keeps_the_rest() {
        let q = Queue::new(3).unwrap();
        let mut items: VecDeque<i32> = (0..5).collect();
        assert_eq!(q.put_many(&mut items), 3);
        assert_eq!(items, VecDeque::from(vec![3, 4]));
        let mut out = Vec::new();
        q.drain_into(&mut out, 10);
        assert_eq!(out, vec![0, 1, 2]);
    }

    #[test]
    fn close_drains_then_reports_closed() {
        let q = Queue::new(4).unwrap();
        q.try_put(7).unwrap();
        q.close();
        assert_eq!(q.try_put(8).unwrap_err().1.code(), "CLOSED");
        assert_eq!(q.try_get().unwrap(), 7);
        assert_eq!(q.try_get().unwrap_err().code(), "CLOSED");
        assert_eq!(q.get_timeout(Duration::from_millis(1)).unwrap_err().code(), "CLOSED");
    }

    #[test]
    fn timed_get_waits_for_a_producer() {
        let q = Arc::new(Queue::new(1).unwrap());
        let producer = {
            let q = q.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                q.try_put(42).unwrap();
            })
        };
        assert_eq!(q.get_timeout(Duration::from_secs(5)).unwrap(), 42);
        producer.join().unwrap();
        assert_eq!(q.get_timeout(Duration::from_millis(5)).unwrap_err().code(), "EMPTY");
    }

    #[test]
    fn many_producers_many_consumers_lose_nothing() {
        let q = Arc::new(Queue::new(64).unwrap());
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000u64 {
                        let mut item = p * 1_000_000 + i;
                        while let Err((back, _)) = q.put_timeout(item, Duration::from_millis(100)) {
                            item = back;
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(v) = q.get_timeout(Duration::from_millis(300)) {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        producers.into_iter().for_each(|h| h.join().unwrap());
        let mut all: Vec<u64> = consumers.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort_unstable();
        let mut expected: Vec<u64> = (0..4u64)
            .flat_map(|p| (0..10_000u64).map(move |i| p * 1_000_000 + i))
            .collect();
        expected.sort_unstable();
        assert_eq!(all, expected);
    }
}
