//! Price-time priority matching for one symbol: the heart of the exchange
//! simulators and (later) of backtests.
//!
//! A taker walks the opposite side best price first, and within a price the oldest
//! resting order first; every fill is at the maker's price. Time in force decides
//! what happens to the rest: GTC rests, IOC and market orders expire it, FOK fills
//! completely or not at all, post-only (LIMIT_MAKER / GTX) is refused if it would
//! take. Self-trade prevention follows Binance: the taker's mode decides (default
//! EXPIRE_TAKER), comparing the orders' `owner` (account or STP group).
//!
//! Pure data structure: no fees, balances or triggers here; the venue layer adds
//! those around it.

use crate::error::{Error, Result};
use crate::fixed::{Price, Quantity};
use crate::side::Side;
use std::collections::{BTreeMap, HashMap, VecDeque};

pub type OrderId = u64;
/// One aggregated book level: (price, total quantity).
pub type DepthLevel = (Price, Quantity);
type Levels = BTreeMap<Price, Level>;
type Index = HashMap<OrderId, (Side, Price)>;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimeInForce {
    Gtc,
    Ioc,
    Fok,
    /// LIMIT_MAKER (spot) / GTX (futures): only ever a maker.
    PostOnly,
}

/// Self-trade prevention mode of the taker.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StpMode {
    None,
    ExpireTaker,
    ExpireMaker,
    ExpireBoth,
}

impl TimeInForce {
    pub fn parse(text: &str) -> Result<TimeInForce> {
        match text {
            "GTC" => Ok(TimeInForce::Gtc),
            "IOC" => Ok(TimeInForce::Ioc),
            "FOK" => Ok(TimeInForce::Fok),
            "POST_ONLY" | "GTX" | "LIMIT_MAKER" => Ok(TimeInForce::PostOnly),
            _ => Err(Error::invalid(
                "time_in_force",
                format!("{text:?} must be GTC, IOC, FOK or POST_ONLY"),
            )),
        }
    }
}

impl StpMode {
    pub fn parse(text: &str) -> Result<StpMode> {
        match text {
            "NONE" => Ok(StpMode::None),
            "EXPIRE_TAKER" => Ok(StpMode::ExpireTaker),
            "EXPIRE_MAKER" => Ok(StpMode::ExpireMaker),
            "EXPIRE_BOTH" => Ok(StpMode::ExpireBoth),
            _ => Err(Error::invalid(
                "stp",
                format!("{text:?} must be NONE, EXPIRE_TAKER, EXPIRE_MAKER or EXPIRE_BOTH"),
            )),
        }
    }
}

/// An incoming order. `price: None` is a market order.
#[derive(Copy, Clone, Debug)]
pub struct NewOrder {
    pub id: OrderId,
    pub owner: u64,
    pub side: Side,
    pub price: Option<Price>,
    pub qty: Quantity,
    pub tif: TimeInForce,
    pub stp: StpMode,
}

/// One execution between a resting maker and the incoming taker, at the maker's price.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Fill {
    pub trade_id: u64,
    pub maker_id: OrderId,
    pub maker_owner: u64,
    pub price: Price,
    pub qty: Quantity,
    /// What the maker still has resting after this fill.
    pub maker_remaining: Quantity,
}

/// Where the taker ended up.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Rested without trading.
    New,
    /// Traded, the rest is resting.
    PartiallyFilled,
    Filled,
    /// IOC / market remainder, or FOK that could not fill completely.
    Expired,
    /// Self-trade prevention expired the taker.
    ExpiredInMatch,
    /// Post-only order that would have taken liquidity.
    RejectedWouldTake,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchResult {
    pub status: Status,
    pub fills: Vec<Fill>,
    /// Taker quantity not filled (resting, expired or rejected).
    pub remaining: Quantity,
    /// Makers removed by self-trade prevention: (id, quantity that expired).
    pub expired_makers: Vec<(OrderId, Quantity)>,
}

#[derive(Copy, Clone, Debug)]
struct Resting {
    id: OrderId,
    owner: u64,
    qty: i64,
}

#[derive(Default, Debug)]
struct Level {
    orders: VecDeque<Resting>,
    total: i64,
}

/// A resting order as the book holds it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RestingOrder {
    pub id: OrderId,
    pub owner: u64,
    pub side: Side,
    pub price: Price,
    pub qty: Quantity,
}

#[derive(Default, Debug)]
pub struct MatchingEngine {
    bids: Levels,
    asks: Levels,
    index: Index,
    next_trade_id: u64,
}

impl MatchingEngine {
    pub fn new() -> Self {
        MatchingEngine {
            next_trade_id: 1,
            ..Default::default()
        }
    }

    /// Trade ids continue from `first` (e.g. after a restart or to differ per venue).
    pub fn with_first_trade_id(first: u64) -> Self {
        MatchingEngine {
            next_trade_id: first,
            ..Default::default()
        }
    }

    pub fn best_bid(&self) -> Option<(Price, Quantity)> {
        self.bids
            .iter()
            .next_back()
            .map(|(p, l)| (*p, Quantity::from_raw(l.total)))
    }

    pub fn best_ask(&self) -> Option<(Price, Quantity)> {
        self.asks.iter().next().map(|(p, l)| (*p, Quantity::from_raw(l.total)))
    }

    /// Total resting quantity at one price of one side (zero when the level is empty):
    /// what a depth diff reports for a level that changed, without walking the book.
    pub fn level_qty(&self, side: Side, price: Price) -> Quantity {
        let levels = if side == Side::Buy { &self.bids } else { &self.asks };
        Quantity::from_raw(levels.get(&price).map_or(0, |l| l.total))
    }

    /// Up to `levels` aggregated levels per side, best first.
    pub fn depth(&self, levels: usize) -> (Vec<DepthLevel>, Vec<DepthLevel>) {
        let side = |it: &mut dyn Iterator<Item = (&Price, &Level)>| -> Vec<DepthLevel> {
            it.take(levels)
                .map(|(p, l)| (*p, Quantity::from_raw(l.total)))
                .collect()
        };
        (side(&mut self.bids.iter().rev()), side(&mut self.asks.iter()))
    }

    /// Number of resting orders.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn order(&self, id: OrderId) -> Option<RestingOrder> {
        let (side, price) = *self.index.get(&id)?;
        let level = self.side_book(side).get(&price)?;
        let r = level.orders.iter().find(|r| r.id == id)?;
        Some(RestingOrder {
            id,
            owner: r.owner,
            side,
            price,
            qty: Quantity::from_raw(r.qty),
        })
    }

    fn side_book(&self, side: Side) -> &BTreeMap<Price, Level> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_book_mut(&mut self, side: Side) -> &mut BTreeMap<Price, Level> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// The book of `side` with the index and trade counter, borrowed apart.
    fn parts(&mut self, side: Side) -> (&mut Levels, &mut Index, &mut u64) {
        let book = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        (book, &mut self.index, &mut self.next_trade_id)
    }

    /// Best opposite price for a taker on `side`, if it is acceptable at `limit`.
    fn best_opposite(&self, side: Side, limit: Option<Price>) -> Option<Price> {
        let best = match side {
            Side::Buy => self.asks.keys().next().copied(),
            Side::Sell => self.bids.keys().next_back().copied(),
        }?;
        let acceptable = match (side, limit) {
            (_, None) => true,
            (Side::Buy, Some(p)) => best <= p,
            (Side::Sell, Some(p)) => best >= p,
        };
        acceptable.then_some(best)
    }

    /// Quantity a taker could fill at acceptable prices (for FOK).
    fn available(&self, side: Side, limit: Option<Price>) -> i64 {
        let ok = |p: &Price| match (side, limit) {
            (_, None) => true,
            (Side::Buy, Some(l)) => *p <= l,
            (Side::Sell, Some(l)) => *p >= l,
        };
        let levels: Box<dyn Iterator<Item = (&Price, &Level)>> = match side {
            Side::Buy => Box::new(self.asks.iter()),
            Side::Sell => Box::new(self.bids.iter().rev()),
        };
        levels.take_while(|(p, _)| ok(p)).map(|(_, l)| l.total).sum()
    }

    /// Match an incoming order; rest what is left if its time in force says so.
    pub fn submit(&mut self, order: NewOrder) -> Result<MatchResult> {
        self.validate(&order)?;
        let mut result = MatchResult {
            status: Status::New,
            fills: Vec::new(),
            remaining: order.qty,
            expired_makers: Vec::new(),
        };
        if order.tif == TimeInForce::PostOnly && self.best_opposite(order.side, order.price).is_some() {
            result.status = Status::RejectedWouldTake;
            return Ok(result);
        }
        if order.tif == TimeInForce::Fok && self.available(order.side, order.price) < order.qty.raw() {
            result.status = Status::Expired;
            return Ok(result);
        }
        let stp_expired = self.take_liquidity(&order, &mut result);
        let remaining = result.remaining.raw();
        result.status = if stp_expired {
            Status::ExpiredInMatch
        } else if remaining == 0 {
            Status::Filled
        } else if order.price.is_none() || matches!(order.tif, TimeInForce::Ioc | TimeInForce::Fok) {
            Status::Expired
        } else {
            self.rest(&order, remaining);
            if result.fills.is_empty() {
                Status::New
            } else {
                Status::PartiallyFilled
            }
        };
        Ok(result)
    }

    fn validate(&self, order: &NewOrder) -> Result<()> {
        if order.qty.raw() <= 0 {
            return Err(Error::invalid("qty", format!("{} must be positive", order.qty)));
        }
        match order.price {
            Some(p) if p.raw() <= 0 => Err(Error::invalid("price", format!("{p} must be positive"))),
            None if order.tif == TimeInForce::PostOnly => {
                Err(Error::invalid("price", "a post-only order needs a limit price"))
            }
            _ if self.index.contains_key(&order.id) => {
                Err(Error::invalid("id", format!("order {} is already resting", order.id)))
            }
            _ => Ok(()),
        }
    }

    /// Walk the opposite side. Returns true if self-trade prevention expired the taker.
    fn take_liquidity(&mut self, order: &NewOrder, result: &mut MatchResult) -> bool {
        let opposite = order.side.opposite();
        while result.remaining.raw() > 0 {
            let Some(price) = self.best_opposite(order.side, order.price) else {
                return false;
            };
            let (book, index, next_trade_id) = self.parts(opposite);
            let level = book.get_mut(&price).expect("best level exists");
            let mut expired_taker = false;
            while let Some(maker) = level.orders.front_mut() {
                if result.remaining.raw() == 0 {
                    break;
                }
                if maker.owner == order.owner && order.stp != StpMode::None {
                    if matches!(order.stp, StpMode::ExpireMaker | StpMode::ExpireBoth) {
                        let gone = level.orders.pop_front().expect("front exists");
                        level.total -= gone.qty;
                        index.remove(&gone.id);
                        result.expired_makers.push((gone.id, Quantity::from_raw(gone.qty)));
                    }
                    if matches!(order.stp, StpMode::ExpireTaker | StpMode::ExpireBoth) {
                        expired_taker = true;
                        break;
                    }
                    continue;
                }
                let qty = maker.qty.min(result.remaining.raw());
                maker.qty -= qty;
                level.total -= qty;
                result.remaining = Quantity::from_raw(result.remaining.raw() - qty);
                result.fills.push(Fill {
                    trade_id: *next_trade_id,
                    maker_id: maker.id,
                    maker_owner: maker.owner,
                    price,
                    qty: Quantity::from_raw(qty),
                    maker_remaining: Quantity::from_raw(maker.qty),
                });
                *next_trade_id += 1;
                if maker.qty == 0 {
                    let done = level.orders.pop_front().expect("front exists");
                    index.remove(&done.id);
                }
            }
            if level.orders.is_empty() {
                book.remove(&price);
            }
            if expired_taker {
                return true;
            }
        }
        false
    }

    fn rest(&mut self, order: &NewOrder, qty: i64) {
        let price = order.price.expect("only limit orders rest");
        let level = self.side_book_mut(order.side).entry(price).or_default();
        level.orders.push_back(Resting {
            id: order.id,
            owner: order.owner,
            qty,
        });
        level.total += qty;
        self.index.insert(order.id, (order.side, price));
    }

    /// Remove a resting order; returns it (with its unfilled quantity) if it was there.
    pub fn cancel(&mut self, id: OrderId) -> Option<RestingOrder> {
        let (side, price) = self.index.remove(&id)?;
        let book = self.side_book_mut(side);
        let level = book.get_mut(&price)?;
        let at = level.orders.iter().position(|r| r.id == id)?;
        let gone = level.orders.remove(at)?;
        level.total -= gone.qty;
        if level.orders.is_empty() {
            book.remove(&price);
        }
        Some(RestingOrder {
            id,
            owner: gone.owner,
            side,
            price,
            qty: Quantity::from_raw(gone.qty),
        })
    }

    /// Reduce a resting order's quantity in place, keeping its time priority (Binance's
    /// "amend keep priority" only allows decreases). Returns the new resting order.
    pub fn reduce(&mut self, id: OrderId, new_qty: Quantity) -> Result<RestingOrder> {
        let Some(&(side, price)) = self.index.get(&id) else {
            return Err(Error::invalid("id", format!("order {id} is not resting")));
        };
        let level = self.side_book_mut(side).get_mut(&price).expect("indexed level exists");
        let resting = level
            .orders
            .iter_mut()
            .find(|r| r.id == id)
            .expect("indexed order exists");
        if new_qty.raw() <= 0 || new_qty.raw() >= resting.qty {
            return Err(Error::invalid(
                "qty",
                format!(
                    "{new_qty} must be positive and below the resting {} to keep priority",
                    Quantity::from_raw(resting.qty)
                ),
            ));
        }
        level.total -= resting.qty - new_qty.raw();
        resting.qty = new_qty.raw();
        let owner = resting.owner;
        Ok(RestingOrder {
            id,
            owner,
            side,
            price,
            qty: new_qty,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(v: i64) -> Quantity {
        Quantity::from_units(v).unwrap()
    }
    fn p(v: i64) -> Price {
        Price::from_raw(v * crate::fixed::SCALE)
    }
    fn limit(id: u64, owner: u64, side: Side, price: i64, qty: i64, tif: TimeInForce) -> NewOrder {
        NewOrder {
            id,
            owner,
            side,
            price: Some(p(price)),
            qty: q(qty),
            tif,
            stp: StpMode::ExpireTaker,
        }
    }
    fn gtc(id: u64, side: Side, price: i64, qty: i64) -> NewOrder {
        limit(id, id, side, price, qty, TimeInForce::Gtc)
    }

    #[test]
    fn price_then_time_priority_and_maker_price() {
        let mut m = MatchingEngine::new();
        m.submit(gtc(1, Side::Sell, 101, 1)).unwrap();
        m.submit(gtc(2, Side::Sell, 100, 1)).unwrap();
        m.submit(gtc(3, Side::Sell, 100, 1)).unwrap();
        let r = m.submit(gtc(4, Side::Buy, 102, 2)).unwrap();
        assert_eq!(r.status, Status::Filled);
        let makers: Vec<(u64, Price)> = r.fills.iter().map(|f| (f.maker_id, f.price)).collect();
        assert_eq!(makers, vec![(2, p(100)), (3, p(100))]);
        assert_eq!(m.best_ask(), Some((p(101), q(1))));
        assert_eq!(r.fills[0].trade_id + 1, r.fills[1].trade_id);
    }

    #[test]
    fn partial_fill_rests_the_rest() {
        let mut m = MatchingEngine::new();
        m.submit(gtc(1, Side::Sell, 100, 1)).unwrap();
        let r = m.submit(gtc(2, Side::Buy, 100, 3)).unwrap();
        assert_eq!((r.status, r.remaining), (Status::PartiallyFilled, q(2)));
        assert_eq!(m.best_bid(), Some((p(100), q(2))));
        assert_eq!(m.order(2).unwrap().qty, q(2));
    }

    #[test]
    fn ioc_market_fok_and_post_only() {
        let mut m = MatchingEngine::new();
        m.submit(gtc(1, Side::Sell, 100, 1)).unwrap();
        m.submit(gtc(2, Side::Sell, 105, 1)).unwrap();
        let ioc = m.submit(limit(3, 3, Side::Buy, 100, 2, TimeInForce::Ioc)).unwrap();
        assert_eq!((ioc.status, ioc.fills.len(), ioc.remaining), (Status::Expired, 1, q(1)));
        assert!(m.order(3).is_none(), "IOC never rests");
        let fok = m.submit(limit(4, 4, Side::Buy, 110, 2, TimeInForce::Fok)).unwrap();
        assert_eq!((fok.status, fok.fills.len()), (Status::Expired, 0), "only 1 available");
        let post = m.submit(limit(5, 5, Side::Buy, 105, 1, TimeInForce::PostOnly)).unwrap();
        assert_eq!(post.status, Status::RejectedWouldTake);
        assert_eq!(
            m.submit(limit(6, 6, Side::Buy, 104, 1, TimeInForce::PostOnly))
                .unwrap()
                .status,
            Status::New
        );
        let market = NewOrder {
            id: 7,
            owner: 7,
            side: Side::Buy,
            price: None,
            qty: q(5),
            tif: TimeInForce::Gtc,
            stp: StpMode::None,
        };
        let r = m.submit(market).unwrap();
        assert_eq!(
            (r.status, r.remaining, r.fills[0].price),
            (Status::Expired, q(4), p(105))
        );
        assert!(m.best_ask().is_none());
    }

    #[test]
    fn self_trade_prevention_modes() {
        let setup = || {
            let mut m = MatchingEngine::new();
            m.submit(limit(1, 9, Side::Sell, 100, 1, TimeInForce::Gtc)).unwrap(); // ours
            m.submit(limit(2, 8, Side::Sell, 100, 1, TimeInForce::Gtc)).unwrap(); // theirs
            m
        };
        let taker = |stp| NewOrder {
            id: 10,
            owner: 9,
            side: Side::Buy,
            price: Some(p(100)),
            qty: q(2),
            tif: TimeInForce::Gtc,
            stp,
        };
        let mut m = setup();
        let r = m.submit(taker(StpMode::ExpireTaker)).unwrap();
        assert_eq!((r.status, r.fills.len(), m.len()), (Status::ExpiredInMatch, 0, 2));
        let mut m = setup();
        let r = m.submit(taker(StpMode::ExpireMaker)).unwrap();
        assert_eq!(
            (r.status, r.expired_makers.clone()),
            (Status::PartiallyFilled, vec![(1, q(1))])
        );
        assert_eq!(r.fills[0].maker_id, 2);
        let mut m = setup();
        let r = m.submit(taker(StpMode::ExpireBoth)).unwrap();
        assert_eq!(
            (r.status, r.expired_makers.len(), m.len()),
            (Status::ExpiredInMatch, 1, 1)
        );
        let mut m = setup();
        assert_eq!(m.submit(taker(StpMode::None)).unwrap().fills.len(), 2);
    }

    #[test]
    fn cancel_reduce_and_bad_input() {
        let mut m = MatchingEngine::new();
        m.submit(gtc(1, Side::Buy, 99, 3)).unwrap();
        m.submit(gtc(2, Side::Buy, 99, 1)).unwrap();
        m.reduce(1, q(1)).unwrap();
        assert_eq!(m.best_bid(), Some((p(99), q(2))));
        let r = m.submit(gtc(3, Side::Sell, 99, 1)).unwrap();
        assert_eq!(r.fills[0].maker_id, 1, "reducing kept order 1 first in line");
        assert_eq!(m.reduce(2, q(5)).unwrap_err().code(), "INVALID_ARGUMENT");
        assert_eq!(m.cancel(2).unwrap().qty, q(1));
        assert!(m.cancel(2).is_none() && m.is_empty());
        assert!(m.submit(gtc(4, Side::Buy, 0, 1)).is_err());
        m.submit(gtc(5, Side::Buy, 10, 1)).unwrap();
        assert!(
            m.submit(gtc(5, Side::Buy, 10, 1)).is_err(),
            "ids are unique among resting orders"
        );
        let (bids, asks) = m.depth(5);
        assert_eq!((bids, asks), (vec![(p(10), q(1))], vec![]));
    }

    proptest! {
        /// Whatever arrives, quantity is conserved, the book never stays crossed,
        /// and every level's total equals its orders.
        #[test]
        fn conservation_and_uncrossed_book(
            orders in proptest::collection::vec((any::<bool>(), 95i64..106, 1i64..5, 0u8..4, 0u64..3), 1..200)
        ) {
            let mut m = MatchingEngine::new();
            let mut submitted = 0i64;
            let mut filled = 0i64;
            let mut gone = 0i64;
            for (i, (buy, price, qty, tif, owner)) in orders.into_iter().enumerate() {
                let tif = [TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok, TimeInForce::PostOnly][tif as usize];
                let order = NewOrder {
                    id: i as u64, owner, side: if buy { Side::Buy } else { Side::Sell },
                    price: Some(p(price)), qty: q(qty), tif, stp: StpMode::ExpireMaker,
                };
                let r = m.submit(order).unwrap();
                submitted += q(qty).raw();
                let traded: i64 = r.fills.iter().map(|f| f.qty.raw()).sum();
                filled += 2 * traded; // both sides of each trade
                gone += r.expired_makers.iter().map(|(_, q)| q.raw()).sum::<i64>();
                if !matches!(r.status, Status::New | Status::PartiallyFilled) {
                    gone += r.remaining.raw();
                }
                if let (Some((bid, _)), Some((ask, _))) = (m.best_bid(), m.best_ask()) {
                    prop_assert!(bid < ask, "crossed book");
                }
            }
            let (bids, asks) = m.depth(usize::MAX);
            let resting: i64 = bids.iter().chain(asks.iter()).map(|(_, q)| q.raw()).sum();
            prop_assert_eq!(submitted, resting + filled + gone);
        }
    }

    #[test]
    fn level_qty_is_the_sum_at_one_price() {
        let mut book = MatchingEngine::new();
        for id in 1..=2 {
            book.submit(limit(id, id, Side::Buy, 100, 3, TimeInForce::Gtc)).unwrap();
        }
        let px = |p: i64| Price::from_units(p).unwrap();
        assert_eq!(
            book.level_qty(Side::Buy, px(100)).raw(),
            2 * Quantity::from_units(3).unwrap().raw()
        );
        assert_eq!(book.level_qty(Side::Sell, px(100)), Quantity::ZERO);
        assert_eq!(book.level_qty(Side::Buy, px(99)), Quantity::ZERO);
    }
}
