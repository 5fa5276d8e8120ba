"""PII protection: encryption at rest, blind indexes for lookups, masking for display, the
Temporal payload codec. Below the channels: it imports nothing of the rules or jobs."""
