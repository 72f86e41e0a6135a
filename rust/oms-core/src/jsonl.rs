//! Newline-delimited JSON records as the journal's files carry them: each record
//! gets a `time` field, its timestamp in ISO-8601 UTC to the nanosecond, for people
//! reading the file with `grep` (machines read `ts_ns`).
//!
//! The stamp is added here, off the event loop's thread: the producer either encodes a
//! whole batch of records at once and hands over the timestamps beside it, or hands
//! over the records themselves ([`JsonLine`]) for the appender's thread to encode too.

use chrono::DateTime;
use std::io::Write;
use std::sync::Arc;

/// A record that writes its own journal line: handed to the appender as it is, so
/// encoding it costs the producer nothing (the engine's order and fill updates).
pub trait JsonLine: Send + Sync {
    /// Its timestamp (ns since the epoch): the `time` of its line.
    fn ts_ns(&self) -> i64;
    /// Append the record as one JSON object and its newline.
    fn encode_json(&self, out: &mut Vec<u8>);
}

/// A line encoded by the producer already (what the core has no encoder for).
pub struct EncodedLine {
    /// One JSON object, without the newline.
    pub json: Vec<u8>,
    pub ts_ns: i64,
}

impl JsonLine for EncodedLine {
    fn ts_ns(&self) -> i64 {
        self.ts_ns
    }

    fn encode_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.json);
        out.push(b'\n');
    }
}

/// Lines as the appender takes them: shared, so a record kept for other readers
/// too is not copied.
pub type Lines = Vec<Arc<dyn JsonLine>>;

/// `lines` encoded and stamped into `out` (through the scratch buffers `encoded` and
/// `stamps`, kept by the caller between batches).
pub fn encode_stamped(lines: &[Arc<dyn JsonLine>], stamper: &mut Stamper, scratch: &mut Scratch, out: &mut Vec<u8>) {
    scratch.encoded.clear();
    scratch.stamps.clear();
    for line in lines {
        line.encode_json(&mut scratch.encoded);
        scratch.stamps.push(line.ts_ns());
    }
    stamper.stamp(&scratch.encoded, &scratch.stamps, out);
}

/// Buffers [`encode_stamped`] reuses from one batch to the next.
#[derive(Default)]
pub struct Scratch {
    encoded: Vec<u8>,
    stamps: Vec<i64>,
}

const NS_PER_SECOND: i64 = 1_000_000_000;

/// The number of lines in `data` (its `\n` bytes; memchr scans a vector at a time).
pub fn count_lines(data: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', data).count()
}

/// Writes stamped lines; remembers the date-and-second text of the last second it saw
/// (records come in bursts within one second).
#[derive(Default)]
pub struct Stamper {
    second: Option<i64>,
    prefix: Vec<u8>, // `,"time":"YYYY-MM-DDTHH:MM:SS.` (without the comma after `{`)
}

impl Stamper {
    /// Append to `out` each line of `data` (newline-terminated JSON objects) with
    /// `,"time":"…Z"` before its closing brace, line `i` stamped with `stamps[i]`
    /// (nanoseconds since the epoch). A line that does not end in `}` is copied as is;
    /// lines beyond the stamps too (the caller checks the counts match).
    pub fn stamp(&mut self, data: &[u8], stamps: &[i64], out: &mut Vec<u8>) {
        out.reserve(data.len() + stamps.len() * 48);
        let mut stamps = stamps.iter();
        let mut start = 0;
        let ends =
            memchr::memchr_iter(b'\n', data).chain((!data.is_empty() && !data.ends_with(b"\n")).then_some(data.len()));
        for end in ends {
            let body = &data[start..end];
            start = end + 1;
            match (body.strip_suffix(b"}"), stamps.next()) {
                (Some(open), Some(&ts_ns)) => {
                    out.extend_from_slice(open);
                    self.time_field(ts_ns, open != b"{", out);
                    out.extend_from_slice(b"}\n");
                }
                _ => {
                    out.extend_from_slice(body);
                    out.push(b'\n');
                }
            }
        }
    }

    fn time_field(&mut self, ts_ns: i64, after_a_field: bool, out: &mut Vec<u8>) {
        let (second, ns) = (ts_ns.div_euclid(NS_PER_SECOND), ts_ns.rem_euclid(NS_PER_SECOND));
        if self.second != Some(second) {
            self.second = Some(second);
            self.prefix.clear();
            let when = DateTime::from_timestamp(second, 0).unwrap_or_default();
            let _ = write!(self.prefix, ",\"time\":\"{}.", when.format("%Y-%m-%dT%H:%M:%S"));
        }
        let prefix = if after_a_field {
            &self.prefix[..]
        } else {
            &self.prefix[1..]
        };
        out.extend_from_slice(prefix);
        let _ = write!(out, "{ns:09}Z\"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(data: &str, stamps: &[i64]) -> String {
        let mut out = Vec::new();
        Stamper::default().stamp(data.as_bytes(), stamps, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_line_gets_its_own_time_before_the_closing_brace() {
        let data = "{\"seq\":1}\n{\"seq\":2,\"x\":{\"y\":3}}\n";
        let out = stamped(data, &[1_700_000_000_000_000_007, 1_700_000_001_123_456_789]);
        assert_eq!(
            out,
            "{\"seq\":1,\"time\":\"2023-11-14T22:13:20.000000007Z\"}\n\
             {\"seq\":2,\"x\":{\"y\":3},\"time\":\"2023-11-14T22:13:21.123456789Z\"}\n"
        );
    }

    #[test]
    fn the_epoch_and_times_before_it_are_exact() {
        assert_eq!(stamped("{}\n", &[0]), "{\"time\":\"1970-01-01T00:00:00.000000000Z\"}\n");
        assert_eq!(
            stamped("{\"a\":1}\n", &[-1]),
            "{\"a\":1,\"time\":\"1969-12-31T23:59:59.999999999Z\"}\n"
        );
    }

    #[test]
    fn lines_that_are_not_objects_or_have_no_stamp_are_copied_as_is() {
        let out = stamped("[1]\n{\"a\":1}\n{\"b\":2}", &[0, 0]);
        assert_eq!(
            out,
            "[1]\n{\"a\":1,\"time\":\"1970-01-01T00:00:00.000000000Z\"}\n{\"b\":2}\n"
        );
    }

    #[test]
    fn records_are_encoded_and_stamped_in_order() {
        let lines: Lines = vec![
            Arc::new(EncodedLine {
                json: b"{\"seq\":1}".to_vec(),
                ts_ns: 0,
            }),
            Arc::new(EncodedLine {
                json: b"{}".to_vec(),
                ts_ns: 1_000_000_001,
            }),
        ];
        let mut out = Vec::new();
        encode_stamped(&lines, &mut Stamper::default(), &mut Scratch::default(), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"seq\":1,\"time\":\"1970-01-01T00:00:00.000000000Z\"}\n\
             {\"time\":\"1970-01-01T00:00:01.000000001Z\"}\n"
        );
    }

    #[test]
    fn lines_are_counted_by_newline() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"{}\n{}\n"), 2);
        assert_eq!(count_lines(b"{}\n{}"), 1);
    }
}
