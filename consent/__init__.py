"""The consent ledger: append-only events per customer, channel and purpose."""
