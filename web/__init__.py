"""What the HTTP services (engagement callbacks, opt-out inbound, codec server) share."""
