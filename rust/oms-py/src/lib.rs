//! `oms._core`: the thin PyO3 binding over `oms-core`. One flat extension module;
//! the public Python names live in `python/oms/*.py`, which re-export from here.
//! Each file mirrors a core module (`risk.rs` <-> `oms_core::risk` <-> `oms.risk`).

mod affinity;
mod appender;
mod bus;
mod client_ids;
mod closed_orders;
mod decimal_layout;
mod enums;
mod errors;
mod events;
mod fixed;
mod gil;
mod instruments;
mod journal;
mod locked_memory;
mod matching;
mod order_path;
mod orders;
mod positions;
mod queue;
mod risk;
mod shm_ring;
mod struct_fields;
mod triggers;

use oms_core::positions::{FIELDS, HEADER_SIZE, RECORD_SIZE, SLOT_SIZE};

/// The core's allocations (order records, events, lines for the journal) come from
/// mimalloc: the journal's thread frees records the event loop's thread made, and
/// glibc's malloc makes such a free take the arena's lock, which the order path then
/// waits on (submits right after a hand-over measured 5x slower at p99). Python's own
/// objects still come from Python's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SCALE_DIGITS", oms_core::fixed::SCALE_DIGITS)?;
    m.add("AMOUNT_SCALE_DIGITS", oms_core::fixed::AMOUNT_SCALE_DIGITS)?;
    m.add("POSITION_RECORD_SIZE", RECORD_SIZE)?;
    m.add("POSITION_SLOT_SIZE", SLOT_SIZE)?;
    m.add("POSITION_HEADER_SIZE", HEADER_SIZE)?;
    let fields: Vec<(&str, usize, usize, &str, u32)> = FIELDS
        .iter()
        .map(|f| (f.name, f.offset, f.size, f.kind, f.scale))
        .collect();
    m.add("POSITION_FIELDS", fields)?;
    let codes: Vec<&str> = oms_core::risk::RejectCode::ALL.iter().map(|c| c.as_str()).collect();
    m.add("REJECT_CODES", codes)?;

    m.add_function(wrap_pyfunction!(fixed::to_raw, m)?)?;
    m.add_function(wrap_pyfunction!(fixed::from_raw, m)?)?;
    m.add_function(wrap_pyfunction!(fixed::exact, m)?)?;
    m.add_function(wrap_pyfunction!(fixed::amount_to_raw, m)?)?;
    m.add_function(wrap_pyfunction!(fixed::amount_from_raw, m)?)?;
    m.add_function(wrap_pyfunction!(orders::order_transitions, m)?)?;
    m.add_function(wrap_pyfunction!(journal::journal_lines, m)?)?;
    m.add_function(wrap_pyfunction!(affinity::pin_current_thread, m)?)?;
    m.add_function(wrap_pyfunction!(affinity::pin_process, m)?)?;
    m.add_function(wrap_pyfunction!(affinity::current_thread_affinity, m)?)?;

    m.add_class::<orders::Order>()?;
    m.add_class::<events::OrderUpdateRecord>()?;
    m.add_class::<events::PositionUpdateRecord>()?;
    m.add_class::<events::FillUpdateRecord>()?;
    m.add_class::<events::EventLog>()?;
    m.add_class::<order_path::OrderPath>()?;
    m.add_class::<bus::BusMessages>()?;
    m.add_class::<client_ids::ClientOrderIds>()?;
    m.add_class::<queue::Queue>()?;
    m.add_class::<appender::FileAppender>()?;
    m.add_class::<journal::JournalLines>()?;
    m.add_class::<shm_ring::ShmRing>()?;
    m.add_class::<positions::PositionBook>()?;
    m.add_class::<positions::Position>()?;
    m.add_class::<positions::AggregatePosition>()?;
    m.add_class::<risk::RiskEngine>()?;
    m.add_class::<risk::RiskLimits>()?;
    m.add_class::<risk::RiskOrder>()?;
    m.add_class::<instruments::InstrumentFilters>()?;
    m.add_class::<locked_memory::LockedBuffer>()?;
    m.add_class::<matching::MatchingEngine>()?;
    m.add_class::<matching::MatchResult>()?;
    m.add_class::<matching::MatchFill>()?;
    m.add_class::<matching::RestingOrder>()?;
    m.add_class::<triggers::TriggerBook>()?;
    Ok(())
}
