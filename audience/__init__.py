"""Audiences: filters compiled to SQL, the campaign's snapshot and its deterministic holdout."""
