//! The risk engine's configuration snapshot: limits per scope, and per known
//! instrument a `Route` with its live state and its resolved limits. Replaced
//! whole on change (copy-on-write), read lock-free by every check.

use super::keys::InstrumentKey;
use super::limits::{LevelLimits, RiskLimits, Scope};
use super::live_limits::LiveLimits;
use super::reject::Level;
use super::state::{Counters, InstrumentState, MarketState};
use crate::fixed::{Amount, Quantity};
use hashbrown::{Equivalent, HashMap};
use std::sync::Arc;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct MarketKey {
    venue: Box<str>,
    symbol: Box<str>,
}

#[derive(Hash)]
pub struct MarketRef<'a> {
    pub venue: &'a str,
    pub symbol: &'a str,
}

impl Equivalent<MarketKey> for MarketRef<'_> {
    fn equivalent(&self, key: &MarketKey) -> bool {
        *key.venue == *self.venue && *key.symbol == *self.symbol
    }
}

/// Everything a check needs about one instrument. Lives as long as its engine
/// (see `route_table`); a limits change rewrites `limits` in place.
/// Aligned to a cache line, live state first, then the limits, so a check touches
/// as few lines as it can (most of its cost on a cold cache is line fills).
#[derive(Debug)]
#[repr(C, align(64))]
pub struct Route {
    pub instrument: InstrumentState,
    pub limits: LiveLimits,
    pub key: Arc<InstrumentKey>,
}

/// The limits of one instrument resolved over its four levels.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteLimits {
    /// Per-order limits: the strictest over every scope that applies, with its level.
    pub order: OrderLimits,
    /// Counter limits per level: instrument, venue, account, global.
    pub levels: [LevelLimits; 4],
}

impl RouteLimits {
    pub fn new(order: OrderLimits, levels: [LevelLimits; 4]) -> RouteLimits {
        RouteLimits { order, levels }
    }

    fn of(levels: &[RiskLimits; 4]) -> RouteLimits {
        RouteLimits::new(OrderLimits::of(levels), levels.each_ref().map(LevelLimits::of))
    }

    /// Precomputed into the route so the check does not scan the levels.
    pub fn has_exposure_limit(&self) -> bool {
        self.levels.iter().any(|l| l.max_gross_exposure.is_some())
    }

    pub fn has_rate_limit(&self) -> bool {
        self.levels.iter().any(|l| l.rate.is_some())
    }
}

/// Per-order limits, each with the level it was set at (for the reject message).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderLimits {
    pub max_order_qty: Option<(Quantity, Level)>,
    pub max_order_notional: Option<(Amount, Level)>,
    pub max_position_qty: Option<(Quantity, Level)>,
    pub max_leverage: Option<(Quantity, Level)>,
    pub price_band_bps: Option<(u32, Level)>,
}

/// The strictest value of one field over the four levels, and where it is set.
fn strictest<T: Ord + Copy>(levels: &[RiskLimits; 4], field: impl Fn(&RiskLimits) -> Option<T>) -> Option<(T, Level)> {
    levels
        .iter()
        .zip(Level::ALL)
        .filter_map(|(limits, level)| field(limits).map(|v| (v, level)))
        .min_by_key(|(v, _)| *v)
}

impl OrderLimits {
    fn of(levels: &[RiskLimits; 4]) -> OrderLimits {
        OrderLimits {
            max_order_qty: strictest(levels, |l| l.max_order_qty),
            max_order_notional: strictest(levels, |l| l.max_order_notional),
            max_position_qty: strictest(levels, |l| l.max_position_qty),
            max_leverage: strictest(levels, |l| l.max_leverage),
            price_band_bps: strictest(levels, |l| l.price_band_bps),
        }
    }
}

/// Limits as configured, per scope.
#[derive(Clone, Default, Debug)]
pub struct LimitsTable {
    global: RiskLimits,
    accounts: HashMap<String, RiskLimits>,
    venues: HashMap<String, RiskLimits>,
    symbols: HashMap<(Option<String>, String), RiskLimits>,
}

impl LimitsTable {
    pub fn set(&mut self, scope: Scope, limits: RiskLimits) {
        match scope {
            Scope::Global => self.global = limits,
            Scope::Account(a) => drop(self.accounts.insert(a, limits)),
            Scope::Venue(v) => drop(self.venues.insert(v, limits)),
            Scope::Symbol { venue, symbol } => drop(self.symbols.insert((venue, symbol), limits)),
        }
    }

    pub fn get(&self, scope: &Scope) -> Option<&RiskLimits> {
        match scope {
            Scope::Global => Some(&self.global),
            Scope::Account(a) => self.accounts.get(a),
            Scope::Venue(v) => self.venues.get(v),
            Scope::Symbol { venue, symbol } => self.symbols.get(&(venue.clone(), symbol.clone())),
        }
    }

    pub fn global(&self) -> &RiskLimits {
        &self.global
    }

    /// Limits of the four levels for one instrument.
    fn levels(&self, account: &str, venue: &str, symbol: &str) -> [RiskLimits; 4] {
        let none = RiskLimits::default();
        let any_venue = self.symbols.get(&(None, symbol.to_owned())).unwrap_or(&none);
        let this_venue = self
            .symbols
            .get(&(Some(venue.to_owned()), symbol.to_owned()))
            .unwrap_or(&none);
        [
            any_venue.strictest(this_venue),
            self.venues.get(venue).cloned().unwrap_or_default(),
            self.accounts.get(account).cloned().unwrap_or_default(),
            self.global.clone(),
        ]
    }

    /// The limits that apply to one instrument.
    pub fn resolve(&self, key: &InstrumentKey) -> RouteLimits {
        RouteLimits::of(&self.levels(&key.account, &key.venue, &key.symbol))
    }
}

/// Configuration and the shared counters routes point at (routes themselves live
/// in the engine's `RouteTable`).
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub markets: HashMap<MarketKey, Arc<MarketState>>,
    pub venues: HashMap<String, Arc<Counters>>,
    pub accounts: HashMap<String, Arc<Counters>>,
    pub global: Arc<Counters>,
    pub limits: LimitsTable,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            markets: HashMap::new(),
            venues: HashMap::new(),
            accounts: HashMap::new(),
            global: Arc::new(Counters::default()),
            limits: LimitsTable::default(),
        }
    }
}

impl Snapshot {
    /// The market state of (venue, symbol), created if new.
    pub fn market(&mut self, venue: &str, symbol: &str) -> Arc<MarketState> {
        let key = MarketKey {
            venue: venue.into(),
            symbol: symbol.into(),
        };
        self.markets.entry(key).or_default().clone()
    }

    /// A new route for an instrument: its live state wired to the shared market
    /// and level counters (created here if new), and its resolved limits.
    pub fn new_route(&mut self, key: Arc<InstrumentKey>) -> Route {
        let market = self.market(&key.venue, &key.symbol);
        let venue_counters = self.venues.entry(key.venue.to_string()).or_default().clone();
        let account_counters = self.accounts.entry(key.account.to_string()).or_default().clone();
        let instrument = InstrumentState::new(market, venue_counters, account_counters, self.global.clone());
        let limits = LiveLimits::new(&self.limits.resolve(&key));
        Route {
            key,
            instrument,
            limits,
        }
    }
}
