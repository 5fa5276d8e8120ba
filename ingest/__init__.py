"""Import of customers, orders, behavior events and consents from CSV / JSON-lines files.

Entry point: `ingest.run.import_file`. File formats and the rules per row: ingest/FORMATS.md.
"""
