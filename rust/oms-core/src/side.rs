//! Order and fill side.

use crate::error::{Error, Result};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// `"BUY"` or `"SELL"` (the spelling of every venue and of `oms.model.Side`).
    pub fn parse(text: &str) -> Result<Side> {
        match text {
            "BUY" => Ok(Side::Buy),
            "SELL" => Ok(Side::Sell),
            _ => Err(Error::invalid("side", format!("{text:?} must be 'BUY' or 'SELL'"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }

    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// +1 for a buy, -1 for a sell.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}
