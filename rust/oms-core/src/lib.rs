//! `oms-core`: the domain core of the oms order management system, free of PyO3
//! so it is tested with plain `cargo test` and reused from any binding.
//!
//! * [`fixed`]: exact fixed-point prices, quantities and amounts.
//! * [`clock`]: the wall clock in nanoseconds.
//! * [`appender`]: append-only files written by a background thread.
//! * [`jsonl`]: the `time` stamp of each journal line, added off the event loop.
//! * [`queue`]: bounded lock-free MPMC queue.
//! * [`shm_ring`]: SPSC byte-message ring between processes in `/dev/shm`.
//! * [`events`]: order events in fixed point, encoded as journal lines.
//! * [`orders`]: the order record, its state machine and exact fill totals.
//! * [`positions`]: position records in shared memory under a seqlock.
//! * [`risk`]: microsecond pre-trade risk checks.
//! * [`instruments`]: the venue's filters of an order, decided in fixed point.
//! * [`matching`]: price-time priority matching (simulators, backtests).
//! * [`affinity`], [`locked_memory`]: CPU pinning and mlock'ed, zeroed buffers.

pub mod affinity;
pub mod appender;
pub mod bus;
pub mod client_ids;
pub mod clock;
pub mod error;
pub mod events;
pub mod fixed;
pub mod instruments;
pub mod jsonl;
pub mod locked_memory;
pub mod matching;
pub mod orders;
pub mod positions;
pub mod queue;
pub mod risk;
pub mod shm;
pub mod shm_ring;
pub mod side;
pub mod trade_ids;
pub mod triggers;

pub use error::{Error, Result};
pub use fixed::{Amount, Price, Quantity};
pub use side::Side;
