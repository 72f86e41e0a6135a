//! The one error type of the core. Every variant has a stable machine-readable
//! code (`Error::code`) and a human sentence (`Display`); the Python binding maps
//! each variant to a class of `oms.errors` in one place (`oms-py/src/errors.rs`).
//!
//! Risk rejections are not here: they are hot-path values (`risk::Reject`),
//! `Copy` and allocation-free, and are turned into exceptions only at the edge.

use std::path::PathBuf;

use crate::fixed::Quantity;

/// Result alias used across the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Text that is not a decimal number (or is NaN/inf/empty).
    #[error("{what}: {input:?} is not a decimal number ({reason})")]
    InvalidNumber {
        what: &'static str,
        input: String,
        reason: &'static str,
    },
    /// A number with more decimal places than the fixed-point scale holds.
    #[error("{what}: {input:?} has more than {digits} decimal places; round it explicitly first")]
    PrecisionExceeded {
        what: &'static str,
        input: String,
        digits: u32,
    },
    /// A number outside the representable range of its fixed-point type.
    #[error("{what}: {input} is out of range ({reason})")]
    OutOfRange {
        what: &'static str,
        input: String,
        reason: String,
    },
    /// Checked arithmetic overflowed.
    #[error("arithmetic overflow in {op}")]
    Overflow { op: &'static str },
    /// A caller passed an argument that breaks a documented rule.
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    /// A conditional order whose trigger the current price already meets.
    #[error("{trigger} would trigger immediately at the last price {last}")]
    WouldTrigger { trigger: String, last: String },
    /// An order move the state machine does not allow (`orders`).
    #[error("{message}")]
    IllegalTransition {
        message: String,
        current: &'static str,
        new: Option<&'static str>,
        trade_id: Option<String>,
    },
    /// A fill whose trade id the order already has; nothing was changed.
    #[error("order {order}: trade {trade_id} was already applied")]
    DuplicateFill { order: String, trade_id: String },
    /// Fills add up to more than the order: the fill *was* recorded (it happened at the
    /// venue); this reports it so the engine alerts and reconciles.
    #[error(
        "order {order}: fills total {filled}, more than the order quantity {qty} (excess {excess}); \
         the fill was recorded, reconcile with the venue"
    )]
    Overfill {
        order: String,
        filled: Quantity,
        qty: Quantity,
        excess: Quantity,
        trade_id: String,
    },
    /// A fill on the other side of the order; nothing was changed.
    #[error("order {order}: fill {trade_id} is a {fill_side}, the order is a {order_side}")]
    FillMismatch {
        order: String,
        trade_id: String,
        fill_side: &'static str,
        order_side: &'static str,
    },
    /// The queue or ring has no room for the item.
    #[error("{what} is full (capacity {capacity})")]
    Full { what: &'static str, capacity: usize },
    /// The queue or ring holds nothing to take.
    #[error("{what} is empty")]
    Empty { what: &'static str },
    /// The other side closed the channel and nothing is left to read.
    #[error("{what} is closed")]
    Closed { what: &'static str },
    /// A single message larger than the ring can ever hold.
    #[error("message of {len} bytes is larger than the ring's maximum of {max} bytes")]
    MessageTooLarge { len: usize, max: usize },
    /// A shared-memory file already exists where one was to be created.
    #[error("shared-memory file {path} already exists; attach to it, or pass replace=True if it is stale")]
    ShmExists { path: PathBuf },
    /// No shared-memory file by that name.
    #[error("shared-memory file {path} does not exist; create it first")]
    ShmNotFound { path: PathBuf },
    /// The file exists but is not what we expected (other type, version or size).
    #[error("shared-memory file {path} has an unexpected layout: {reason}")]
    ShmLayout { path: PathBuf, reason: String },
    /// Another live handle already holds the exclusive role.
    #[error("shared-memory file {path}: the {role} role is already held by another handle")]
    ShmBusy { path: PathBuf, role: &'static str },
    /// The position book has no free slot.
    #[error("position book is full ({capacity} slots); create it with a larger capacity")]
    BookFull { capacity: usize },
    /// The handle is read-only (attached) and a write was attempted.
    #[error("{what} is attached read-only; only the creating writer may change it")]
    ReadOnly { what: &'static str },
    /// The OS refused to pin a thread or process to CPU cores.
    #[error("cannot pin to cores {cores:?}: {reason}")]
    Affinity { cores: Vec<usize>, reason: String },
    /// The OS refused to lock memory in RAM.
    #[error("cannot lock {size} bytes in RAM: {reason}")]
    MemoryLock { size: usize, reason: String },
    /// Any other I/O failure, with what we were doing.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Stable, machine-readable code (part of the public contract).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidNumber { .. } => "INVALID_NUMBER",
            Error::PrecisionExceeded { .. } => "PRECISION_EXCEEDED",
            Error::OutOfRange { .. } => "OUT_OF_RANGE",
            Error::Overflow { .. } => "ARITHMETIC_OVERFLOW",
            Error::InvalidArgument { .. } => "INVALID_ARGUMENT",
            Error::WouldTrigger { .. } => "WOULD_TRIGGER",
            Error::IllegalTransition { .. } => "ILLEGAL_TRANSITION",
            Error::DuplicateFill { .. } => "DUPLICATE_FILL",
            Error::FillMismatch { .. } => "FILL_MISMATCH",
            Error::Overfill { .. } => "OVERFILL",
            Error::Full { .. } => "FULL",
            Error::Empty { .. } => "EMPTY",
            Error::Closed { .. } => "CLOSED",
            Error::MessageTooLarge { .. } => "MESSAGE_TOO_LARGE",
            Error::ShmExists { .. } => "SHM_EXISTS",
            Error::ShmNotFound { .. } => "SHM_NOT_FOUND",
            Error::ShmLayout { .. } => "SHM_LAYOUT",
            Error::ShmBusy { .. } => "SHM_BUSY",
            Error::BookFull { .. } => "BOOK_FULL",
            Error::ReadOnly { .. } => "READ_ONLY",
            Error::Affinity { .. } => "AFFINITY_FAILED",
            Error::MemoryLock { .. } => "MLOCK_FAILED",
            Error::Io { .. } => "IO_ERROR",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}
