//! A risk rejection: a stable code plus the figures that broke the rule.
//! `Copy` and allocation-free, so rejecting costs no more than accepting; the
//! human sentence is formatted only when someone asks for it.

use crate::fixed::format_scaled;
use std::fmt;

/// Stable reject codes (part of the public contract).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RejectCode {
    MaxOrderQty,
    MaxOrderNotional,
    MaxPosition,
    MaxGrossExposure,
    MaxLeverage,
    PriceBand,
    NoReferencePrice,
    OrderRate,
    MaxOpenOrders,
    DailyLoss,
    TradingHalted,
    ReduceOnly,
    DuplicateOrder,
}

impl RejectCode {
    pub const ALL: [RejectCode; 13] = [
        RejectCode::MaxOrderQty,
        RejectCode::MaxOrderNotional,
        RejectCode::MaxPosition,
        RejectCode::MaxGrossExposure,
        RejectCode::MaxLeverage,
        RejectCode::PriceBand,
        RejectCode::NoReferencePrice,
        RejectCode::OrderRate,
        RejectCode::MaxOpenOrders,
        RejectCode::DailyLoss,
        RejectCode::TradingHalted,
        RejectCode::ReduceOnly,
        RejectCode::DuplicateOrder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::MaxOrderQty => "MAX_ORDER_QTY",
            RejectCode::MaxOrderNotional => "MAX_ORDER_NOTIONAL",
            RejectCode::MaxPosition => "MAX_POSITION",
            RejectCode::MaxGrossExposure => "MAX_GROSS_EXPOSURE",
            RejectCode::MaxLeverage => "MAX_LEVERAGE",
            RejectCode::PriceBand => "PRICE_BAND",
            RejectCode::NoReferencePrice => "NO_REFERENCE_PRICE",
            RejectCode::OrderRate => "ORDER_RATE",
            RejectCode::MaxOpenOrders => "MAX_OPEN_ORDERS",
            RejectCode::DailyLoss => "DAILY_LOSS",
            RejectCode::TradingHalted => "TRADING_HALTED",
            RejectCode::ReduceOnly => "REDUCE_ONLY",
            RejectCode::DuplicateOrder => "DUPLICATE_ORDER",
        }
    }
}

/// Where the limit that was hit is configured.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// The order itself, or the (account, venue, symbol) instrument.
    Instrument,
    Venue,
    Account,
    Global,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Instrument, Level::Venue, Level::Account, Level::Global];

    /// Position in [`Level::ALL`].
    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Instrument => "symbol",
            Level::Venue => "venue",
            Level::Account => "account",
            Level::Global => "global",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub code: RejectCode,
    pub level: Level,
    /// The offending figure, as a raw fixed-point integer with `scale` decimals.
    pub value: i128,
    /// The limit it broke, same scale.
    pub limit: i128,
    pub scale: u32,
}

impl Reject {
    pub fn new(code: RejectCode, level: Level, value: i128, limit: i128, scale: u32) -> Self {
        Reject {
            code,
            level,
            value,
            limit,
            scale,
        }
    }

    /// A reject with no figures (states, duplicates).
    pub fn bare(code: RejectCode) -> Self {
        Reject::new(code, Level::Global, 0, 0, 0)
    }

    pub fn value_str(&self) -> String {
        format_scaled(self.value, self.scale)
    }

    pub fn limit_str(&self) -> String {
        format_scaled(self.limit, self.scale)
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (value, limit, level) = (self.value_str(), self.limit_str(), self.level.as_str());
        match self.code {
            RejectCode::MaxOrderQty => write!(f, "order quantity {value} exceeds the {level} limit of {limit}"),
            RejectCode::MaxOrderNotional => write!(f, "order notional {value} exceeds the {level} limit of {limit}"),
            RejectCode::MaxPosition => write!(
                f,
                "worst-case position {value} (position plus open orders on this side) would exceed the {level} limit of {limit}"
            ),
            RejectCode::MaxGrossExposure => {
                write!(f, "gross exposure {value} (positions plus open orders) would exceed the {level} limit of {limit}")
            }
            RejectCode::MaxLeverage => write!(f, "leverage {value} exceeds the {level} limit of {limit}"),
            RejectCode::PriceBand => write!(
                f,
                "price is {value} bps away from the reference price, beyond the {level} band of {limit} bps"
            ),
            RejectCode::NoReferencePrice => {
                write!(f, "no reference price is known for this symbol, so the price band / notional limit cannot be checked")
            }
            RejectCode::OrderRate => write!(f, "order rate would exceed the {level} limit of {limit} orders per second"),
            RejectCode::MaxOpenOrders => write!(f, "{value} open orders would exceed the {level} limit of {limit}"),
            RejectCode::DailyLoss => write!(f, "trading is halted: daily loss {value} reached the limit of {limit}"),
            RejectCode::TradingHalted => write!(f, "trading is halted (kill switch); no new orders until it is resumed"),
            RejectCode::ReduceOnly => write!(
                f,
                "only risk-reducing orders are accepted (reduce-only order, or trading state REDUCING) and this order would increase the position"
            ),
            RejectCode::DuplicateOrder => write!(f, "this order was already checked and holds a reservation; release it before checking again"),
        }
    }
}
