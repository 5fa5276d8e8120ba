"""The embedded demo: a synthetic retail customer base and an end-to-end campaign run."""
