//! Positions in shared memory: the record layout, exact average-cost accounting,
//! and the seqlocked book that one writer updates and any process can read.

pub mod accounting;
pub mod book;
pub mod record;

pub use accounting::{apply_fill, mark, Carried, FillEffect};
pub use book::{aggregate, base_and_quote, AggregatePosition, PositionBook, PositionKey, HEADER_SIZE, SLOT_SIZE};
pub use record::{FieldInfo, PositionRecord, FIELDS, RECORD_SIZE};
