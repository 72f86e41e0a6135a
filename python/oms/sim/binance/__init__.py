"""The Binance Spot and USD-M Futures simulator."""
