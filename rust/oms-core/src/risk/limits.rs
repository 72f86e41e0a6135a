//! Risk limits and the scopes they are set at.
//!
//! Limits can be set globally, per account, per venue and per symbol (optionally
//! on one venue only). For an order, the per-order limits of every scope that
//! applies are merged by taking the strictest; counter limits (open orders, gross
//! exposure, order rate) are checked at each scope against that scope's own counter.

use crate::error::{Error, Result};
use crate::fixed::{Amount, Quantity};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RiskLimits {
    pub max_order_qty: Option<Quantity>,
    pub max_order_notional: Option<Amount>,
    /// Max absolute position per instrument, worst case including open orders.
    pub max_position_qty: Option<Quantity>,
    /// Max of sum |position| x reference price + open order notional, at this scope.
    pub max_gross_exposure: Option<Amount>,
    /// Max leverage setting (10^-8 fixed point, like a quantity).
    pub max_leverage: Option<Quantity>,
    /// Max distance of a limit price from the reference price, in basis points.
    pub price_band_bps: Option<u32>,
    /// Sustained order rate at this scope; bursts up to `order_burst`.
    pub max_orders_per_second: Option<u32>,
    /// Orders allowed at once before the rate applies (default: one second's worth).
    pub order_burst: Option<u32>,
    pub max_open_orders: Option<u32>,
    /// Loss (realized + unrealized, since the daily reset) that halts trading. Global only.
    pub daily_loss_limit: Option<Amount>,
    /// Loss that moves trading to REDUCING (default 80% of the limit). Global only.
    pub daily_loss_reducing: Option<Amount>,
}

/// Where a set of limits applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Account(String),
    Venue(String),
    /// A unified symbol on one venue, or on every venue when `venue` is `None`.
    Symbol {
        venue: Option<String>,
        symbol: String,
    },
}

fn strictest<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl RiskLimits {
    /// Field-wise strictest of two sets of limits.
    pub fn strictest(&self, other: &RiskLimits) -> RiskLimits {
        RiskLimits {
            max_order_qty: strictest(self.max_order_qty, other.max_order_qty),
            max_order_notional: strictest(self.max_order_notional, other.max_order_notional),
            max_position_qty: strictest(self.max_position_qty, other.max_position_qty),
            max_gross_exposure: strictest(self.max_gross_exposure, other.max_gross_exposure),
            max_leverage: strictest(self.max_leverage, other.max_leverage),
            price_band_bps: strictest(self.price_band_bps, other.price_band_bps),
            max_orders_per_second: strictest(self.max_orders_per_second, other.max_orders_per_second),
            order_burst: strictest(self.order_burst, other.order_burst),
            max_open_orders: strictest(self.max_open_orders, other.max_open_orders),
            daily_loss_limit: strictest(self.daily_loss_limit, other.daily_loss_limit),
            daily_loss_reducing: strictest(self.daily_loss_reducing, other.daily_loss_reducing),
        }
    }

    /// Reject nonsense before it is stored: zero or negative limits, loss limits
    /// outside the global scope, a reducing threshold beyond the halt threshold.
    pub fn validate(&self, scope: &Scope) -> Result<()> {
        let positive_qty = |field, v: Option<Quantity>| match v {
            Some(q) if q.raw() <= 0 => Err(Error::invalid(field, format!("{q} must be positive"))),
            _ => Ok(()),
        };
        let positive_amount = |field, v: Option<Amount>| match v {
            Some(a) if a.raw() <= 0 => Err(Error::invalid(field, format!("{a} must be positive"))),
            _ => Ok(()),
        };
        let nonzero = |field, v: Option<u32>| match v {
            Some(0) => Err(Error::invalid(field, "must be at least 1")),
            _ => Ok(()),
        };
        positive_qty("max_order_qty", self.max_order_qty)?;
        positive_qty("max_position_qty", self.max_position_qty)?;
        positive_qty("max_leverage", self.max_leverage)?;
        positive_amount("max_order_notional", self.max_order_notional)?;
        positive_amount("max_gross_exposure", self.max_gross_exposure)?;
        positive_amount("daily_loss_limit", self.daily_loss_limit)?;
        positive_amount("daily_loss_reducing", self.daily_loss_reducing)?;
        nonzero("max_orders_per_second", self.max_orders_per_second)?;
        nonzero("order_burst", self.order_burst)?;
        if self.order_burst.is_some() && self.max_orders_per_second.is_none() {
            return Err(Error::invalid("order_burst", "needs max_orders_per_second"));
        }
        let has_loss = self.daily_loss_limit.is_some() || self.daily_loss_reducing.is_some();
        if has_loss && *scope != Scope::Global {
            return Err(Error::invalid(
                "daily_loss_limit",
                "daily loss limits apply to the whole book: set them globally",
            ));
        }
        if let (Some(reducing), Some(limit)) = (self.daily_loss_reducing, self.daily_loss_limit) {
            if reducing > limit {
                return Err(Error::invalid(
                    "daily_loss_reducing",
                    format!("{reducing} must not exceed daily_loss_limit {limit}"),
                ));
            }
        }
        Ok(())
    }

    /// The REDUCING threshold: explicit, else 80% of the halt limit.
    pub fn reducing_threshold(&self) -> Option<Amount> {
        self.daily_loss_reducing
            .or_else(|| self.daily_loss_limit.map(|l| Amount::from_raw(l.raw() / 5 * 4)))
    }
}

/// GCRA parameters of an order-rate limit: emission interval and burst tolerance (ns).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RateParams {
    pub interval_ns: i64,
    pub tolerance_ns: i64,
}

impl RateParams {
    pub fn of(limits: &RiskLimits) -> Option<RateParams> {
        let rate = i64::from(limits.max_orders_per_second?);
        let burst = i64::from(limits.order_burst.unwrap_or(rate as u32));
        let interval_ns = (1_000_000_000 / rate).max(1);
        Some(RateParams {
            interval_ns,
            tolerance_ns: interval_ns * (burst - 1),
        })
    }
}

/// Limits checked against the counters of one level (instrument, venue, account, global).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelLimits {
    pub max_open_orders: Option<i64>,
    /// In exposure units (the counters' unit, see `state::EXPOSURE_DIGITS`).
    pub max_gross_exposure: Option<i64>,
    pub rate: Option<RateParams>,
    /// For messages: the configured rate.
    pub orders_per_second: u32,
}

impl LevelLimits {
    pub fn of(limits: &RiskLimits) -> LevelLimits {
        LevelLimits {
            max_open_orders: limits.max_open_orders.map(i64::from),
            max_gross_exposure: limits.max_gross_exposure.map(super::state::exposure_units),
            rate: RateParams::of(limits),
            orders_per_second: limits.max_orders_per_second.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictest_takes_the_smaller_of_each_field() {
        let a = RiskLimits {
            max_order_qty: Some(Quantity::from_units(5).unwrap()),
            price_band_bps: Some(100),
            ..Default::default()
        };
        let b = RiskLimits {
            max_order_qty: Some(Quantity::from_units(2).unwrap()),
            max_open_orders: Some(10),
            ..Default::default()
        };
        let m = a.strictest(&b);
        assert_eq!(m.max_order_qty, Some(Quantity::from_units(2).unwrap()));
        assert_eq!((m.price_band_bps, m.max_open_orders), (Some(100), Some(10)));
    }

    #[test]
    fn validation_names_the_field() {
        let bad = RiskLimits {
            max_order_qty: Some(Quantity::ZERO),
            ..Default::default()
        };
        assert!(bad
            .validate(&Scope::Global)
            .unwrap_err()
            .to_string()
            .starts_with("max_order_qty"));
        let loss = RiskLimits {
            daily_loss_limit: Some(Amount::from_units(100)),
            ..Default::default()
        };
        assert!(loss.validate(&Scope::Venue("binance:spot".into())).is_err());
        assert_eq!(loss.reducing_threshold(), Some(Amount::from_units(80)));
    }

    #[test]
    fn rate_params_from_rate_and_burst() {
        let l = RiskLimits {
            max_orders_per_second: Some(10),
            order_burst: Some(3),
            ..Default::default()
        };
        let r = RateParams::of(&l).unwrap();
        assert_eq!((r.interval_ns, r.tolerance_ns), (100_000_000, 200_000_000));
    }
}
