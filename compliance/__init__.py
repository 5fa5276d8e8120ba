"""Compliance rules: small checks with research ids, chosen and tuned by configuration."""
