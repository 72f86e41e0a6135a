//! Average-cost position accounting on one [`PositionRecord`], exact.
//!
//! The record keeps the *cost basis* (sum of signed qty x price of the open
//! position, an exact `i128` amount), not the average price. Reducing a position
//! removes the closed fraction of the cost basis; closing it removes all of it. So
//! over any sequence of fills that ends flat, realized P&L equals the sum of the
//! cash flows to the last 10^-16, with no drift from rounded averages. The average
//! entry price is derived (rounded half-even) for display only.

use super::record::PositionRecord;
use crate::error::{Error, Result};
use crate::fixed::{div_round_half_even, mul_div_round, Amount, Price, Quantity};
use crate::side::Side;

fn overflow() -> Error {
    Error::Overflow {
        op: "position accounting",
    }
}

/// What one fill did to a position.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FillEffect {
    /// P&L realized by this fill (before fees).
    pub realized: Amount,
    /// Quantity of the existing position this fill closed.
    pub closed_qty: Quantity,
}

/// Apply one fill (open / increase / reduce / close / flip, long or short).
/// On error the record is unchanged.
pub fn apply_fill(
    rec: &mut PositionRecord,
    side: Side,
    qty: Quantity,
    price: Price,
    fee: Amount,
) -> Result<FillEffect> {
    if qty.raw() <= 0 {
        return Err(Error::invalid("qty", format!("fill quantity {qty} must be positive")));
    }
    if price.raw() <= 0 {
        return Err(Error::invalid("price", format!("fill price {price} must be positive")));
    }
    let mut next = *rec;
    let signed = qty.raw() * side.sign();
    let pos = next.qty;
    let mut effect = FillEffect {
        realized: Amount::ZERO,
        closed_qty: Quantity::ZERO,
    };
    if pos == 0 || (pos > 0) == (signed > 0) {
        next.qty = pos.checked_add(signed).ok_or_else(overflow)?;
        next.cost_basis = next
            .cost_basis
            .checked_add(i128::from(signed) * i128::from(price.raw()))
            .ok_or_else(overflow)?;
    } else {
        let held = pos.abs();
        let closing = signed.abs().min(held);
        let removed = if closing == held {
            next.cost_basis
        } else {
            mul_div_round(next.cost_basis, closing, held)?
        };
        let exit_value = i128::from(pos.signum() * closing) * i128::from(price.raw());
        let realized = exit_value.checked_sub(removed).ok_or_else(overflow)?;
        next.realized_pnl = next.realized_pnl.checked_add(realized).ok_or_else(overflow)?;
        next.cost_basis -= removed;
        next.qty = pos - pos.signum() * closing;
        let opening = signed.abs() - closing;
        if opening > 0 {
            next.qty = signed.signum() * opening;
            next.cost_basis = i128::from(next.qty) * i128::from(price.raw());
        }
        effect = FillEffect {
            realized: Amount::from_raw(realized),
            closed_qty: Quantity::from_raw(closing),
        };
    }
    if next.qty == i64::MIN {
        return Err(overflow()); // |qty| must stay representable
    }
    next.fees_paid = next.fees_paid.checked_add(fee.raw()).ok_or_else(overflow)?;
    next.fill_count += 1;
    refresh_derived(&mut next)?;
    *rec = next;
    Ok(effect)
}

/// Add a funding payment (+ received, - paid). On error the record is unchanged.
pub fn apply_funding(rec: &mut PositionRecord, amount: Amount) -> Result<()> {
    rec.funding = rec.funding.checked_add(amount.raw()).ok_or_else(overflow)?;
    Ok(())
}

/// A position as a snapshot carried it: everything the fills made of it, so a
/// restart restores it exactly instead of replaying every fill since the first.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Carried {
    pub qty: Quantity,
    pub cost_basis: Amount,
    pub realized_pnl: Amount,
    pub fees_paid: Amount,
    pub funding: Amount,
    pub fill_count: u64,
}

/// Put a carried position into the record (mark and leverage are kept: market data
/// and settings, not accounting). A flat position with a cost basis, or one whose
/// cost basis has the other sign from its quantity, is refused: no price makes it.
/// On error the record is unchanged.
pub fn restore(rec: &mut PositionRecord, carried: &Carried) -> Result<()> {
    let (qty, cost) = (carried.qty.raw(), carried.cost_basis.raw());
    if (qty == 0 && cost != 0) || (qty != 0 && cost.signum() != i128::from(qty.signum())) {
        return Err(Error::invalid(
            "cost_basis",
            format!("{} does not fit a position of {}", carried.cost_basis, carried.qty),
        ));
    }
    let mut next = *rec;
    next.qty = qty;
    next.cost_basis = cost;
    next.realized_pnl = carried.realized_pnl.raw();
    next.fees_paid = carried.fees_paid.raw();
    next.funding = carried.funding.raw();
    next.fill_count = carried.fill_count;
    refresh_derived(&mut next)?;
    *rec = next;
    Ok(())
}

/// Set the mark price and recompute unrealized P&L. On error the record is unchanged.
pub fn mark(rec: &mut PositionRecord, price: Price) -> Result<()> {
    if price.raw() <= 0 {
        return Err(Error::invalid("price", format!("mark price {price} must be positive")));
    }
    let mut next = *rec;
    next.mark_price = price.raw();
    refresh_derived(&mut next)?;
    *rec = next;
    Ok(())
}

/// Average entry price and unrealized P&L from qty, cost basis and mark.
fn refresh_derived(rec: &mut PositionRecord) -> Result<()> {
    if rec.qty == 0 {
        rec.avg_entry_price = 0;
        rec.unrealized_pnl = 0;
        return Ok(());
    }
    let avg = div_round_half_even(rec.cost_basis, i128::from(rec.qty));
    rec.avg_entry_price = i64::try_from(avg).map_err(|_| overflow())?;
    rec.unrealized_pnl = if rec.mark_price > 0 {
        (i128::from(rec.qty) * i128::from(rec.mark_price))
            .checked_sub(rec.cost_basis)
            .ok_or_else(overflow)?
    } else {
        0
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;
    use proptest::prelude::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }
    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn amt(rec_value: i128) -> String {
        Amount::from_raw(rec_value).to_string()
    }
    fn fill(rec: &mut PositionRecord, side: Side, qty: &str, price: &str) -> FillEffect {
        apply_fill(rec, side, q(qty), p(price), Amount::ZERO).unwrap()
    }

    #[test]
    fn open_increase_reduce_close_long() {
        let mut r = PositionRecord::zeroed();
        fill(&mut r, Side::Buy, "1", "100");
        fill(&mut r, Side::Buy, "1", "110");
        assert_eq!((r.qty, r.avg_entry_price), (q("2").raw(), p("105").raw()));
        let e = fill(&mut r, Side::Sell, "0.5", "120");
        assert_eq!(amt(e.realized.raw()), "7.5");
        assert_eq!(r.qty, q("1.5").raw());
        assert_eq!(r.avg_entry_price, p("105").raw());
        fill(&mut r, Side::Sell, "1.5", "100");
        assert_eq!(r.qty, 0);
        assert_eq!(amt(r.realized_pnl), "0"); // +7.5 then -7.5
        assert_eq!((r.cost_basis, r.avg_entry_price, r.fill_count), (0, 0, 4));
    }

    #[test]
    fn short_side_and_flip() {
        let mut r = PositionRecord::zeroed();
        fill(&mut r, Side::Sell, "2", "50");
        assert_eq!((r.qty, r.avg_entry_price), (q("-2").raw(), p("50").raw()));
        let e = fill(&mut r, Side::Buy, "3", "40"); // close 2 short at +20, open 1 long at 40
        assert_eq!(amt(e.realized.raw()), "20");
        assert_eq!(e.closed_qty, q("2"));
        assert_eq!((r.qty, r.avg_entry_price), (q("1").raw(), p("40").raw()));
        mark(&mut r, p("45")).unwrap();
        assert_eq!(amt(r.unrealized_pnl), "5");
        let e = fill(&mut r, Side::Sell, "1.5", "44"); // close long 1 at +4, open 0.5 short
        assert_eq!(amt(e.realized.raw()), "4");
        assert_eq!(r.qty, q("-0.5").raw());
        assert_eq!(amt(r.unrealized_pnl), "-0.5"); // short 0.5 from 44, mark 45
        assert_eq!(amt(r.realized_pnl), "24");
    }

    #[test]
    fn fees_accumulate_separately() {
        let mut r = PositionRecord::zeroed();
        apply_fill(&mut r, Side::Buy, q("1"), p("10"), Amount::parse("0.01").unwrap()).unwrap();
        apply_fill(&mut r, Side::Sell, q("1"), p("11"), Amount::parse("0.011").unwrap()).unwrap();
        assert_eq!(amt(r.fees_paid), "0.021");
        assert_eq!(amt(r.realized_pnl), "1");
    }

    #[test]
    fn bad_fills_leave_the_record_unchanged() {
        let mut r = PositionRecord::zeroed();
        fill(&mut r, Side::Buy, "1", "10");
        let before = r;
        assert_eq!(
            apply_fill(&mut r, Side::Buy, q("0"), p("1"), Amount::ZERO)
                .unwrap_err()
                .code(),
            "INVALID_ARGUMENT"
        );
        assert_eq!(
            apply_fill(&mut r, Side::Buy, q("1"), p("-1"), Amount::ZERO)
                .unwrap_err()
                .code(),
            "INVALID_ARGUMENT"
        );
        let huge = apply_fill(&mut r, Side::Buy, Quantity::MAX, p("1"), Amount::ZERO).unwrap_err();
        assert_eq!(huge.code(), "ARITHMETIC_OVERFLOW");
        assert_eq!(r, before);
        assert_eq!(mark(&mut r, p("0")).unwrap_err().code(), "INVALID_ARGUMENT");
    }

    #[test]
    fn partial_reduce_rounds_but_closing_is_exact() {
        let mut r = PositionRecord::zeroed();
        fill(&mut r, Side::Buy, "0.00000001", "1");
        fill(&mut r, Side::Buy, "0.00000002", "2"); // cost 5e-8, qty 3e-8: avg 1.666..
        assert_eq!(r.avg_entry_price, p("1.66666667").raw());
        fill(&mut r, Side::Sell, "0.00000001", "3");
        fill(&mut r, Side::Sell, "0.00000002", "3");
        // Total cash: -1e-8 - 4e-8 + 3e-8 + 6e-8 = 4e-8 (in units of 1e-8 * price).
        assert_eq!(amt(r.realized_pnl), "0.00000004");
    }

    proptest! {
        /// Any fill sequence that ends flat: realized P&L == sum of cash flows, exactly.
        #[test]
        fn ending_flat_realizes_exactly_the_cash_flows(
            fills in proptest::collection::vec((any::<bool>(), 1i64..1_000_000_000, 1i64..10_000_000_000_000), 1..60)
        ) {
            let mut r = PositionRecord::zeroed();
            let mut cash: i128 = 0;
            for (buy, qty, price) in fills {
                let side = if buy { Side::Buy } else { Side::Sell };
                apply_fill(&mut r, side, Quantity::from_raw(qty), Price::from_raw(price), Amount::ZERO).unwrap();
                cash -= i128::from(side.sign() * qty) * i128::from(price);
            }
            // Close whatever is left at an arbitrary price.
            if r.qty != 0 {
                let side = if r.qty > 0 { Side::Sell } else { Side::Buy };
                let (qty, price) = (r.qty.abs(), 123_456_789i64);
                apply_fill(&mut r, side, Quantity::from_raw(qty), Price::from_raw(price), Amount::ZERO).unwrap();
                cash -= i128::from(side.sign() * qty) * i128::from(price);
            }
            prop_assert_eq!(r.qty, 0);
            prop_assert_eq!(r.cost_basis, 0);
            prop_assert_eq!(r.realized_pnl, cash);
        }

        /// Unrealized P&L at mark m == what closing everything at m would realize.
        #[test]
        fn unrealized_equals_realizing_at_the_mark(
            fills in proptest::collection::vec((any::<bool>(), 1i64..1_000_000_000, 1i64..10_000_000_000_000), 1..30),
            mark_price in 1i64..10_000_000_000_000,
        ) {
            let mut r = PositionRecord::zeroed();
            for (buy, qty, price) in fills {
                let side = if buy { Side::Buy } else { Side::Sell };
                apply_fill(&mut r, side, Quantity::from_raw(qty), Price::from_raw(price), Amount::ZERO).unwrap();
            }
            mark(&mut r, Price::from_raw(mark_price)).unwrap();
            let unrealized = r.unrealized_pnl;
            let realized_before = r.realized_pnl;
            if r.qty != 0 {
                let side = if r.qty > 0 { Side::Sell } else { Side::Buy };
                let held = Quantity::from_raw(r.qty.abs());
                apply_fill(&mut r, side, held, Price::from_raw(mark_price), Amount::ZERO).unwrap();
            }
            prop_assert_eq!(r.realized_pnl - realized_before, unrealized);
        }
    }
}
