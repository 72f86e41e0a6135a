//! An instrument's filters (the venue's rules for an order) in fixed point: the order
//! path asks whether an order passes, in a fraction of the exact-Decimal check's time.
//!
//! This only decides. `oms.instruments` (Python) words a refusal (code, rule, field,
//! value, limit, sentence), so an order that does not pass here, or that this cannot
//! decide (a product beyond `i128`), is checked there: the answer "passes" must imply
//! that Python's check passes (a property test holds the two together), nothing more.
//! Rules, as Python states them: PRICE_FILTER (min, max, tick), LOT_SIZE and
//! MARKET_LOT_SIZE (min, max, step), NOTIONAL (qty x price x contract size within
//! [min, max]; market orders at the reference price, where the rule applies to them),
//! PERCENT_PRICE(_BY_SIDE) (reference x down <= price <= reference x up), STATUS.

use crate::fixed::{Price, Quantity, SCALE};
use crate::side::Side;

/// Units of 10^-8 (a price, quantity, step or multiplier); 0 means "no such rule".
type Raw = i64;

/// A lot rule: minimum, maximum, step (0: absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lot {
    pub min: Raw,
    pub max: Raw,
    pub step: Raw,
}

/// A percent-price band: multipliers of the reference price (0: absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Band {
    pub up: Raw,
    pub down: Raw,
}

/// Every value in units of 10^-8, 0 where the instrument has no such rule (a zero
/// multiplier refuses every order in Python's reading: leave such an instrument to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentFilters {
    pub trading: bool,
    pub price: Lot, // min_price, max_price, tick_size
    pub lot: Lot,
    pub market_lot: Lot,
    pub min_notional: Raw,
    pub max_notional: Raw,
    pub min_notional_applies_to_market: bool,
    pub contract_size: Raw,
    pub steps_from_minimum: bool,
    pub band: Band, // both sides
    pub bid_band: Band,
    pub ask_band: Band,
}

/// What the order brings to the check.
#[derive(Clone, Copy, Debug)]
pub struct OrderTerms {
    pub side: Side,
    pub market: bool, // no limit price: MARKET, STOP_MARKET, ...
    pub qty: Quantity,
    pub price: Option<Price>,
    pub stop_price: Option<Price>,
    pub reference_price: Option<Price>,
}

impl InstrumentFilters {
    /// True when every rule passes; false when one does not *or this cannot tell*.
    pub fn passes(&self, order: &OrderTerms) -> bool {
        let prices = [order.price, order.stop_price];
        self.trading
            && prices.iter().flatten().all(|p| self.lot_ok(&self.price, p.raw()))
            && self.lot_ok(&self.lot, order.qty.raw())
            && (!order.market || self.lot_ok(&self.market_lot, order.qty.raw()))
            && self.notional_ok(order)
            && self.band_ok(order)
    }

    fn lot_ok(&self, lot: &Lot, value: Raw) -> bool {
        let below = lot.min != 0 && value < lot.min;
        let above = lot.max != 0 && value > lot.max;
        !below && !above && (lot.step == 0 || self.on_grid(value, lot))
    }

    fn on_grid(&self, value: Raw, lot: &Lot) -> bool {
        let base = if self.steps_from_minimum && lot.min != 0 {
            i128::from(value) - i128::from(lot.min)
        } else {
            i128::from(value)
        };
        base % i128::from(lot.step) == 0
    }

    /// qty x price x contract size, compared at 10^-24 (three 10^-8 factors).
    fn notional_ok(&self, order: &OrderTerms) -> bool {
        let Some(price) = order.price.or(order.reference_price) else {
            return true;
        };
        if order.market && !self.min_notional_applies_to_market {
            return true;
        }
        let notional = i128::from(order.qty.raw())
            .checked_mul(i128::from(price.raw()))
            .and_then(|n| n.checked_mul(i128::from(self.contract_size)));
        let limit = |raw: Raw| i128::from(raw).checked_mul(i128::from(SCALE) * i128::from(SCALE));
        match (notional, limit(self.min_notional), limit(self.max_notional)) {
            (Some(n), Some(min), Some(max)) => {
                (self.min_notional == 0 || n >= min) && (self.max_notional == 0 || n <= max)
            }
            _ => false, // beyond i128: Python decides
        }
    }

    /// Both sides of the band, compared at 10^-16.
    fn band_ok(&self, order: &OrderTerms) -> bool {
        let (Some(price), Some(reference)) = (order.price, order.reference_price) else {
            return true;
        };
        let side = if order.side == Side::Buy {
            self.bid_band
        } else {
            self.ask_band
        };
        let up = if side.up != 0 { side.up } else { self.band.up };
        let down = if side.down != 0 { side.down } else { self.band.down };
        let price = i128::from(price.raw()) * i128::from(SCALE);
        let reference = i128::from(reference.raw());
        (up == 0 || price <= reference * i128::from(up)) && (down == 0 || price >= reference * i128::from(down))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Raw {
        text.parse::<Price>().unwrap().raw()
    }

    fn spot() -> InstrumentFilters {
        InstrumentFilters {
            trading: true,
            price: Lot {
                min: raw("0.01"),
                max: raw("1000000"),
                step: raw("0.01"),
            },
            lot: Lot {
                min: raw("0.00001"),
                max: raw("9000"),
                step: raw("0.00001"),
            },
            market_lot: Lot {
                min: 0,
                max: raw("100"),
                step: 0,
            },
            min_notional: raw("5"),
            max_notional: raw("9000000"),
            min_notional_applies_to_market: true,
            contract_size: raw("1"),
            steps_from_minimum: false,
            band: Band {
                up: raw("5"),
                down: raw("0.2"),
            },
            bid_band: Band::default(),
            ask_band: Band::default(),
        }
    }

    fn limit(qty: &str, price: &str) -> OrderTerms {
        OrderTerms {
            side: Side::Buy,
            market: false,
            qty: qty.parse().unwrap(),
            price: Some(price.parse().unwrap()),
            stop_price: None,
            reference_price: None,
        }
    }

    #[test]
    fn a_plain_limit_order_passes_and_each_rule_can_refuse_it() {
        let f = spot();
        assert!(f.passes(&limit("0.1", "50000")));
        assert!(!f.passes(&limit("0.1", "50000.005")), "tick");
        assert!(!f.passes(&limit("0.000015", "50000")), "step");
        assert!(!f.passes(&limit("9001", "1")), "max qty");
        assert!(!f.passes(&limit("0.0001", "100")), "min notional: 0.01");
        assert!(!f.passes(&limit("8000", "1200")), "max notional");
        assert!(!InstrumentFilters {
            trading: false,
            ..spot()
        }
        .passes(&limit("0.1", "50000")));
    }

    #[test]
    fn market_orders_meet_the_market_lot_and_the_notional_at_the_reference() {
        let f = spot();
        let market = |qty: &str, reference: Option<&str>| OrderTerms {
            market: true,
            price: None,
            reference_price: reference.map(|r| r.parse().unwrap()),
            ..limit(qty, "1")
        };
        assert!(f.passes(&market("1", None)), "no reference: no notional rule");
        assert!(!f.passes(&market("101", None)), "market max qty");
        assert!(!f.passes(&market("0.0001", Some("100"))), "notional at the reference");
        let lenient = InstrumentFilters {
            min_notional_applies_to_market: false,
            ..spot()
        };
        assert!(lenient.passes(&market("0.0001", Some("100"))));
    }

    #[test]
    fn the_percent_band_is_per_side_where_given() {
        let f = InstrumentFilters {
            bid_band: Band {
                up: raw("1.05"),
                down: 0,
            },
            ..spot()
        };
        let at = |side: Side, price: &str| OrderTerms {
            side,
            reference_price: Some("100".parse().unwrap()),
            ..limit("1", price)
        };
        assert!(f.passes(&at(Side::Buy, "105")));
        assert!(!f.passes(&at(Side::Buy, "105.01")), "the bid band's top");
        assert!(f.passes(&at(Side::Sell, "499")), "the sell side keeps the common band");
        assert!(!f.passes(&at(Side::Sell, "19.99")), "the common band's bottom");
    }

    #[test]
    fn steps_may_count_from_the_minimum_and_products_beyond_i128_are_left_undecided() {
        let f = InstrumentFilters {
            lot: Lot {
                min: raw("0.5"),
                max: 0,
                step: raw("1"),
            },
            steps_from_minimum: true,
            min_notional: 0,
            max_notional: 0,
            ..spot()
        };
        assert!(f.passes(&limit("1.5", "1")));
        assert!(!f.passes(&limit("2", "1")));
        let huge = InstrumentFilters {
            contract_size: i64::MAX,
            ..spot()
        };
        assert!(!huge.passes(&limit("90000", "1000000")), "overflow: not decided here");
    }
}
