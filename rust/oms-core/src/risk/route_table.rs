//! One engine's routes, indexed by the process-wide [`InstrumentId`].
//!
//! The table only grows: a route, once added, lives as long as the engine, so a
//! check finds it with a few acquire loads and holds a plain reference, with no
//! reference count and no snapshot to pin. Limits change in place inside the route
//! (see `live_limits`). Chunks double in size (64, 128, 256, ... slots), so an
//! engine that only knows instruments with small ids allocates little.

use super::keys::InstrumentId;
use super::tables::Route;
use std::sync::OnceLock;

const FIRST_CHUNK: usize = 64;
/// Enough chunks for every `u32` id.
const CHUNKS: usize = 27;

type Chunk = Box<[OnceLock<Box<Route>>]>;

pub struct RouteTable {
    chunks: [OnceLock<Chunk>; CHUNKS],
}

impl Default for RouteTable {
    fn default() -> Self {
        RouteTable {
            chunks: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

/// (chunk, offset) of an index: chunk `c` holds indices from 64·(2^c − 1), 64·2^c of them.
fn locate(index: usize) -> (usize, usize) {
    let n = index / FIRST_CHUNK + 1;
    let chunk = (usize::BITS - 1 - n.leading_zeros()) as usize;
    (chunk, index - FIRST_CHUNK * ((1 << chunk) - 1))
}

impl RouteTable {
    pub fn get(&self, id: InstrumentId) -> Option<&Route> {
        let (chunk, offset) = locate(id.index());
        self.chunks.get(chunk)?.get()?.get(offset)?.get().map(|r| &**r)
    }

    /// The route of `id`, built by `make` if there is none yet. Concurrent callers
    /// for one id get the same route (the first one built).
    pub fn get_or_insert(&self, id: InstrumentId, make: impl FnOnce() -> Route) -> &Route {
        let (chunk, offset) = locate(id.index());
        let slots = self.chunks[chunk].get_or_init(|| {
            let size = FIRST_CHUNK << chunk;
            (0..size).map(|_| OnceLock::new()).collect()
        });
        slots[offset].get_or_init(|| Box::new(make()))
    }

    /// Every route added so far.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.chunks
            .iter()
            .filter_map(OnceLock::get)
            .flat_map(|slots| slots.iter().filter_map(OnceLock::get))
            .map(|r| &**r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_tile_the_index_space() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(63), (0, 63));
        assert_eq!(locate(64), (1, 0));
        assert_eq!(locate(191), (1, 127));
        assert_eq!(locate(192), (2, 0));
        let (chunk, offset) = locate(u32::MAX as usize);
        assert!(chunk < CHUNKS && offset < FIRST_CHUNK << chunk);
        let mut expected = (0, 0);
        for i in 0..100_000 {
            assert_eq!(locate(i), expected, "index {i}");
            expected.1 += 1;
            if expected.1 == FIRST_CHUNK << expected.0 {
                expected = (expected.0 + 1, 0);
            }
        }
    }
}
