"""PII protection: encryption at rest, blind indexes for lookups, masking for display."""
