"""Temporal activities: thin typed wrappers, one module per phase, over Temporal-free code."""
