//! One small pure function per pre-trade rule. Each returns `Ok(())` or the
//! [`Reject`] that names the rule, the figure and the limit. The engine decides the
//! order they run in and which counters they read.

use super::reject::{Level, Reject, RejectCode};
use super::state::{StateCause, TradingState};
use crate::fixed::{Amount, Price, Quantity, AMOUNT_SCALE_DIGITS, SCALE_DIGITS};

pub type Check = Result<(), Reject>;

/// Whether an order can only shrink the position, even if every open order on its
/// side fills first (so a burst of "reducing" orders cannot flip the position).
pub fn reduces_position(buy: bool, qty: i64, position: i64, open_same_side: i64) -> bool {
    let room = if buy { position.saturating_neg() } else { position };
    room > 0 && qty.saturating_add(open_same_side) <= room
}

/// HALTED accepts nothing; REDUCING accepts only risk-reducing orders.
pub fn trading_state(
    state: TradingState,
    cause: StateCause,
    reduces: bool,
    daily_loss: i128,
    loss_limit: i128,
) -> Check {
    match (state, cause) {
        (TradingState::Halted, StateCause::DailyLoss) => Err(Reject::new(
            RejectCode::DailyLoss,
            Level::Global,
            daily_loss,
            loss_limit,
            SCALE_DIGITS,
        )),
        (TradingState::Halted, _) => Err(Reject::bare(RejectCode::TradingHalted)),
        (TradingState::Reducing, _) if !reduces => Err(Reject::bare(RejectCode::ReduceOnly)),
        _ => Ok(()),
    }
}

/// A reduce-only order must not be able to increase the position.
pub fn reduce_only(reduce_only: bool, reduces: bool) -> Check {
    if reduce_only && !reduces {
        return Err(Reject::bare(RejectCode::ReduceOnly));
    }
    Ok(())
}

pub fn max_order_qty(qty: Quantity, limit: Option<(Quantity, Level)>) -> Check {
    match limit {
        Some((max, level)) if qty > max => Err(Reject::new(
            RejectCode::MaxOrderQty,
            level,
            qty.raw().into(),
            max.raw().into(),
            SCALE_DIGITS,
        )),
        _ => Ok(()),
    }
}

pub fn max_order_notional(notional: Amount, limit: Option<(Amount, Level)>) -> Check {
    match limit {
        Some((max, level)) if notional > max => Err(Reject::new(
            RejectCode::MaxOrderNotional,
            level,
            notional.raw(),
            max.raw(),
            AMOUNT_SCALE_DIGITS,
        )),
        _ => Ok(()),
    }
}

/// Distance of `price` from `reference` in bps must stay within the band.
pub fn price_band(price: Option<Price>, reference: i64, band_bps: Option<(u32, Level)>) -> Check {
    let (Some(price), Some((band, level))) = (price, band_bps) else {
        return Ok(());
    };
    if reference <= 0 {
        return Err(Reject::bare(RejectCode::NoReferencePrice));
    }
    let distance = (i128::from(price.raw()) - i128::from(reference)).abs();
    // distance / reference * 10_000 > band  <=>  distance * 10_000 > band * reference
    if distance * 10_000 > i128::from(band) * i128::from(reference) {
        let bps_x100 = distance * 1_000_000 / i128::from(reference);
        return Err(Reject::new(
            RejectCode::PriceBand,
            level,
            bps_x100,
            i128::from(band) * 100,
            2,
        ));
    }
    Ok(())
}

pub fn max_leverage(leverage: i64, limit: Option<(Quantity, Level)>) -> Check {
    match limit {
        Some((max, level)) if leverage > max.raw() => Err(Reject::new(
            RejectCode::MaxLeverage,
            level,
            leverage.into(),
            max.raw().into(),
            SCALE_DIGITS,
        )),
        _ => Ok(()),
    }
}

/// Worst case on the order's side: position plus every open order on that side
/// (this one included) filling.
pub fn max_position(buy: bool, position: i64, open_same_side: i64, limit: Option<(Quantity, Level)>) -> Check {
    let Some((max, level)) = limit else {
        return Ok(());
    };
    let worst = if buy {
        i128::from(position) + i128::from(open_same_side)
    } else {
        i128::from(position) - i128::from(open_same_side)
    };
    // An order that cannot increase the absolute position is always allowed, so a
    // position above a (lowered) limit can be worked back down in steps.
    if worst.abs() > i128::from(max.raw()) && worst.abs() > i128::from(position).abs() {
        return Err(Reject::new(
            RejectCode::MaxPosition,
            level,
            worst,
            max.raw().into(),
            SCALE_DIGITS,
        ));
    }
    Ok(())
}

pub fn max_open_orders(level: Level, open: i64, limit: Option<i64>) -> Check {
    match limit {
        Some(max) if open > max => Err(Reject::new(
            RejectCode::MaxOpenOrders,
            level,
            open.into(),
            max.into(),
            0,
        )),
        _ => Ok(()),
    }
}

/// Gross exposure (exposure units) after adding this order.
pub fn max_gross_exposure(level: Level, exposure: i64, limit: Option<i64>) -> Check {
    match limit {
        Some(max) if exposure > max => Err(Reject::new(
            RejectCode::MaxGrossExposure,
            level,
            exposure.into(),
            max.into(),
            super::state::EXPOSURE_DIGITS,
        )),
        _ => Ok(()),
    }
}

pub fn order_rate(level: Level, allowed: bool, orders_per_second: u32) -> Check {
    if allowed {
        return Ok(());
    }
    Err(Reject::new(
        RejectCode::OrderRate,
        level,
        0,
        orders_per_second.into(),
        0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }
    fn at<T>(v: T) -> Option<(T, Level)> {
        Some((v, Level::Instrument))
    }

    #[test]
    fn reducing_means_cannot_flip_even_with_open_orders() {
        assert!(reduces_position(false, 5, 10, 5));
        assert!(!reduces_position(false, 6, 10, 5));
        assert!(reduces_position(true, 3, -3, 0));
        assert!(!reduces_position(true, 1, 0, 0));
        assert!(!reduces_position(true, 1, 5, 0));
    }

    #[test]
    fn each_rule_names_its_code() {
        assert_eq!(
            max_order_qty(q("2"), at(q("1"))).unwrap_err().code,
            RejectCode::MaxOrderQty
        );
        assert!(max_order_qty(q("1"), at(q("1"))).is_ok());
        assert_eq!(
            max_order_notional(Amount::from_units(11), at(Amount::from_units(10)))
                .unwrap_err()
                .code,
            RejectCode::MaxOrderNotional
        );
        let band = price_band(
            Some(Price::parse("102").unwrap()),
            Price::parse("100").unwrap().raw(),
            at(100),
        )
        .unwrap_err();
        assert_eq!(
            (band.code, band.value_str(), band.limit_str()),
            (RejectCode::PriceBand, "200".into(), "100".into())
        );
        assert!(price_band(
            Some(Price::parse("101").unwrap()),
            Price::parse("100").unwrap().raw(),
            at(100)
        )
        .is_ok());
        assert_eq!(
            price_band(Some(Price::parse("1").unwrap()), 0, at(100))
                .unwrap_err()
                .code,
            RejectCode::NoReferencePrice
        );
        assert_eq!(
            max_leverage(q("21").raw(), at(q("20"))).unwrap_err().code,
            RejectCode::MaxLeverage
        );
        let pos = max_position(false, q("-1").raw(), q("1.5").raw(), at(q("2"))).unwrap_err();
        assert_eq!((pos.code, pos.value_str()), (RejectCode::MaxPosition, "-2.5".into()));
        assert!(
            max_position(false, q("10").raw(), q("2").raw(), at(q("5"))).is_ok(),
            "reducing from above the limit"
        );
        assert!(max_position(true, q("10").raw(), q("1").raw(), at(q("5"))).is_err());
        assert!(max_position(false, q("4").raw(), q("2").raw(), at(q("5"))).is_ok());
        assert_eq!(
            max_open_orders(Level::Venue, 3, Some(2)).unwrap_err().level,
            Level::Venue
        );
        assert_eq!(
            max_gross_exposure(Level::Global, 3, Some(2)).unwrap_err().code,
            RejectCode::MaxGrossExposure
        );
        assert_eq!(
            order_rate(Level::Account, false, 5).unwrap_err().code,
            RejectCode::OrderRate
        );
        let halted = trading_state(TradingState::Halted, StateCause::Manual, true, 0, 0).unwrap_err();
        assert_eq!(halted.code, RejectCode::TradingHalted);
        let loss = trading_state(TradingState::Halted, StateCause::DailyLoss, true, 5, 4).unwrap_err();
        assert_eq!(loss.code, RejectCode::DailyLoss);
        assert!(trading_state(TradingState::Reducing, StateCause::DailyLoss, true, 0, 0).is_ok());
        assert_eq!(
            trading_state(TradingState::Reducing, StateCause::Manual, false, 0, 0)
                .unwrap_err()
                .code,
            RejectCode::ReduceOnly
        );
        assert_eq!(reduce_only(true, false).unwrap_err().code, RejectCode::ReduceOnly);
    }

    #[test]
    fn messages_are_sentences_with_figures() {
        let r = max_order_qty(q("2.5"), at(q("1"))).unwrap_err();
        assert_eq!(r.to_string(), "order quantity 2.5 exceeds the symbol limit of 1");
    }
}
