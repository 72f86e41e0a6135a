"""Binance connectors (Spot and USD-M Futures) on the official SDKs."""
