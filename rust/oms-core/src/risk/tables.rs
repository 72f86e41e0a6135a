//! The risk engine's configuration snapshot: limits per scope, and per known
//! instrument a `Route` with its live state and its resolved limits. Replaced
//! whole on change (copy-on-write), read lock-free by every check.

use super::limits::{LevelLimits, RiskLimits, Scope};
use super::reject::Level;
use super::state::{Counters, InstrumentState, MarketState};
use crate::fixed::{Amount, Quantity};
use hashbrown::{Equivalent, HashMap};
use std::sync::Arc;

/// Owned key of an instrument: (account, venue, unified symbol).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct InstrumentKey {
    account: Box<str>,
    venue: Box<str>,
    symbol: Box<str>,
}

/// Borrowed form for lookups without allocating (hashes exactly like the owned key).
#[derive(Hash)]
pub struct KeyRef<'a> {
    pub account: &'a str,
    pub venue: &'a str,
    pub symbol: &'a str,
}

impl Equivalent<InstrumentKey> for KeyRef<'_> {
    fn equivalent(&self, key: &InstrumentKey) -> bool {
        *key.account == *self.account && *key.venue == *self.venue && *key.symbol == *self.symbol
    }
}

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

/// Everything a check needs about one instrument.
#[derive(Debug)]
pub struct Route {
    pub instrument: Arc<InstrumentState>,
    /// Per-order limits: the strictest over every scope that applies, with its level.
    pub order: OrderLimits,
    /// Counter limits per level: instrument, venue, account, global.
    pub levels: [LevelLimits; 4],
    /// Precomputed so the check does not scan the levels.
    has_exposure_limit: bool,
    has_rate_limit: bool,
}

impl Route {
    fn new(instrument: Arc<InstrumentState>, levels: &[RiskLimits; 4]) -> Route {
        let level_limits = levels.each_ref().map(LevelLimits::of);
        Route {
            instrument,
            order: OrderLimits::of(levels),
            has_exposure_limit: level_limits.iter().any(|l| l.max_gross_exposure.is_some()),
            has_rate_limit: level_limits.iter().any(|l| l.rate.is_some()),
            levels: level_limits,
        }
    }

    pub fn has_exposure_limit(&self) -> bool {
        self.has_exposure_limit
    }

    pub fn has_rate_limit(&self) -> bool {
        self.has_rate_limit
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

    pub fn route(&self, account: &str, venue: &str, symbol: &str, instrument: Arc<InstrumentState>) -> Route {
        Route::new(instrument, &self.levels(account, venue, symbol))
    }
}

#[derive(Clone, Debug)]
pub struct Snapshot {
    pub routes: HashMap<InstrumentKey, Arc<Route>>,
    pub markets: HashMap<MarketKey, Arc<MarketState>>,
    pub venues: HashMap<String, Arc<Counters>>,
    pub accounts: HashMap<String, Arc<Counters>>,
    pub global: Arc<Counters>,
    pub limits: LimitsTable,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            routes: HashMap::new(),
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

    pub fn add_instrument(&mut self, account: &str, venue: &str, symbol: &str) -> Arc<Route> {
        let market = self.market(venue, symbol);
        let venue_counters = self.venues.entry(venue.to_owned()).or_default().clone();
        let account_counters = self.accounts.entry(account.to_owned()).or_default().clone();
        let state = Arc::new(InstrumentState::new(
            market,
            venue_counters,
            account_counters,
            self.global.clone(),
        ));
        let route = Arc::new(self.limits.route(account, venue, symbol, state));
        let key = InstrumentKey {
            account: account.into(),
            venue: venue.into(),
            symbol: symbol.into(),
        };
        self.routes.insert(key, route.clone());
        route
    }

    /// Re-resolve every route's limits after a limits change; live state is kept.
    pub fn rebuild_routes(&mut self) {
        let limits = &self.limits;
        for (key, route) in self.routes.iter_mut() {
            *route = Arc::new(limits.route(&key.account, &key.venue, &key.symbol, route.instrument.clone()));
        }
    }
}
