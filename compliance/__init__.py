"""Compliance rules: small checks with ids (docs/compliance-rules.md), chosen and tuned by
configuration."""
