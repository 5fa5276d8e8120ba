"""Opt-out: signed unsubscribe links, the handling of every opt-out source, and erasure."""
