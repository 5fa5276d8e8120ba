"""Temporal workflows: deterministic orchestration that carries ids and counts, never customers."""
