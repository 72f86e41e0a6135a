"""Files under the data dir: daily JSONL logs, hourly snapshots, P&L reports (docs/storage.md)."""
