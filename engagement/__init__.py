"""Results coming back from addressable channels: receipts, opens, clicks, replies, call results
and guide confirmations, stored as message events linked to the send; the public HTTP service
that also takes opt-outs (optout_service)."""
