//! Price triggers of conditional orders: stop-loss, take-profit and trailing stops.
//!
//! A `TriggerBook` holds, per symbol and price source (last trade, mark price...), the
//! orders waiting for a price. The venue (simulator) or the engine (emulated
//! conditional orders) feeds every new price to `on_price`, which removes and returns
//! the ids that fire, oldest first. What a fired order becomes (market, limit, an OCO
//! leg's cancel) is the caller's business: this module only decides *when*.
//!
//! Plain triggers sit in two ordered maps (`at_or_above`, `at_or_below`), so a price
//! update costs O(log n + fired) however many stops wait. Trailing stops track the best
//! price since activation and are checked one by one (there are few). Arithmetic is
//! exact: a trailing stop fires when `price * 10_000 <= best * (10_000 - callback_bps)`
//! (sell side) in i128, never via a rounded threshold.

use crate::error::{Error, Result};
use crate::fixed::Price;
use hashbrown::HashMap;
use std::collections::BTreeMap;

/// When an order fires.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// At or above `level`: a stop-buy, or a take-profit sell.
    AtOrAbove(Price),
    /// At or below `level`: a stop-sell, or a take-profit buy.
    AtOrBelow(Price),
    /// A trailing stop that sells: follows the highest price after activation and fires
    /// when the price falls `callback_bps` below it. Active from the start without an
    /// activation price; with one, once the price reaches it (at or above).
    TrailingSell {
        callback_bps: u32,
        activation: Option<Price>,
    },
    /// The buying mirror: follows the lowest price, fires `callback_bps` above it;
    /// activation once the price is at or below `activation`.
    TrailingBuy {
        callback_bps: u32,
        activation: Option<Price>,
    },
}

impl Trigger {
    /// Whether `price` fires a plain trigger now (trailing stops never fire on the
    /// first price: they need a move away from their best price first).
    pub fn fires_at(&self, price: Price) -> bool {
        match *self {
            Trigger::AtOrAbove(level) => price >= level,
            Trigger::AtOrBelow(level) => price <= level,
            _ => false,
        }
    }
}

/// Largest callback: 100% would never fire on a sell (price <= 0).
pub const MAX_CALLBACK_BPS: u32 = 10_000;

#[derive(Clone, Debug)]
struct Trailing {
    sell: bool,
    callback_bps: u32,
    activation: Option<Price>,
    /// Best price since activation; None until activated.
    best: Option<Price>,
}

impl Trailing {
    /// Follow `price`; true when it fires.
    fn update(&mut self, price: Price) -> bool {
        let Some(best) = self.best else {
            let reached = match self.activation {
                None => true,
                Some(a) if self.sell => price >= a,
                Some(a) => price <= a,
            };
            if reached {
                self.best = Some(price);
            }
            return false;
        };
        let best = if self.sell { best.max(price) } else { best.min(price) };
        self.best = Some(best);
        let (p, b, cb) = (
            i128::from(price.raw()),
            i128::from(best.raw()),
            i128::from(self.callback_bps),
        );
        if self.sell {
            p * 10_000 <= b * (10_000 - cb)
        } else {
            p * 10_000 >= b * (10_000 + cb)
        }
    }
}

#[derive(Copy, Clone, Debug)]
enum Slot {
    Above(Price),
    Below(Price),
    Trailing,
}

/// The waiting triggers of one price source.
#[derive(Default, Debug)]
pub struct TriggerBook {
    /// (level, sequence) -> id: fire when the price is at or above the level.
    above: BTreeMap<(Price, u64), u64>,
    /// (level, sequence) -> id: fire when the price is at or below the level.
    below: BTreeMap<(Price, u64), u64>,
    /// sequence -> (id, state), in placement order.
    trailing: BTreeMap<u64, (u64, Trailing)>,
    /// id -> (sequence, where it is), for removal.
    index: HashMap<u64, (u64, Slot)>,
    next_seq: u64,
    last_price: Option<Price>,
}

impl TriggerBook {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The last price `on_price` saw (trailing stops without an activation price start
    /// from it).
    pub fn last_price(&self) -> Option<Price> {
        self.last_price
    }

    /// Add a waiting order. Plain triggers that the last price already fires are
    /// refused (venues answer "would immediately trigger"); a trailing stop with an
    /// activation price already passed is refused likewise.
    pub fn add(&mut self, id: u64, trigger: Trigger) -> Result<()> {
        if self.index.contains_key(&id) {
            return Err(Error::invalid("id", format!("trigger {id} is already waiting")));
        }
        if let Some(last) = self.last_price {
            if trigger.fires_at(last) || Self::activation_passed(&trigger, last) {
                return Err(Error::WouldTrigger {
                    trigger: format!("{trigger:?}"),
                    last: last.to_string(),
                });
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match trigger {
            Trigger::AtOrAbove(level) => {
                self.above.insert((level, seq), id);
                Slot::Above(level)
            }
            Trigger::AtOrBelow(level) => {
                self.below.insert((level, seq), id);
                Slot::Below(level)
            }
            Trigger::TrailingSell {
                callback_bps,
                activation,
            }
            | Trigger::TrailingBuy {
                callback_bps,
                activation,
            } => {
                if callback_bps == 0 || callback_bps >= MAX_CALLBACK_BPS {
                    return Err(Error::invalid(
                        "callback_bps",
                        format!(
                            "callback {callback_bps} bps must be between 1 and {}",
                            MAX_CALLBACK_BPS - 1
                        ),
                    ));
                }
                let sell = matches!(trigger, Trigger::TrailingSell { .. });
                let best = if activation.is_none() { self.last_price } else { None };
                let state = Trailing {
                    sell,
                    callback_bps,
                    activation,
                    best,
                };
                self.trailing.insert(seq, (id, state));
                Slot::Trailing
            }
        };
        self.index.insert(id, (seq, slot));
        Ok(())
    }

    fn activation_passed(trigger: &Trigger, last: Price) -> bool {
        match *trigger {
            Trigger::TrailingSell {
                activation: Some(a), ..
            } => last >= a,
            Trigger::TrailingBuy {
                activation: Some(a), ..
            } => last <= a,
            _ => false,
        }
    }

    /// Take a waiting order out (canceled, or its OCO sibling filled).
    pub fn remove(&mut self, id: u64) -> bool {
        let Some((seq, slot)) = self.index.remove(&id) else {
            return false;
        };
        match slot {
            Slot::Above(level) => drop(self.above.remove(&(level, seq))),
            Slot::Below(level) => drop(self.below.remove(&(level, seq))),
            Slot::Trailing => drop(self.trailing.remove(&seq)),
        }
        true
    }

    pub fn contains(&self, id: u64) -> bool {
        self.index.contains_key(&id)
    }

    /// A new price: remove and return every id it fires, oldest placement first.
    pub fn on_price(&mut self, price: Price) -> Vec<u64> {
        self.last_price = Some(price);
        let mut fired: Vec<(u64, u64)> = Vec::new();
        let above: Vec<(Price, u64)> = self.above.range(..=(price, u64::MAX)).map(|(k, _)| *k).collect();
        for key in above {
            fired.push((key.1, self.above.remove(&key).unwrap_or_default()));
        }
        let below: Vec<(Price, u64)> = self.below.range((price, 0)..).map(|(k, _)| *k).collect();
        for key in below {
            fired.push((key.1, self.below.remove(&key).unwrap_or_default()));
        }
        let mut trailing_fired = Vec::new();
        for (seq, (id, state)) in self.trailing.iter_mut() {
            if state.update(price) {
                trailing_fired.push(*seq);
                fired.push((*seq, *id));
            }
        }
        for seq in trailing_fired {
            self.trailing.remove(&seq);
        }
        fired.sort_unstable();
        fired
            .into_iter()
            .map(|(_, id)| {
                self.index.remove(&id);
                id
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> Price {
        Price::parse(text).unwrap()
    }

    #[test]
    fn plain_triggers_fire_once_in_placement_order() {
        let mut book = TriggerBook::new();
        book.add(1, Trigger::AtOrBelow(p("99"))).unwrap();
        book.add(2, Trigger::AtOrAbove(p("101"))).unwrap();
        book.add(3, Trigger::AtOrBelow(p("100"))).unwrap();
        assert!(book.on_price(p("100.5")).is_empty());
        assert_eq!(book.on_price(p("99")), vec![1, 3], "both at or below; oldest first");
        assert_eq!(book.on_price(p("98")), Vec::<u64>::new(), "fired ones are gone");
        assert_eq!(book.on_price(p("101")), vec![2]);
        assert!(book.is_empty());
    }

    #[test]
    fn immediate_triggers_and_duplicates_are_refused() {
        let mut book = TriggerBook::new();
        assert!(book.on_price(p("100")).is_empty());
        assert!(
            book.add(1, Trigger::AtOrBelow(p("100"))).is_err(),
            "100 <= 100 fires now"
        );
        assert!(book
            .add(
                2,
                Trigger::TrailingSell {
                    callback_bps: 100,
                    activation: Some(p("99"))
                }
            )
            .is_err());
        book.add(3, Trigger::AtOrBelow(p("99"))).unwrap();
        assert!(book.add(3, Trigger::AtOrAbove(p("200"))).is_err());
        assert!(book
            .add(
                4,
                Trigger::TrailingBuy {
                    callback_bps: 0,
                    activation: None
                }
            )
            .is_err());
        assert!(book.remove(3) && !book.remove(3));
    }

    #[test]
    fn trailing_sell_follows_the_high_after_activation() {
        let mut book = TriggerBook::new();
        book.add(
            7,
            Trigger::TrailingSell {
                callback_bps: 100,
                activation: Some(p("51000")),
            },
        )
        .unwrap();
        for price in ["50400", "51000", "51500", "51000", "50985.1"] {
            assert!(book.on_price(p(price)).is_empty(), "{price}");
        }
        assert_eq!(book.on_price(p("50985")), vec![7], "1% below the 51500 high");
    }

    #[test]
    fn trailing_buy_without_activation_starts_from_the_last_price() {
        let mut book = TriggerBook::new();
        book.on_price(p("100"));
        book.add(
            1,
            Trigger::TrailingBuy {
                callback_bps: 200,
                activation: None,
            },
        )
        .unwrap();
        assert!(book.on_price(p("90")).is_empty());
        assert!(book.on_price(p("91.79")).is_empty());
        assert_eq!(book.on_price(p("91.8")), vec![1], "2% above the 90 low");
    }

    proptest! {
        /// Against a plain scan: every trigger fires exactly when (and only the first
        /// time) a price reaches it, and the book empties of fired ids.
        #[test]
        fn plain_triggers_match_a_scan(
            levels in proptest::collection::vec((any::<bool>(), 90i64..110), 1..40),
            prices in proptest::collection::vec(90i64..110, 1..40),
        ) {
            let mut book = TriggerBook::new();
            let mut waiting: Vec<(u64, bool, i64)> = Vec::new();
            for (id, (above, level)) in levels.iter().enumerate() {
                let t = if *above { Trigger::AtOrAbove(Price::from_units(*level).unwrap()) }
                        else { Trigger::AtOrBelow(Price::from_units(*level).unwrap()) };
                book.add(id as u64, t).unwrap();
                waiting.push((id as u64, *above, *level));
            }
            for price in prices {
                let fired = book.on_price(Price::from_units(price).unwrap());
                let expected: Vec<u64> = waiting.iter()
                    .filter(|(_, above, level)| if *above { price >= *level } else { price <= *level })
                    .map(|(id, _, _)| *id).collect();
                waiting.retain(|w| !expected.contains(&w.0));
                prop_assert_eq!(fired, expected);
                prop_assert_eq!(book.len(), waiting.len());
            }
        }
    }
}
