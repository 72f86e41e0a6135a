//! `oms.storage.journal`'s batches sorted into lines per (day, file) in one call: the
//! core's order and fill records are handed to the appender as they are (its thread
//! encodes and stamps them, so the event loop does not), anything else is encoded here
//! with the journal's msgspec encoder.

use crate::events::{FillUpdateRecord, OrderUpdateRecord};
use oms_core::jsonl::{EncodedLine, JsonLine, Lines};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use std::sync::Arc;

const NS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// Lines for one file, to hand to `FileAppender.append_lines`.
#[pyclass(frozen, module = "oms._core")]
pub struct JournalLines {
    pub(crate) lines: Lines,
}

#[pymethods]
impl JournalLines {
    fn __len__(&self) -> usize {
        self.lines.len()
    }
}

/// The lines of one day's file, in the order of the events.
type DayFile = (i64, usize, JournalLines);

/// `events` (a batch of the engine's) as lines per (UTC day, file): `files` maps an
/// event's type to its file's number (types it lacks are not journaled); `stamp(event)`
/// gives the timestamp of an event that is not a core record. Returns the lines per
/// (day, file) in order of first appearance, and one message per event that could not
/// be encoded (the others are kept).
#[pyfunction]
pub fn journal_lines(
    events: &Bound<'_, PyList>,
    encoder: &Bound<'_, PyAny>,
    files: &Bound<'_, PyDict>,
    stamp: &Bound<'_, PyAny>,
) -> PyResult<(Vec<DayFile>, Vec<String>)> {
    let mut out: Vec<(i64, usize, Lines)> = Vec::new();
    let mut failures = Vec::new();
    for event in events.iter() {
        let Some(file) = files.get_item(event.get_type())? else {
            continue; // not journaled (position updates)
        };
        let file: usize = file.extract()?;
        let line: Arc<dyn JsonLine> = if let Ok(record) = event.cast::<OrderUpdateRecord>() {
            record.get().shared()
        } else if let Ok(record) = event.cast::<FillUpdateRecord>() {
            record.get().shared()
        } else {
            match encoded(&event, encoder, stamp) {
                Ok(line) => Arc::new(line),
                Err(err) if err.is_instance_of::<PyException>(event.py()) => {
                    failures.push(format!("{} not encoded: {err}", event.get_type().name()?));
                    continue;
                }
                Err(err) => return Err(err),
            }
        };
        let day = line.ts_ns().div_euclid(NS_PER_DAY);
        match out.iter_mut().find(|(d, f, _)| *d == day && *f == file) {
            Some((_, _, lines)) => lines.push(line),
            None => out.push((day, file, vec![line])),
        }
    }
    let chunks = out
        .into_iter()
        .map(|(day, file, lines)| (day, file, JournalLines { lines }))
        .collect();
    Ok((chunks, failures))
}

fn encoded(event: &Bound<'_, PyAny>, encoder: &Bound<'_, PyAny>, stamp: &Bound<'_, PyAny>) -> PyResult<EncodedLine> {
    let json = encoder.call_method1(pyo3::intern!(event.py(), "encode"), (event,))?;
    Ok(EncodedLine {
        json: json.cast::<PyBytes>()?.as_bytes().to_vec(),
        ts_ns: stamp.call1((event,))?.extract()?,
    })
}
