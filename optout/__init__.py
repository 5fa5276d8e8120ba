"""Opt-out: signed unsubscribe links and the handling of every opt-out source."""
